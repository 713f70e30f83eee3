#!/bin/bash
# Resume equivalence and interruption: 8 steps straight equal 4 steps, a stop,
# and 4 more steps after --resume (one thread, CPU: bit for bit). SIGINT
# leaves a valid last.h5 and exit status 130.
source "$(dirname "$0")/lib.sh"

cd "$WORK"
run_tool 0 didicm-prep /usr/share/datasets/fashion-mnist --split t10k --max-per-class 30 -o small.h5

# 300 images in batches of 50: 6 steps per epoch, so step 4 stops mid-epoch.
common=(--model didirn18 --width 0.125 -b 50 --threads 1 -j 2 --data small.h5
        --mean 0.286 0.286 0.286 --std 0.353 0.353 0.353 -q)

run_tool 0 didicm-train "${common[@]}" --epochs 2 --output straight --stop-after-steps 8
run_tool 0 didicm-train "${common[@]}" --epochs 2 --output resumed --stop-after-steps 4
expect_equal "$(json_field "$WORK/out" stopped)" True "stopped flag"
expect_equal "$(json_field "$WORK/out" steps)" 4 "steps before the stop"
run_tool 0 didicm-train "${common[@]}" --epochs 2 --output resumed --resume resumed/last.h5 --stop-after-steps 8
expect_equal "$(json_field "$WORK/out" steps)" 8 "steps after resuming"

/usr/bin/python3 - straight resumed <<'PY' || fail "resumed run differs from the straight run"
import json, sys, h5py, numpy as np
def losses(run):
    return [json.loads(l)["loss"] for l in open(f"{run}/metrics.jsonl") if '"kind":"step"' in l]
a, b = losses(sys.argv[1]), losses(sys.argv[2])
assert a == b, (a, b)
fa, fb = h5py.File(f"{sys.argv[1]}/last.h5"), h5py.File(f"{sys.argv[2]}/last.h5")
names = []
fa["model"].visit(lambda n: names.append(n) if isinstance(fa["model"][n], h5py.Dataset) else None)
assert len(names) > 100
for n in names:
    assert np.array_equal(fa["model"][n][()], fb["model"][n][()]), n
for group in ("optimizer",):
    fa[group].visit(lambda n: None if not isinstance(fa[group][n], h5py.Dataset)
                    else np.testing.assert_array_equal(fa[group][n][()], fb[group][n][()], err_msg=n))
print(f"{len(a)} losses and {len(names)} tensors identical", file=sys.stderr)
PY
pass

# SIGINT: the current step finishes, last.h5 is written, the exit status is 130.
didicm-train "${common[@]}" --epochs 1000 --output interrupted >int.out 2>int.err &
pid=$!
for _ in $(seq 1 600); do
  [ -s interrupted/metrics.jsonl ] && break
  sleep 0.1
done
kill -INT $pid
status=0
wait $pid || status=$?
expect_equal "$status" 130 "exit status after SIGINT"
expect_file interrupted/last.h5
run_tool 0 /usr/bin/python3 -c '
import h5py, sys
f = h5py.File("interrupted/last.h5")
assert f.attrs["format"] in (b"didicm-checkpoint", "didicm-checkpoint")
assert int(f.attrs["step"]) >= 1
'
ls interrupted | grep -q tmp && fail "temporary file left behind" || pass

finish
