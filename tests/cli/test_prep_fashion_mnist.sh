#!/bin/bash
# didicm-prep on the real Fashion-MNIST (Debian package dataset-fashion-mnist):
# counts per class, class-balanced subsets, and agreement of the IDX path with
# a JPEG tree made from the same images.
source "$(dirname "$0")/lib.sh"
IMAGES="$DIDICM_BUILD_DIR/test-tools/didicm-test-images"
DATA=${DIDICM_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}

if [ ! -f "$DATA/train-images-idx3-ubyte.gz" ]; then
  fail "$DATA/train-images-idx3-ubyte.gz not found; install dataset-fashion-mnist (make deps)"
  finish
  exit 1
fi

h5() {
  /usr/bin/python3 -c "import sys, h5py, numpy as np; f = h5py.File(sys.argv[1], 'r'); print(($2))" "$1"
}

run_tool 0 didicm-prep "$DATA" --split train -o "$WORK/train.h5"
expect_equal "$(json_field "$WORK/out" images)" 60000 "train images"
expect_equal "$(h5 "$WORK/train.h5" "np.bincount(f['labels'][:]).tolist()")" "[$(printf '6000, %.0s' {1..9})6000]" "train per class"
expect_equal "$(h5 "$WORK/train.h5" "f['images'].shape, f.attrs['size'], f.attrs['source_kind'], f.attrs['split']")" \
  "((60000, 28, 28, 3), 28, 'idx', 'train')" "train layout"
expect_equal "$(h5 "$WORK/train.h5" "[c.decode() for c in f['classes'][:]]")" \
  "['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']" "class names"
# Grayscale is expanded to three equal channels.
expect_equal "$(h5 "$WORK/train.h5" "bool((f['images'][:50, ..., 0] == f['images'][:50, ..., 2]).all() and f['images'][:50].max() > 200)")" True "gray expanded"

run_tool 0 didicm-prep "$DATA" --split t10k -o "$WORK/test.h5"
expect_equal "$(json_field "$WORK/out" images)" 10000 "test images"
expect_equal "$(h5 "$WORK/test.h5" "np.bincount(f['labels'][:]).tolist()")" "[$(printf '1000, %.0s' {1..9})1000]" "test per class"

run_tool 0 didicm-prep --idx-images "$DATA/train-images-idx3-ubyte.gz" --idx-labels "$DATA/train-labels-idx1-ubyte.gz" \
  --ratio 0.25 --seed 5 -o "$WORK/quarter.h5"
expect_equal "$(h5 "$WORK/quarter.h5" "np.bincount(f['labels'][:]).tolist()")" "[$(printf '1500, %.0s' {1..9})1500]" "ratio 0.25"
run_tool 0 didicm-prep --idx-images "$DATA/train-images-idx3-ubyte.gz" --idx-labels "$DATA/train-labels-idx1-ubyte.gz" \
  --ratio 0.25 --seed 5 --threads 1 -o "$WORK/quarter_again.h5"
/usr/bin/python3 - "$WORK/quarter.h5" "$WORK/quarter_again.h5" >"$WORK/same" <<'PY'
import sys, h5py, numpy as np
a, b = (h5py.File(name, 'r') for name in sys.argv[1:3])
print(all(np.array_equal(a[key][:], b[key][:]) for key in ('images', 'labels', 'sources')))
PY
expect_equal "$(cat "$WORK/same")" True "subset repeatable"

run_tool 2 didicm-prep "$DATA" -o "$WORK/nosplit.h5"
expect_contains "$WORK/err" "--split train"

# A JPEG tree of the first 300 training images gives the same labels and,
# within JPEG error, the same pixels as the IDX path.
"$IMAGES" idx-tree "$DATA/train-images-idx3-ubyte.gz" "$DATA/train-labels-idx1-ubyte.gz" "$WORK/tree" 300
run_tool 0 didicm-prep "$WORK/tree" -o "$WORK/tree.h5" --size 28 --crop-pct 1
expect_equal "$(json_field "$WORK/out" images)" 300 "tree images"
/usr/bin/python3 - "$WORK/train.h5" "$WORK/tree.h5" >"$WORK/compare" <<'PY'
import sys, h5py, numpy as np
idx = h5py.File(sys.argv[1], 'r')
tree = h5py.File(sys.argv[2], 'r')
# Tree sources are "<label>/<item index>.JPEG"; IDX sources "<file>#<item index>".
idx_row = {s.decode().split('#')[1]: i for i, s in enumerate(idx['sources'][:])}
worst_mean, worst_max, wrong_labels = 0.0, 0, 0
for j, source in enumerate(tree['sources'][:]):
    item = str(int(source.decode().split('/')[1].split('.')[0]))
    i = idx_row[item]
    wrong_labels += int(idx['labels'][i] != tree['labels'][j])
    a = idx['images'][i].astype(int)
    b = tree['images'][j].astype(int)
    worst_mean = max(worst_mean, np.abs(a - b).mean())
    worst_max = max(worst_max, np.abs(a - b).max())
print(wrong_labels, worst_mean < 4.0, worst_max < 80, round(worst_mean, 2), worst_max)
PY
read -r wrong mean_ok max_ok mean max <"$WORK/compare"
expect_equal "$wrong" 0 "labels of JPEG tree"
expect_equal "$mean_ok" True "mean pixel error $mean"
expect_equal "$max_ok" True "max pixel error $max"

finish
