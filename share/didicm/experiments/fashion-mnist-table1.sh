#!/bin/bash
# The design of the DiDiCM paper's Table 1 in miniature, on Fashion-MNIST:
# input resolution 28, 14, 7 (lower is more corrupted) x class-balanced
# training subsets of ratio 0.25, 0.5, 1.0 x {ResNet-18 with cross-entropy,
# DiDiRN-18 with DiDiCM}. Both get the Weak Aug transforms (random resized
# crop, flip, color jitter 0.4) and the same short LAMB schedule, epochs, width
# and stem. The schedule is not --recipe weak, because its 5 warmup epochs and
# batch 1024 suit runs of hundreds of epochs. Both use the compact stem (conv 3x3 stride 1): the ImageNet stem would
# shrink a 7x7 input to 2x2 before the first stage, and the comparison would
# measure the stems instead of the objectives.
# Ends with one pivot table: rows = model, sampler and steps (softmax, CP with
# 2 and 8 steps), columns = resolution x train ratio, cells = top-1 / top-5.
#
#   bash share/didicm/experiments/fashion-mnist-table1.sh [BUILD_DIR]
#
# Settings come from the environment, with these defaults:
#   STUDY_EPOCHS=6  STUDY_WIDTH=0.5  STUDY_DIR=study-output  STUDY_DEVICE=auto
#   STUDY_THREADS=all cores  STUDY_RESOLUTIONS="28 14 7"  STUDY_RATIOS="0.25 0.5 1.0"
#   STUDY_MAX_PER_CLASS=0 (all images; a small number makes a smoke test)
#   FASHION_MNIST_DIR=/usr/share/datasets/fashion-mnist
# Finished runs and posterior files are kept, so a second call resumes where
# the first stopped.
set -euo pipefail

BUILD_DIR=$(cd "${1:-build}" && pwd)
export PATH="$BUILD_DIR/bin:$PATH"
DATA=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
OUT=${STUDY_DIR:-study-output}
EPOCHS=${STUDY_EPOCHS:-6}
WIDTH=${STUDY_WIDTH:-0.5}
THREADS=${STUDY_THREADS:-$(nproc)}
DEVICE=${STUDY_DEVICE:-auto}
RESOLUTIONS=${STUDY_RESOLUTIONS:-"28 14 7"}
RATIOS=${STUDY_RATIOS:-"0.25 0.5 1.0"}
# For a smoke test: keep at most this many images per class (0: all).
MAX_PER_CLASS=${STUDY_MAX_PER_CLASS:-0}

mkdir -p "$OUT"
cd "$OUT"
start=$(date +%s)

for size in $RESOLUTIONS; do
  # The test set at the same resolution: all 10000 images, unless
  # STUDY_MAX_PER_CLASS limits it.
  [ -f "test-$size.h5" ] || didicm-prep "$DATA" --split t10k --size "$size" --crop-pct 1 \
    --max-per-class "$MAX_PER_CLASS" -o "test-$size.h5"
  for ratio in $RATIOS; do
    train="train-$size-$ratio.h5"
    [ -f "$train" ] || didicm-prep "$DATA" --split train --size "$size" --crop-pct 1 \
      --ratio "$ratio" --seed 0 --max-per-class "$MAX_PER_CLASS" -o "$train"
    for model in resnet18 didirn18; do
      run="$model-$size-$ratio"
      if [ ! -f "$run/done" ]; then
        didicm-train --model "$model" --data "$train" --val "test-$size.h5" --output "$run" \
          --epochs "$EPOCHS" -b 128 --lr 4e-3 --warmup-epochs 1 --width "$WIDTH" --stem compact \
          --mean 0.286 0.286 0.286 --std 0.353 0.353 0.353 --threads "$THREADS" \
          --device "$DEVICE" --val-every "$EPOCHS" --force >"$run.json"
        touch "$run/done"
      fi
      if [ "$model" = resnet18 ]; then
        [ -f "$run-softmax.h5" ] || didicm-sample --checkpoint "$run/last.h5" --data "test-$size.h5" \
          --device "$DEVICE" -o "$run-softmax.h5"
      else
        # CP with 2 steps is the paper's efficient setting; its tables use 8.
        for steps in 2 8; do
          [ -f "$run-cp$steps.h5" ] || didicm-sample --checkpoint "$run/last.h5" \
            --data "test-$size.h5" --steps "$steps" --device "$DEVICE" -o "$run-cp$steps.h5"
        done
      fi
    done
  done
done

didicm-eval ./*-softmax.h5 ./*-cp2.h5 ./*-cp8.h5 --pivot model,sampler,steps \
  --columns resolution,train_ratio --baseline model=resnet18 --format markdown | tee table1.md
echo "total time: $(( $(date +%s) - start )) s" >&2
