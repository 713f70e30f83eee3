#!/bin/bash
# Runs every benchmark script tests/bench/*.bench.sh in name order. Each one
# prints a Markdown section with its command, machine and results; copy what
# matters into share/doc/BENCHMARKS.md.
set -euo pipefail
BUILD_DIR=$(cd "${1:-build}" && pwd)
export BUILD_DIR
export DIDICM_BIN="$BUILD_DIR/bin"
export DIDICM_BENCH_BIN="$BUILD_DIR/bench"
export DIDICM_SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)

echo "# didicm benchmarks, $(date -u +%Y-%m-%d)"
echo
echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1)," \
  "$(free -g | awk '/Mem:/ {print $2}') GiB;" \
  "BLAS: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)"
for script in "$DIDICM_SOURCE_DIR"/tests/bench/*.bench.sh; do
  [ -e "$script" ] || continue
  echo
  bash "$script"
done
