#!/bin/bash
# Training throughput: full training steps (forward, loss, backward, LAMB
# step) of DiDiRN-18 with the score-entropy loss and of ResNet-18 with
# cross-entropy, at 32x32, batch 128 and 10 classes. Each row gives the share
# of each phase of a step. One row measures the soft-target loss at 1000
# classes. Every row runs in its own process, so its peak memory (VmHWM) is
# its own.
set -euo pipefail
BENCH_BIN=${DIDICM_BENCH_BIN:-build/bench}
THREADS=${DIDICM_BENCH_THREADS:-2}
# Idle OpenMP threads sleep instead of spinning. On cores shared with other
# jobs, spinning threads burned most of the CPU time (perf: 69% in libgomp),
# and the per-CPU-second figures below would count that spinning.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
STEPS=${DIDICM_BENCH_STEPS:-4}
run() { "$BENCH_BIN/bench_train" --threads "$THREADS" --steps "$STEPS" "$@"; }

echo "## Training"
echo
echo "Command: \`$BENCH_BIN/bench_train --threads $THREADS --steps $STEPS [options]\`," \
  "one process per row; 2 warm-up steps, then $STEPS timed steps."
echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1);" \
  "BLAS: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3);" \
  "OMP_WAIT_POLICY=$OMP_WAIT_POLICY;" \
  "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
run --objective didicm --header
run --objective ce
run --objective didicm --data loader --workers 2
run --objective ce --data loader --workers 2
run --objective didicm --classes 1000 --batch 64 --soft
run --objective didicm --classes 1000 --batch 64 --soft --amp
run --objective didicm --channels-last
run --objective ce --channels-last
run --objective didicm --interop-threads 1
run --objective didicm --amp
run --objective ce --amp
echo
echo "Load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
