#!/usr/bin/env bash
# Runs a built image without a container engine, to check that it starts: its layers are unpacked into a
# temporary root, and its entrypoint runs there in a chroot, as the image's user, with the image's environment
# plus the DALLE2_* variables of this shell, in the host's network (so 127.0.0.1 is this machine).
# Needs root (chroot, a proc mount, device nodes) and python3 (to read the image's config).
#
#   DALLE2_KAFKA=127.0.0.1:9092 DALLE2_S3=http://127.0.0.1:9000 ... deploy/images/run-in-chroot.sh \
#       deploy/target/images/dalle2-gateway.tar [ARGS...]
#
# CHROOT_MOUNTS="HOST_DIR:IMAGE_DIR ..." bind-mounts folders into the root, as a runtime mounts volumes.
set -euo pipefail
image="$(readlink -f "$1")"
shift
[ "$(id -u)" = 0 ] || { echo "run-in-chroot: needs root" >&2; exit 1; }

work="$(mktemp -d)"
rootfs="$work/rootfs"
mkdir -p "$rootfs"
mounted=()
cleanup() {
  umount "$rootfs/proc" 2>/dev/null || true
  for m in "${mounted[@]}"; do umount "$m" 2>/dev/null || true; done
  # --one-file-system: a mount left in place is skipped, never emptied
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

tar -xf "$image" -C "$work" manifest.json
config_name="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["Config"])' "$work/manifest.json")"
tar -xf "$image" -C "$work" "$config_name"
for layer in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))[0]["Layers"]))' \
    "$work/manifest.json"); do
  tar -xOf "$image" "$layer" | { if [[ "$layer" == *.gz ]]; then gzip -dc; else cat; fi; } \
    | tar -x --warning=no-unknown-keyword -C "$rootfs"
done

mkdir -p "$rootfs/proc" "$rootfs/dev" "$rootfs/tmp"
mount -t proc proc "$rootfs/proc"
for pair in ${CHROOT_MOUNTS:-}; do
  mkdir -p "$rootfs/${pair#*:}"
  mount --bind "${pair%%:*}" "$rootfs/${pair#*:}"
  mounted+=("$rootfs/${pair#*:}")
done
# what a container runtime provides: the usual device nodes and name resolution for localhost
mknod -m 666 "$rootfs/dev/null" c 1 3
mknod -m 666 "$rootfs/dev/zero" c 1 5
mknod -m 666 "$rootfs/dev/random" c 1 8
mknod -m 666 "$rootfs/dev/urandom" c 1 9
printf '127.0.0.1 localhost\n::1 localhost\n' > "$rootfs/etc/hosts"
# without a resolv.conf, Netty's resolver falls back to public DNS servers: give it this machine's, as a runtime would
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"

# the image's user, working directory, environment and entrypoint, as a runtime would apply them
mapfile -t settings < <(python3 - "$work/$config_name" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))["config"]
print(c.get("User") or "0:0")
print(c.get("WorkingDir") or "/")
print("\x01".join(c.get("Env") or []))
print("\x01".join((c.get("Entrypoint") or []) + (c.get("Cmd") or [])))
EOF
)
user="${settings[0]}"
workdir="${settings[1]}"
IFS=$'\x01' read -r -a image_env <<< "${settings[2]}"
IFS=$'\x01' read -r -a entrypoint <<< "${settings[3]}"
mapfile -t passed < <(env | grep -E '^DALLE2_[A-Z0-9_]*=' || true)

# not exec: the root must be unmounted and removed when the process ends; SIGTERM and Ctrl-C are passed on,
# so that a worker drains as it would in a container
chroot --userspec="$user" "$rootfs" /bin/busybox env -i "${image_env[@]}" "${passed[@]}" \
  /bin/sh -c 'cd "$0" && exec "$@"' "$workdir" "${entrypoint[@]}" "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
status=0
wait "$child" || status=$?
if kill -0 "$child" 2>/dev/null; then
  wait "$child" || status=$?
fi
exit "$status"
