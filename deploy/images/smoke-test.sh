#!/usr/bin/env bash
# End-to-end check of the built images without a container engine: the embedded stack provides Kafka and S3 on
# loopback (its own gateway and no workers), the gateway, prior-worker, decoder-worker and upsampler-worker images
# each run in a chroot (run-in-chroot.sh), and one 64 px job submitted to the gateway image must reach
# `succeeded` with a PNG (a 64 px image passes through all four). Then the trainer-worker image, its data folder
# a bind mount, takes a CLIP training submitted to the gateway image and must publish a version; its ops
# endpoints must count the job as finished.
# Needs root, the images (deploy/README.md, "Images"), the CLI jar (mvn -B -DskipTests -pl cli -am package),
# curl and python3. Every process it starts listens on 127.0.0.1 and is stopped when it ends.
#
#   deploy/images/smoke-test.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
images="$root/deploy/target/images"
chroot_run="$root/deploy/images/run-in-chroot.sh"
[ "$(id -u)" = 0 ] || { echo "smoke-test: needs root (chroot)" >&2; exit 1; }
for f in "$root/cli/target/dalle2.jar" "$images/dalle2-gateway.tar" "$images/dalle2-prior-worker.tar" \
    "$images/dalle2-decoder-worker.tar" "$images/dalle2-upsampler-worker.tar" "$images/dalle2-trainer-worker.tar"; do
  [ -f "$f" ] || { echo "smoke-test: $f is missing (deploy/README.md, \"Images\")" >&2; exit 1; }
done

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# answers HTTP 200 within the seconds given, or fails naming the log to read
await_ok() {
  local url="$1" seconds="$2" log="$3"
  for _ in $(seq "$seconds"); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" = 200 ] && return 0
    sleep 1
  done
  echo "smoke-test: $url did not answer 200 in ${seconds} s; its log:" >&2
  tail -20 "$log" >&2
  exit 1
}

echo "smoke-test: embedded Kafka and S3" >&2
DALLE2_OPEN=true java -Xmx1g -Dai.djl.offline=true -DOPT_OUT_TRACKING=true -jar "$root/cli/target/dalle2.jar" \
  up --workers prior=0,decoder=0,upsampler=0 --port 18080 --data-dir "$work/data" > "$work/stack.log" 2>&1 &
pids+=($!)
# the stack prints its addresses once everything is up
for _ in $(seq 120); do grep -q '^Ctrl-C stops everything' "$work/stack.log" && break; sleep 1; done
await_ok http://127.0.0.1:18080/readyz 10 "$work/stack.log"
kafka="$(awk '/^kafka /{print $2}' "$work/stack.log")"
s3="$(awk '/^s3 /{print $2}' "$work/stack.log")"
[ -n "$kafka" ] && [ -n "$s3" ] || { echo "smoke-test: the embedded stack printed no addresses" >&2; exit 1; }

key="smoke-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export DALLE2_KAFKA="$kafka" DALLE2_S3="$s3" DALLE2_S3_KEY=dalle2 DALLE2_S3_SECRET=dalle2-local-secret
echo "smoke-test: images against Kafka $kafka and S3 $s3" >&2
DALLE2_API_KEYS="smoke:$key" DALLE2_PORT=18081 DALLE2_UPSAMPLER=true "$chroot_run" "$images/dalle2-gateway.tar" > "$work/gateway.log" 2>&1 &
pids+=($!)
DALLE2_HTTP_PORT=19101 DALLE2_THREADS=1 "$chroot_run" "$images/dalle2-prior-worker.tar" > "$work/prior.log" 2>&1 &
pids+=($!)
DALLE2_HTTP_PORT=19102 DALLE2_THREADS=1 "$chroot_run" "$images/dalle2-decoder-worker.tar" --device cpu \
  > "$work/decoder.log" 2>&1 &
pids+=($!)
DALLE2_HTTP_PORT=19103 DALLE2_THREADS=1 "$chroot_run" "$images/dalle2-upsampler-worker.tar" --device cpu \
  > "$work/upsampler.log" 2>&1 &
pids+=($!)
await_ok http://127.0.0.1:18081/readyz 120 "$work/gateway.log"
await_ok http://127.0.0.1:19101/readyz 180 "$work/prior.log"
await_ok http://127.0.0.1:19102/readyz 180 "$work/decoder.log"
await_ok http://127.0.0.1:19103/readyz 180 "$work/upsampler.log"

job="$(curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"prompt":"a red circle","n":1,"size":64}' http://127.0.0.1:18081/v1/generations \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
echo "smoke-test: job $job submitted to the gateway image" >&2
state=""
for _ in $(seq 600); do
  state="$(curl -sf -H "Authorization: Bearer $key" "http://127.0.0.1:18081/v1/generations/$job" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' || true)"
  [ "$state" = succeeded ] || [ "$state" = failed ] && break
  sleep 1
done
[ "$state" = succeeded ] || { echo "smoke-test: job $job ended as '$state'" >&2; tail -5 "$work"/*.log >&2; exit 1; }
magic="$(curl -sf -H "Authorization: Bearer $key" "http://127.0.0.1:18081/v1/generations/$job/images/0.png" \
  | head -c 4 | od -An -tx1 | tr -d ' \n')"
[ "$magic" = 89504e47 ] || { echo "smoke-test: image 0 of $job is not a PNG ($magic)" >&2; exit 1; }
echo "smoke-test: 64 px job $job succeeded through the gateway, prior-worker, decoder-worker and upsampler-worker images; image 0 is a PNG"

# ---- the trainer-worker image: a CLIP training on eight coloured squares, from the gateway image to a version
mkdir -p "$work/training-data/squares"
python3 - "$work/training-data/squares" <<'EOF'
import json, struct, sys, zlib
out = sys.argv[1]
colours = {"red": (220, 30, 30), "green": (30, 180, 30), "blue": (30, 30, 220), "yellow": (230, 220, 20),
           "black": (0, 0, 0), "white": (255, 255, 255), "cyan": (20, 220, 220), "magenta": (220, 20, 220)}
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
def png(rgb, side=32):
    raw = b"".join(b"\0" + bytes(rgb) * side for _ in range(side))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
with open(f"{out}/captions.jsonl", "w") as captions:
    for name, rgb in colours.items():
        open(f"{out}/{name}.png", "wb").write(png(rgb))
        captions.write(json.dumps({"image": f"{name}.png", "caption": f"a {name} square"}) + "\n")
EOF
chmod -R a+rwX "$work/training-data"
CHROOT_MOUNTS="$work/training-data:/data" DALLE2_HTTP_PORT=19104 DALLE2_THREADS=1 \
  "$chroot_run" "$images/dalle2-trainer-worker.tar" > "$work/trainer.log" 2>&1 &
pids+=($!)
await_ok http://127.0.0.1:19104/readyz 180 "$work/trainer.log"
training="$(curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"model":"clip","dataset":"jsonl:squares","steps":4,"hyper_parameters":{"batch_size":4,"warmup":1,"log_interval":1,"checkpoint_every":2}}' \
  http://127.0.0.1:18081/v1/trainings | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
echo "smoke-test: training $training submitted to the gateway image" >&2
for _ in $(seq 600); do
  state="$(curl -sf -H "Authorization: Bearer $key" "http://127.0.0.1:18081/v1/trainings/$training" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' || true)"
  [ "$state" = succeeded ] || [ "$state" = failed ] && break
  sleep 1
done
status="$(curl -sf -H "Authorization: Bearer $key" "http://127.0.0.1:18081/v1/trainings/$training")"
[ "$state" = succeeded ] || { echo "smoke-test: training $training ended as '$state': $status" >&2; tail -20 "$work/trainer.log" >&2; exit 1; }
version="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["published_version"])' "$status")"
[[ "$version" == clip@* ]] || { echo "smoke-test: training $training published '$version'" >&2; exit 1; }
curl -sf http://127.0.0.1:19104/metrics | grep -q '^dalle2_trainer_jobs_total{outcome="finished",pool="trainer",.*} 1.0$' \
  || { echo "smoke-test: the trainer's /metrics does not count the training as finished" >&2; exit 1; }
echo "smoke-test: training $training succeeded in the trainer-worker image (its loss plot drawn at each checkpoint) and published $version"
