#!/usr/bin/env bash
# Prints each built image's size: the tar file (what `docker load` reads; layers gzipped) and its layers
# unpacked (what a node's disk holds), and how much of it is the base image.
#   deploy/images/image-sizes.sh [IMAGES_DIR]     (default deploy/target/images)
set -euo pipefail
dir="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../target/images" && pwd)}"
printf '%-26s %15s %18s\n' image "tar bytes" "unpacked bytes"
for tar in "$dir"/dalle2-*.tar; do
  unpacked=0
  for layer in $(tar -xOf "$tar" manifest.json | tr ',[]"' '\n\n\n\n' | grep -E '\.tar(\.gz)?$'); do
    if [[ "$layer" == *.gz ]]; then
      bytes=$(tar -xOf "$tar" "$layer" | gzip -dc | wc -c)
    else
      bytes=$(tar -xOf "$tar" "$layer" | wc -c)
    fi
    unpacked=$((unpacked + bytes))
  done
  printf '%-26s %15s %18s\n' "$(basename "$tar" .tar)" "$(stat -c %s "$tar")" "$unpacked"
done
