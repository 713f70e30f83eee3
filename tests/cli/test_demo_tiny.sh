#!/bin/bash
# The demo pipeline at a tiny size, so every tool's real path runs on real
# Fashion-MNIST images in every test run.
source "$(dirname "$0")/lib.sh"

status=0
DEMO_DIR="$WORK/demo" DEMO_EPOCHS=1 DEMO_TRAIN_PER_CLASS=30 DEMO_TEST_PER_CLASS=10 DEMO_THREADS=2 \
  bash "$DIDICM_SOURCE_DIR/share/didicm/demo.sh" "$DIDICM_BUILD_DIR" >"$WORK/out" 2>"$WORK/err" || status=$?
expect_equal "$status" 0 "demo exit status (stderr: $(tail -c 400 "$WORK/err"))"
expect_file "$WORK/demo/results.md"
for sampler in standard cp cl; do
  expect_contains "$WORK/demo/results.md" "| $sampler |"
done
expect_equal "$(grep -c '^| .*\.h5 |' "$WORK/demo/results.md")" 4 "rows of the results table"
finish
