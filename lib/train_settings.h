#pragma once

// The settings of a training run as its checkpoints store them, and the rules
// that turn `didicm-train --resume CKPT` into the options of the interrupted
// run. A setting is an option's long name (without dashes) and its value as
// text that reads back to the same value (doubles in shortest round-trip form).

#include "train_command.h"

#include <map>
#include <optional>
#include <string>

namespace didicm {

using TrainSettings = std::map<std::string, std::string>;

// The settings a resumed run restores, from resolved `options` and the
// built model's resolved configuration (stem, embedding width and input size
// filled in). The data and val paths are stored as absolute paths. Not
// stored: --output, --resume, --force, --stop-after-steps, --threads and the
// logging flags, which belong to one invocation.
TrainSettings train_settings(const TrainOptions& options, const ModelConfig& model);

// True for the options a resumed run may change: --data (to a file with the
// same content), --val, --val-every, --val-steps, -j/--workers, --device,
// --checkpoint-every and --epochs.
bool may_change_on_resume(const std::string& name);

// Returns `requested` with every stored setting that the command line did not
// give (the names in `requested.given`). Throws UsageError naming the option,
// the stored and the given value when a given option differs from its stored
// value and may not change, and Error when a stored value does not parse.
// Logs the new learning-rate span when --epochs changes.
TrainOptions apply_train_settings(const TrainOptions& requested, const TrainSettings& stored,
                                  const std::string& checkpoint);

// The options of `didicm-train --resume`: --output defaults to the
// checkpoint's folder, and the settings stored in the checkpoint fill the
// options that were not given. For a checkpoint written before didicm-train
// stored its settings, logs one warning and returns the request unchanged
// apart from --output.
TrainOptions restore_resumed_options(const TrainOptions& requested);

}  // namespace didicm
