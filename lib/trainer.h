#pragma once

// The training loop of didicm-train: DiDiCM score-entropy training of DiDiRN,
// or cross-entropy training of a baseline, over dataset files.
//
// A run folder contains config.json (the resolved configuration), last.h5 (every
// epoch, every --checkpoint-every minutes and on SIGINT or SIGTERM), best.h5
// (best validation top-1), summary.csv (one row per epoch) and metrics.jsonl
// (one JSON object per logged step, epoch and validation).
//
// Exact resume: everything a step depends on is a function of state stored in
// last.h5. The learning rate is a function of the step, the batch order and
// augmentation of (seed, epoch, batch index), the diffusion draws of (seed,
// step); the weights, BatchNorm statistics and optimizer moments are stored.

#include "train_command.h"

namespace didicm {

// Trains as `options` request and returns the exit status: 0 when done (or
// stopped by --stop-after-steps), 130 or 143 after SIGINT or SIGTERM. Throws
// Error for unusable inputs before any step runs, and for a non-finite loss.
int train(const TrainOptions& options);

}  // namespace didicm
