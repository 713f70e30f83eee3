#!/bin/bash
# Resume equivalence and interruption: 8 steps straight equal 4 steps, a stop,
# and 4 more steps after --resume (one thread, CPU: bit for bit). This is true
# with the full command and with the short form `--resume CKPT`, from mid-epoch
# and from the end of an epoch, and for summary.csv too. SIGINT and SIGTERM
# leave a valid last.h5, print the JSON summary and exit with 130 and 143.
source "$(dirname "$0")/lib.sh"
# Job control: without it, bash starts background jobs with SIGINT ignored,
# and didicm-train keeps a signal ignored that it was started with.
set -m

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

# The short form restores every setting from the checkpoint; --threads is no
# training setting, so it is given again.
run_tool 0 didicm-train --epochs 2 --output short --stop-after-steps 4 "${common[@]}"
run_tool 0 didicm-train --resume short/last.h5 --stop-after-steps 8 --threads 1 -q
expect_equal "$(json_field "$WORK/out" steps)" 8 "steps after resuming with --resume only"
expect_equal "$(json_field "$WORK/out" last)" short/last.h5 "run folder of --resume only"

# A stop after the epoch's last step: the resumed run records that epoch.
run_tool 0 didicm-train "${common[@]}" --epochs 2 --output boundary --stop-after-steps 6
run_tool 0 didicm-train --resume boundary/last.h5 --stop-after-steps 8 --threads 1 -q

# Compares step losses, running means, summary.csv (without the timing
# columns) and every stored tensor of two runs.
same_runs() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import csv, json, sys, h5py, numpy as np
def steps(run, key):
    return [json.loads(l)[key] for l in open(f"{run}/metrics.jsonl") if '"kind":"step"' in l]
def summary(run):
    rows = list(csv.DictReader(open(f"{run}/summary.csv")))
    return [{k: v for k, v in row.items() if k not in ("seconds", "images_per_second")} for row in rows]
for key in ("loss", "mean_loss"):
    a, b = steps(sys.argv[1], key), steps(sys.argv[2], key)
    assert a == b, (key, a, b)
sa, sb = summary(sys.argv[1]), summary(sys.argv[2])
assert len(sa) == 1, sa
assert sa == sb, (sa, sb)
fa, fb = h5py.File(f"{sys.argv[1]}/last.h5"), h5py.File(f"{sys.argv[2]}/last.h5")
names = []
fa["model"].visit(lambda n: names.append(n) if isinstance(fa["model"][n], h5py.Dataset) else None)
assert len(names) > 100
for n in names:
    assert np.array_equal(fa["model"][n][()], fb["model"][n][()]), n
for group in ("optimizer",):
    fa[group].visit(lambda n: None if not isinstance(fa[group][n], h5py.Dataset)
                    else np.testing.assert_array_equal(fa[group][n][()], fb[group][n][()], err_msg=n))
print(f"{len(a)} losses, {len(sa)} summary rows and {len(names)} tensors identical", file=sys.stderr)
PY
}
for run in resumed short boundary; do
  same_runs straight $run && pass || fail "run $run differs from the straight run"
done

# wait_for COMMAND...: polls COMMAND every 0.1 s, for at most 60 s.
wait_for() {
  for _ in $(seq 1 600); do
    "$@" && return
    sleep 0.1
  done
}

# stop_run SIGNAL: sends SIGNAL to the run $pid and sets stop_status to its
# exit status. It runs in this shell, because only the parent can wait.
stop_run() {
  kill -"$1" "$pid"
  stop_status=0
  wait "$pid" || stop_status=$?
}

# SIGINT: the current step finishes, last.h5 is written, the exit status is 130.
didicm-train "${common[@]}" --epochs 1000 --output interrupted >int.out 2>int.err &
pid=$!
wait_for test -s interrupted/metrics.jsonl
stop_run INT
expect_equal "$stop_status" 130 "exit status after SIGINT"
expect_equal "$(json_field int.out stopped)" True "stopped flag after SIGINT"
expect_equal "$(json_field int.out last)" interrupted/last.h5 "checkpoint named after SIGINT"
expect_file interrupted/last.h5
run_tool 0 /usr/bin/python3 -c '
import h5py, sys
f = h5py.File("interrupted/last.h5")
assert f.attrs["format"] in (b"didicm-checkpoint", "didicm-checkpoint")
assert int(f.attrs["step"]) >= 1
'
ls interrupted | grep -q tmp && fail "temporary file left behind" || pass

# SIGTERM: the same, with exit status 143, continuing the interrupted run.
didicm-train --resume interrupted/last.h5 --threads 1 -q >term.out 2>term.err &
pid=$!
lines=$(wc -l <interrupted/metrics.jsonl)
more_lines() { [ "$(wc -l <interrupted/metrics.jsonl)" -gt "$lines" ]; }
wait_for more_lines
stop_run TERM
expect_equal "$stop_status" 143 "exit status after SIGTERM"
expect_equal "$(json_field term.out stopped)" True "stopped flag after SIGTERM"

finish
