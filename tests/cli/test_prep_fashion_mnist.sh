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

# Uncompressed IDX files, as a folder with --split and as --idx-images/--idx-labels,
# give the same dataset as the gzip files.
mkdir -p "$WORK/plain"
for name in t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  gzip -dc "$DATA/$name.gz" >"$WORK/plain/$name"
done
run_tool 0 didicm-prep "$WORK/plain" --split t10k --idx-names fashion-mnist -o "$WORK/plain_folder.h5"
run_tool 0 didicm-prep --idx-images "$WORK/plain/t10k-images-idx3-ubyte" --idx-labels "$WORK/plain/t10k-labels-idx1-ubyte" \
  --idx-names fashion-mnist -o "$WORK/plain_files.h5"
for plain in plain_folder plain_files; do
  /usr/bin/python3 - "$WORK/test.h5" "$WORK/$plain.h5" >"$WORK/same_plain" <<'PY'
import sys, h5py, numpy as np
a, b = (h5py.File(name, 'r') for name in sys.argv[1:3])
print(all(np.array_equal(a[key][:], b[key][:]) for key in ('images', 'labels', 'classes')))
PY
  expect_equal "$(cat "$WORK/same_plain")" True "$plain IDX equals gzip IDX"
done

run_tool 0 didicm-prep --idx-images "$DATA/train-images-idx3-ubyte.gz" --idx-labels "$DATA/train-labels-idx1-ubyte.gz" \
  --ratio 0.25 --seed 5 --threads 3 -o "$WORK/quarter.h5"
expect_equal "$(h5 "$WORK/quarter.h5" "np.bincount(f['labels'][:]).tolist()")" "[$(printf '1500, %.0s' {1..9})1500]" "ratio 0.25"
run_tool 0 didicm-prep --idx-images "$DATA/train-images-idx3-ubyte.gz" --idx-labels "$DATA/train-labels-idx1-ubyte.gz" \
  --ratio 0.25 --seed 5 --threads 1 -o "$WORK/quarter_again.h5"
/usr/bin/python3 - "$WORK/quarter.h5" "$WORK/quarter_again.h5" >"$WORK/same" <<'PY'
import sys, h5py, numpy as np
a, b = (h5py.File(name, 'r') for name in sys.argv[1:3])
print(all(np.array_equal(a[key][:], b[key][:]) for key in ('images', 'labels', 'sources')))
PY
expect_equal "$(cat "$WORK/same")" True "subset repeatable"

# The subset follows a fixed algorithm, so every machine picks the same items.
# Each class c shuffles its items (in file order) by Fisher-Yates and keeps the
# first floor(n_c * ratio). The draws come from SplitMix64 with rejection
# sampling against modulo bias. Its seed is the first output of
# SplitMix64(seed XOR FNV-1a-64(class name)).
/usr/bin/python3 - "$WORK/quarter.h5" "$DATA/train-labels-idx1-ubyte.gz" >"$WORK/reference" <<'PY'
import gzip, sys, h5py, numpy as np
MASK = (1 << 64) - 1

def splitmix64(state):
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)

def fnv1a(text):
    value = 0xCBF29CE484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001B3) & MASK
    return value

def permutation(count, seed):
    order, draws = list(range(count)), splitmix64(seed)
    for i in range(count - 1, 0, -1):
        limit = MASK - MASK % (i + 1)
        value = next(draws)
        while value >= limit:
            value = next(draws)
        j = value % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order

subset = h5py.File(sys.argv[1], 'r')
ratio, seed = float(subset.attrs['ratio']), int(subset.attrs['seed'])
labels = np.frombuffer(gzip.open(sys.argv[2]).read()[8:], np.uint8)
expected = []
for label, name in enumerate(subset['classes'][:]):
    members = np.flatnonzero(labels == label)
    order = permutation(len(members), next(splitmix64(seed ^ fnv1a(name.decode()))))
    expected += sorted(int(members[k]) for k in order[:int(len(members) * ratio)])
chosen = [int(source.decode().split('#')[1]) for source in subset['sources'][:]]
print(chosen == expected)
PY
expect_equal "$(cat "$WORK/reference")" True "subset follows the SplitMix64 reference"

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
