#!/usr/bin/env bash
# Whole-scan benchmark on a warm cache: patscan against the time to merely
# read the same files, and against ripsecrets and detect-secrets.
#
#   benches/scan.sh [MEGABYTES] [SUBSET_MEGABYTES]
#
# 1. A generated corpus of MEGABYTES (default 1024: ~57,000 files of source in
#    several languages, JSON, YAML, lockfiles, minified bundles, logs and a few
#    planted tokens), timed with hyperfine: reading every file with cat (one
#    process, and two in parallel), reading every file with patscan's own
#    walker and reused buffers but no scan (the read_tree example: the floor),
#    patscan with all cores and with one.
# 2. ripsecrets on the same full tree, once, with /usr/bin/time; its findings
#    are counted so a run that scanned nothing cannot pass for a fast one.
# 3. detect-secrets is slower still (about 1 MB/s), so by default it runs on a subset:
#    the first SUBSET_MEGABYTES (default 50) of the same corpus (the seeded
#    generator writes the same files in the same order, so the small corpus is
#    a prefix of the large one; checked below). patscan and ripsecrets run on
#    that subset too, for a like-for-like ratio. FULL=1 runs detect-secrets on
#    the full tree as well (about 20 minutes).
#
# detect-secrets only scans files under its working directory: given an
# absolute path elsewhere it silently skips every file (it reports 0 results
# in under a second). It is therefore run as `cd TREE && detect-secrets scan
# --all-files .`, and its result count is printed.
#
# Every time is wall clock plus CPU (user + sys). Corpora are generated once
# under ${CORPORA:-/tmp}; RUNS (default 10) sets hyperfine's run count.
set -euo pipefail
cd "$(dirname "$0")/.."
megabytes=${1:-1024}
subset_megabytes=${2:-50}
corpora=${CORPORA:-${TMPDIR:-/tmp}}
out=${EXPORT_DIR:-/tmp}
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

cargo build --release --quiet --bin patscan --example gen_corpus --example read_tree
patscan=$PWD/target/release/patscan
read_tree=$PWD/target/release/examples/read_tree
corpus() { # MEGABYTES -> directory
  local dir=$corpora/patscan-corpus-$1
  [ -d "$dir" ] || ./target/release/examples/gen_corpus "$dir" "$1" 1 >&2
  echo "$dir"
}
describe() {
  echo "corpus $1: $(find "$1" -type f | wc -l) files, $(du -sb "$1" | cut -f1) bytes," \
    "$(grep -rh '^const LEAKED = ' "$1" | wc -l) planted tokens"
}
warm() { find "$1" -type f -print0 | xargs -0 cat > /dev/null; }
# One timed run: LABEL DIR(cwd) COMMAND... ; prints wall, user, sys, peak RSS.
timed() {
  local label=$1 dir=$2; shift 2
  local stats; stats=$(mktemp)
  (cd "$dir" && /usr/bin/time -o "$stats" -f "%e %U %S %M" "$@" > "$out/scan-bench-$label.out" 2>/dev/null) || true
  # The last line: time writes "Command exited with non-zero status" first.
  read -r wall user sys rss < <(tail -n 1 "$stats"); rm -f "$stats"
  printf '| %s | %s s | %s s (%s user + %s sys) | %s MiB |' "$label" "$wall" \
    "$(echo "$user + $sys" | bc)" "$user" "$sys" "$((rss / 1024))"
}
count_patscan() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["findings"])' "$1"; }
count_ripsecrets() { wc -l < "$1"; }
count_detect_secrets() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(sum(map(len, r.values())), "in", len(r), "files")' "$1"; }

echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem/{print $2}') GiB RAM, Linux $(uname -r)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows here)"
echo "versions: $($patscan --version), $(command -v ripsecrets >/dev/null && ripsecrets --version), detect-secrets $(command -v detect-secrets >/dev/null && detect-secrets --version)"

big=$(corpus "$megabytes")
describe "$big"
warm "$big"
hyperfine --warmup 2 --runs "${RUNS:-10}" --export-json "$out/patscan-bench-large.json" \
  --export-markdown "$out/patscan-bench-large.md" \
  -n "read (cat)" "find $big -type f -print0 | xargs -0 cat > /dev/null" \
  -n "read (cat, 2 processes)" "find $big -type f -print0 | xargs -0 -P2 -n 4000 cat > /dev/null" \
  -n "read (patscan's walker, no scan)" "$read_tree $big > /dev/null" \
  -n "patscan" "$patscan scan --quiet $big > /dev/null || test \$? -eq 1" \
  -n "patscan -j1" "$patscan scan --quiet -j1 $big > /dev/null || test \$? -eq 1"
echo
echo "mean of ${RUNS:-10} runs (hyperfine; CPU is user + sys of the command and its children):"
python3 - "$out/patscan-bench-large.json" "$(du -sb "$big" | cut -f1)" <<'EOF'
import json, sys
size = int(sys.argv[2])
print("| command | wall (± σ) | CPU (user + sys) | source per CPU-second |")
print("| --- | --- | --- | --- |")
for r in json.load(open(sys.argv[1]))["results"]:
    cpu = r["user"] + r["system"]
    print(f"| {r['command']} | {r['mean']*1000:.0f} ms ± {r['stddev']*1000:.0f} | "
          f"{cpu*1000:.0f} ms ({r['user']*1000:.0f} + {r['system']*1000:.0f}) | {size/cpu/1e6:.0f} MB/s |")
EOF

echo
echo "single runs on the full tree (/usr/bin/time):"
echo "| command | wall | CPU | peak RSS | findings |"
echo "| --- | --- | --- | --- | --- |"
echo "$(timed patscan "$big" "$patscan" scan -f json .) $(count_patscan "$out/scan-bench-patscan.out") |"
if command -v ripsecrets >/dev/null; then
  echo "$(timed ripsecrets "$big" ripsecrets .) $(count_ripsecrets "$out/scan-bench-ripsecrets.out") |"
fi
if [ "${FULL:-0}" = 1 ] && command -v detect-secrets >/dev/null; then
  echo "$(timed detect-secrets "$big" detect-secrets scan --all-files .) $(count_detect_secrets "$out/scan-bench-detect-secrets.out") |"
fi

small=$(corpus "$subset_megabytes")
echo
describe "$small"
if diff -rq "$small" "$big" | grep -v "^Only in $big" | grep -q .; then
  echo "note: $small is not a prefix of $big (different generator?)"
else
  echo "(every file of it is byte-identical to the same path in $big: a subset of the same tree)"
fi
warm "$small"
hyperfine --warmup 2 --runs "${RUNS:-10}" --export-json "$out/patscan-bench-subset.json" \
  -n "patscan (subset)" "$patscan scan --quiet $small > /dev/null || test \$? -eq 1" \
  -n "read (patscan's walker, no scan; subset)" "$read_tree $small > /dev/null" | grep -E "Benchmark|Time"
echo "| command | wall | CPU | peak RSS | findings |"
echo "| --- | --- | --- | --- | --- |"
echo "$(timed patscan "$small" "$patscan" scan -f json .) $(count_patscan "$out/scan-bench-patscan.out") |"
if command -v ripsecrets >/dev/null; then
  echo "$(timed ripsecrets "$small" ripsecrets .) $(count_ripsecrets "$out/scan-bench-ripsecrets.out") |"
fi
if command -v detect-secrets >/dev/null; then
  echo "$(timed detect-secrets "$small" detect-secrets scan --all-files .) $(count_detect_secrets "$out/scan-bench-detect-secrets.out") |"
fi
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
