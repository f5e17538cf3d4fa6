#!/usr/bin/env bash
# Peak memory (resident set, /usr/bin/time's %M) of patscan on inputs that
# would break a scanner that holds a file, a line or a tree in memory:
#
#   1. a 10 GiB stream on stdin (generated text, never on disk);
#   2. a 500 MB file that is one single line (minified JavaScript with
#      percent-escaped URLs in it, so the decoded views are exercised too);
#   3. a million small files (1,000 folders of 1,000 files);
#   4. a tree 1,000 folders deep, a file in every folder;
#   5. the 1 GiB benchmark corpus of benches/scan.sh, when it exists.
#
#   benches/memory.sh            # uses target/release/patscan
#
# The inputs are generated under ${SCRATCH:-/tmp}/patscan-memory (about 1.5 GB
# of disk and a million inodes) and kept for re-runs; delete it afterwards.
# Each input carries a few planted tokens from the seeded generator (the
# gen_corpus example), and the findings are printed, so a scan that skipped
# its input cannot pass for a lean one.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
cargo build --release --quiet --bin patscan --example gen_corpus
patscan=$PWD/target/release/patscan
work=${SCRATCH:-/tmp}/patscan-memory
mkdir -p "$work"

# A few files of the seeded corpus, planted tokens included, to draw text from.
seed=$work/seed
[ -d "$seed" ] || ./target/release/examples/gen_corpus "$seed" 8 7 >/dev/null
block=$work/block.txt # ~8 MiB of mixed source, lockfiles, JSON...
[ -f "$block" ] || find "$seed" -type f | sort | xargs cat > "$block"
planted_per_block=$(grep -c '^const LEAKED = ' "$block" || true)

# measure LABEL COMMAND...: prints peak RSS, wall and CPU time of COMMAND
# (patscan), and the findings from its JSON summary. With STDIN_FROM set,
# that function's output is piped into it.
measure() {
  local label=$1; shift
  local stats; stats=$(mktemp)
  local findings
  findings=$(${STDIN_FROM:-true} | /usr/bin/time -o "$stats" -f "%M %e %U %S" "$@" -f json --quiet 2>/dev/null \
    | python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print("%d findings, %d files, %d bytes" % (s["findings"], s["files_scanned"], s["bytes_scanned"]))') || true # patscan exits 1 when it finds tokens
  read -r rss wall user sys < <(tail -n 1 "$stats"); rm -f "$stats"
  printf '| %s | %s MiB | %s s | %s s | %s |\n' "$label" "$((rss / 1024))" "$wall" "$(echo "$user + $sys" | bc)" "$findings"
}

echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem/{print $2}') GiB RAM; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| input | peak RSS | wall | CPU | scanned |"
echo "| --- | --- | --- | --- | --- |"

# 1. 10 GiB on stdin: the block repeated, so $planted_per_block tokens a copy.
stream() {
  python3 - "$block" $((10 << 30)) <<'EOF'
import sys
block = open(sys.argv[1], "rb").read()
left = int(sys.argv[2])
out = sys.stdout.buffer
while left > 0:
    out.write(block[:left])
    left -= len(block)
EOF
}
STDIN_FROM=stream measure "10 GiB stream on stdin (a $(($(stat -c %s "$block") >> 20)) MiB block, $planted_per_block planted, repeated)" \
  "$patscan" scan - --max-file-size 20G

# 2. One 500 MB line: the block with its newlines turned into spaces, and a
# percent-escaped URL every 64 KiB.
line=$work/one-line.js
if [ ! -f "$line" ]; then
  python3 - "$block" "$line" 500000000 <<'EOF'
import sys
block = open(sys.argv[1], "rb").read().replace(b"\n", b" ")
url = b' fetch("https://example.com/search?q=user%20account%2Fsettings&next=%2Fhome"); '
with open(sys.argv[2], "wb") as f:
    left = int(sys.argv[3])
    while left > 0:
        for i in range(0, len(block), 65536):
            piece = block[i:i + 65536] + url
            f.write(piece[:left])
            left -= len(piece)
            if left <= 0:
                break
EOF
fi
cat "$line" > /dev/null
measure "one line of $(stat -c %s "$line") bytes" "$patscan" scan --max-file-size 1G "$line"

# 3. A million small files: 400-byte cuts of the corpus, and in ten of the
# folders one more file, a whole corpus file with a planted token.
many=$work/million
if [ ! -f "$many.done" ]; then
  python3 - "$seed" "$many" <<'EOF'
import os, sys
texts, leaks = [], []
for root, _, files in os.walk(sys.argv[1]):
    for name in sorted(files):
        data = open(os.path.join(root, name), "rb").read()
        (leaks if b"const LEAKED" in data else texts).append(data)
for d in range(1000):
    folder = os.path.join(sys.argv[2], f"d{d:03}")
    os.makedirs(folder, exist_ok=True)
    for i in range(1000):
        with open(os.path.join(folder, f"f{i:03}.txt"), "wb") as f:
            f.write(texts[(d * 1000 + i) % len(texts)][:400])
    if d % 100 == 0:
        with open(os.path.join(folder, "leak.txt"), "wb") as f:
            f.write(leaks[d // 100 % len(leaks)])
EOF
  touch "$many.done"
fi
find "$many" -type f -print0 | xargs -0 cat > /dev/null
measure "$(find "$many" -type f | wc -l) small files" "$patscan" scan "$many"

# 4. A tree 1,000 folders deep, a corpus file in each folder.
deep=$work/deep
if [ ! -f "$deep.done" ]; then
  python3 - "$seed" "$deep" <<'EOF'
import os, sys
texts = []
for root, _, files in os.walk(sys.argv[1]):
    for name in sorted(files):
        texts.append(open(os.path.join(root, name), "rb").read())
path = sys.argv[2]
for depth in range(1000):
    path = os.path.join(path, "d")
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "f.txt"), "wb") as f:
        f.write(texts[depth % len(texts)])
EOF
  touch "$deep.done"
fi
measure "a tree 1,000 folders deep" "$patscan" scan "$deep"

# 5. The benchmark corpus, if benches/scan.sh made it.
corpus=${CORPORA:-${TMPDIR:-/tmp}}/patscan-corpus-1024
if [ -d "$corpus" ]; then
  find "$corpus" -type f -print0 | xargs -0 cat > /dev/null # warm the cache again
  measure "benchmark corpus (1 GiB, $(find "$corpus" -type f | wc -l) files)" "$patscan" scan "$corpus"
fi
