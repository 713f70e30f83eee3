#!/bin/bash
# didicm-train --dry-run: builds a model, prints one JSON line, and rejects bad options.
source "$(dirname "$0")/lib.sh"

run_tool 0 didicm-train --dry-run --model didirn18 --num-classes 10 --input-size 32 --device cpu
expect_equal "$(wc -l <"$WORK/out")" 1 "stdout lines"
expect_equal "$(json_field "$WORK/out" model)" didirn18 model
expect_equal "$(json_field "$WORK/out" params)" 11476170 params
expect_equal "$(json_field "$WORK/out" buffers)" 9620 buffers
expect_equal "$(json_field "$WORK/out" output_shape)" "[1, 10]" output_shape
expect_equal "$(json_field "$WORK/out" stem)" compact stem

run_tool 0 didicm-train --dry-run --model resnet18 --num-classes 1000 --input-size 64 --device cpu
expect_equal "$(json_field "$WORK/out" params)" 11689512 "resnet18 params"
expect_equal "$(json_field "$WORK/out" stem)" imagenet "resnet18 stem"
expect_equal "$(json_field "$WORK/out" output_shape)" "[1, 1000]" "resnet18 output_shape"

run_tool 0 didicm-train --dry-run --model didirn50 --num-classes 7 --input-size 24 --width 0.25 \
  --embed-dim 32 --stem imagenet --device cpu
expect_equal "$(json_field "$WORK/out" embed_dim)" 32 embed_dim
expect_equal "$(json_field "$WORK/out" width)" 0.25 width
expect_equal "$(json_field "$WORK/out" output_shape)" "[1, 7]" "didirn50 output_shape"

run_tool 2 didicm-train --dry-run --model vgg16 --num-classes 10
expect_contains "$WORK/err" "valid models are didirn18"
expect_equal "$(wc -c <"$WORK/out")" 0 "stdout after an error"

run_tool 2 didicm-train --model didirn18 --num-classes 10
expect_contains "$WORK/err" "--data"

run_tool 2 didicm-train --dry-run --model didirn18 --num-classes 10 --stem tiny
expect_contains "$WORK/err" "compact, imagenet"

run_tool 2 didicm-train --dry-run --model didirn18 --num-classes 1
expect_contains "$WORK/err" "number of classes 1"

run_tool 2 didicm-train --dry-run --model didirn18 --num-classes 10 --device tpu
expect_contains "$WORK/err" "valid devices are auto, cpu, cuda, cuda:N"

run_tool 1 didicm-train --dry-run --model didirn18 --num-classes 10 --device cuda:99

run_tool 2 didicm-train --dry-run --num-classes 10
expect_contains "$WORK/err" "--model is missing"

# The input must fit the stem's first convolution: 3x3 compact, 7x7 imagenet.
run_tool 2 didicm-train --dry-run --model didirn18 --num-classes 10 --input-size 1
expect_contains "$WORK/err" "--input-size 1: too small for the compact stem"
run_tool 0 didicm-train --dry-run --model didirn18 --num-classes 10 --input-size 3 --width 0.25
expect_equal "$(json_field "$WORK/out" output_shape)" "[1, 10]" "output_shape at input size 3"
run_tool 2 didicm-train --dry-run --model resnet18 --num-classes 10 --input-size 6
expect_contains "$WORK/err" "give at least 7 pixels"
run_tool 0 didicm-train --dry-run --model resnet18 --num-classes 10 --input-size 7 --width 0.25

run_tool 0 didicm-train --help
expect_contains "$WORK/out" "--embed-dim"
run_tool 0 didicm-train --version
expect_contains "$WORK/out" "didicm-train (didicm)"

finish
