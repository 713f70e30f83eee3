#!/bin/bash
# didicm-prep on class-folder trees, flat folders with label files, class
# lists, subsets and the output options.
source "$(dirname "$0")/lib.sh"
IMAGES="$DIDICM_BUILD_DIR/test-tools/didicm-test-images"

# h5 FILE EXPRESSION: prints a Python expression over the open HDF5 file f.
h5() {
  /usr/bin/python3 -c "import sys, h5py, numpy as np; f = h5py.File(sys.argv[1], 'r'); print(($2))" "$1"
}

# A tree with numeric class names: byte-wise order is 1, 10, 2.
for class in 1 10 2; do
  mkdir -p "$WORK/tree/$class"
  for i in 0 1 2 3; do
    "$IMAGES" jpeg "$WORK/tree/$class/img$i.JPEG" $((60 + i * 10)) 50
  done
done
echo "not an image" >"$WORK/tree/README.txt"

run_tool 0 didicm-prep "$WORK/tree" -o "$WORK/tree.h5" --size 16 --threads 2
expect_equal "$(json_field "$WORK/out" images)" 12 "images"
expect_equal "$(json_field "$WORK/out" classes)" 3 "classes"
expect_equal "$(json_field "$WORK/out" skipped)" 0 "skipped"
expect_contains "$WORK/out" '"images_per_second"'
expect_equal "$(json_field "$WORK/out" bytes)" "$(stat -c %s "$WORK/tree.h5")" "bytes is the output file size"
expect_equal "$(/usr/bin/python3 -c 'import sys; print(float(sys.argv[1]) > 0)' "$(json_field "$WORK/out" seconds)")" True "seconds"
expect_equal "$(h5 "$WORK/tree.h5" "[c.decode() for c in f['classes'][:]]")" "['1', '10', '2']" "numeric classes sort as strings"
expect_equal "$(h5 "$WORK/tree.h5" "f['labels'][:].tolist()")" "[0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]" "labels"
expect_equal "$(h5 "$WORK/tree.h5" "f['sources'][4].decode()")" "10/img0.JPEG" "sources"
expect_equal "$(h5 "$WORK/tree.h5" "f['images'].shape, f['images'].chunks")" "((12, 16, 16, 3), (1, 16, 16, 3))" "image layout"
expect_equal "$(h5 "$WORK/tree.h5" "f.attrs['format'], f.attrs['format_version'], f.attrs['size'], f.attrs['source_kind'], f.attrs['store']")" \
  "('didicm-dataset', 1, 16, 'tree', 'raw')" "attributes"
expect_contains <(h5 "$WORK/tree.h5" "f.attrs['created_by']") "didicm-prep "
expect_contains <(h5 "$WORK/tree.h5" "f.attrs['command_line']") "--size 16"

# --no-scaled-decode decodes at full size: the same images within resampling
# differences, but not bit for bit (these sizes decode at scale 3/8 otherwise).
run_tool 0 didicm-prep "$WORK/tree" -o "$WORK/full.h5" --size 16 --no-scaled-decode
expect_equal "$(/usr/bin/python3 -c '
import sys, h5py, numpy as np
a = h5py.File(sys.argv[1])["images"][:].astype(float)
b = h5py.File(sys.argv[2])["images"][:].astype(float)
difference = np.abs(a - b).mean()
print(a.shape == b.shape and 0 < difference < 8)' "$WORK/tree.h5" "$WORK/full.h5")" True "full-size decode"

# An existing output needs --force; the file is left as it was.
before=$(md5sum <"$WORK/tree.h5")
run_tool 1 didicm-prep "$WORK/tree" -o "$WORK/tree.h5" --size 16
expect_contains "$WORK/err" "--force"
expect_equal "$(md5sum <"$WORK/tree.h5")" "$before" "existing file untouched"
cp "$WORK/tree.h5" "$WORK/raw.h5"
run_tool 0 didicm-prep "$WORK/tree" -o "$WORK/tree.h5" --size 16 --force --store jpeg --jpeg-quality 80 -q
expect_equal "$(h5 "$WORK/tree.h5" "f['jpeg'].shape[0], f.attrs['store'], 'images' in f")" "(12, 'jpeg', False)" "jpeg store"
# -q leaves stderr empty on success.
expect_equal "$(cat "$WORK/err")" "" "stderr with -q"
# -v adds the transform and the per-class counts.
run_tool 0 didicm-prep "$WORK/tree" -o "$WORK/verbose.h5" --size 16 -v
expect_contains "$WORK/err" "resize the short side to 18 (bilinear filter), center crop 16x16"
expect_contains "$WORK/err" "class '10' (label 1): 4 images"
# Every stored JPEG decodes (here with PIL) to its raw image within JPEG error.
/usr/bin/python3 - "$WORK/tree.h5" "$WORK/raw.h5" >"$WORK/jpeg_diff" <<'PY'
import io, sys, h5py, numpy as np
from PIL import Image
jpegs = h5py.File(sys.argv[1], 'r')['jpeg'][:]
raw = h5py.File(sys.argv[2], 'r')['images'][:].astype(int)
decoded = np.stack([np.asarray(Image.open(io.BytesIO(bytes(data))).convert('RGB')) for data in jpegs]).astype(int)
print(decoded.shape == raw.shape and np.abs(decoded - raw).mean() < 3)
PY
expect_equal "$(cat "$WORK/jpeg_diff")" True "jpeg store decodes to the raw images"

# --store-size keeps the central square at the larger side; resolution records --size.
run_tool 0 didicm-prep "$WORK/tree" -o "$WORK/store.h5" --size 16 --store-size 24 --gzip 4
expect_equal "$(h5 "$WORK/store.h5" "f['images'].shape[1:], f.attrs['size'], f.attrs['resolution'], f['images'].compression")" \
  "((24, 24, 3), 24, 16, 'gzip')" "store size"

# --crop-pct and --store-size on a lossless PNG of fine detail: the result must
# match PIL's antialiased bilinear resize and torchvision's center crop within
# rounding.
mkdir -p "$WORK/detail/x"
/usr/bin/python3 -c '
import sys, numpy as np
from PIL import Image
noise = (np.random.RandomState(1).rand(75, 105, 3) * 255).astype(np.uint8)
Image.fromarray(noise).resize((210, 150), Image.BICUBIC).save(sys.argv[1])' "$WORK/detail/x/detail.png"
# pil_difference FILE RESIZED CROP: prints "ok" when the stored image is within
# 1 of PIL's resize of the shorter side to RESIZED and center crop of CROP x
# CROP, else the difference.
pil_difference() {
  /usr/bin/python3 - "$WORK/detail/x/detail.png" "$@" <<'PY'
import sys, h5py, numpy as np
from PIL import Image
image = Image.open(sys.argv[1]).convert('RGB')
resized, crop = int(sys.argv[3]), int(sys.argv[4])
width, height = image.size
size = (int(resized * width / height), resized) if width > height else (resized, int(resized * height / width))
image = image.resize(size, Image.BILINEAR)
left, top = int(round((size[0] - crop) / 2.0)), int(round((size[1] - crop) / 2.0))
expected = np.asarray(image.crop((left, top, left + crop, top + crop)), dtype=int)
stored = h5py.File(sys.argv[2], 'r')['images'][0].astype(int)
if stored.shape != expected.shape:
    print(f"shape {stored.shape}")
else:
    difference = int(np.abs(stored - expected).max())
    print("ok" if difference <= 1 else f"max difference {difference}")
PY
}
# round(28 / 0.5) = 56, round(28 / 0.875) = 32.
run_tool 0 didicm-prep "$WORK/detail" -o "$WORK/crop_half.h5" --size 28 --crop-pct 0.5
expect_equal "$(pil_difference "$WORK/crop_half.h5" 56 28)" ok "--crop-pct 0.5 against PIL"
run_tool 0 didicm-prep "$WORK/detail" -o "$WORK/crop_default.h5" --size 28
expect_equal "$(pil_difference "$WORK/crop_default.h5" 32 28)" ok "default --crop-pct against PIL"
run_tool 0 didicm-prep "$WORK/detail" -o "$WORK/store_detail.h5" --size 28 --store-size 40
expect_equal "$(pil_difference "$WORK/store_detail.h5" 40 40)" ok "--store-size against PIL"

# A class list fixes the order; a listed class without a folder is kept empty.
printf '2\n1\nextra\n10\n' >"$WORK/classes.txt"
run_tool 0 didicm-prep "$WORK/tree" -o "$WORK/listed.h5" --size 16 --class-list "$WORK/classes.txt"
expect_equal "$(h5 "$WORK/listed.h5" "[c.decode() for c in f['classes'][:]], f['labels'][:].tolist()")" \
  "(['2', '1', 'extra', '10'], [0, 0, 0, 0, 1, 1, 1, 1, 3, 3, 3, 3])" "class list order"
expect_contains "$WORK/err" "class 'extra' (label 2) has no images"

# A class folder missing from the list is an error naming it.
printf '1\n2\n' >"$WORK/short.txt"
run_tool 1 didicm-prep "$WORK/tree" -o "$WORK/short.h5" --size 16 --class-list "$WORK/short.txt"
expect_contains "$WORK/err" "didicm-prep: $WORK/tree/10: class folder is not in the class list"
expect_no_file "$WORK/short.h5"

# A val tree lacks class 1 and has an empty folder for class 10. With the
# train tree's class list, its class 2 images keep the train label 2.
mkdir -p "$WORK/val/10" "$WORK/val/2"
"$IMAGES" jpeg "$WORK/val/2/val0.JPEG" 60 50
ls "$WORK/tree" | grep -v README >"$WORK/train_classes.txt"
run_tool 0 didicm-prep "$WORK/val" -o "$WORK/val.h5" --size 16 --class-list "$WORK/train_classes.txt"
expect_equal "$(h5 "$WORK/val.h5" "[c.decode() for c in f['classes'][:]], f['labels'][:].tolist()")" \
  "(['1', '10', '2'], [2])" "val labels follow the train class list"
expect_contains "$WORK/err" "class '1' (label 0) has no images"
expect_contains "$WORK/err" "class '10' (label 1) has no images"

# --classes K and --classes FILE, subsets.
run_tool 0 didicm-prep "$WORK/tree" -o "$WORK/two.h5" --size 16 --classes 2
expect_equal "$(h5 "$WORK/two.h5" "len(f['classes']), f['labels'].shape[0]")" "(2, 8)" "--classes 2"
printf '2\n' >"$WORK/only2.txt"
run_tool 0 didicm-prep "$WORK/tree" -o "$WORK/only2.h5" --size 16 --classes "$WORK/only2.txt"
expect_equal "$(h5 "$WORK/only2.h5" "[c.decode() for c in f['classes'][:]], f['sources'][0].decode()")" "(['2'], '2/img0.JPEG')" "--classes FILE"
run_tool 0 didicm-prep "$WORK/tree" -o "$WORK/half.h5" --size 16 --ratio 0.5 --seed 3
expect_equal "$(h5 "$WORK/half.h5" "np.bincount(f['labels'][:]).tolist(), f.attrs['ratio'], f.attrs['seed']")" "([2, 2, 2], 0.5, 3)" "ratio"
run_tool 0 didicm-prep "$WORK/tree" -o "$WORK/half_again.h5" --size 16 --ratio 0.5 --seed 3 --threads 1
expect_equal "$(h5 "$WORK/half_again.h5" "[s.decode() for s in f['sources'][:]]")" "$(h5 "$WORK/half.h5" "[s.decode() for s in f['sources'][:]]")" "same seed, same files"
run_tool 0 didicm-prep "$WORK/tree" -o "$WORK/max.h5" --size 16 --max-per-class 1
expect_equal "$(h5 "$WORK/max.h5" "np.bincount(f['labels'][:]).tolist()")" "[1, 1, 1]" "max per class"

# Flat folder with a filename,class CSV (header optional).
mkdir -p "$WORK/flat"
for name in a b c d; do "$IMAGES" jpeg "$WORK/flat/$name.JPEG" 40 30; done
printf 'filename,class\nb.JPEG,n02\na.JPEG,n01\nc.JPEG,n02\n' >"$WORK/labels.csv"
run_tool 0 didicm-prep "$WORK/flat" --labels "$WORK/labels.csv" -o "$WORK/flat.h5" --size 16
expect_equal "$(h5 "$WORK/flat.h5" "[c.decode() for c in f['classes'][:]], f['labels'][:].tolist(), [s.decode() for s in f['sources'][:]], f.attrs['source_kind']")" \
  "(['n01', 'n02'], [0, 1, 1], ['a.JPEG', 'b.JPEG', 'c.JPEG'], 'flat')" "flat CSV"
expect_contains "$WORK/err" "ignoring 1 image files not listed"

# Kaggle's LOC_val_solution.csv: ids without extension, WordNet id first.
printf 'ImageId,PredictionString\nd,n03 1 2 3 4 n03 5 6 7 8\na,n01 0 0 9 9\n' >"$WORK/kaggle.csv"
run_tool 0 didicm-prep "$WORK/flat" --labels "$WORK/kaggle.csv" -o "$WORK/kaggle.h5" --size 16
expect_equal "$(h5 "$WORK/kaggle.h5" "[c.decode() for c in f['classes'][:]], [s.decode() for s in f['sources'][:]]")" \
  "(['n01', 'n03'], ['a.JPEG', 'd.JPEG'])" "Kaggle CSV"

# A flat folder's class missing from the class list is an error, not another label.
printf 'n01\n' >"$WORK/n01_only.txt"
run_tool 1 didicm-prep "$WORK/flat" --labels "$WORK/labels.csv" -o "$WORK/unlisted.h5" --size 16 --class-list "$WORK/n01_only.txt"
expect_contains "$WORK/err" "labels.csv:2: class 'n02' is not in the class list"
expect_no_file "$WORK/unlisted.h5"

# A CSV row whose file is missing: error, or skipped with --skip-bad.
printf 'a.JPEG,n01\nmissing.JPEG,n01\n' >"$WORK/missing.csv"
run_tool 1 didicm-prep "$WORK/flat" --labels "$WORK/missing.csv" -o "$WORK/missing.h5" --size 16
expect_contains "$WORK/err" "didicm-prep: missing.JPEG: listed in"
run_tool 0 didicm-prep "$WORK/flat" --labels "$WORK/missing.csv" -o "$WORK/missing.h5" --size 16 --skip-bad
expect_equal "$(json_field "$WORK/out" skipped)" 1 "missing file skipped"

# Usage errors exit 2.
run_tool 2 didicm-prep "$WORK/tree" -o "$WORK/x.h5"
expect_contains "$WORK/err" "--size is required"
run_tool 2 didicm-prep "$WORK/tree" -o "$WORK/x.h5" --size 16 --ratio 2
run_tool 2 didicm-prep "$WORK/tree" -o "$WORK/x.h5" --size 16 --store png
run_tool 2 didicm-prep "$WORK/tree" --size 16
run_tool 2 didicm-prep "$WORK/tree" -o "$WORK/x.h5" --size 16 --no-such-flag
run_tool 2 didicm-prep "$WORK/tree" -o "$WORK/x.h5" --size 16 --threads -1
expect_contains "$WORK/err" "--threads: '-1' is not a thread count"
# A repeated option takes its last value.
run_tool 0 didicm-prep "$WORK/tree" -o "$WORK/repeated.h5" --size 8 --size 16 -q
expect_equal "$(h5 "$WORK/repeated.h5" "f['images'].shape[1]")" 16 "last --size wins"
run_tool 2 didicm-prep "$WORK/tree" -o "$WORK/x.h5" --size 16 --threads abc
expect_contains "$WORK/err" "--threads: 'abc' is not a whole number"
expect_no_file "$WORK/x.h5"
run_tool 0 didicm-prep --help
expect_contains "$WORK/out" "--class-list"
expect_contains "$WORK/out" "--threads INT:NONNEGATIVE "
run_tool 0 didicm-prep --version
expect_contains "$WORK/out" "didicm-prep (didicm)"
run_tool 1 didicm-prep "$WORK/nowhere" -o "$WORK/x.h5" --size 16
expect_contains "$WORK/err" "$WORK/nowhere: input folder not found; check the path"
expect_no_file "$WORK/x.h5"

# A folder without images, and a --ratio that keeps none of the 4 images per class.
mkdir -p "$WORK/empty/cat"
run_tool 1 didicm-prep "$WORK/empty" -o "$WORK/x.h5" --size 16
expect_contains "$WORK/err" "$WORK/empty: no images found; expected JPEG or PNG files"
run_tool 1 didicm-prep "$WORK/tree" -o "$WORK/x.h5" --size 16 --ratio 0.1
expect_contains "$WORK/err" "--ratio 0.1 keeps none of the 12 images; raise --ratio"
expect_no_file "$WORK/x.h5"

finish
