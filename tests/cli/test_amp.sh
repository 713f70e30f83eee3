#!/bin/bash
# bfloat16 autocast (--amp) in training, sampling and sweeps on a small real
# Fashion-MNIST subset: the run learns, the files record the precision, and
# --amp posteriors stay close to float32 posteriors of the same checkpoint.
source "$(dirname "$0")/lib.sh"

FMNIST=/usr/share/datasets/fashion-mnist
cd "$WORK"

run_tool 0 didicm-prep "$FMNIST" --split train --max-per-class 200 -o train.h5
run_tool 0 didicm-prep "$FMNIST" --split t10k --max-per-class 50 -o test.h5

common=(-b 50 --lr 4e-3 --warmup-epochs 0.5 --width 0.25 --threads 2 -j 1 --amp
        --mean 0.286 0.286 0.286 --std 0.353 0.353 0.353 --data train.h5 --val test.h5 -q)

run_tool 0 didicm-train --model didirn18 --epochs 3 --output run-didicm "${common[@]}"
cp "$WORK/out" didicm-summary.json
/usr/bin/python3 - run-didicm/config.json didicm-summary.json <<'PY' || fail "didicm --amp run"
import json, sys
config = json.load(open(sys.argv[1]))
assert config["precision"] == "bfloat16", config["precision"]
top1 = json.loads(open(sys.argv[2]).readline())["val_top1"]
print(f"didicm --amp: validation top-1 {top1:.1f}%", file=sys.stderr)
assert top1 > 30, top1
PY
pass

run_tool 0 didicm-train --model resnet18 --epochs 1 --output run-ce "${common[@]}"
expect_equal "$(json_field "$WORK/out" objective)" ce "resnet objective"

ckpt=run-didicm/last.h5
run_tool 0 didicm-sample --checkpoint $ckpt --data test.h5 --steps 2 -o cp2.h5
run_tool 0 didicm-sample --checkpoint $ckpt --data test.h5 --steps 2 --amp -o cp2-amp.h5
run_tool 0 didicm-sample --checkpoint $ckpt --data test.h5 --sampler cl --steps 2 --samples 4 \
  --limit 50 --amp -o cl-amp.h5
run_tool 0 didicm-sample --checkpoint run-ce/last.h5 --data test.h5 -o softmax.h5
run_tool 0 didicm-sample --checkpoint run-ce/last.h5 --data test.h5 --amp -o softmax-amp.h5

# bfloat16 keeps 8 significant bits, so probabilities move by about 1e-3 on
# average. The predicted class changes only where two classes nearly tie.
/usr/bin/python3 - <<'PY' || fail "--amp posteriors against float32"
import h5py, numpy as np
def text(value):
    return value.decode() if isinstance(value, bytes) else value
for exact_name, mixed_name in [("cp2.h5", "cp2-amp.h5"), ("softmax.h5", "softmax-amp.h5")]:
    exact, mixed = h5py.File(exact_name), h5py.File(mixed_name)
    assert text(exact.attrs["precision"]) == "float32"
    assert text(mixed.attrs["precision"]) == "bfloat16"
    p, q = exact["probs"][:], mixed["probs"][:]
    assert np.allclose(q.sum(1), 1, atol=1e-4)
    mean_difference = np.abs(p - q).mean()
    agreement = (p.argmax(1) == q.argmax(1)).mean()
    print(f"{mixed_name}: mean |difference| {mean_difference:.2e}, same argmax {agreement:.3f}")
    assert mean_difference < 1e-2, mean_difference
    assert agreement > 0.9, agreement
cl = h5py.File("cl-amp.h5")
assert cl["probs"].shape == (50, 10)
PY
pass

# didicm-ablate --amp: the files record bfloat16, and a float32 sweep in the
# same folder samples them again because the precision differs.
sweep=(--checkpoint $ckpt --data test.h5 --output-dir sweep --sampler cp --select argmin
       --steps 1,2 --limit 40 --format tsv)
run_tool 0 didicm-ablate "${sweep[@]}" --amp
/usr/bin/python3 - <<'PY' || fail "ablate --amp precision"
import h5py
for name in ["sweep/cp-argmin-s1.h5", "sweep/cp-argmin-s2.h5"]:
    precision = h5py.File(name).attrs["precision"]
    assert (precision.decode() if isinstance(precision, bytes) else precision) == "bfloat16", name
PY
pass
run_tool 0 didicm-ablate "${sweep[@]}" --amp
expect_contains "$WORK/err" "2 points, 2 complete"
run_tool 0 didicm-ablate "${sweep[@]}"
expect_contains "$WORK/err" "recomputing: precision bfloat16 instead of float32"
expect_contains "$WORK/err" "2 points, 0 complete"

finish
