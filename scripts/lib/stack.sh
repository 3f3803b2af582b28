# Sourced by the benchmark scripts: one `./dalle2 up` stack at a time on a free loopback port and a fresh data
# folder. Callers set `root` (the repository) and `trap stack_stop EXIT INT TERM`.
stack_pid=""
stack_dir=""
stack_url=""

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# stack_start JAR [dalle2 up options...]: starts the stack from JAR (a jar with its lib/ beside it) and waits up to
# 3 minutes for /readyz; sets stack_pid, stack_dir (its data and stack.log) and stack_url. Exits with the log's
# tail when the stack does not get ready.
stack_start() {
  local jar="$1"; shift
  local port
  port="$(free_port)"
  stack_dir="$(mktemp -d /tmp/dalle2-stack.XXXXXX)"
  stack_url="http://127.0.0.1:$port"
  DALLE2_JAR="$jar" "$root/dalle2" up --port "$port" --data-dir "$stack_dir/data" "$@" >"$stack_dir/stack.log" 2>&1 &
  stack_pid=$!
  local deadline=$((SECONDS + 180))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$stack_url/readyz" || true)" = 200 ]; do
    if ! kill -0 "$stack_pid" 2>/dev/null || [ $SECONDS -gt $deadline ]; then
      echo "$(basename "$0"): the stack did not get ready; its log:" >&2
      tail -50 "$stack_dir/stack.log" >&2
      exit 1
    fi
    sleep 1
  done
}

# Stops the stack and deletes its folder (safe to call twice).
stack_stop() {
  if [ -n "$stack_pid" ] && kill -0 "$stack_pid" 2>/dev/null; then
    kill -TERM "$stack_pid" 2>/dev/null || true
    wait "$stack_pid" 2>/dev/null || true
  fi
  stack_pid=""
  if [ -n "$stack_dir" ]; then
    rm -rf "$stack_dir"
    stack_dir=""
  fi
}

# ab_jars BASELINE_JAR: checks the two builds an A/B script compares and sets `this` (this worktree's jar).
ab_jars() {
  this="$root/cli/target/dalle2.jar"
  [ -f "$1" ] || { echo "$(basename "$0"): no jar at $1" >&2; exit 2; }
  [ -f "$this" ] || { echo "$(basename "$0"): build this worktree first (mvn -o -q -pl cli -am -DskipTests package)" >&2; exit 2; }
}
