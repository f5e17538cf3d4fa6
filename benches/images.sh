#!/usr/bin/env bash
# Image scan against a folder scan of the same files.
#
#   benches/images.sh [MEGABYTES] [LAYERS]
#
# The generated corpus of benches/scan.sh (MEGABYTES, default 1024) is cut
# into LAYERS (default 20) gzip-compressed layer tars, written as an OCI
# image layout, then timed (user + sys CPU, and wall, with /usr/bin/time):
#
#   1. `patscan scan --image LAYOUT --no-cache`: every layer decompressed,
#      digest-verified and walked, every file scanned;
#   2. the way without image support: `tar -xzf` of every layer into a
#      folder, then `patscan scan FOLDER`; and the folder scan alone;
#   3. `patscan scan --image` again with the layer cache warm.
#
# The goal (issue 27): the image scan at no less than half the speed of
# unpacking and scanning the folder. Corpora and layouts are kept under
# ${CORPORA:-/tmp}.
set -euo pipefail
cd "$(dirname "$0")/.."
megabytes=${1:-1024}
layers=${2:-20}
corpora=${CORPORA:-${TMPDIR:-/tmp}}
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

cargo build --release --quiet --bin patscan
patscan=$PWD/target/release/patscan
corpus=$corpora/patscan-corpus-$megabytes
if [ ! -d "$corpus" ]; then
  # The same corpus as benches/scan.sh (an example: it builds the dev-dependencies).
  cargo build --release --quiet --example gen_corpus
  ./target/release/examples/gen_corpus "$corpus" "$megabytes" 1 >&2
fi
layout=$corpora/patscan-image-$megabytes-$layers
if [ ! -f "$layout/index.json" ]; then
  rm -rf "$layout" && mkdir -p "$layout/blobs/sha256"
  work=$(mktemp -d)
  (cd "$corpus" && find . -type f | sort) > "$work/all"
  split -n "r/$layers" -d -a 3 "$work/all" "$work/part-"
  layer_json=""
  diff_ids=""
  for part in "$work"/part-*; do
    tar -C "$corpus" -cf "$work/layer.tar" -T "$part"
    diff=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
    gzip -6 -n -c "$work/layer.tar" > "$work/layer.tar.gz"
    hex=$(sha256sum "$work/layer.tar.gz" | cut -d' ' -f1)
    size=$(stat -c %s "$work/layer.tar.gz")
    mv "$work/layer.tar.gz" "$layout/blobs/sha256/$hex"
    layer_json+="${layer_json:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$hex\",\"size\":$size}"
    diff_ids+="${diff_ids:+,}\"sha256:$diff\""
  done
  rm -rf "$work"
  config="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$diff_ids]},\"history\":[]}"
  printf '%s' "$config" > "$layout/config.tmp"
  chex=$(sha256sum "$layout/config.tmp" | cut -d' ' -f1)
  csize=$(stat -c %s "$layout/config.tmp")
  mv "$layout/config.tmp" "$layout/blobs/sha256/$chex"
  manifest="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$chex\",\"size\":$csize},\"layers\":[$layer_json]}"
  printf '%s' "$manifest" > "$layout/manifest.tmp"
  mhex=$(sha256sum "$layout/manifest.tmp" | cut -d' ' -f1)
  msize=$(stat -c %s "$layout/manifest.tmp")
  mv "$layout/manifest.tmp" "$layout/blobs/sha256/$mhex"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}]}' "$mhex" "$msize" > "$layout/index.json"
fi
echo "corpus: $(find "$corpus" -type f | wc -l) files, $(du -sb "$corpus" | cut -f1) bytes"
echo "image: $layers layers, $(du -sb "$layout/blobs" | cut -f1) bytes compressed"
echo "load: $(uptime)"

timed() { # LABEL COMMAND...
  local label=$1; shift
  local stats; stats=$(mktemp)
  /usr/bin/time -o "$stats" -f "%e %U %S %M" "$@" > /dev/null 2>&1 || true
  read -r wall user sys rss < <(tail -n 1 "$stats"); rm -f "$stats"
  printf '| %s | %s s | %s s (%s user + %s sys) | %s MiB |\n' "$label" "$wall" \
    "$(echo "$user + $sys" | bc)" "$user" "$sys" "$((rss / 1024))"
}
unpack_and_scan() {
  local dir; dir=$(mktemp -d)
  for blob in $(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(" ".join(l["digest"][7:] for l in m["layers"]))' "$1"); do
    tar -C "$dir" -xzf "$layout/blobs/sha256/$blob"
  done
  "$patscan" scan --exit-zero --no-archives "$dir"
  rm -rf "$dir"
}
export -f unpack_and_scan
export patscan layout
manifest=$layout/blobs/sha256/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"][7:])' "$layout/index.json")
cache=$(mktemp -d)
echo "| what | wall | CPU | peak RSS |"
echo "| --- | --- | --- | --- |"
timed "patscan scan --image (no cache)" "$patscan" scan --exit-zero --no-cache --no-archives --image "$layout"
timed "tar -xzf every layer, then patscan scan FOLDER" bash -c "unpack_and_scan $manifest"
timed "patscan scan FOLDER (already unpacked)" "$patscan" scan --exit-zero --no-archives "$corpus"
"$patscan" scan --exit-zero --no-archives --cache "$cache" --image "$layout" > /dev/null 2>&1 || true
timed "patscan scan --image, layer cache warm" "$patscan" scan --exit-zero --no-archives --cache "$cache" --image "$layout"
rm -rf "$cache"
