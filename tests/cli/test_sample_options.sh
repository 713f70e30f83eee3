#!/bin/bash
# didicm-sample option checks on tiny one-epoch models: errors that must come
# before any sampling, warnings for options a sampler does not use, and a
# warning for images stored smaller than the network's input.
source "$(dirname "$0")/lib.sh"

FMNIST=/usr/share/datasets/fashion-mnist
cd "$WORK"

run_tool 0 didicm-prep "$FMNIST" --split train --max-per-class 20 -o train.h5
run_tool 0 didicm-prep "$FMNIST" --split t10k --max-per-class 5 -o test.h5
common=(--epochs 1 -b 50 --warmup-epochs 0 --width 0.25 --threads 2 -j 1 --data train.h5 -q)
run_tool 0 didicm-train --model didirn18 --output run-didicm "${common[@]}"
run_tool 0 didicm-train --model resnet18 --output run-ce "${common[@]}"
ckpt=run-didicm/last.h5

# A top-k larger than the class count is a usage error, before sampling.
run_tool 2 didicm-sample --checkpoint $ckpt --data test.h5 --trajectory-topk 30 -o topk.h5
expect_contains "$WORK/err" "--trajectory-topk 30: the checkpoint has 10 classes; give at most 10"
expect_not_contains "$WORK/err" "sampling"
expect_no_file topk.h5

# Integer options are decimal: a zero-padded 010 is ten, not octal eight.
run_tool 0 didicm-sample --checkpoint $ckpt --data test.h5 --steps 01 --limit 010 -o padded.h5
expect_equal "$(json_field "$WORK/out" images)" 10 "images with --limit 010"
run_tool 2 didicm-sample --checkpoint $ckpt --data test.h5 --limit 0x10 -o hex.h5
expect_contains "$WORK/err" "--limit: '0x10' is not a whole number"

# A whole trajectory and a top-k one exclude each other.
run_tool 2 didicm-sample --checkpoint $ckpt --data test.h5 --trajectory --trajectory-topk 3 -o both.h5
expect_contains "$WORK/err" "--trajectory and --trajectory-topk both choose the trajectory's form"

# A posterior file is binary: with -o - and stdout on a terminal, the run
# stops before sampling. script(1) gives the command a terminal.
status=0
script -qec "didicm-sample --checkpoint $ckpt --data test.h5 -o -" /dev/null >tty.log 2>&1 ||
  status=$?
expect_equal "$status" 2 "exit status with stdout on a terminal"
expect_contains tty.log "<stdout>: is a terminal"
expect_not_contains tty.log "sampling"

# Options that the chosen sampler does not use are reported and ignored.
run_tool 0 didicm-sample --checkpoint $ckpt --data test.h5 --sampler cl --steps 1 --samples 2 \
  --select argmax --limit 4 -o cl.h5
expect_contains "$WORK/err" "--select argmax: only the cp sampler uses it; ignored"
run_tool 0 didicm-sample --checkpoint $ckpt --data test.h5 --steps 1 --samples 3 --limit 4 \
  -o cp.h5
expect_contains "$WORK/err" "--samples 3: only the cl sampler uses it; ignored"
run_tool 0 didicm-sample --checkpoint run-ce/last.h5 --data test.h5 --steps 4 --trajectory \
  --limit 4 -o standard.h5
expect_contains "$WORK/err" "--steps 4: the standard sampler takes one softmax and no steps"
expect_contains "$WORK/err" "--trajectory: the standard sampler has no steps"
expect_contains "$WORK/err" "standard sampler (softmax), NFE 1 per image"
expect_equal "$(json_field "$WORK/out" steps)" None "standard steps"
expect_equal "$(json_field "$WORK/out" select)" None "standard select"

# Defaults draw no warning.
run_tool 0 didicm-sample --checkpoint $ckpt --data test.h5 --sampler cl --limit 4 -o cl-default.h5
expect_not_contains "$WORK/err" "ignored"
expect_equal "$(json_field "$WORK/out" samples)" 16 "default CL samples"
expect_equal "$(json_field "$WORK/out" steps)" 2 "default CL steps"

# Images stored at 20x20 for a 28-pixel network are upsampled, with a warning.
run_tool 0 didicm-prep "$FMNIST" --split t10k --max-per-class 2 --size 20 -o small.h5
run_tool 0 didicm-sample --checkpoint $ckpt --data small.h5 --steps 1 -o small-cp.h5
expect_contains "$WORK/err" \
  "small.h5: images are stored at 20x20, smaller than the checkpoint's input size 28"

# The posterior records the dataset's absolute path, so --examples finds the
# images from another folder although the path was typed relative.
mkdir -p elsewhere/deep
run_tool 0 didicm-sample --checkpoint $ckpt --data test.h5 --steps 1 -o elsewhere/deep/cp.h5
(cd elsewhere/deep && didicm-eval cp.h5 --examples examples.svg >/dev/null 2>"$WORK/err") ||
  fail "eval --examples from another folder"
expect_not_contains "$WORK/err" "without images"
expect_contains elsewhere/deep/examples.svg "data:image/png;base64"

# A file of the same name but other content beside the posterior is passed
# over for the recorded absolute path. With the right file gone, eval warns.
run_tool 0 didicm-prep "$FMNIST" --split t10k --max-per-class 5 --size 20 -o elsewhere/deep/test.h5
(cd elsewhere/deep && didicm-eval cp.h5 --examples examples2.svg >/dev/null 2>"$WORK/err") ||
  fail "eval --examples past a wrong file"
expect_not_contains "$WORK/err" "without images"
mv test.h5 moved-test.h5
(cd elsewhere/deep && didicm-eval cp.h5 --examples examples3.svg >/dev/null 2>"$WORK/err") ||
  fail "eval --examples without the right file"
expect_contains "$WORK/err" "holds other images than the posterior was sampled from"
mv moved-test.h5 test.h5

finish
