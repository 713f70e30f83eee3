#!/bin/bash
# didicm-ablate on a tiny checkpoint trained on a small Fashion-MNIST subset:
# every grid point writes its posterior file, the summary and the figures
# follow, and a rerun after deleting one file recomputes only that point.
source "$(dirname "$0")/lib.sh"

FMNIST=/usr/share/datasets/fashion-mnist
cd "$WORK"

# 300 training images (30 per class) and 40 test images (4 per class).
run_tool 0 didicm-prep "$FMNIST" --split train --max-per-class 30 -o train.h5 -q
run_tool 0 didicm-prep "$FMNIST" --split t10k --max-per-class 4 -o test.h5 -q

# One epoch of a narrow DiDiRN-18 and of a narrow ResNet-18 (cross-entropy).
common=(--epochs 1 -b 50 --width 0.125 --threads 2 -j 1 --mean 0.286 0.286 0.286
        --std 0.353 0.353 0.353 --data train.h5 -q)
run_tool 0 didicm-train --model didirn18 --output run-didicm "${common[@]}"
run_tool 0 didicm-train --model resnet18 --output run-ce "${common[@]}"
ckpt=run-didicm/last.h5

base=(--checkpoint $ckpt --data test.h5 -b 16 --threads 2 -j 1)
sweep=("${base[@]}" --sampler cp,cl --select argmin,argmax,sample --steps 1,2 --samples 2
       --limit 40)
expected_files="cp-argmin-s1.h5 cp-argmin-s2.h5 cp-argmax-s1.h5 cp-argmax-s2.h5
  cp-sample-s1.h5 cp-sample-s2.h5 cl-s1-k2.h5 cl-s2-k2.h5"

run_tool 0 didicm-ablate "${sweep[@]}" --output-dir sweep/new
cp "$WORK/out" summary.txt
cp "$WORK/err" first.log
for name in $expected_files; do
  expect_file "sweep/new/$name"
done
expect_file sweep/new/nfe.svg
expect_file sweep/new/selection.md
expect_contains first.log "8 points, 0 complete; 600 of 600 network evaluations"
expect_contains first.log "cl steps 2 samples 2: NFE 4 x 40 images = 160 network evaluations"
expect_contains summary.txt "label selection"
expect_equal "$(grep -c '^cp ' summary.txt)" 6 "cp rows in the summary"
expect_equal "$(grep -c '^cl ' summary.txt)" 2 "cl rows in the summary"

/usr/bin/python3 - sweep/new <<'PY' || fail "sweep outputs"
import sys, xml.etree.ElementTree as ET, h5py
folder = sys.argv[1]
svg = ET.parse(f"{folder}/nfe.svg").getroot()
assert svg.tag.endswith("svg"), svg.tag
lines = [e for e in svg.iter() if e.tag.endswith("polyline")]
assert len(lines) == 5, len(lines)  # CP argmin, argmax, sample; CL at 1 and at 2 steps
rows = [l for l in open(f"{folder}/selection.md") if l.startswith("|")]
assert len(rows) == 5, rows  # header, separator, argmin, argmax, sample
assert [r.split("|")[1].strip() for r in rows[2:]] == ["argmin", "argmax", "sample"], rows
assert "steps=1" in rows[0], rows[0]
assert "steps=2" in rows[0], rows[0]
with h5py.File(f"{folder}/cl-s2-k2.h5") as f:
    assert f["probs"].shape == (40, 10), f["probs"].shape
    assert int(f.attrs["nfe"]) == 4
PY
pass

# Resume: after one file is deleted and another corrupted, only those two are sampled again.
rm sweep/new/cp-argmax-s2.h5
echo "not a posterior" >sweep/new/cl-s1-k2.h5
touch -d '2000-01-01' sweep/new/cp-argmin-s1.h5
run_tool 0 didicm-ablate "${sweep[@]}" --output-dir sweep/new --format json
cp "$WORK/err" second.log
expect_contains second.log "8 points, 6 complete; 160 of 600 network evaluations"
expect_contains second.log "cl-s1-k2.h5: recomputing"
expect_equal "$(grep -c 'skipped,' second.log)" 6 "skipped points"
expect_equal "$(grep -c ': sampling ' second.log)" 2 "recomputed points"
expect_contains second.log "cp select argmax steps 2: sampling"
expect_contains second.log "sweep/new: sampled 2 points and reused 6 complete posterior files"
expect_file sweep/new/cp-argmax-s2.h5
expect_equal "$(date -r sweep/new/cp-argmin-s1.h5 +%Y)" 2000 "untouched complete file"
expect_equal "$(wc -l <"$WORK/out")" 8 "JSON lines"
expect_not_contains "$WORK/out" "label selection"
/usr/bin/python3 - "$WORK/out" <<'PY' || fail "json summary"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert [r["nfe"] for r in rows] == [1, 2, 1, 2, 1, 2, 2, 4], rows
assert all(0 <= r["top1"] <= r["top5"] <= 100 for r in rows), rows
assert rows[0]["select"] == "argmin", rows[0]
assert rows[6]["select"] is None, rows[6]
PY
pass

# Another --limit changes the row count, so every point is sampled again.
run_tool 0 didicm-ablate "${base[@]}" --sampler cl --steps 1,2 --samples 2 --limit 20 \
  --output-dir sweep/new --format csv
expect_contains "$WORK/err" "40 rows instead of 20"
expect_equal "$(grep -c ': sampling ' "$WORK/err")" 2 "points sampled again"
expect_equal "$(head -1 "$WORK/out")" "sampler,select,steps,samples,nfe,top1,top5,nll,ece,brier,file" \
  "csv header"

# --force recomputes a complete point.
run_tool 0 didicm-ablate "${base[@]}" --sampler cp --select argmin --steps 1 --limit 40 \
  --output-dir sweep/new --force --format markdown
expect_contains "$WORK/err" "1 points, 0 complete"
expect_contains "$WORK/out" "| argmin |"

# Usage errors exit 2 before any work; bad input exits 1.
run_tool 2 didicm-ablate "${base[@]}" --sampler cp,ddim --output-dir sweep/bad
expect_contains "$WORK/err" "ddim"
run_tool 2 didicm-ablate "${base[@]}" --steps 0,1 --output-dir sweep/bad
run_tool 2 didicm-ablate "${base[@]}" --samples 2, --output-dir sweep/bad
run_tool 2 didicm-ablate "${base[@]}" --select argmode --output-dir sweep/bad
run_tool 2 didicm-ablate "${sweep[@]}" --format yaml --output-dir sweep/bad
run_tool 2 didicm-ablate "${sweep[@]}"
expect_no_file sweep/bad
run_tool 2 didicm-ablate --checkpoint run-ce/last.h5 --data test.h5 --output-dir sweep/ce
expect_contains "$WORK/err" "has no score model"
expect_no_file sweep/ce
run_tool 1 didicm-ablate --checkpoint missing.h5 --data test.h5 --output-dir sweep/x
expect_contains "$WORK/err" "missing.h5: file not found; check the path"
run_tool 1 didicm-ablate --checkpoint $ckpt --data missing.h5 --output-dir sweep/x
expect_contains "$WORK/err" "missing.h5: file not found; check the path"
run_tool 1 didicm-ablate --checkpoint test.h5 --data test.h5 --output-dir sweep/x
expect_contains "$WORK/err" "give a checkpoint written by didicm-train"
touch plain-file
run_tool 1 didicm-ablate "${sweep[@]}" --output-dir plain-file
expect_contains "$WORK/err" "plain-file"

run_tool 0 didicm-ablate --help
expect_contains "$WORK/out" "--output-dir"
run_tool 0 didicm-ablate --version

finish
