#!/bin/bash
# Dataset preparation throughput: didicm-prep against a PIL pipeline doing the
# same work (tests/bench/prep_pil.py) on the same generated ImageNet-like JPEGs
# and the same number of cores. Prints a Markdown section.
set -euo pipefail
: "${BUILD_DIR:?run through tests/bench/run.sh}"
IMAGES="$BUILD_DIR/test-tools/didicm-test-images"
PREP="$BUILD_DIR/bin/didicm-prep"
SOURCE_DIR=${DIDICM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
COUNT_CLASSES=${PREP_BENCH_CLASSES:-10}
PER_CLASS=${PREP_BENCH_PER_CLASS:-40}
THREADS=${PREP_BENCH_THREADS:-$(nproc)}
REPEATS=${PREP_BENCH_REPEATS:-3}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/didicm-bench-prep.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# 500x375 at quality 90, like an average ImageNet training image.
"$IMAGES" photos "$WORK/tree" "$COUNT_CLASSES" "$PER_CLASS" 500 375 90
total=$((COUNT_CLASSES * PER_CLASS))
mean_kb=$(du -sk "$WORK/tree" | awk -v n="$total" '{printf "%.0f", $1 / n}')
load=$(cut -d' ' -f1 /proc/loadavg)

# measure NAME COMMAND...: runs COMMAND REPEATS times and stores in
# wall[NAME] the best images per wall-clock second and in cpu[NAME] the best
# images per CPU-second (user + system, worker threads and processes
# included). CPU-seconds change little when other jobs share the cores, so
# they compare the pipelines more reliably than wall-clock time on a busy machine.
declare -A wall cpu
measure() {
  local name=$1 best_wall=0 best_cpu=0 line
  shift
  for _ in $(seq "$REPEATS"); do
    rm -f "$WORK/out.h5"
    line=$("$@")
    read -r best_wall best_cpu < <(/usr/bin/python3 -c '
import json, sys
result = json.loads(sys.argv[1])
print(max(float(sys.argv[2]), result["images_per_second"]),
      round(max(float(sys.argv[3]), result["images"] / max(result["cpu_seconds"], 1e-9)), 1))
' "$line" "$best_wall" "$best_cpu")
  done
  wall[$name]=$best_wall
  cpu[$name]=$best_cpu
}

ratio() { /usr/bin/python3 -c "print(f'{$1 / $2:.1f}x')"; }

for size in 56 224; do
  measure "prep$size" "$PREP" "$WORK/tree" -o "$WORK/out.h5" --force -q --size "$size" --threads "$THREADS"
  measure "full$size" "$PREP" "$WORK/tree" -o "$WORK/out.h5" --force -q --size "$size" --threads "$THREADS" --no-scaled-decode
  measure "pil$size" /usr/bin/python3 "$SOURCE_DIR/tests/bench/prep_pil.py" "$WORK/tree" "$WORK/out.h5" "$size" "$THREADS"
  measure "draft$size" /usr/bin/python3 "$SOURCE_DIR/tests/bench/prep_pil.py" "$WORK/tree" "$WORK/out.h5" "$size" "$THREADS" --draft
done

echo "## Dataset preparation"
echo
echo "Command: \`make bench\` (tests/bench/prep.bench.sh). $total generated JPEGs, 500x375, quality 90," \
  "about ${mean_kb} KB each, in $COUNT_CLASSES class folders; $THREADS threads for didicm-prep and" \
  "$THREADS processes for PIL; best of $REPEATS runs; raw store, no gzip. Load average before the" \
  "runs: $load."
echo
for table in wall cpu; do
  if [ "$table" = wall ]; then
    echo "Images per wall-clock second:"
  else
    echo "Images per CPU-second (user + system time of all threads and processes):"
  fi
  echo
  echo "| --size | didicm-prep | didicm-prep --no-scaled-decode | PIL | PIL + draft | didicm-prep / PIL |"
  echo "|---|---|---|---|---|---|"
  for size in 56 224; do
    declare -n values=$table
    echo "| $size | ${values[prep$size]} | ${values[full$size]} | ${values[pil$size]} | ${values[draft$size]} |" \
      "$(ratio "${values[prep$size]}" "${values[pil$size]}") |"
    unset -n values
  done
  echo
done
echo "PIL: $(/usr/bin/python3 -c 'import PIL; print(PIL.__version__)'), resize with Image.BILINEAR" \
  "(antialiased), no draft mode unless stated, as torchvision's loaders do."

# The floor: the Huffman parse, which no pipeline reading these baseline JPEGs
# can skip, whatever scale it decodes to, and the decode at the covering
# factor, which didicm-prep cannot go below with TurboJPEG.
DECODE="$BUILD_DIR/bench/bench_jpeg_decode"
echo
echo "Decoding alone, one thread, milliseconds per image, best of 3 passes" \
  "(\`$DECODE ROOT --size N\`):"
echo
"$DECODE" "$WORK/tree" --size 56 --header
"$DECODE" "$WORK/tree" --size 224
decode_ms=$("$DECODE" "$WORK/tree" --size 56 | awk -F'|' '{gsub(/ /, ""); print $5, $6}')
/usr/bin/python3 - $decode_ms "${cpu[pil56]}" "${cpu[prep56]}" <<'PY'
import sys
dc_only_ms, scaled_ms, pil_rate, prep_rate = (float(value) for value in sys.argv[1:])
parse_ceiling = 1000.0 / dc_only_ms
decode_ceiling = 1000.0 / scaled_ms
print()
print(f"At --size 56, the Huffman parse alone (the 1/8 decode) allows at most "
      f"{parse_ceiling:.0f} images per CPU-second, {parse_ceiling / pil_rate:.1f}x PIL, "
      f"if resizing, reading and writing cost nothing. The decode at the covering factor "
      f"allows {decode_ceiling:.0f}, {decode_ceiling / pil_rate:.1f}x PIL; didicm-prep "
      f"reaches {prep_rate / decode_ceiling:.0%} of that.")
PY
