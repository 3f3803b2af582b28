#!/usr/bin/env bash
# One job at a time at the API's defaults (the body names only the prompt, a seed, the size and n), another
# build against this one: `./dalle2 up --open` on a free port and a fresh data folder (scripts/lib/stack.sh), then
# one warm-up job and JOBS jobs per size, each polled until it ends. Prints the prior's time, the decoder's and the
# whole job's from the job's own timestamps (prior_started_at -> prior_finished_at, decoder_started_at ->
# finished_at, which holds the upsampler and the uploads at sizes above 32; submitted_at -> finished_at), and the
# medians.
#
#   scripts/ab-api-defaults.sh /tmp/base/dalle2.jar     # a jar with its lib/ beside it
#
# Environment: JOBS (6), SIZES ("32 256"), N (images a job, 1), BASELINE_JAVA_OPTS (the baseline's DALLE2_JAVA_OPTS: with this build's
# own jar as the baseline, "-Ddalle2.scripted_forward=false" compares the networks run op by op).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
baseline="${1:?usage: scripts/ab-api-defaults.sh BASELINE_JAR}"
jobs="${JOBS:-6}"
sizes="${SIZES:-32 256}"
n="${N:-1}"
# shellcheck source=lib/stack.sh
. "$root/scripts/lib/stack.sh"
ab_jars "$baseline"
trap stack_stop EXIT INT TERM
results="$(mktemp)"
for build in baseline this; do
  jar="$baseline"; [ "$build" = this ] && jar="$this"
  opts="${DALLE2_JAVA_OPTS:-}"; [ "$build" = baseline ] && opts="${BASELINE_JAVA_OPTS:-$opts}"
  DALLE2_JAVA_OPTS="$opts" stack_start "$jar" --open
  base="$stack_url"
  echo "== $build ($jar${opts:+, $opts}), $(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg)"
  for size in $sizes; do
    for k in $(seq 0 "$jobs"); do
      id=$(curl -sf -XPOST "$base/v1/generations" -H 'Content-Type: application/json' \
          -d "{\"prompt\":\"a photo of a sneaker\",\"seed\":$k,\"size\":$size,\"n\":$n}" \
          | python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])')
      while :; do
        status=$(curl -sf "$base/v1/generations/$id")
        state=$(python3 -c 'import sys, json; print(json.load(sys.stdin)["state"])' <<<"$status")
        { [ "$state" = succeeded ] || [ "$state" = failed ]; } && break
        sleep 0.05
      done
      [ "$k" = 0 ] && continue # warm-up
      python3 -c '
import sys, json
from datetime import datetime
job = json.load(sys.stdin); t = job["timestamps"]; p = job["params"]
at = lambda k: datetime.fromisoformat(t[k].replace("Z", "+00:00"))
ms = lambda a, b: (at(b) - at(a)).total_seconds() * 1000
print(sys.argv[1], "%dx%d" % (p["n"], p["size"]), (p.get("prior_sampler") or p["sampler"]) + "/" + p["sampler"],
      "%d/%d" % (p["prior_steps"], p["decoder_steps"]), job["state"],
      "%.0f" % ms("prior_started_at", "prior_finished_at"), "%.0f" % ms("decoder_started_at", "finished_at"),
      "%.0f" % ms("submitted_at", "finished_at"))' "$build" <<<"$status" \
          | tee -a "$results"
    done
  done
  stack_stop
done
echo "build n x size, prior/decoder sampler, prior/decoder steps: median prior ms, median decoder (+ upsampler) ms, median job ms"
python3 - "$results" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    build, size, sampler, steps, state, prior, decoder, job = line.split()
    rows[(build, size, sampler, steps)].append((float(prior), float(decoder), float(job)))
for key, values in rows.items():
    print(*key, *("%.0f" % statistics.median(v[i] for v in values) for i in range(3)))
PY
rm -f "$results"
