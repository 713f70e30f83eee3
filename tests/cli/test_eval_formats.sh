#!/usr/bin/env bash
# didicm-eval: help, usage errors, output formats, tie rules, stdin and per-class.
source "$(dirname "$0")/lib.sh"

FIXTURES="/usr/bin/python3 $DIDICM_SOURCE_DIR/tests/cli/eval_fixtures.py"

# Rows: confidence 0.9 right, 0.9 wrong, 0.65 right (hand-computed below).
$FIXTURES posterior "$WORK/three.h5" --probs '[[0.9,0.1],[0.9,0.1],[0.65,0.35]]' \
  --targets '[0,1,0]' --classes cat,dog
# Two classes at 0.5 and eight tied zeros; the target is a zero.
$FIXTURES posterior "$WORK/ties.h5" --probs '[[0,0,0,0.5,0,0,0,0.5,0,0]]' --targets '[0]'

run_tool 0 didicm-eval --help
expect_contains "$WORK/out" "--ties"
run_tool 0 didicm-eval --version
expect_contains "$WORK/out" "didicm-eval (didicm)"

# Usage errors exit 2.
run_tool 2 didicm-eval
run_tool 2 didicm-eval "$WORK/three.h5" --format html
expect_contains "$WORK/err" "--format html"
run_tool 2 didicm-eval "$WORK/three.h5" --ties random
run_tool 2 didicm-eval "$WORK/three.h5" --columns resolution
run_tool 2 didicm-eval "$WORK/three.h5" --count 3
run_tool 2 didicm-eval "$WORK/three.h5" --pivot sampler --per-class
run_tool 2 didicm-eval "$WORK/three.h5" --pivot sampler --baseline steps=2
run_tool 2 didicm-eval - - --format json
run_tool 2 didicm-eval "$WORK/three.h5" --examples "$WORK/e.svg" --count 0
run_tool 2 didicm-eval "$WORK/three.h5" --no-such-flag

# JSON lines: one object per input, percent for top-1 and top-5.
run_tool 0 didicm-eval "$WORK/three.h5" --format json
expect_equal "$(wc -l <"$WORK/out")" 1 "json lines"
expect_equal "$(json_field "$WORK/out" count)" 3 "count"
expect_equal "$(json_field "$WORK/out" top5)" 100 "top5"
/usr/bin/python3 - "$WORK/out" <<'PY' && pass || fail "json metrics differ from the hand-computed values"
import json, math, sys
row = json.loads(open(sys.argv[1]).readline())
assert abs(row["top1"] - 200 / 3) < 1e-9, row
assert abs(row["nll"] - (-math.log(0.9) - math.log(0.1) - math.log(0.65)) / 3) < 1e-6, row
assert abs(row["ece"] - (0.8 + 0.35) / 3) < 1e-6, row
assert abs(row["brier"] - (0.02 + 1.62 + 0.245) / 3) < 1e-6, row
assert row["sampler"] == "cp", row
assert row["nfe"] == 2, row
PY

run_tool 0 didicm-eval "$WORK/three.h5"
expect_contains "$WORK/out" "66.67  100.00  0.9462  0.3833  0.6283"
run_tool 0 didicm-eval "$WORK/three.h5" --format markdown
expect_contains "$WORK/out" "| file | sampler | steps | nfe | count | top1 | top5 | nll | ece | brier |"
run_tool 0 didicm-eval "$WORK/three.h5" --format csv
expect_contains "$WORK/out" "file,sampler,steps,nfe,count,top1,top5,nll,ece,brier"
expect_equal "$(wc -l <"$WORK/out")" 2 "csv lines"
run_tool 0 didicm-eval "$WORK/three.h5" "$WORK/ties.h5" --format tsv
expect_equal "$(wc -l <"$WORK/out")" 3 "tsv lines"
expect_equal "$(awk -F'\t' 'NR==3 {print $7}' "$WORK/out")" 37.5 "tsv top5 of the tie case"

# Ties: 3/8 credit by default, a hit by lowest index.
run_tool 0 didicm-eval "$WORK/ties.h5" --format json
expect_equal "$(json_field "$WORK/out" top5)" 37.5 "top5, ties expected"
expect_equal "$(json_field "$WORK/out" top1)" 0 "top1, ties expected"
run_tool 0 didicm-eval "$WORK/ties.h5" --format json --ties index
expect_equal "$(json_field "$WORK/out" top5)" 100 "top5, ties index"

# A pipe into stdin gives the same numbers as the file.
status=0
cat "$WORK/three.h5" | didicm-eval - --format json >"$WORK/piped" 2>"$WORK/err" || status=$?
expect_equal "$status" 0 "pipe exit status"
expect_equal "$(json_field "$WORK/piped" file)" "<stdin>" "pipe file name"
run_tool 0 didicm-eval "$WORK/three.h5" --format json
expect_equal "$(json_field "$WORK/piped" nll)" "$(json_field "$WORK/out" nll)" "pipe nll"

# Empty stdin is bad input, not a hang or a crash.
status=0
didicm-eval - </dev/null >"$WORK/out" 2>"$WORK/err" || status=$?
expect_equal "$status" 1 "empty stdin exit status"
expect_contains "$WORK/err" "<stdin>: no input"

# Per-class accuracy: cat is right twice, dog never.
run_tool 0 didicm-eval "$WORK/three.h5" --per-class --format csv
expect_contains "$WORK/out" "file,class,name,count,top1,top5"
expect_contains "$WORK/out" ",0,cat,2,100,100"
expect_contains "$WORK/out" ",1,dog,1,0,100"

finish
