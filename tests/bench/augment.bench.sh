#!/bin/bash
# Augmentation throughput: the Weak Aug training transform (random resized
# crop, bilinear resize, flip, color jitter, normalization), the Strong Aug
# one (crop, flip, RandAugment rand-m7-mstd0.5-inc1, 3 repeats) and the
# evaluation transform, run by DataLoader worker threads over images held in
# memory; then the time of Mixup/CutMix on one batch.
set -euo pipefail
BENCH_BIN=${DIDICM_BENCH_BIN:-build/bench}

echo "## Augmentation"
echo
echo "Command: \`$BENCH_BIN/bench_augment\` (in-memory source, no decoding;" \
  "stored 32 -> input 32 at batch 128, stored 256 -> input 224 at batch 64)."
echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1);" \
  "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
"$BENCH_BIN/bench_augment" "$@"
