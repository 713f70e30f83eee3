#!/usr/bin/env bash
# didicm-eval --pivot: paper-style tables of top-1 / top-5 by file attributes.
source "$(dirname "$0")/lib.sh"

FIXTURES="/usr/bin/python3 $DIDICM_SOURCE_DIR/tests/cli/eval_fixtures.py"

# Rows over six classes: right at top-1; target second (top-5 hit only);
# target below five others (a miss at both).
RIGHT='[0.5,0.1,0.1,0.1,0.1,0.1]'
SECOND='[0.6,0.4,0,0,0,0]'
MISS='[0.2,0.2,0.2,0.2,0.2,0]'
make() {  # make NAME SAMPLER MODEL RESOLUTION ROW2 TARGET2
  $FIXTURES posterior "$WORK/$1.h5" --probs "[$RIGHT,$5]" --targets "[0,$6]" --sampler "$2" \
    --attr model="$3" --number resolution="$4"
}
make cp_112 cp didirn18 112 "$RIGHT" 0        # 100 / 100
make std_56 standard resnet18 56 "$MISS" 5    # 50 / 50
make cp_56 cp didirn18 56 "$SECOND" 1         # 50 / 100
make std_112 standard resnet18 112 "$SECOND" 1  # 50 / 100

run_tool 0 didicm-eval "$WORK"/cp_112.h5 "$WORK"/std_56.h5 "$WORK"/cp_56.h5 "$WORK"/std_112.h5 \
  --pivot sampler,model --columns resolution
cat >"$WORK/expected" <<'TABLE'
sampler   model      resolution=56   resolution=112
--------  --------  --------------  ---------------
cp        didirn18  50.00 / 100.00  100.00 / 100.00
standard  resnet18   50.00 / 50.00   50.00 / 100.00
TABLE
expect_equal "$(cat "$WORK/out")" "$(cat "$WORK/expected")" "pivot layout"
expect_equal "$(wc -l <"$WORK/out")" 4 "pivot lines"

# Baseline gains in points, one line under each non-baseline row.
run_tool 0 didicm-eval "$WORK"/*.h5 --pivot sampler,model --columns resolution \
  --baseline sampler=standard
expect_equal "$(sed -n 4p "$WORK/out" | tr -s ' ')" "gain vs standard +0.00 / +50.00 +50.00 / +0.00" \
  "gain line"
expect_equal "$(sed -n 5p "$WORK/out" | awk '{print $1}')" "standard" "baseline row"

run_tool 0 didicm-eval "$WORK"/*.h5 --pivot sampler --columns resolution --format markdown
expect_contains "$WORK/out" "| sampler | resolution=56 | resolution=112 |"
expect_contains "$WORK/out" "| cp | 50.00 / 100.00 | 100.00 / 100.00 |"

run_tool 0 didicm-eval "$WORK"/*.h5 --pivot sampler --columns resolution --format csv \
  --baseline sampler=standard
expect_contains "$WORK/out" \
  "sampler,resolution=56 top1,resolution=56 top5,resolution=56 top1 gain,resolution=56 top5 gain"
expect_contains "$WORK/out" "cp,50,100,0,50,100,100,50,0"

# Two files in one cell, an unknown attribute, an unknown baseline value: exit 1.
run_tool 1 didicm-eval "$WORK"/*.h5 --pivot sampler
expect_contains "$WORK/err" "both fall in the pivot cell sampler=cp"
run_tool 1 didicm-eval "$WORK"/*.h5 --pivot sampler --columns ratio
expect_contains "$WORK/err" "has no attribute 'ratio'; available:"
run_tool 1 didicm-eval "$WORK"/*.h5 --pivot sampler --columns resolution --baseline sampler=cl
expect_contains "$WORK/err" "--baseline sampler=cl: no input has this value"

# The layout of a results table: 2 samplers x 3 resolutions x 3 training
# ratios = 18 files, rows = sampler and model, columns = ratio x resolution.
mkdir -p "$WORK/grid"
for sampler in standard cp; do
  for resolution in 224 56 112; do
    for ratio in 1 0.25 0.5; do
      $FIXTURES posterior "$WORK/grid/${sampler}_${resolution}_${ratio}.h5" \
        --probs "[$RIGHT,$SECOND]" --targets '[0,1]' --sampler "$sampler" \
        --attr model="m_$sampler" --number resolution="$resolution" --number ratio="$ratio"
    done
  done
done
run_tool 0 didicm-eval "$WORK"/grid/*.h5 --pivot sampler,model --columns ratio,resolution \
  --baseline sampler=standard
expect_equal "$(wc -l <"$WORK/out")" 6 "grid lines (2 header, rule, 2 rows, 1 gain)"
expect_equal "$(sed -n 1p "$WORK/out" | tr -s ' ')" " ratio=0.25 ratio=0.5 ratio=1" "grid ratios"
expect_equal "$(sed -n 2p "$WORK/out" | tr -s ' ' | cut -d' ' -f1-5)" \
  "sampler model resolution=56 resolution=112 resolution=224" "grid resolutions"
expect_equal "$(sed -n 2p "$WORK/out" | grep -o 'resolution=' | wc -l)" 9 "grid columns"
# Rows keep the order of their first file (cp sorts first in the glob).
expect_equal "$(sed -n 4p "$WORK/out" | awk '{print $1, $2}')" "cp m_cp" "first row"
expect_equal "$(sed -n 4p "$WORK/out" | grep -o '50.00 / 100.00' | wc -l)" 9 "cp cells"
expect_equal "$(sed -n 5p "$WORK/out" | grep -o '+0.00 / +0.00' | wc -l)" 9 "gain cells"
expect_equal "$(sed -n 6p "$WORK/out" | awk '{print $1, $2}')" "standard m_standard" "baseline row"

# Sampler settings that a file's sampler does not use (select of CL and
# softmax, samples of CP) read as missing, so CP, CL and softmax files share a
# pivot. Steps sort numerically with the missing value last.
mkdir -p "$WORK/mixed"
$FIXTURES posterior "$WORK/mixed/cp.h5" --probs "[$RIGHT,$SECOND]" --targets '[0,1]' \
  --sampler cp --steps 8 --attr select=argmin
$FIXTURES posterior "$WORK/mixed/cl.h5" --probs "[$RIGHT,$MISS]" --targets '[0,5]' \
  --sampler cl --steps 2 --attr select= --number samples=4
$FIXTURES posterior "$WORK/mixed/standard.h5" --probs "[$MISS,$MISS]" --targets '[5,5]' \
  --sampler standard --steps 0 --nfe 1
run_tool 0 didicm-eval "$WORK"/mixed/*.h5 --pivot sampler,select,samples --columns steps
cat >"$WORK/expected" <<'TABLE'
sampler   select  samples        steps=2         steps=8      steps=-
--------  ------  -------  -------------  --------------  -----------
cl        -             4  50.00 / 50.00               -            -
cp        argmin        -              -  50.00 / 100.00            -
standard  -             -              -               -  0.00 / 0.00
TABLE
expect_equal "$(cat "$WORK/out")" "$(cat "$WORK/expected")" "pivot over unused settings"
run_tool 0 didicm-eval "$WORK"/mixed/*.h5 --pivot sampler,select --format csv
expect_contains "$WORK/out" "cl,,50,50"
# Numeric keys are JSON numbers.
run_tool 0 didicm-eval "$WORK"/mixed/*.h5 --pivot sampler,samples --format json
expect_contains "$WORK/out" '{"sampler": "cl", "samples": 4, "top1": 50, "top5": 50}'
expect_contains "$WORK/out" '{"sampler": "cp", "samples": null,'
run_tool 0 didicm-eval "$WORK"/mixed/standard.h5
expect_equal "$(sed -n 3p "$WORK/out" | awk '{print $2, $3, $4}')" "standard - 1" \
  "softmax steps in the summary"

finish
