#!/usr/bin/env bash
# didicm-eval --reliability and --examples: well-formed SVG files, written atomically.
source "$(dirname "$0")/lib.sh"

FIXTURES="/usr/bin/python3 $DIDICM_SOURCE_DIR/tests/cli/eval_fixtures.py"

# Five images; rows 1 and 3 are wrong for both inputs, row 4 only for one.
$FIXTURES dataset "$WORK/data.h5" --labels '[0,1,2,0,1]' --classes 'cat,dog,<ship & boat>' --size 6
PROBS_A='[[0.8,0.1,0.1],[0.7,0.2,0.1],[0.1,0.1,0.8],[0.1,0.6,0.3],[0.1,0.8,0.1]]'
PROBS_B='[[0.6,0.3,0.1],[0.5,0.1,0.4],[0.2,0.2,0.6],[0.2,0.2,0.6],[0.5,0.4,0.1]]'
$FIXTURES posterior "$WORK/a.h5" --probs "$PROBS_A" --targets '[0,1,2,0,1]' \
  --classes 'cat,dog,<ship & boat>' --dataset "$WORK/data.h5"
$FIXTURES posterior "$WORK/b.h5" --probs "$PROBS_B" --targets '[0,1,2,0,1]' \
  --classes 'cat,dog,<ship & boat>' --dataset data.h5 --sampler cl

# well_formed FILE: parses as XML with an <svg> root; prints element counts.
well_formed() {
  /usr/bin/python3 - "$1" <<'PY'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
ns = "{http://www.w3.org/2000/svg}"
print(len(root.findall(f".//{ns}polyline")), len(root.findall(f".//{ns}image")))
PY
}

run_tool 0 didicm-eval "$WORK/a.h5" "$WORK/b.h5" --reliability "$WORK/reliability.svg"
expect_file "$WORK/reliability.svg"
expect_equal "$(well_formed "$WORK/reliability.svg")" "2 0" "reliability curves and images"
expect_contains "$WORK/reliability.svg" "a.h5 (ECE "
expect_contains "$WORK/out" "top1"

# An existing figure is kept unless --force.
run_tool 1 didicm-eval "$WORK/a.h5" --reliability "$WORK/reliability.svg"
expect_contains "$WORK/err" "file exists; pass --force"
run_tool 0 didicm-eval "$WORK/a.h5" --reliability "$WORK/reliability.svg" --force
expect_equal "$(well_formed "$WORK/reliability.svg")" "1 0" "reliability after --force"
run_tool 1 didicm-eval "$WORK/a.h5" --reliability "$WORK/no/such/folder.svg"
expect_contains "$WORK/err" "does not exist"

# Examples: rows 1 and 3 with images; b.h5 names its dataset relative to itself.
run_tool 0 didicm-eval "$WORK/a.h5" "$WORK/b.h5" --examples "$WORK/examples.svg" --count 10
expect_equal "$(well_formed "$WORK/examples.svg")" "0 2" "example images"
/usr/bin/python3 - "$WORK/examples.svg" "$WORK/data.h5" <<'PY' && pass || fail "embedded PNG differs from dataset row 1"
import base64, io, re, sys
import h5py, numpy as np
from PIL import Image
uri = re.search(r'href="data:image/png;base64,([^"]+)"', open(sys.argv[1]).read()).group(1)
image = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri))).convert("RGB"))
with h5py.File(sys.argv[2]) as f:
    assert (image == f["images"][1]).all()
PY
expect_contains "$WORK/examples.svg" ">row 1<"
expect_contains "$WORK/examples.svg" ">row 3<"
expect_not_contains "$WORK/examples.svg" ">row 4<"
expect_contains "$WORK/examples.svg" "&lt;ship &amp; boat&gt;"
run_tool 0 didicm-eval "$WORK/a.h5" "$WORK/b.h5" --examples "$WORK/one.svg" --count 1
expect_equal "$(well_formed "$WORK/one.svg")" "0 1" "--count 1"

# Without a reachable dataset the examples are drawn without images, with a warning.
$FIXTURES posterior "$WORK/lost.h5" --probs "$PROBS_A" --targets '[0,1,2,0,1]' \
  --classes 'cat,dog,<ship & boat>' --dataset "$WORK/gone.h5"
run_tool 0 didicm-eval "$WORK/lost.h5" --examples "$WORK/lost.svg"
expect_contains "$WORK/err" "dataset file not found (looked for $WORK/gone.h5)"
expect_equal "$(well_formed "$WORK/lost.svg")" "0 0" "examples without a dataset"

# A dataset whose labels contradict the posterior is bad input.
$FIXTURES dataset "$WORK/other.h5" --labels '[2,2,2,2,2]' --classes 'cat,dog,<ship & boat>'
$FIXTURES posterior "$WORK/mismatch.h5" --probs "$PROBS_A" --targets '[0,1,2,0,1]' \
  --classes 'cat,dog,<ship & boat>' --dataset "$WORK/other.h5"
run_tool 1 didicm-eval "$WORK/mismatch.h5" --examples "$WORK/mismatch.svg"
expect_contains "$WORK/err" "dataset row 1 has label 2, but the posterior has target 1"
expect_no_file "$WORK/mismatch.svg"

# Posterior rows may map to other dataset rows through /indices.
$FIXTURES posterior "$WORK/indexed.h5" --probs '[[0.1,0.6,0.3]]' --targets '[0]' \
  --classes 'cat,dog,<ship & boat>' --dataset "$WORK/data.h5" --indices '[3]'
run_tool 0 didicm-eval "$WORK/indexed.h5" --examples "$WORK/indexed.svg"
expect_equal "$(well_formed "$WORK/indexed.svg")" "0 1" "indexed example"

# Nothing misclassified by every input: the figure contains a note instead.
$FIXTURES posterior "$WORK/right.h5" --probs '[[0.9,0.05,0.05]]' --targets '[0]'
run_tool 0 didicm-eval "$WORK/right.h5" --examples "$WORK/none.svg"
expect_contains "$WORK/none.svg" "No image is misclassified by every input."
well_formed "$WORK/none.svg" >/dev/null && pass || fail "none.svg is not well-formed"

ls -A "$WORK" | grep -q '\.tmp-' && fail "temporary files left behind" || pass

finish
