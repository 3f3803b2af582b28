#!/usr/bin/env bash
# Load-tests the gateway with hey: durable submits (POST /v1/generations) and status polls (GET
# /v1/generations/{id}) against `dalle2 up --workers prior=0,decoder=0` (in-JVM Kafka broker, S3Proxy and the
# gateway in open mode on loopback, no workers: nothing but the gateway and its broker runs).
#
#   scripts/bench-gateway.sh                      # this worktree's jar (build it first: mvn -o -q -pl cli -am -DskipTests package)
#   scripts/bench-gateway.sh /tmp/base/dalle2.jar # another build first (a jar with its lib/ beside it), then this one
#
# Environment: DURATION (10s), CONNECTIONS (64), JAVA_OPTS (-Xmx2g), HEY (hey), GET_WARM_UP_ROUNDS (6),
# POST_WARM_UP_ROUNDS (18), MAX_WARM_UP_ROUNDS (36).
# hey, the broker and the gateway share this machine's cores: the figures are what all three manage together, and
# the load average printed after each run says how busy the machine was.
#
# The stack runs with the rate limit and the backlog bound out of the way (--rate-limit 1e9, --max-backlog 1e9):
# the benchmark measures what a submit and a poll cost, not the admission policy.
#
# Order, for each build: polls of the first job (queue position 1), submits, polls of the last job submitted (at
# the back of a queue of every submit before it, up to the status view's bound of 100,000 jobs), then the newest
# page of the job list. The polls of position 1 come first because the status view keeps at most 100,000 jobs and
# the submits' warm-up alone can send more.
#
# Each measurement is preceded by warm-up rounds of 5 s: at least GET_WARM_UP_ROUNDS or POST_WARM_UP_ROUNDS, then
# until a round is less than 10 % faster than the one before, at most MAX_WARM_UP_ROUNDS. A freshly started JVM
# on a loaded 2-core machine took 60-90 s of submits before the JIT had compiled the path through the gateway,
# the producer and the in-JVM broker (the rate rose for that long, with plateaus on the way), and a fixed 3 s
# warm-up measured that instead. The rounds are printed, so a fresh gateway's curve is in the output too.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration="${DURATION:-10s}"
connections="${CONNECTIONS:-64}"
java_opts="${JAVA_OPTS:--Xmx2g}"
get_warm_up_rounds="${GET_WARM_UP_ROUNDS:-6}"
post_warm_up_rounds="${POST_WARM_UP_ROUNDS:-18}"
max_warm_up_rounds="${MAX_WARM_UP_ROUNDS:-36}"
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

# Requests per second of one hey run (its arguments), nothing else printed.
rate() {
  "$hey" "$@" | awk '/Requests\/sec:/ {print $2}'
}

# warm_up TITLE MIN_ROUNDS HEY_ARGS...: 5 s rounds of the same requests, at least MIN_ROUNDS, then until one is
# less than 10 % faster than the one before (at most $max_warm_up_rounds); prints each round's rate on one line.
warm_up() {
  local title="$1" min_rounds="$2"; shift 2
  local line="warm-up ($title), 5 s rounds, req/s:" previous=0 current round
  for ((round = 1; round <= max_warm_up_rounds; round++)); do
    current="$(rate -z 5s -c "$connections" "$@")"
    line="$line ${current%.*}"
    if [ "$round" -ge "$min_rounds" ] && awk -v c="$current" -v p="$previous" 'BEGIN { exit !(c < 1.1 * p) }'; then
      break
    fi
    previous="$current"
  done
  echo "$line"
}

# Submits one job and prints its id.
submit_one() {
  curl -s -X POST -H 'Content-Type: application/json' -d "$body" "$1/v1/generations" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

run_one() {
  local label="$1" jar="$2"
  echo "=== $label: $jar"
  DALLE2_JAVA_OPTS="$java_opts" stack_start "$jar" --workers prior=0,decoder=0 --rate-limit 1000000000 \
      --rate-burst 1000000 --max-backlog 1000000000
  local url="$stack_url"
  local first last position code
  first="$(submit_one "$url")"
  warm_up "GET" "$get_warm_up_rounds" "$url/v1/generations/$first"
  measure "$label: GET /v1/generations/$first (queued, position 1), $connections connections, $duration" \
      -z "$duration" -c "$connections" "$url/v1/generations/$first"

  local post=(-m POST -H 'Content-Type: application/json' -d "$body" "$url/v1/generations")
  warm_up "POST" "$post_warm_up_rounds" "${post[@]}"
  measure "$label: POST /v1/generations, $connections connections, $duration" -z "$duration" -c "$connections" \
      "${post[@]}"

  # every 202 above must be readable: one more submit, read back at once; then the same poll load on it
  last="$(submit_one "$url")"
  local read_back
  read_back="$(curl -s -w '\n%{http_code}' "$url/v1/generations/$last")"
  code="${read_back##*$'\n'}"
  echo "read-back of a fresh submit: HTTP $code"
  position="$(echo "${read_back%$'\n'*}" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("queue_position"))')"
  measure "$label: GET /v1/generations/$last (queued, position $position), $connections connections, $duration" \
      -z "$duration" -c "$connections" "$url/v1/generations/$last"
  # the newest page of the list (the web page's gallery), with every job above in the status view
  warm_up "list" 2 "$url/v1/generations?limit=20"
  measure "$label: GET /v1/generations?limit=20, $connections connections, $duration" \
      -z "$duration" -c "$connections" "$url/v1/generations?limit=20"
  stack_stop
}

echo "bench-gateway $(date -u '+%Y-%m-%d %H:%M UTC'): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), \
$(nproc) cores; $connections connections, $duration; JAVA_OPTS=$java_opts; load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ $# -ge 1 ]; then
  run_one baseline "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
fi
run_one current "$root/cli/target/dalle2.jar"
