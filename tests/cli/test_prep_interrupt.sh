#!/bin/bash
# Interrupting didicm-prep (SIGINT or SIGKILL) never leaves a file under the
# final name and never damages an existing one.
source "$(dirname "$0")/lib.sh"
DATA=${DIDICM_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
# Job control: without it, bash starts background jobs with SIGINT ignored,
# and didicm-prep keeps a signal ignored that it was started with.
set -m

if [ ! -f "$DATA/train-images-idx3-ubyte.gz" ]; then
  fail "$DATA/train-images-idx3-ubyte.gz not found; install dataset-fashion-mnist (make deps)"
  finish
  exit 1
fi

# A run that takes several seconds: 60000 images upscaled and re-encoded.
slow_prep() {
  didicm-prep "$DATA" --split train --size 96 --store jpeg --threads 1 -q "$@" >"$WORK/out" 2>"$WORK/err" &
  pid=$!
  # Wait until the temporary file exists, then a little longer.
  for _ in $(seq 100); do
    ls -a "$WORK/run" | grep -q '\.tmp-' && break
    sleep 0.1
  done
  sleep 0.5
}

mkdir -p "$WORK/run"

# SIGINT on a fresh output: exit 130, neither the final nor the temporary file remains.
slow_prep -o "$WORK/run/new.h5"
kill -INT "$pid"
status=0
wait "$pid" || status=$?
expect_equal "$status" 130 "exit status after SIGINT"
expect_no_file "$WORK/run/new.h5"
expect_equal "$(ls -A "$WORK/run")" "" "no temporary file after SIGINT"
# The message shows even with -q.
expect_contains "$WORK/err" "didicm-prep: interrupted; unfinished output files were removed"

# A job started with SIGINT ignored, as a script's background job is, keeps
# ignoring it; SIGTERM still stops it.
(trap '' INT; exec didicm-prep "$DATA" --split train --size 96 --store jpeg --threads 1 -q \
  -o "$WORK/ignored.h5") 2>"$WORK/err" &
pid=$!
sleep 1
kill -INT "$pid"
sleep 0.5
if kill -0 "$pid" 2>/dev/null; then pass; else fail "an ignored SIGINT stopped didicm-prep"; fi
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
expect_equal "$status" 143 "exit status after SIGTERM"
expect_no_file "$WORK/ignored.h5"

# SIGINT with --force over an existing file: the old file is unchanged.
echo "previous dataset" >"$WORK/run/old.h5"
slow_prep -o "$WORK/run/old.h5" --force
kill -INT "$pid"
wait "$pid"
expect_equal "$(cat "$WORK/run/old.h5")" "previous dataset" "existing file after SIGINT"
expect_equal "$(ls -A "$WORK/run")" "old.h5" "no temporary file after SIGINT with --force"

# SIGKILL cannot be caught: only a hidden temporary file may stay behind.
slow_prep -o "$WORK/run/old.h5" --force
kill -KILL "$pid"
wait "$pid" 2>/dev/null
expect_equal "$(cat "$WORK/run/old.h5")" "previous dataset" "existing file after SIGKILL"
expect_equal "$(ls "$WORK/run")" "old.h5" "no new visible file after SIGKILL"

finish
