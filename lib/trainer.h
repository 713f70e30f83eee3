#pragma once

// The training loop of didicm-train: DiDiCM score-entropy training of DiDiRN,
// or cross-entropy training of a baseline, over dataset files.
//
// A run folder contains config.json (the resolved configuration), last.h5 (every
// epoch, every --checkpoint-every minutes and on SIGINT or SIGTERM), best.h5
// (best validation top-1, written only with --val), summary.csv (one row per
// epoch) and metrics.jsonl (one JSON object per logged step, epoch and
// validation).
//
// Exact resume: everything a step depends on is a function of state stored in
// last.h5. The learning rate is a function of the step, the batch order and
// augmentation of (seed, epoch, batch index), the diffusion draws of (seed,
// step); the weights, BatchNorm statistics, optimizer moments and the loss
// sum of the epoch in progress are stored.

#include "train_command.h"

namespace didicm {

// Trains as `options` request, prints the JSON summary on stdout and returns
// the exit status: 0 when done (or stopped by --stop-after-steps), 130 or 143
// after SIGINT or SIGTERM in the training loop. Throws Error (or UsageError
// for a resume that conflicts with its checkpoint) before the run folder is
// created, and Error for a non-finite loss.
int train(const TrainOptions& options);

}  // namespace didicm
