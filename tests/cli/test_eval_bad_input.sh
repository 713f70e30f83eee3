#!/usr/bin/env bash
# didicm-eval: each kind of bad posterior gives exit 1 and one line naming the
# file, the row and the value.
source "$(dirname "$0")/lib.sh"

FIXTURES="/usr/bin/python3 $DIDICM_SOURCE_DIR/tests/cli/eval_fixtures.py"
GOOD_ROW='[0.7,0.2,0.1]'

# expect_bad NAME MESSAGE FIXTURE-OPTIONS...: the file made with the options
# is rejected with MESSAGE on one stderr line that starts with the tool name.
expect_bad() {
  local name=$1 message=$2
  shift 2
  $FIXTURES posterior "$WORK/$name.h5" "$@"
  run_tool 1 didicm-eval "$WORK/$name.h5"
  expect_contains "$WORK/err" "didicm-eval: $WORK/$name.h5: $message"
  expect_equal "$(wc -l <"$WORK/err")" 1 "$name: stderr lines"
  expect_equal "$(wc -c <"$WORK/out")" 0 "$name: stdout bytes"
}

expect_bad nan "/probs row 1, class 2: nan is not a probability" \
  --probs "[$GOOD_ROW,[0.5,0.5,NaN]]" --targets '[0,1]'
expect_bad negative "/probs row 1, class 0: -0.1 is not a probability" \
  --probs "[$GOOD_ROW,[-0.1,0.6,0.5]]" --targets '[0,1]'
expect_bad infinite "/probs row 0, class 1: inf is not a probability" \
  --probs "[[0,Infinity,0],$GOOD_ROW]" --targets '[0,1]'
expect_bad sum "/probs row 2 sums to 0.9, not 1 (tolerance 0.001)" \
  --probs "[$GOOD_ROW,$GOOD_ROW,[0.3,0.3,0.3]]" --targets '[0,1,2]'
expect_bad target_high "/targets row 1: class 3 is out of range [0, 3)" \
  --probs "[$GOOD_ROW,$GOOD_ROW]" --targets '[0,3]'
expect_bad target_negative "/targets row 0: class -1 is out of range [0, 3)" \
  --probs "[$GOOD_ROW,$GOOD_ROW]" --targets '[-1,2]'
expect_bad no_targets "dataset /targets is missing" \
  --probs "[$GOOD_ROW]" --targets '[0]' --omit targets
expect_bad no_probs "dataset /probs is missing" \
  --probs "[$GOOD_ROW]" --targets '[0]' --omit probs
expect_bad no_classes "dataset /classes is missing" \
  --probs "[$GOOD_ROW]" --targets '[0]' --omit classes
expect_bad no_format "attribute 'format' is missing" \
  --probs "[$GOOD_ROW]" --targets '[0]' --omit format
expect_bad short_targets "/targets contains 1 values, expected one per row (2)" \
  --probs "[$GOOD_ROW,$GOOD_ROW]" --targets '[0]'
expect_bad class_count "/classes contains 2 names, but /probs has 3 columns" \
  --probs "[$GOOD_ROW]" --targets '[0]' --classes a,b

# A sum within the 1e-3 tolerance is accepted.
$FIXTURES posterior "$WORK/close.h5" --probs '[[0.7,0.2,0.1005]]' --targets '[0]'
run_tool 0 didicm-eval "$WORK/close.h5"

# Files that are not posteriors.
run_tool 1 didicm-eval "$WORK/missing.h5"
expect_contains "$WORK/err" "$WORK/missing.h5: file not found; check the path"
echo "not hdf5" >"$WORK/text.h5"
run_tool 1 didicm-eval "$WORK/text.h5"
expect_contains "$WORK/err" "$WORK/text.h5: not an HDF5 file"
expect_contains "$WORK/err" "expected a posterior file written by didicm-sample or didicm-ablate"
# A file cut short after its superblock, as an interrupted copy leaves it.
head -c 1500 "$WORK/close.h5" >"$WORK/cut.h5"
run_tool 1 didicm-eval "$WORK/cut.h5"
expect_contains "$WORK/err" "$WORK/cut.h5: cannot open HDF5 file: truncated file"
expect_contains "$WORK/err" "so copy or write it again"
status=0
head -c 100 "$WORK/close.h5" | didicm-eval - >"$WORK/out" 2>"$WORK/err" || status=$?
expect_equal "$status" 1 "truncated stdin exit status"
expect_contains "$WORK/err" "<stdin>: not an HDF5 file, or truncated"

# Stdin is checked like a file.
status=0
didicm-eval - <"$WORK/nan.h5" >"$WORK/out" 2>"$WORK/err" || status=$?
expect_equal "$status" 1 "bad stdin exit status"
expect_contains "$WORK/err" "<stdin>: /probs row 1, class 2: nan"

# Combining inputs row by row (--examples) needs the same classes and rows.
$FIXTURES posterior "$WORK/abc.h5" --probs "[$GOOD_ROW,$GOOD_ROW]" --targets '[1,1]' --classes a,b,c
$FIXTURES posterior "$WORK/abd.h5" --probs "[$GOOD_ROW,$GOOD_ROW]" --targets '[1,1]' --classes a,b,d
$FIXTURES posterior "$WORK/one_row.h5" --probs "[$GOOD_ROW]" --targets '[1]' --classes a,b,c
$FIXTURES posterior "$WORK/other_target.h5" --probs "[$GOOD_ROW,$GOOD_ROW]" --targets '[1,2]' \
  --classes a,b,c
run_tool 1 didicm-eval "$WORK/abc.h5" "$WORK/abd.h5" --examples "$WORK/e.svg"
expect_contains "$WORK/err" "$WORK/abc.h5 and $WORK/abd.h5: class lists differ at index 2"
expect_no_file "$WORK/e.svg"
run_tool 1 didicm-eval "$WORK/abc.h5" "$WORK/one_row.h5" --examples "$WORK/e.svg"
expect_contains "$WORK/err" "$WORK/abc.h5 and $WORK/one_row.h5: row counts differ (2 vs 1)"
run_tool 1 didicm-eval "$WORK/abc.h5" "$WORK/other_target.h5" --examples "$WORK/e.svg"
expect_contains "$WORK/err" "$WORK/abc.h5 and $WORK/other_target.h5: row 1 differs"
expect_no_file "$WORK/e.svg"

finish
