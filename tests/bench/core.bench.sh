#!/bin/bash
# Diffusion core: one CP step, O(N) against dense, and the forward process,
# closed form against the eigendecomposition route. Run by tests/bench/run.sh.
set -euo pipefail
BENCH_BIN=${DIDICM_BENCH_BIN:-build/bench}
echo "## Diffusion core"
echo
echo "Command: \`$BENCH_BIN/bench_cp_update --batch 64 --classes 10,1000,10000,21841\`"
echo "(LibTorch threads: $(nproc) cores; peak = the child's VmHWM minus its VmRSS before the inputs were made)."
echo
"$BENCH_BIN/bench_cp_update" --batch 64 --classes 10,1000,10000,21841
