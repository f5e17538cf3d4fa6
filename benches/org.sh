#!/usr/bin/env bash
# Organisation audit end to end against scanning the same clones already on
# disk: an emulated organisation (benches/org_server.rs: the tests' loopback
# listing emulator and git smart-HTTP server) of REPOS repositories of
# COMMITS commits each.
#
#   benches/org.sh [REPOS] [COMMITS]     # default 200 200; builds --release
#
# 1. end to end: `patscan scan --org github:acme --org-jobs 2` (list, clone
#    over HTTP, scan, remove each clone);
# 2. the same clones on disk (kept from an untimed run), scanned one after
#    another with `patscan scan --history`, as a shell loop would;
# 3. the same, two at a time (`xargs -P 2`), the fairer match for
#    --org-jobs 2. The ratio is taken against the faster of 2 and 3.
# Both with --no-cache. Best of 3 wall times; the machine may be shared.
set -euo pipefail
cd "$(dirname "$0")/.."
REPOS=${1:-200}
COMMITS=${2:-200}
cargo build --release --quiet --bin patscan --example org_server
BIN=$PWD/target/release/patscan
WORK=$(mktemp -d)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
CRED=bench-$RANDOM$RANDOM
mkfifo "$WORK/ready"
./target/release/examples/org_server "$REPOS" "$COMMITS" "$CRED" >"$WORK/ready" &
SERVER_PID=$!
read -r line <"$WORK/ready"
export "${line?}"
export GITHUB_TOKEN=$CRED GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
echo "organisation: $REPOS repositories x $COMMITS commits; $(nproc) cores; $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"

best() { # label, command...
  local label=$1; shift
  local best=999999
  for _ in 1 2 3; do
    local start end secs
    start=$(date +%s.%N)
    "$@" >/dev/null 2>"$WORK/stderr" || true
    end=$(date +%s.%N)
    secs=$(python3 -c "print(round($end - $start, 2))")
    echo "  $label: ${secs} s" >&2
    best=$(python3 -c "print(min($best, $secs))")
  done
  echo "$best"
}

end_to_end() {
  "$BIN" scan --org github:acme --org-jobs 2 --no-cache -q --format json -o "$WORK/org.json"
}
"$BIN" scan --org github:acme --org-jobs 2 --no-cache -q --format json \
  --clone-dir "$WORK/clones" --keep-clones -o "$WORK/kept.json" || true
on_disk() {
  for dir in "$WORK"/clones/*.git; do
    "$BIN" scan --history --no-cache -q --format json "$dir" >/dev/null || true
  done
}
on_disk_parallel() {
  printf '%s\0' "$WORK"/clones/*.git |
    xargs -0 -P 2 -I{} sh -c '"$0" scan --history --no-cache -q --format json "$1" >/dev/null || true' "$BIN" {}
}
org=$(best "scan --org --org-jobs 2" end_to_end)
disk=$(best "scan --history of each clone on disk" on_disk)
disk2=$(best "the same, two at a time" on_disk_parallel)
findings=$(python3 -c "import json; print(json.load(open('$WORK/org.json'))['summary']['findings'])")
echo "end to end (list, clone over HTTP, scan): ${org} s"
echo "the same clones on disk, one scan each:    ${disk} s"
echo "the same, two scans at a time:             ${disk2} s"
echo "ratio: $(python3 -c "print(round($org / min($disk, $disk2), 2))")x; $findings findings"
