#!/bin/bash
# didicm-train checks its datasets. A one-class dataset is bad input (exit 1).
# An input size above a dataset's stored size logs a warning naming the file
# and both sizes. An input size below the network's stride is a usage error.
# Without --val no best.h5 is written.
source "$(dirname "$0")/lib.sh"

cd "$WORK"
fm=/usr/share/datasets/fashion-mnist
run_tool 0 didicm-prep $fm --split t10k --max-per-class 10 --classes 2 -o two.h5
run_tool 0 didicm-prep $fm --split t10k --max-per-class 10 --classes 1 -o one.h5
run_tool 0 didicm-prep $fm --split t10k --max-per-class 5 --classes 2 --size 16 -o val16.h5

run_tool 1 didicm-train --model didirn18 --data one.h5 --output o1
expect_contains "$WORK/err" "one.h5: contains 1 class; training needs at least 2 classes"
expect_no_file o1

run_tool 2 didicm-train --model didirn18 --data two.h5 --input-size 2 --output o2
expect_contains "$WORK/err" "--input-size 2: too small for the compact stem"
expect_no_file o2

# 28-pixel training images and 16-pixel validation images at input size 32.
run_tool 0 didicm-train --model didirn18 --width 0.125 -b 10 --threads 1 --data two.h5 \
  --val val16.h5 --input-size 32 --epochs 1 --stop-after-steps 1 --output up
expect_contains "$WORK/err" "two.h5: stores 28-pixel images, but the input size is 32"
expect_contains "$WORK/err" "val16.h5: stores 16-pixel images, but the input size is 32"

# Only the validation file is smaller than the stored training size.
run_tool 0 didicm-train --model didirn18 --width 0.125 -b 10 --threads 1 --data two.h5 \
  --val val16.h5 --epochs 1 --stop-after-steps 1 --output val-only
expect_not_contains "$WORK/err" "two.h5: stores"
expect_contains "$WORK/err" "val16.h5: stores 16-pixel images, but the input size is 28"

# No --val: no best.h5, and the summary's best is null.
run_tool 0 didicm-train --model didirn18 --width 0.125 -b 10 --threads 1 --data two.h5 \
  --epochs 1 --output noval -q
expect_equal "$(json_field "$WORK/out" best)" None "best without --val"
expect_no_file noval/best.h5
expect_file noval/last.h5

finish
