#!/usr/bin/env bash
# The history figures on any repository: `patscan scan --history` against
# `git cat-file --batch-all-objects --batch` (which only reads and prints
# every object), peak memory, a run under --max-memory, and the cache: a
# first run that writes it, a repeat, and a run after one new commit.
#
#   benches/history-real.sh REPO [MAX_MEMORY]   # uses target/release/patscan
#
# REPO is never written to: it is cloned with `git clone --mirror --local`
# (hard links, no copy of the packs; every ref kept) into a temporary
# folder, the cache goes there too, and the new commit is made in the clone.
# MAX_MEMORY (default 256M) is the --max-memory of the bounded run. Each
# figure is one run (RUNS=N: the best of N) with wall, user and system CPU,
# peak RSS (/usr/bin/time) and the load average before the run: the machine
# may be shared, and peak RSS and CPU time are the steadier figures.
# FINDINGS=DIR keeps each run's JSON report there, to compare findings.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=${1:?usage: benches/history-real.sh REPO [MAX_MEMORY]}
MAX=${2:-256M}
RUNS=${RUNS:-1}
BIN=${PATSCAN:-$PWD/target/release/patscan}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian: apt-get install time)" >&2; exit 2; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
git clone -q --mirror --local "$SRC" "$WORK/repo.git"
REPO=$WORK/repo.git
CACHE=$WORK/cache
OUT=${FINDINGS:-$WORK}
mkdir -p "$OUT"

OBJECTS=$(git -C "$REPO" count-objects -v | awk '/^(count|in-pack):/ {s += $2} END {print s}')
PACKS=$(git -C "$REPO" count-objects -v | awk '/^packs:/ {print $2}')
PACK=$(git -C "$REPO" count-objects -vH | awk '/^size-pack:/ {print $2, $3}')
REFS=$(git -C "$REPO" for-each-ref | wc -l)
echo "repository: $SRC: $OBJECTS objects in $PACKS pack(s), $PACK, $REFS refs"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +'%Y-%m-%d %H:%M UTC')"

measure() { # label, prepare command, then the command to time
  local label=$1 prepare=$2; shift 2
  local best=999999 best_cpu=0 line=""
  for _ in $(seq "$RUNS"); do
    eval "$prepare"
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    # git cat-file's output (every object, gigabytes) goes nowhere, as in
    # `git cat-file ... >/dev/null`: written to a file it cost git seconds
    # of system time and filled the disk.
    local sink="$WORK/stdout"
    [ "$label" = git-cat-file ] && sink=/dev/null
    : >"$WORK/stdout"
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$@" >"$sink" 2>"$WORK/stderr" || true
    read -r secs user sys kb < <(tail -n 1 "$WORK/time")
    if python3 -c "import sys; sys.exit(0 if $secs < $best else 1)"; then
      best=$secs
      best_cpu=$(python3 -c "print($user + $sys)")
      line=$(printf '%-26s %7.2f s wall  %7.2f s user  %5.2f s sys  %6d MiB peak  load %s' \
        "$label" "$secs" "$user" "$sys" "$((kb / 1024))" "$load")
      [ -s "$WORK/stdout" ] && cp "$WORK/stdout" "$OUT/$label.json"
    fi
  done
  echo "$line"
  echo "$best" >"$WORK/$label.secs"
  echo "$best_cpu" >"$WORK/$label.cpu"
  grep -v '^$' "$WORK/stderr" | sed 's/^/    /' | head -n 3 || true
}

cd "$REPO"
measure git-cat-file ":" git cat-file --batch-all-objects --batch
SCAN=("$BIN" scan --history --format json --exit-zero)
measure no-cache ":" "${SCAN[@]}" --no-cache
if "$BIN" scan --help | grep -q -- '--max-memory'; then
  measure "max-memory-$MAX" ":" "${SCAN[@]}" --no-cache --max-memory "$MAX"
fi
measure cache-first "rm -rf '$CACHE'" "${SCAN[@]}" --cache "$CACHE"
measure cache-repeat ":" "${SCAN[@]}" --cache "$CACHE"

# One new commit on top of the first ref's commit: one file added.
TIP=$(git for-each-ref --count=1 --format='%(objectname)' 'refs/heads/' 'refs/')
BLOB=$(echo "one more line, $(date)" | git hash-object -w --stdin)
GIT_INDEX_FILE=$WORK/index git read-tree "$TIP"
GIT_INDEX_FILE=$WORK/index git update-index --add --cacheinfo "100644,$BLOB,patscan-bench-new-file.txt"
TREE=$(GIT_INDEX_FILE=$WORK/index git write-tree)
NEW=$(GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.test GIT_COMMITTER_NAME=bench \
  GIT_COMMITTER_EMAIL=bench@example.test git commit-tree "$TREE" -p "$TIP" -m "bench: one new commit")
git update-ref refs/heads/patscan-bench-new-commit "$NEW"
# Only the first run after the commit sees it new; later ones are repeats.
RUNS_SAVED=$RUNS
RUNS=1
measure cache-new-commit ":" "${SCAN[@]}" --cache "$CACHE"
RUNS=$RUNS_SAVED

python3 - "$WORK" <<'EOF'
import sys
w = sys.argv[1]
for kind in ("secs", "cpu"):
    t = lambda n: float(open(f"{w}/{n}.{kind}").read())
    what = "wall" if kind == "secs" else "CPU (user + sys)"
    g, p = t("git-cat-file"), t("no-cache")
    print(f"{what}: patscan / git cat-file = {p / g:.2f}x (goal: <= 0.6x)")
    f = t("cache-first")
    print(f"{what}: cache: writing it {100 * (f / p - 1):+.0f}% over no cache (goal: <= +10%); "
          f"repeat {100 * t('cache-repeat') / f:.1f}% of the first (goal: < 10%); "
          f"after one new commit {100 * t('cache-new-commit') / f:.1f}% (goal: < 5%)")
EOF
echo "cache size: $(du -sh "$CACHE" | cut -f1)"
