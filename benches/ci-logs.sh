#!/usr/bin/env bash
# CI logs end to end: `patscan scan --ci-logs` over an emulated Azure DevOps
# project (benches/ci_server.rs: the tests' loopback CI emulator) of
# PIPELINES pipelines x BUILDS builds (1,000 by default), each build three
# task logs of LOG_KIB KiB, against scanning the same logs from disk.
#
#   benches/ci-logs.sh [PIPELINES] [BUILDS] [LOG_KIB]   # default 50 20 64; builds --release
#
# 1. end to end: list the definitions and builds, read each build's
#    timeline and logs list, download and scan every log (--org-jobs 2);
# 2. scan only: the same log bytes, one file each, `patscan scan DIR`.
# The difference is the cost of the listing and the downloads. User and
# system CPU of patscan (the emulator runs in its own process), and wall
# time; best of 3. The machine may be shared: the load is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
PIPELINES=${1:-50}
BUILDS=${2:-20}
LOG_KIB=${3:-64}
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet --bin patscan --example ci_server
BIN=$PWD/target/release/patscan
WORK=$(mktemp -d)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
CRED=bench-$RANDOM$RANDOM
mkdir "$WORK/logs"
mkfifo "$WORK/ready"
./target/release/examples/ci_server "$PIPELINES" "$BUILDS" "$LOG_KIB" "$CRED" "$WORK/logs" >"$WORK/ready" &
SERVER_PID=$!
read -r line <"$WORK/ready"
export "${line?}"
export AZURE_DEVOPS_EXT_PAT=$CRED
BYTES=$(du -sb "$WORK/logs" | cut -f1)
echo "CI logs: $PIPELINES pipelines x $BUILDS builds x 3 logs of ${LOG_KIB} KiB ($((BYTES / 1048576)) MiB); $(nproc) cores; $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"

measure() { # label, command...
  local label=$1; shift
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || true
    read -r wall user sys rss <"$WORK/time"
    echo "$label wall ${wall}s user ${user}s sys ${sys}s peak ${rss} KiB"
  done | sort -k3 -n | head -1
}

measure "end to end (list, download, scan)" \
  "$BIN" scan --ci-logs azure-devops:acme/Proj --builds "$BUILDS" --org-jobs 2 -q --exit-zero --format json -o "$WORK/ci.json"
python3 - "$WORK/ci.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
s = report["summary"]
print(f"  scanned {s['files_scanned']} logs, {s['bytes_scanned'] / 1048576:.0f} MiB, {len(report['secrets'])} secrets, {s['problems']} problems")
PY
measure "scan only (the same logs on disk)" \
  "$BIN" scan "$WORK/logs" --no-cache -q --exit-zero --format json -o "$WORK/disk.json"
