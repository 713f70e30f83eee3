#!/bin/bash
# --recipe strong: a few steps with RandAugment, repeated augmentation, Mixup
# and CutMix on a small Fashion-MNIST subset; the resolved values land in
# config.json, explicit flags override the recipe, and a resumed run equals a
# straight one bit for bit (one thread, CPU).
source "$(dirname "$0")/lib.sh"

cd "$WORK"
run_tool 0 didicm-prep /usr/share/datasets/fashion-mnist --split t10k --max-per-class 30 -o small.h5

# 300 images: repeated augmentation keeps floor(300 / 256) * 256 = 256
# positions, 16 steps of 16 per epoch.
base=(--width 0.125 -b 16 --epochs 1 --threads 1 -j 2 --data small.h5
      --mean 0.286 0.286 0.286 --std 0.353 0.353 0.353 -q)
common=(--recipe strong --model didirn18 "${base[@]}")

run_tool 0 didicm-train "${common[@]}" --output smoke --stop-after-steps 3
expect_equal "$(json_field "$WORK/out" steps)" 3 "steps of the smoke run"
expect_file smoke/last.h5
config=smoke/config.json
expect_equal "$(json_field $config recipe)" strong recipe
expect_equal "$(json_field $config aa)" rand-m7-mstd0.5-inc1 aa
expect_equal "$(json_field $config aug_repeats)" 3 aug_repeats
expect_equal "$(json_field $config mixup)" 0.2 mixup
expect_equal "$(json_field $config cutmix)" 1 cutmix
expect_equal "$(json_field $config mixup_switch_prob)" 0.5 mixup_switch_prob
expect_equal "$(json_field $config smoothing)" 0.1 smoothing
expect_equal "$(json_field $config color_jitter)" 0 color_jitter
expect_equal "$(json_field $config lr)" 0.0035 "lr (no ratio scaling for DiDiCM)"
expect_equal "$(json_field $config batch_size)" 16 "batch size given on the command line"
expect_equal "$(json_field $config steps_per_epoch)" 16 "steps per epoch with 3 repeats"

# The baseline classifier: 5e-3 scaled by sqrt(1 / ratio) (ratio 1 here).
run_tool 0 didicm-train --recipe strong --model resnet18 "${base[@]}" --output smoke-ce --stop-after-steps 2
expect_equal "$(json_field smoke-ce/config.json lr)" 0.005 "classifier lr"
expect_equal "$(json_field smoke-ce/config.json lr_ratio_scaling)" sqrt "classifier lr scaling"

# Resume: 6 steps straight equal 3 steps, a stop and 3 more.
run_tool 0 didicm-train "${common[@]}" --output straight --stop-after-steps 6
run_tool 0 didicm-train "${common[@]}" --output resumed --stop-after-steps 3
run_tool 0 didicm-train "${common[@]}" --output resumed --resume resumed/last.h5 --stop-after-steps 6
expect_equal "$(json_field "$WORK/out" steps)" 6 "steps after resuming"
/usr/bin/python3 - straight resumed <<'PY' || fail "resumed strong run differs from the straight run"
import sys, h5py, numpy as np
fa, fb = h5py.File(f"{sys.argv[1]}/last.h5"), h5py.File(f"{sys.argv[2]}/last.h5")
names = []
fa["model"].visit(lambda n: names.append(n) if isinstance(fa["model"][n], h5py.Dataset) else None)
assert len(names) > 100
for n in names:
    assert np.array_equal(fa["model"][n][()], fb["model"][n][()]), n
PY
pass

# Bad augmentation flags are usage errors.
run_tool 2 didicm-train "${common[@]}" --output bad --aa rand-m7-mstd0.5
expect_contains "$WORK/err" "--aa rand-m7-mstd0.5"
run_tool 2 didicm-train --recipe medium --model didirn18 "${base[@]}" --output bad
expect_contains "$WORK/err" "--recipe medium"
run_tool 2 didicm-train "${common[@]}" --output bad --aug-repeats 0
expect_contains "$WORK/err" "--aug-repeats"
expect_no_file bad/last.h5

finish
