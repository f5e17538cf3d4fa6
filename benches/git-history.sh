#!/usr/bin/env bash
# Full-history throughput: `patscan scan --history` against
# `git cat-file --batch-all-objects --batch` (which only reads and prints
# every object) on the same generated repository, plus peak memory.
#
#   benches/git-history.sh [COMMITS] [FILES]     # uses target/release/patscan
#
# The repository is generated with `git fast-import`: COMMITS commits
# (default 20,000) each editing 3 of FILES text files (default 2,000), then
# repacked into one pack with fresh deltas (`repack -f`), as a clone has it:
# each file's and folder's versions in delta chains up to 50 deep, the
# newest version whole. (Without -f the pack keeps fast-import's deltas,
# which leave almost every blob whole: 2,697 deltas among 149,823 blobs at
# 50,000 commits, a pack 5x larger than a clone's and much cheaper to read.) With KEEP=DIR the
# repository is generated into DIR once and reused by later runs (to profile
# or to compare two builds on the same objects).
set -euo pipefail
cd "$(dirname "$0")/.."
COMMITS=${1:-20000}
FILES=${2:-2000}
BIN=${PATSCAN:-$PWD/target/release/patscan}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 2; }
[ -x /usr/bin/time ] || { apt-get install -y -qq time >/dev/null; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
REPO=${KEEP:-$WORK/repo}
if [ -n "${KEEP:-}" ] && [ -d "$REPO/.git" ]; then
  cd "$REPO"
else
git init -q -b main "$REPO"
cd "$REPO"

python3 - "$COMMITS" "$FILES" <<'EOF' | git fast-import --quiet
import random, sys
commits, files = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(42)
words = ("fn let mut impl struct return match if else for while use pub crate self "
         "config token value result error string vec option some none").split()
def line():
    return " ".join(rng.choice(words) for _ in range(rng.randint(4, 14))) + "\n"
contents = [[line() for _ in range(rng.randint(20, 150))] for _ in range(files)]
out = sys.stdout.buffer
def data(b):
    out.write(b"data %d\n" % len(b)); out.write(b); out.write(b"\n")
mark = 0
for c in range(commits):
    changes = []
    for f in rng.sample(range(files), 3):
        lines = contents[f]
        op = rng.random()
        if op < 0.5: lines.insert(rng.randrange(len(lines) + 1), line())
        elif op < 0.8: lines[rng.randrange(len(lines))] = line()
        elif len(lines) > 5: del lines[rng.randrange(len(lines))]
        mark += 1
        out.write(b"blob\nmark :%d\n" % mark)
        data("".join(lines).encode())
        changes.append((f, mark))
    ts = 1_600_000_000 + c * 600
    out.write(b"commit refs/heads/main\n")
    out.write(b"author Bench <bench@example.test> %d +0000\n" % ts)
    out.write(b"committer Bench <bench@example.test> %d +0000\n" % ts)
    data(b"change %d\n" % c)
    for f, m in changes:
        out.write(b"M 100644 :%d src/dir%03d/file%05d.txt\n" % (m, f % 100, f))
    out.write(b"\n")
EOF
git repack -adfq
git checkout -q main 2>/dev/null || true
fi

OBJECTS=$(git count-objects -v | awk '/^in-pack/ {print $2}')
BYTES=$(git cat-file --batch-all-objects --batch-check='%(objectsize)' | awk '{s += $1} END {print s}')
echo "repository: $COMMITS commits, $FILES files, $OBJECTS objects, $((BYTES / 1048576)) MiB uncompressed, pack $(du -sh .git/objects/pack | cut -f1)"

measure() { # label, command...: best wall time of 3 runs, peak RSS
  local label=$1; shift
  local best=999999 rss=0
  for _ in 1 2 3; do
    /usr/bin/time -f '%e %M %U %S' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || true
    # A failing command makes time(1) write a status line first.
    read -r secs kb user sys < <(tail -n 1 "$WORK/time")
    echo "  $label: ${secs} s wall, ${user} s user + ${sys} s sys, $((kb / 1024)) MiB" >&2
    best=$(python3 -c "print(min($best, $secs))")
    rss=$kb
  done
  printf '%-28s %7.2f s  %8.1f MiB/s  peak RSS %6d MiB\n' "$label" "$best" \
    "$(python3 -c "print($BYTES / 1048576 / max($best, 0.01))")" "$((rss / 1024))"
  echo "$best" > "$WORK/$label.secs"
}
measure cat-file git cat-file --batch-all-objects --batch
# Every run scans from scratch: builds with the history cache (issue 14)
# would otherwise answer runs 2 and 3 from it (benches/cache.sh measures that).
NO_CACHE=()
"$BIN" scan --help | grep -q -- '--no-cache' && NO_CACHE=(--no-cache)
measure patscan "$BIN" scan --history --format json -o /dev/null "${NO_CACHE[@]}"
python3 -c "
c = float(open('$WORK/cat-file.secs').read()); p = float(open('$WORK/patscan.secs').read())
print(f'patscan throughput = {c / p:.2f}x that of git cat-file (goal: >= 0.5x)')"
tail -n 3 "$WORK/stderr" || true
