#!/usr/bin/env bash
# One job on an idle pipeline, another build against this one, interleaved: `./dalle2 bench-pipeline
# --decoder-batches 1 --burst 1 --singles 9 --polls 10 --submits 10` (its one-job figures: the median of 9 jobs
# after 50 warm-up jobs), ROUNDS times each, baseline first. Prints the hops and the overhead of each run; the full
# reports go to OUT.
#
#   scripts/ab-pipeline-overhead.sh /tmp/base/dalle2.jar [OUT]   # a jar with its lib/ beside it
#
# Environment: ROUNDS (2), BASELINE_JAVA_OPTS (the baseline's DALLE2_JAVA_OPTS: with this build's own jar as the
# baseline, "-Ddalle2.scripted_forward=false" compares the networks run op by op).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
baseline="${1:?usage: scripts/ab-pipeline-overhead.sh BASELINE_JAR [OUT]}"
out="${2:-$(mktemp -d)}"
rounds="${ROUNDS:-2}"
# shellcheck source=lib/stack.sh
. "$root/scripts/lib/stack.sh"
ab_jars "$baseline"
mkdir -p "$out"
for round in $(seq 1 "$rounds"); do
  for build in baseline this; do
    jar="$baseline"; [ "$build" = this ] && jar="$this"
    report="$out/round-$round-$build.txt"
    opts="${DALLE2_JAVA_OPTS:-}"; [ "$build" = baseline ] && opts="${BASELINE_JAVA_OPTS:-$opts}"
    echo "== round $round, $build ($jar${opts:+, $opts}), $(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg)"
    DALLE2_JAR="$jar" DALLE2_JAVA_OPTS="$opts" "$root/dalle2" bench-pipeline --decoder-batches 1 --burst 1 --singles 9 --polls 10 \
        --submits 10 >"$report" 2>"$out/round-$round-$build.log"
    sed -n '/^one job at a time/,/^  pipeline overhead/p' "$report" \
        | grep -E "queue wait|decoder queue|upload|visible|at the client|overhead"
  done
done
echo "reports in $out"
