#!/usr/bin/env bash
# Whole-scan benchmark, warm cache, with hyperfine.
#
# 1. A large generated corpus (default 1 GiB, ~57,000 files): patscan with all
#    cores and with one, against merely reading the same files with cat.
# 2. A smaller corpus (default 50 MiB) for the scanners that are too slow for
#    the large one: patscan against ripsecrets and detect-secrets, when they
#    are installed (cargo install ripsecrets; pip install detect-secrets).
#
# usage: benches/scan.sh [MEGABYTES] [COMPARE_MEGABYTES]
# Corpora are generated once under ${CORPORA:-/tmp} by the seeded generator.
set -euo pipefail
cd "$(dirname "$0")/.."
megabytes=${1:-1024}
compare_megabytes=${2:-50}
corpora=${CORPORA:-${TMPDIR:-/tmp}}
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }

cargo build --release --quiet --bin patscan --example gen_corpus
patscan=$PWD/target/release/patscan
corpus() { # MEGABYTES -> directory
  local dir=$corpora/patscan-corpus-$1
  [ -d "$dir" ] || ./target/release/examples/gen_corpus "$dir" "$1" 1 >&2
  echo "$dir"
}
describe() {
  echo "corpus $1: $(find "$1" -type f | wc -l) files, $(du -sb "$1" | cut -f1) bytes"
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem/{print $2}') GiB"

big=$(corpus "$megabytes")
describe "$big"
find "$big" -type f -print0 | xargs -0 cat > /dev/null   # warm the cache
hyperfine --warmup 2 --runs "${RUNS:-10}" --export-markdown "${EXPORT_DIR:-/tmp}/patscan-bench-large.md" \
  -n "read (cat)" "find $big -type f -print0 | xargs -0 cat > /dev/null" \
  -n "patscan" "$patscan scan --quiet $big > /dev/null || test \$? -eq 1" \
  -n "patscan -j1" "$patscan scan --quiet -j1 $big > /dev/null || test \$? -eq 1"
/usr/bin/time -f "patscan peak RSS: %M KiB" "$patscan" scan --quiet "$big" > /dev/null || true

small=$(corpus "$compare_megabytes")
describe "$small"
commands=(-n "patscan" "$patscan scan --quiet $small > /dev/null || test \$? -eq 1")
command -v ripsecrets >/dev/null && commands+=(-n "ripsecrets" "ripsecrets $small > /dev/null || true")
command -v detect-secrets >/dev/null && commands+=(-n "detect-secrets" "detect-secrets scan --all-files $small > /dev/null")
find "$small" -type f -print0 | xargs -0 cat > /dev/null
hyperfine --runs "${COMPARE_RUNS:-1}" --export-markdown "${EXPORT_DIR:-/tmp}/patscan-bench-compare.md" "${commands[@]}"
