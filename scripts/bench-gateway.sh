#!/usr/bin/env bash
# Load-tests the gateway with hey: durable submits (POST /v1/generations) and status polls of one job
# (GET /v1/generations/{id}) against `dalle2 up --workers prior=0,decoder=0` (in-JVM Kafka broker, S3Proxy and
# the gateway in open mode on loopback, no workers: nothing but the gateway and its broker runs).
#
#   scripts/bench-gateway.sh                      # this worktree's jar (build it first: mvn -o -q -pl cli -am -DskipTests package)
#   scripts/bench-gateway.sh /tmp/base/dalle2.jar # another build first (a jar with its lib/ beside it), then this one
#
# Environment: DURATION (10s), CONNECTIONS (64), JAVA_OPTS (-Xmx2g), HEY (hey).
# hey, the broker and the gateway share this machine's cores: the figures are what all three manage together, and
# the load average printed after each run says how busy the machine was.
#
# The stack runs with the rate limit and the backlog bound out of the way (--rate-limit 1e9, --max-backlog 1e9):
# the benchmark measures what a submit and a poll cost, not the admission policy.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration="${DURATION:-10s}"
connections="${CONNECTIONS:-64}"
java_opts="${JAVA_OPTS:--Xmx2g}"
hey="${HEY:-hey}"
body='{"prompt":"a photo of a sneaker"}'

command -v "$hey" >/dev/null || { echo "bench-gateway: hey is not installed (apt-get install hey)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench-gateway: curl is required" >&2; exit 1; }

# shellcheck source=lib/stack.sh
. "$root/scripts/lib/stack.sh"
trap stack_stop EXIT INT TERM

# hey's summary without the histogram and the per-phase details: rate, latencies, status codes.
summary() {
  awk '/^Summary:/ {on=1} /^Response time histogram:/ {on=0} /^Latency distribution:/ {on=2}
       /^Details/ {on=0} /^Status code distribution:/ {on=3} /^Error distribution:/ {on=3}
       on==1 || on==3 {print} on==2 && /(10|50|90|99)% in/ {print}' | sed '/^$/d'
}

# CPU seconds (user + system) a process has used so far.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"
}

# Runs hey, prints its summary and what the run cost: the stack's CPU per request is the figure that a busy
# machine disturbs least (requests/s and latencies depend on what else runs).
measure() {
  local title="$1"; shift
  echo "--- $title"
  local before after out requests
  before="$(cpu_seconds "$stack_pid")"
  out="$("$hey" "$@")"
  after="$(cpu_seconds "$stack_pid")"
  echo "$out" | summary
  requests="$(echo "$out" | awk '/^  \[[0-9]+\]/ {n += $2} END {print n + 0}')"
  awk -v a="$before" -v b="$after" -v n="$requests" 'BEGIN {
    printf "stack JVM CPU: %.1f s for %d responses = %.0f us per request\n", b - a, n, n ? (b - a) * 1e6 / n : 0 }'
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
}

run_one() {
  local label="$1" jar="$2"
  echo "=== $label: $jar"
  DALLE2_JAVA_OPTS="$java_opts" stack_start "$jar" --workers prior=0,decoder=0 --rate-limit 1000000000 \
      --rate-burst 1000000 --max-backlog 1000000000
  local url="$stack_url"
  # the polled job is submitted first: its queue position stays 1 however many submits follow
  local job
  job="$(curl -s -X POST -H 'Content-Type: application/json' -d "$body" "$url/v1/generations" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
  # a short warm-up: the JIT and the producer's connections, not measured
  "$hey" -z 3s -c "$connections" -m POST -H 'Content-Type: application/json' -d "$body" \
      "$url/v1/generations" >/dev/null
  "$hey" -z 3s -c "$connections" "$url/v1/generations/$job" >/dev/null

  measure "$label: POST /v1/generations, $connections connections, $duration" \
      -z "$duration" -c "$connections" -m POST -H 'Content-Type: application/json' -d "$body" "$url/v1/generations"
  measure "$label: GET /v1/generations/$job (queued, position 1), $connections connections, $duration" \
      -z "$duration" -c "$connections" "$url/v1/generations/$job"

  # every 202 above must be readable: one more submit, read back at once
  local last code
  last="$(curl -s -X POST -H 'Content-Type: application/json' -d "$body" "$url/v1/generations" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
  code="$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/generations/$last")"
  echo "read-back of a fresh submit: HTTP $code"
  stack_stop
}

if [ $# -ge 1 ]; then
  run_one baseline "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
fi
run_one current "$root/cli/target/dalle2.jar"
