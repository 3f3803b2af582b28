#!/usr/bin/env bash
# Trains the models the product ships with, from the real data, on this machine's CPU, then evaluates them
# and copies them into trained_models/. About 4 hours on 2 cores. Resumable: every stage checkpoints (also on
# Ctrl-C / SIGTERM) and this script skips or continues what is done, so just run it again after a stop.
#
#   scripts/train-shipped-models.sh            # RUNS=runs DATA=data by default
#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runs="${RUNS:-$root/runs}"
data="${DATA:-$root/data}"
clip_steps="${CLIP_STEPS:-1000}"
prior_steps="${PRIOR_STEPS:-1500}"
decoder_steps="${DECODER_STEPS:-9000}"
decoder_v_steps="${DECODER_V_STEPS:-3000}"
upsampler_steps="${UPSAMPLER_STEPS:-4000}"

source "$root/scripts/lib/retry.sh"

./dalle2 data fetch emoji --dir "$data"   # google, twitter (64 px) for the base models; fluent, twemoji, openmoji (SVG) at 256
./dalle2 data fetch fashion-mnist --dir "$data"

retry ./dalle2 train clip --data-dir "$data" --out "$runs/clip" --steps "$clip_steps" \
  --batch-size 64 --lr 5e-4 --min-lr 5e-5 --warmup 100 --checkpoint-every 200 --log-interval 50 --resume

retry ./dalle2 train prior --data-dir "$data" --clip "$runs/clip/model" --embeddings "$runs/embeddings" \
  --out "$runs/prior" --steps "$prior_steps" --batch-size 128 --lr 5e-4 --min-lr 5e-5 --warmup 100 \
  --width 256 --depth 4 --heads 4 --checkpoint-every 500 --log-interval 100 --resume

retry ./dalle2 train decoder --data-dir "$data" --clip "$runs/clip/model" --embeddings "$runs/embeddings" \
  --out "$runs/decoder" --steps "$decoder_steps" --batch-size 32 --lr 3e-4 --min-lr 3e-5 --warmup 200 \
  --base-channels 32 --channel-mult 1,2,2 --blocks 1 --attention 8 --condition-scale 16 --scale-shift \
  --checkpoint-every 250 --log-interval 50 --sample-every 1000 --resume

# the decoder's last stage: the same network fine-tuned to predict v instead of the noise, so its estimate of the
# image stays bounded at the schedule's last step, where the noise's gave an amplified guess clamped to +-1 that left
# the garments too bright (SAMPLERS.md, "Brightness"); the shipped decoder is this one
retry ./dalle2 train decoder --data-dir "$data" --clip "$runs/clip/model" --embeddings "$runs/embeddings" \
  --out "$runs/decoder-v" --init-from "$runs/decoder/model" --prediction v --steps "$decoder_v_steps" --batch-size 32 \
  --lr 2e-4 --min-lr 3e-5 --warmup 100 --ema 0.998 --seed 1 --base-channels 32 --channel-mult 1,2,2 --blocks 1 \
  --attention 8 --condition-scale 16 --scale-shift --checkpoint-every 250 --log-interval 50 --sample-every 1000 --resume

# the 32 -> 256 super-resolution stage, on random 64 px crops of the emoji drawn at 256 px (openmoji held out)
retry ./dalle2 train upsampler --data-dir "$data" --out "$runs/upsampler" --steps "$upsampler_steps" --batch-size 16 \
  --crop 64 --lr 3e-4 --min-lr 3e-5 --warmup 200 --base-channels 16 --channel-mult 1,2,4,8 --blocks 1 \
  --checkpoint-every 250 --log-interval 50 --sample-every 500 --resume

for model in clip prior decoder upsampler; do
  run="$model"; [ "$model" = decoder ] && run=decoder-v
  rm -rf "trained_models/$model.new"
  cp -r "$runs/$run/model" "trained_models/$model.new"
  rm -rf "trained_models/$model"
  mv "trained_models/$model.new" "trained_models/$model"
done
./dalle2 eval --data-dir "$data" --out "trained_models/EVALUATION.md"
