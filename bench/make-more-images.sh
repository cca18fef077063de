#!/usr/bin/env bash
# Deterministic OCI layouts for the real-client rows of run.sh, in the same style as the anchors' make-images.sh
# (AES-CTR keystream layers, reproducible tar and gzip, same digests on every machine), no network needed:
#   ten          10 layers of 2 MiB pseudo-random data (podman push and pull)
#   multi-00..15 16 distinct images of 2 layers of 4 MiB each (8 concurrent pushes, 16 concurrent pulls)
# Usage: make-more-images.sh DIR   (skips images already built in DIR)
set -euo pipefail
IMG=${1:?usage: make-more-images.sh DIR}
mkdir -p "$IMG"

prng() { # prng SEED BYTES
  { openssl enc -aes-128-ctr -nosalt -K "$(printf '%s' "$1" | sha256sum | cut -c1-32)" \
      -iv 00000000000000000000000000000000 </dev/zero 2>/dev/null || true; } | head -c "$2"
}
add_blob() { # add_blob LAYOUT FILE -> "sha256:HEX SIZE"
  local hex size
  hex=$(sha256sum "$2" | cut -d' ' -f1); size=$(stat -c %s "$2")
  mv "$2" "$1/blobs/sha256/$hex"; echo "sha256:$hex $size"
}
make_layer() { # make_layer LAYOUT SEED BYTES PATH -> "digest size diffid"
  local lay=$1 seed=$2 bytes=$3 path=$4 tmp diffid dg sz
  tmp=$(mktemp -d "$IMG/tmp.XXXX"); mkdir -p "$tmp/root/$(dirname "$path")"
  prng "$seed" "$bytes" > "$tmp/root/$path"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=posix \
      --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$tmp/root" -cf "$tmp/layer.tar" .
  diffid=sha256:$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
  gzip -n -1 -c "$tmp/layer.tar" > "$tmp/layer.tar.gz"
  read -r dg sz < <(add_blob "$lay" "$tmp/layer.tar.gz"); rm -rf "$tmp"
  echo "$dg $sz $diffid"
}
build_image() { # build_image NAME NLAYERS BYTES_PER_LAYER
  local name=$1 n=$2 bytes=$3 lay=$IMG/$1 layers='[]' diffids='[]' i dg sz diffid cdg csz mdg msz
  [ -f "$lay/index.json" ] && return
  rm -rf "$lay"; mkdir -p "$lay/blobs/sha256"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$lay/oci-layout"
  for ((i = 0; i < n; i++)); do
    read -r dg sz diffid < <(make_layer "$lay" "$name-$i" "$bytes" "$(printf 'data/%s-%03d.bin' "$name" "$i")")
    layers=$(jq -c --arg d "$dg" --argjson s "$sz" '. + [{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":$d,"size":$s}]' <<<"$layers")
    diffids=$(jq -c --arg d "$diffid" '. + [$d]' <<<"$diffids")
  done
  jq -cn --argjson ids "$diffids" --arg n "$name" '{created:"1970-01-01T00:00:00Z",architecture:"amd64",os:"linux",
      config:{Env:["PATH=/usr/local/bin:/usr/bin:/bin"],Cmd:["/bin/true"],Labels:{"bench.image":$n}},
      rootfs:{type:"layers",diff_ids:$ids}}' > "$lay/config.json"
  read -r cdg csz < <(add_blob "$lay" "$lay/config.json")
  jq -cn --arg cd "$cdg" --argjson cs "$csz" --argjson l "$layers" '{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
      config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$cd,size:$cs},layers:$l}' > "$lay/manifest.json"
  read -r mdg msz < <(add_blob "$lay" "$lay/manifest.json")
  jq -cn --arg d "$mdg" --argjson s "$msz" '{schemaVersion:2,mediaType:"application/vnd.oci.image.index.v1+json",
      manifests:[{mediaType:"application/vnd.oci.image.manifest.v1+json",digest:$d,size:$s,annotations:{"org.opencontainers.image.ref.name":"latest"}}]}' > "$lay/index.json"
  echo "$name: manifest $mdg ($n layers)"
}
build_image ten 10 2097152
for i in $(seq -w 0 15); do build_image "multi-$i" 2 4194304; done
