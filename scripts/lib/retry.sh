# Sourced by the training scripts. retry CMD...: runs a resumable trainer up to three times, so that a native crash
# of libtorch costs at most one checkpoint interval, not the run.
retry() {
  for attempt in 1 2 3; do
    if "$@"; then return 0; fi
    echo "train: attempt $attempt failed; resuming from the last checkpoint" >&2
    sleep 2
  done
  return 1
}
