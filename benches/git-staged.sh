#!/usr/bin/env bash
# Pre-commit latency: `patscan scan --staged` for a typical commit (a few
# files changed) in a repository of FILES files (default 12,000).
#
#   benches/git-staged.sh [FILES]        # uses target/release/patscan
#
# Builds the repository in a temporary folder, stages 3 modified files and
# 1 new one, and times the staged scan with hyperfine (or a plain loop when
# hyperfine is missing). The figure should not grow with FILES.
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${1:-12000}
BIN=${PATSCAN:-$PWD/target/release/patscan}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 2; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.test
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.test
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1

cd "$WORK"
git init -q -b main repo
cd repo
python3 - "$FILES" <<'EOF'
import os, random, sys
files = int(sys.argv[1])
rng = random.Random(7)
words = "fn let mut impl struct return match if else for while use pub crate self".split()
for i in range(files):
    d = f"src/mod{i % 400:03d}/sub{i % 7}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/file{i:05d}.rs", "w") as f:
        for _ in range(rng.randint(20, 120)):
            f.write(" ".join(rng.choice(words) for _ in range(10)) + "\n")
EOF
git add -A
git commit -q -m "a large repository"

# A typical commit: three edited files and one new file.
for f in src/mod001/sub1/file00001.rs src/mod100/sub2/file00100.rs src/mod399/sub0/file00399.rs; do
  echo "// edited" >> "$f"
done
printf 'fn main() {}\n' > src/new_file.rs
git add -A

echo "repository: $(git ls-files | wc -l) files, $(du -sh .git | cut -f1) in .git; staged: $(git diff --cached --name-only | wc -l) files"
if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --warmup 3 --runs 30 -N "$BIN scan --staged" 2>&1
else
  start=$(date +%s%N)
  for _ in $(seq 30); do "$BIN" scan --staged >/dev/null; done
  end=$(date +%s%N)
  echo "mean: $(( (end - start) / 30 / 1000000 )) ms over 30 runs"
fi
# CPU time, the steadier figure on a shared machine (wall waits for a core).
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f '%U %S' -o cpu.txt bash -c "for _ in \$(seq 30); do '$BIN' scan --staged >/dev/null; done"
  read -r user sys < cpu.txt
  python3 -c "print(f'CPU: {($user + $sys) / 30 * 1000:.1f} ms a run (user + sys), over 30 runs')"
fi
