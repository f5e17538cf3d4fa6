#!/usr/bin/env bash
# The history cache: a first `patscan scan --history` (cache empty) against
# a repeat one on the unchanged repository, and against one whose run record
# is gone (as after a new commit: the history is walked again, but every
# blob is known), on the repository of benches/git-history.sh.
#
#   benches/cache.sh [COMMITS] [FILES]     # uses target/release/patscan
#
# Best of 3 wall times, with user + sys CPU (the machine may be shared).
# With KEEP=DIR the repository is generated into DIR once and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
COMMITS=${1:-50000}
FILES=${2:-2000}
BIN=${PATSCAN:-$PWD/target/release/patscan}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 2; }
[ -x /usr/bin/time ] || { apt-get install -y -qq time >/dev/null; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
REPO=${KEEP:-$WORK/repo}
if [ ! -d "$REPO/.git" ]; then
  # Only to generate it: git-history.sh's own timing runs `true`.
  KEEP=$REPO PATSCAN=/bin/true benches/git-history.sh "$COMMITS" "$FILES" >/dev/null 2>&1
fi
CACHE=$WORK/cache
cd "$REPO"
echo "repository: $COMMITS commits, $(git count-objects -v | awk '/^in-pack/ {print $2}') objects"

measure() { # label, prepare command, then the scan
  local label=$1 prepare=$2; shift 2
  local best=999999 best_cpu=0
  for _ in 1 2 3; do
    eval "$prepare"
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$@" >"$WORK/out.json" 2>"$WORK/stderr" || true
    read -r secs user sys kb < <(tail -n 1 "$WORK/time")
    echo "  $label: ${secs} s wall, ${user} s user + ${sys} s sys, $((kb / 1024)) MiB" >&2
    if python3 -c "import sys; sys.exit(0 if $secs < $best else 1)"; then
      best=$secs
      best_cpu=$(python3 -c "print(round($user + $sys, 2))")
    fi
  done
  printf '%-34s %6.2f s wall  %6.2f s CPU   cache %s\n' "$label" "$best" "$best_cpu" \
    "$(python3 -c "import json; print(json.load(open('$WORK/out.json'))['summary'].get('cache'))")"
  echo "$best" >"$WORK/$label.secs"
}

SCAN=("$BIN" scan --history --format json --cache "$CACHE")
measure first "rm -rf '$CACHE'" "${SCAN[@]}"
measure repeat ":" "${SCAN[@]}"
measure walk-known-blobs "rm -f '$CACHE'/*.run" "${SCAN[@]}"
measure no-cache ":" "$BIN" scan --history --format json --no-cache
python3 -c "
f = float(open('$WORK/first.secs').read()); r = float(open('$WORK/repeat.secs').read())
w = float(open('$WORK/walk-known-blobs.secs').read())
print(f'repeat = {100 * r / f:.1f}% of the first run (goal: < 10%); walk with known blobs = {100 * w / f:.1f}%')"
echo "cache size: $(du -sh "$CACHE" | cut -f1)"
