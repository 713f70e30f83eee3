#!/bin/bash
# Model throughput: DiDiRN-18 and ResNet-18 at 32x32 (batch 128), DiDiRN-50 at
# 56x56 (batch 32), forward and forward+backward, contiguous and channels-last.
set -euo pipefail
: "${DIDICM_BENCH_BIN:=build/bench}"
THREADS=${DIDICM_BENCH_THREADS:-2}

echo "## Models"
echo
echo "Command: \`$DIDICM_BENCH_BIN/bench_models --threads $THREADS\`" \
  "(forward: eval mode without gradients; forward+backward: train mode, cross-entropy loss)."
echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1)."
echo
"$DIDICM_BENCH_BIN/bench_models" --threads "$THREADS"
