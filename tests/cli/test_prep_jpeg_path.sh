#!/bin/bash
# The JPEG path on real images: Fashion-MNIST test images exported as a JPEG
# class-folder tree and as a flat folder with a labels CSV give, through
# didicm-prep, the labels and (within JPEG error) the pixels of the IDX path.
source "$(dirname "$0")/lib.sh"

DATA=/usr/share/datasets/fashion-mnist
/usr/bin/python3 "$DIDICM_SOURCE_DIR/share/didicm/export-fashion-mnist-jpeg.py" --count 300 "$WORK/jpeg" \
  2>"$WORK/export.err" || fail "export script: $(cat "$WORK/export.err")"
pass

run_tool 0 didicm-prep "$DATA" --split t10k -o "$WORK/idx.h5"
run_tool 0 didicm-prep "$WORK/jpeg/tree" --size 28 --crop-pct 1 -o "$WORK/tree.h5"
expect_equal "$(json_field "$WORK/out" images)" 300 "tree images"
run_tool 0 didicm-prep "$WORK/jpeg/flat" --labels "$WORK/jpeg/flat/labels.csv" --size 28 --crop-pct 1 \
  --class-list <(ls "$WORK/jpeg/tree") -o "$WORK/flat.h5"
expect_equal "$(json_field "$WORK/out" images)" 300 "flat images"

/usr/bin/python3 - "$WORK/idx.h5" "$WORK/tree.h5" "$WORK/flat.h5" <<'PY' || fail "JPEG and IDX paths differ"
import os, sys, h5py, numpy as np
idx = h5py.File(sys.argv[1])
# The IDX dataset is ordered by class; its sources end in "#<IDX index>".
row_of = {int(s.decode().split("#")[1]): row for row, s in enumerate(idx["sources"][:])}
rows = [row_of[i] for i in range(300)]
idx_images, idx_labels = idx["images"][:][rows], idx["labels"][:][rows]
for name in sys.argv[2:]:
    f = h5py.File(name)
    # Sources name the exported file, whose stem is the IDX index.
    order = [int(os.path.basename(s.decode()).split(".")[0]) for s in f["sources"][:]]
    assert sorted(order) == list(range(300)), name
    assert np.array_equal(f["labels"][:], idx_labels[order]), f"{name}: labels differ"
    difference = np.abs(f["images"][:].astype(int) - idx_images[order].astype(int))
    print(f"{name}: mean |difference| {difference.mean():.2f}, max {difference.max()}", file=sys.stderr)
    assert difference.mean() < 3, difference.mean()
PY
pass
finish
