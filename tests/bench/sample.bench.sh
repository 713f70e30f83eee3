#!/bin/bash
# Sampling throughput: DiDiCM-CP (2 and 8 steps) and DiDiCM-CL (2 steps x 16
# chains) with DiDiRN-18 at 32x32, batch 128, N = 10 and N = 1000, eval mode
# without gradients, and the share of the time outside the network. Every row
# runs in its own process.
set -euo pipefail
BENCH_BIN=${DIDICM_BENCH_BIN:-build/bench}
THREADS=${DIDICM_BENCH_THREADS:-2}
# Idle OpenMP threads sleep instead of spinning. On cores shared with other
# jobs, spinning threads burned most of the CPU time (perf: 69% in libgomp),
# and the per-CPU-second figures below would count that spinning.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
run() { "$BENCH_BIN/bench_sample" --threads "$THREADS" "$@"; }

echo "## Sampling"
echo
echo "Command: \`$BENCH_BIN/bench_sample --threads $THREADS [options]\`," \
  "one process per row; one warm-up call, then the best of 3 timed calls (CL: batch 32, no warm-up, 1 call)."
echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1);" \
  "BLAS: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3);" \
  "OMP_WAIT_POLICY=$OMP_WAIT_POLICY;" \
  "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
run --sampler cp --steps 2 --classes 10 --header
run --sampler cp --steps 8 --classes 10
run --sampler cl --steps 2 --chains 16 --classes 10 --batch 32 --warmup 0 --repeats 1
run --sampler cp --steps 2 --classes 1000
run --sampler cp --steps 8 --classes 1000
run --sampler cl --steps 2 --chains 16 --classes 1000 --batch 32 --warmup 0 --repeats 1
run --sampler cp --steps 2 --classes 10 --amp
run --sampler cp --steps 8 --classes 10 --amp
run --sampler cl --steps 2 --chains 16 --classes 10 --batch 32 --warmup 0 --repeats 1 --amp
echo
echo "Load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
