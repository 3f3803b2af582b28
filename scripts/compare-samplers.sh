#!/usr/bin/env bash
# Compares the samplers on the Fashion-MNIST generations of `./dalle2 eval --sections fashion`: DDIM at the
# API's default steps (prior 64, decoder 50) with two seeds (the run-to-run noise), and DPM-Solver++(2M) at
# 20 and 15 steps, all with prior guidance 1.0 (the setting SAMPLERS.md's table was measured at). Writes one report per run into OUT and prints a summary line per run.
#
#   scripts/compare-samplers.sh [OUT (default runs/compare-samplers)] [PER_CLASS (default 20)] [RUN ...]
#
# A RUN is name:sampler:prior_steps:decoder_steps:seed, where sampler is one name for both stages or
# prior_sampler/decoder_sampler (e.g. ddim/dpmpp-2m); without any RUN, the default set below runs in order.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/runs/compare-samplers}"
per_class="${2:-20}"
shift $(( $# > 2 ? 2 : $# ))
runs=("$@")
if [ ${#runs[@]} -eq 0 ]; then
  runs=(ddim-64-50-seed1:ddim:64:50:1 dpmpp-20-20-seed1:dpmpp-2m:20:20:1 dpmpp-15-15-seed1:dpmpp-2m:15:15:1
        ddim-64-50-seed2:ddim:64:50:2 dpmpp-20-20-seed2:dpmpp-2m:20:20:2)
fi
mkdir -p "$out"
for run in "${runs[@]}"; do
  IFS=: read -r name sampler prior decoder seed <<<"$run"
  prior_sampler="${sampler%%/*}"
  decoder_sampler="${sampler##*/}"
  start=$(date +%s)
  "$root/dalle2" eval --sections fashion --per-class "$per_class" --prior-sampler "$prior_sampler" \
      --decoder-sampler "$decoder_sampler" \
      --prior-steps "$prior" --decoder-steps "$decoder" --prior-guidance 1.0 --seed "$seed" --out "$out/$name.md" >"$out/$name.log" 2>&1
  seconds=$(( $(date +%s) - start ))
  recognised=$(grep -m1 '^| \*\*all\*\*' "$out/$name.md" | awk -F'|' '{gsub(/[ *]/, "", $5); print $5}')
  frechet=$(grep -m1 '^Fréchet' "$out/$name.md" | sed -E 's/.*images \*\*([0-9.]+)\*\*.*/\1/')
  speed=$(grep -m1 '^Generation wall time' "$out/$name.md" | sed -E 's/^Generation wall time: //')
  echo "$name: sampler $sampler, prior $prior, decoder $decoder, seed $seed: recognised $recognised, Fréchet $frechet;" \
       "generation $speed; whole run ${seconds} s" | tee -a "$out/summary.txt"
done
