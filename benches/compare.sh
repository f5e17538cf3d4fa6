#!/usr/bin/env bash
# Two builds of patscan on the same inputs: the tree-scan corpus of scan.sh
# and the history repository of git-history.sh. For "does this change slow the
# scan?" (README, Performance: before and after).
#
#   benches/compare.sh BEFORE_BINARY AFTER_BINARY [MEGABYTES] [COMMITS]
#
# Build the "before" binary from an older commit first, e.g.
#   git worktree add /tmp/before OLD && (cd /tmp/before && cargo build --release)
# Tree: hyperfine, interleaved runs of both builds (RUNS, default 10) over the
# seeded corpus (MEGABYTES, default 1024), all cores and -j1; wall and CPU.
# History: git-history.sh once per build on one kept repository (COMMITS,
# default 20,000). Corpora stay under ${CORPORA:-/tmp} for reuse.
set -euo pipefail
cd "$(dirname "$0")/.."
before=$(realpath "$1"); after=$(realpath "$2")
megabytes=${3:-1024}; commits=${4:-20000}
corpora=${CORPORA:-${TMPDIR:-/tmp}}
runs=${RUNS:-10}
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
cargo build --release --quiet --example gen_corpus
tree=$corpora/patscan-corpus-$megabytes
[ -d "$tree" ] || ./target/release/examples/gen_corpus "$tree" "$megabytes" 1 >&2
find "$tree" -type f -print0 | xargs -0 cat > /dev/null   # warm the page cache
echo "== tree: $(find "$tree" -type f | wc -l) files, $(du -sb "$tree" | cut -f1) bytes; $(nproc) cores; $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"
for b in "$before" "$after"; do
  echo "$b: $("$b" rules | wc -l) rules, $("$b" scan --exit-zero -q --format jsonl "$tree" | wc -l) findings"
done
hyperfine -N -w 2 -r "$runs" \
  -n before "$before scan --exit-zero -q $tree" -n after "$after scan --exit-zero -q $tree" \
  -n "before -j1" "$before scan --exit-zero -q -j1 $tree" -n "after -j1" "$after scan --exit-zero -q -j1 $tree"
repo=$corpora/patscan-history-$commits
for b in "$before" "$after"; do
  echo "== history ($commits commits): $b"
  KEEP=$repo PATSCAN=$b benches/git-history.sh "$commits" | tail -n 6
done
