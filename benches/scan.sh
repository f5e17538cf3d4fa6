#!/usr/bin/env bash
# Whole-scan benchmark: generates a corpus with the seeded generator and times
# patscan against merely reading the same files (and other scanners when
# installed), with hyperfine, on a warm cache.
#
# usage: benches/scan.sh [MEGABYTES] [CORPUS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
megabytes=${1:-300}
corpus=${2:-${TMPDIR:-/tmp}/patscan-corpus-$megabytes}

command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
cargo build --release --quiet --bin patscan --example gen_corpus
if [ ! -d "$corpus" ]; then
  ./target/release/examples/gen_corpus "$corpus" "$megabytes" 1
fi
files=$(find "$corpus" -type f | wc -l)
bytes=$(du -sb "$corpus" | cut -f1)
echo "corpus: $corpus, $files files, $bytes bytes; $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

read_all="find $corpus -type f -print0 | xargs -0 cat > /dev/null"
commands=(-n "read (cat)" "$read_all"
          -n "patscan" "./target/release/patscan scan --quiet $corpus > /dev/null || test \$? -eq 1"
          -n "patscan -j1" "./target/release/patscan scan --quiet -j1 $corpus > /dev/null || test \$? -eq 1")
if command -v ripsecrets >/dev/null; then
  commands+=(-n "ripsecrets" "ripsecrets $corpus > /dev/null || true")
fi
if command -v detect-secrets >/dev/null; then
  commands+=(-n "detect-secrets" "detect-secrets scan --all-files $corpus > /dev/null")
fi
hyperfine --warmup 2 --runs "${RUNS:-10}" --export-markdown "${EXPORT:-/dev/null}" "${commands[@]}"
/usr/bin/time -f "patscan peak RSS: %M KiB" ./target/release/patscan scan --quiet "$corpus" > /dev/null || true
