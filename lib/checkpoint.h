#pragma once

// Checkpoint files: one HDF5 file holding a model's weights, its
// configuration, the class list and, for resuming training, the optimizer and
// random generator state.
//
// Layout (format "didicm-checkpoint", format_version 1):
//   attributes   format, format_version, created_by, command_line, arch, stem,
//                width, embed_dim, num_classes, objective, input_size, epoch,
//                step, config (the training configuration as a JSON string),
//                data_hash (content hash of the training dataset; optional)
//   /classes     variable-length UTF-8 strings, index = label id
//   /normalization/mean, /normalization/std   float64 [channels]
//   /model/<state_dict name>   every parameter and buffer, with its dtype
//   /optimizer/<name>, /rng/<name>            tensors that training stores
//   /train_options  one string attribute per didicm-train option (long name,
//                   value as text) that a resumed run restores; optional

#include "h5.h"
#include "model_factory.h"

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace didicm {

inline constexpr const char* checkpoint_format = "didicm-checkpoint";
inline constexpr std::int64_t checkpoint_format_version = 1;

struct Checkpoint {
  Model model;
  std::string objective = "didicm";  // didicm (score model) or ce (cross-entropy classifier)
  std::vector<std::string> classes;  // one name per label id; as many as the model's classes
  std::vector<double> mean;          // per-channel input normalization: (x - mean) / stddev
  std::vector<double> stddev;  // stored as /normalization/std
  std::int64_t epoch = 0;  // completed epochs
  std::int64_t step = 0;   // completed optimizer steps
  std::string config_json = "{}";
  std::string command_line;
  std::string created_by;  // filled by save_checkpoint when empty
  // Training settings by option name, stored under /train_options; empty in
  // checkpoints written before didicm-train stored them.
  std::map<std::string, std::string> train_settings;
  std::string data_hash;  // DatasetReader::content_hash() of the training data; may be empty

  // Named tensors for an exact resume, stored under /optimizer and /rng.
  // Names may contain '/' to nest groups. Supported dtypes: uint8, int32,
  // int64, float32, float64 (a generator state is a uint8 tensor).
  std::map<std::string, torch::Tensor> optimizer;
  std::map<std::string, torch::Tensor> rng;
};

// Writes `checkpoint` to `path` atomically, so that a reader never sees a
// partial file. Throws Error for an existing file unless `force`.
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint, bool force);

// Reads a checkpoint and builds its model on `device` in eval mode. Checks the
// format, the architecture, the class count and every tensor: a missing, extra
// or mis-shaped tensor fails with its name (and both shapes). With
// `training_state` false, /optimizer and /rng are not read.
Checkpoint load_checkpoint(const std::string& path, const torch::Device& device,
                           bool training_state = true);

// Reads only the training settings of the checkpoint at `path`, after
// checking its format; nullopt when it has no /train_options group.
std::optional<std::map<std::string, std::string>> read_checkpoint_settings(const std::string& path);

// Writes every parameter and buffer of `model` under `group` by state_dict name.
void write_model_state(const h5::Group& group, const Model& model);

// Copies every tensor under `group` into `model`. Throws Error when an entry
// is missing, extra, or has another shape than the model's.
void read_model_state(const h5::Group& group, const Model& model);

}  // namespace didicm
