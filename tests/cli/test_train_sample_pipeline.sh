#!/bin/bash
# The whole pipeline on a small real Fashion-MNIST subset: prep, one short
# training run per objective, sampling with every sampler, evaluation.
source "$(dirname "$0")/lib.sh"

FMNIST=/usr/share/datasets/fashion-mnist
cd "$WORK"

# 2000 training images (200 per class) and 500 test images (50 per class).
run_tool 0 didicm-prep "$FMNIST" --split train --max-per-class 200 -o train.h5
run_tool 0 didicm-prep "$FMNIST" --split t10k --max-per-class 50 -o test.h5

# Fashion-MNIST is grayscale expanded to RGB: normalize with its own statistics.
common=(--epochs 3 -b 50 --lr 4e-3 --warmup-epochs 0.5 --width 0.25 --threads 2 -j 1
        --mean 0.286 0.286 0.286 --std 0.353 0.353 0.353 --data train.h5 --val test.h5 -q)

run_tool 0 didicm-train --model didirn18 --output run-didicm "${common[@]}"
cp "$WORK/out" didicm-summary.json
expect_file run-didicm/last.h5
expect_file run-didicm/best.h5
expect_file run-didicm/config.json
expect_file run-didicm/summary.csv
expect_file run-didicm/metrics.jsonl
expect_equal "$(json_field didicm-summary.json steps)" 120 "didicm steps (3 epochs of 40)"
expect_equal "$(wc -l <run-didicm/summary.csv)" 4 "summary.csv rows"

# The loss falls and validation beats chance (10%) clearly. The training
# loss of single steps is heavy-tailed (dsigma reaches 999 near t = 1), so the
# check uses the validation loss, whose draws are the same at every epoch.
/usr/bin/python3 - run-didicm/summary.csv didicm-summary.json <<'PY' || fail "didicm learning checks"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
first, last = float(rows[0]["val_loss"]), float(rows[-1]["val_loss"])
top1 = json.loads(open(sys.argv[2]).readline())["val_top1"]
print(f"didicm: validation loss {first:.4f} -> {last:.4f}, top-1 {top1:.1f}%", file=sys.stderr)
assert last < first, (first, last)
assert top1 > 30, top1
PY
pass

run_tool 0 didicm-train --model resnet18 --output run-ce "${common[@]}"
cp "$WORK/out" ce-summary.json
expect_equal "$(json_field ce-summary.json objective)" ce "resnet objective"
/usr/bin/python3 -c 'import json,sys; t=json.loads(open(sys.argv[1]).readline())["val_top1"]; assert t > 40, t' \
  ce-summary.json || fail "ce validation top-1"
pass

# An existing run is not overwritten without --force or --resume.
run_tool 1 didicm-train --model resnet18 --output run-ce "${common[@]}"
expect_contains "$WORK/err" "--resume"

# Sampling: every sampler, with a batch size that does not divide 500.
ckpt=run-didicm/last.h5
run_tool 0 didicm-sample --checkpoint $ckpt --data test.h5 --steps 2 -b 64 -o cp2.h5
expect_equal "$(json_field "$WORK/out" images)" 500 "rows of cp2.h5"
expect_equal "$(json_field "$WORK/out" nfe)" 2 "CP NFE"
run_tool 0 didicm-sample --checkpoint $ckpt --data test.h5 --steps 2 -b 7 -o cp2-b7.h5
run_tool 0 didicm-sample --checkpoint $ckpt --data test.h5 --sampler cl --steps 2 --samples 16 \
  --limit 100 --trajectory -o cl.h5
expect_equal "$(json_field "$WORK/out" nfe)" 32 "CL NFE"
expect_equal "$(json_field "$WORK/out" images)" 100 "rows with --limit"
run_tool 0 didicm-sample --checkpoint $ckpt --data test.h5 --steps 8 --trajectory-topk 3 \
  --limit 50 -o cp8-top3.h5
run_tool 0 didicm-sample --checkpoint run-ce/best.h5 --data test.h5 -o standard.h5
expect_equal "$(json_field "$WORK/out" sampler)" standard "default sampler of a ce checkpoint"

# CP with argmin is deterministic: the batch size changes the posterior only
# by float rounding inside the batched convolutions (about 1e-5).
/usr/bin/python3 - cp2.h5 cp2-b7.h5 cl.h5 cp8-top3.h5 <<'PY' || fail "posterior contents"
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
difference = np.abs(a["probs"][:] - b["probs"][:]).max()
assert difference < 1e-4, f"batch size changed CP posteriors by {difference}"
assert np.array_equal(a["probs"][:].argmax(1), b["probs"][:].argmax(1))
assert a.attrs["format"] in (b"didicm-posterior", "didicm-posterior")
cl = h5py.File(sys.argv[3])
assert cl["trajectory"].shape == (100, 3, 10), cl["trajectory"].shape
assert np.allclose(cl["probs"][:].sum(1), 1)
top = h5py.File(sys.argv[4])
assert top["trajectory_topk/probs"].shape == (50, 9, 3), top["trajectory_topk/probs"].shape
PY
pass

# The pipe: sample to stdout, evaluate from stdin.
status=0
didicm-sample --checkpoint $ckpt --data test.h5 --steps 2 --limit 64 -o - -q \
  | didicm-eval - --format json >pipe.json 2>pipe.err || status=$?
expect_equal "$status" 0 "pipe exit status"
expect_equal "$(json_field pipe.json count)" 64 "rows through the pipe"

# A paper-style table over the posterior files.
run_tool 0 didicm-eval cp2.h5 cl.h5 standard.h5 --format markdown
expect_contains "$WORK/out" "standard"

# Bad inputs: a dataset with other classes, a missing checkpoint, usage errors.
run_tool 0 didicm-prep "$FMNIST" --split t10k --classes 5 --max-per-class 2 -o five.h5
run_tool 1 didicm-sample --checkpoint $ckpt --data five.h5 -o x.h5
expect_contains "$WORK/err" "class lists differ"
expect_no_file x.h5
run_tool 1 didicm-sample --checkpoint missing.h5 --data test.h5 -o x.h5
expect_contains "$WORK/err" "missing.h5: file not found; check the path"
# Files of the wrong kind as the checkpoint: each message names the kind expected.
echo "weights" >text.h5
run_tool 1 didicm-sample --checkpoint text.h5 --data test.h5 -o x.h5
expect_contains "$WORK/err" \
  "text.h5: not an HDF5 file, or truncated; expected a checkpoint written by didicm-train"
run_tool 1 didicm-sample --checkpoint test.h5 --data test.h5 -o x.h5
expect_contains "$WORK/err" "give a checkpoint written by didicm-train"
run_tool 1 didicm-sample --checkpoint run-ce --data test.h5 -o x.h5
expect_contains "$WORK/err" "run-ce: is a folder, expected a checkpoint written by didicm-train"
run_tool 1 didicm-sample --checkpoint $ckpt --data text.h5 -o x.h5
expect_contains "$WORK/err" "expected a dataset written by didicm-prep"
expect_no_file x.h5
run_tool 2 didicm-sample --checkpoint $ckpt --data test.h5 --sampler standard -o x.h5
run_tool 2 didicm-sample --checkpoint $ckpt --data test.h5 --steps 0 -o x.h5
run_tool 2 didicm-sample --checkpoint $ckpt --data test.h5
run_tool 1 didicm-train --model didirn18 --data missing.h5 --output run-x
expect_contains "$WORK/err" "missing.h5: file not found; check the path"
expect_no_file run-x/last.h5
run_tool 2 didicm-train --model resnet18 --objective didicm --data train.h5 --output run-x
run_tool 2 didicm-train --model didirn18 --data train.h5 --output run-x --opt adam
run_tool 0 didicm-sample --help
run_tool 0 didicm-sample --version

finish
