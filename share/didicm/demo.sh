#!/bin/bash
# didicm demo: the whole pipeline on Fashion-MNIST, read top to bottom.
#
#   bash share/didicm/demo.sh [BUILD_DIR]
#
# It prepares a class-balanced fifth of Fashion-MNIST's training set, trains
# a small DiDiRN-18 with the DiDiCM objective and a ResNet-18 of the same width
# with cross-entropy, samples posteriors with DiDiCM-CP (2 and 8 steps),
# DiDiCM-CL (2 steps x 16 chains) and softmax, and prints the accuracy table.
# The sizes below can be changed through the environment, e.g.
# DEMO_EPOCHS=1 DEMO_TRAIN_PER_CLASS=50 for a smoke test.
set -euo pipefail

BUILD_DIR=$(cd "${1:-build}" && pwd)
export PATH="$BUILD_DIR/bin:$PATH"
OUT=${DEMO_DIR:-demo-output}
DATA=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
TRAIN_PER_CLASS=${DEMO_TRAIN_PER_CLASS:-1200}
TEST_PER_CLASS=${DEMO_TEST_PER_CLASS:-200}
EPOCHS=${DEMO_EPOCHS:-8}
WIDTH=${DEMO_WIDTH:-0.25}
THREADS=${DEMO_THREADS:-$(nproc)}

step() { printf '\n== %s\n' "$*" >&2; }

mkdir -p "$OUT"
cd "$OUT"

step "1. Prepare the datasets (IDX files of Debian's dataset-fashion-mnist -> HDF5)"
# 28x28 grayscale images are stored as RGB; --max-per-class keeps a balanced subset.
didicm-prep "$DATA" --split train --max-per-class "$TRAIN_PER_CLASS" -o train.h5 --force
didicm-prep "$DATA" --split t10k --max-per-class "$TEST_PER_CLASS" -o test.h5 --force

step "2. Train DiDiRN-18 (DiDiCM) and ResNet-18 (cross-entropy) with the same recipe"
# Fashion-MNIST statistics replace ImageNet's; LAMB with a cosine schedule as in Weak Aug.
recipe=(--epochs "$EPOCHS" -b 64 --lr 4e-3 --warmup-epochs 1 --width "$WIDTH"
        --mean 0.286 0.286 0.286 --std 0.353 0.353 0.353 --threads "$THREADS" -j 1
        --data train.h5 --val test.h5 --force)
didicm-train --model didirn18 --output didirn18 "${recipe[@]}" >didirn18.json
didicm-train --model resnet18 --output resnet18 "${recipe[@]}" >resnet18.json

step "3. Sample posteriors on the test set"
didicm-sample --checkpoint didirn18/last.h5 --data test.h5 --steps 2 -o cp2.h5 --force
didicm-sample --checkpoint didirn18/last.h5 --data test.h5 --steps 8 -o cp8.h5 --force
didicm-sample --checkpoint didirn18/last.h5 --data test.h5 --sampler cl --steps 2 --samples 16 \
  -o cl2x16.h5 --force
didicm-sample --checkpoint resnet18/last.h5 --data test.h5 -o softmax.h5 --force

step "4. A posterior streamed straight into didicm-eval (no file written)"
didicm-sample --checkpoint didirn18/last.h5 --data test.h5 --steps 2 -o - -q | didicm-eval -

step "5. The accuracy table: one row per sampler"
didicm-eval softmax.h5 cp2.h5 cp8.h5 cl2x16.h5 --format markdown | tee results.md

step "Done: datasets, run folders and posterior files are in $(pwd)"
