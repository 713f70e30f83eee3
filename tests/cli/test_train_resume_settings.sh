#!/bin/bash
# didicm-train --resume keeps the run's settings: it restores them from the
# checkpoint, rejects a changed option (exit 2) unless the option may change,
# accepts another path to the same dataset and rejects another dataset. A
# checkpoint without stored settings resumes with the full command and one
# warning. Failed resumes create no run folder; a complete run is rejected.
source "$(dirname "$0")/lib.sh"

cd "$WORK"
fm=/usr/share/datasets/fashion-mnist
run_tool 0 didicm-prep $fm --split t10k --max-per-class 10 -o small.h5
run_tool 0 didicm-prep $fm --split t10k --max-per-class 5 -o other.h5
cp small.h5 copy.h5

# 100 images in batches of 25: 4 steps per epoch.
run_tool 0 didicm-train --model didirn18 --width 0.125 -b 25 --threads 1 -j 1 --data small.h5 \
  --mean 0.286 0.286 0.286 --std 0.353 0.353 0.353 --lr 0.001 --seed 7 --epochs 2 \
  --output run --stop-after-steps 1 -q
expect_equal "$(json_field run/config.json device)" cpu "device used"
expect_equal "$(json_field run/config.json requested_device)" auto "device requested"

# A changed setting: exit 2, naming the option and both values; no folder.
run_tool 2 didicm-train --resume run/last.h5 --lr 0.002 --output o1
expect_contains "$WORK/err" "--lr 0.002: run/last.h5 stores --lr 0.001"
expect_contains "$WORK/err" "a resumed run keeps its settings"
expect_no_file o1
run_tool 2 didicm-train --resume run/last.h5 --mean 0.5 0.5 0.5
expect_contains "$WORK/err" "stores --mean 0.286 0.286 0.286"
run_tool 2 didicm-train --resume run/last.h5 --amp
expect_contains "$WORK/err" "--amp true: run/last.h5 stores --amp false"
run_tool 2 didicm-train --resume run/last.h5 --model resnet18
expect_contains "$WORK/err" "stores --model didirn18"

# Another dataset: exit 2 naming both files; no folder.
run_tool 2 didicm-train --resume run/last.h5 --data other.h5 --output o2
expect_contains "$WORK/err" "--data other.h5: its content differs from $(pwd -P)/small.h5"
expect_no_file o2

# Given values equal to the stored ones, and a copy of the dataset, are accepted.
run_tool 0 didicm-train --resume run/last.h5 --data copy.h5 --lr 0.001 --seed 7 --model didirn18 \
  --threads 1 --stop-after-steps 2 -q
expect_equal "$(json_field "$WORK/out" steps)" 2 "steps after resuming on a copy"
expect_equal "$(json_field run/config.json lr)" 0.001 "restored --lr"
expect_equal "$(json_field run/config.json seed)" 7 "restored --seed"
expect_equal "$(json_field run/config.json mean)" "[0.286, 0.286, 0.286]" "restored --mean"
expect_equal "$(json_field run/config.json batch_size)" 25 "restored --batch-size"

# --epochs may change, with one log line about the schedule.
run_tool 0 didicm-train --resume run/last.h5 --epochs 3 --threads 1 --stop-after-steps 3
expect_contains "$WORK/err" "the learning-rate schedule now spans 3 epochs"
expect_equal "$(json_field run/config.json epochs)" 3 "changed --epochs"

# A checkpoint from before the settings were stored: the full command
# resumes it with one warning; the short form lacks --data.
cp run/last.h5 old.h5
/usr/bin/python3 -c '
import h5py
with h5py.File("old.h5", "a") as f:
    del f["train_options"]
    del f.attrs["data_hash"]
'
run_tool 2 didicm-train --resume old.h5 --output old
expect_contains "$WORK/err" "stores no training settings"
expect_contains "$WORK/err" "--data is missing"
run_tool 0 didicm-train --model didirn18 --width 0.125 -b 25 --threads 1 -j 1 --data small.h5 \
  --mean 0.286 0.286 0.286 --std 0.353 0.353 0.353 --lr 0.001 --seed 7 --epochs 3 \
  --resume old.h5 --output old --stop-after-steps 4
expect_equal "$(grep -c "stores no training settings" "$WORK/err")" 1 "warnings for an old checkpoint"
expect_equal "$(json_field "$WORK/out" steps)" 4 "steps after resuming an old checkpoint"

# A complete run cannot continue without a larger --epochs; no folder.
run_tool 0 didicm-train --model didirn18 --width 0.125 -b 25 --threads 1 --data small.h5 \
  --epochs 1 --output done -q
run_tool 2 didicm-train --resume done/last.h5 --epochs 1 --output new
expect_contains "$WORK/err" "the run is complete (epoch 1 of --epochs 1); give a larger --epochs"
expect_no_file new

# A dataset given as the checkpoint: exit 1, no folder.
run_tool 1 didicm-train --model didirn18 --data small.h5 --output o8 --resume small.h5
expect_no_file o8

# Records logged after the checkpoint (a hard kill after the last save) are
# dropped on resume, so every step and epoch is logged once.
run_tool 0 didicm-train --model didirn18 --width 0.125 -b 25 --threads 1 -j 1 --data small.h5 \
  --epochs 2 --output logs --stop-after-steps 2 -q
cp logs/last.h5 at2.h5
run_tool 0 didicm-train --resume logs/last.h5 --threads 1 --stop-after-steps 6 -q
cp at2.h5 logs/last.h5
run_tool 0 didicm-train --resume logs/last.h5 --threads 1
expect_contains "$WORK/err" "logs/metrics.jsonl: dropped 5 records written after the checkpoint"
once() {  # once FILE: prints "ok" when no line of FILE repeats another's epoch and step
  /usr/bin/python3 - "$1" <<'PY'
import json, sys
path = sys.argv[1]
if path.endswith(".jsonl"):
    keys = [(r["kind"], r["epoch"], r["step"]) for r in map(json.loads, open(path))]
else:
    keys = [tuple(line.split(",")[:2]) for line in open(path).read().splitlines()[1:]]
print("ok" if len(keys) == len(set(keys)) else f"repeated: {keys}")
PY
}
expect_equal "$(once logs/metrics.jsonl)" ok "metrics.jsonl records after a resume"
expect_equal "$(grep -c '"kind":"step"' logs/metrics.jsonl)" 8 "step records"
expect_equal "$(once logs/summary.csv)" ok "summary.csv rows after a resume"
expect_equal "$(wc -l <logs/summary.csv)" 3 "summary.csv lines"

# Another run's folder: resuming there needs --force, which replaces its logs.
run_tool 1 didicm-train --resume at2.h5 --output logs --threads 1
expect_contains "$WORK/err" "logs: the folder holds the run in logs/last.h5"
run_tool 0 didicm-train --resume at2.h5 --output logs --force --threads 1 -q
expect_equal "$(grep -c '"kind":"step"' logs/metrics.jsonl)" 6 "step records after --force"
expect_equal "$(wc -l <logs/summary.csv)" 3 "summary.csv lines after --force"

# --stop-after-steps at or below the checkpoint's step has nothing to do.
run_tool 2 didicm-train --resume at2.h5 --output stops --stop-after-steps 2
expect_contains "$WORK/err" "--stop-after-steps 2: at2.h5 is already at step 2"

# A moved training file: the message names the stored path and the way out.
cp small.h5 moving.h5
run_tool 0 didicm-train --model didirn18 --width 0.125 -b 25 --threads 1 -j 1 --data moving.h5 \
  --val small.h5 --epochs 2 --output moved --stop-after-steps 5 -q
mv moving.h5 moved.h5
run_tool 1 didicm-train --resume moved/last.h5 --threads 1
expect_contains "$WORK/err" "moving.h5: file not found; moved/last.h5 stores it as the run's --data file"
# Another validation file restarts the best score.
run_tool 0 didicm-train --resume moved/last.h5 --data moved.h5 --val copy.h5 --threads 1
expect_contains "$WORK/err" "--val copy.h5: the run was validated on $(pwd -P)/small.h5"

finish
