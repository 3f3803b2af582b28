#!/usr/bin/env bash
# The seed's model sizes on the richer emoji corpus: a CLIP with 512-d embeddings, the prior at 512 wide / 6 layers /
# 8 heads, and the base decoder following the new CLIP (the shipped U-Net, its conditioning path learnt anew), then
# the evaluation of that set beside the shipped one, both scored by one judge (the shipped CLIP).
# About 2 hours on 2 cores: the prior and the decoder train side by side, one core each. Resumable like
# scripts/train-shipped-models.sh: run it again after a stop.
#
#   scripts/train-seed-size-models.sh          # RUNS=runs/seed-size DATA=data by default
#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runs="${RUNS:-$root/runs/seed-size}"
data="${DATA:-$root/data}"
corpus="emoji;vendors=default+fluent+fluent-flat+twemoji,fashion-mnist"   # openmoji stays the held-out vendor

source "$root/scripts/lib/retry.sh"

./dalle2 data fetch emoji --dir "$data"
./dalle2 data fetch fashion-mnist --dir "$data"

retry env DALLE2_THREADS=1 ./dalle2 train clip --data "$corpus" --data-dir "$data" --out "$runs/clip" --embedding-dim 512 \
  --steps 1200 --batch-size 64 --lr 5e-4 --min-lr 5e-5 --warmup 100 --checkpoint-every 100 --log-interval 25 --resume
[ -f "$runs/embeddings/embeddings.safetensors" ] || ./dalle2 embed --clip "$runs/clip/model" --data "$corpus" \
  --data-dir "$data" --out "$runs/embeddings"

retry env DALLE2_THREADS=1 taskset -c 1 ./dalle2 train prior --data "$corpus" --data-dir "$data" --clip "$runs/clip/model" \
  --embeddings "$runs/embeddings" --out "$runs/prior" --steps 1500 --batch-size 128 --lr 5e-4 --min-lr 5e-5 \
  --warmup 100 --width 512 --depth 6 --heads 8 --checkpoint-every 100 --log-interval 50 --resume &
prior=$!
# the decoder keeps the shipped U-Net and learns its conditioning path (projection and "no embedding" vector, the only
# parameters whose shape depends on the CLIP's width) for the new embeddings; condition scale sqrt(512)
retry env DALLE2_THREADS=1 taskset -c 0 ./dalle2 train decoder --data "$corpus" --data-dir "$data" --clip "$runs/clip/model" \
  --embeddings "$runs/embeddings" --out "$runs/decoder" --steps 2000 --batch-size 32 --lr 3e-4 --min-lr 3e-5 \
  --warmup 100 --base-channels 32 --channel-mult 1,2,2 --blocks 1 --attention 8 --condition-scale 22.627417 \
  --scale-shift --init-from trained_models/decoder --init-partial --checkpoint-every 100 --log-interval 50 \
  --sample-every 1000 --resume
wait "$prior"

set_dir="$runs/set"
rm -rf "$set_dir" && mkdir -p "$set_dir"
for model in clip prior decoder; do cp -r "$runs/$model/model" "$set_dir/$model"; done
cp -r trained_models/upsampler "$set_dir/upsampler"
./dalle2 models half "$set_dir/clip" "$set_dir/prior"
for models in trained_models "$set_dir"; do
  ./dalle2 eval --models "$models" --classifier trained_models/eval/fashion-classifier \
    --sections fashion,emoji,stages --per-class 20 --judge-clip trained_models/clip
done
./dalle2 eval --models "$set_dir" --sections clip,emoji    # the new CLIP's own figures, and retrieval judged by it
