#pragma once

// Posteriors for a whole dataset: the library behind didicm-sample and
// didicm-ablate. A checkpoint and a dataset are loaded once; each sampler
// setting then yields one Posterior with its provenance attributes.

#include "checkpoint.h"
#include "dataset.h"
#include "posterior.h"

#include <cstdint>
#include <memory>
#include <string>

namespace didicm {

// One sampler configuration.
struct SamplerSettings {
  std::string sampler;  // cp, cl or standard; empty: cp for a didicm checkpoint, else standard
  std::int64_t steps = -1;   // -1: 8 for cp, 2 for cl
  std::string select;        // cp: argmin, argmax or sample; empty: argmin
  std::int64_t samples = -1;  // cl: chains per image; -1: 16
  std::uint64_t seed = 0;
  bool trajectory = false;            // keep the probabilities after every step
  std::int64_t trajectory_topk = 0;   // >0: keep only the top k per step, with their indices
};

// A checkpoint and a dataset, loaded and checked against each other.
struct SampleInputs {
  std::string checkpoint_path;
  std::string dataset_path;
  Checkpoint checkpoint;
  std::shared_ptr<const DatasetReader> dataset;
  torch::Device device{torch::kCPU};
  std::int64_t limit = 0;       // 0: every image, else the first `limit`
  std::int64_t batch_size = 128;
  int workers = 2;
  bool amp = false;  // bfloat16 autocast for the network only, not the sampler's arithmetic
};

// Checks the options every sampling command shares: a checkpoint and a
// dataset are given, batch size >= 1, limit and workers >= 0. Throws
// UsageError naming the option and its value.
void validate_sampling_inputs(const std::string& checkpoint, const std::string& data,
                              std::int64_t batch_size, std::int64_t limit, int workers);

// Loads both files on `device`. Throws Error when either is unusable or their
// class lists differ (naming both files and the first differing index).
SampleInputs load_sample_inputs(const std::string& checkpoint_path, const std::string& dataset_path,
                                const std::string& device);

// Fills the defaults that depend on the checkpoint and checks the settings:
// UsageError for a sampler that does not fit the checkpoint's objective.
SamplerSettings resolve_sampler_settings(const SamplerSettings& settings,
                                         const Checkpoint& checkpoint);

// Network calls per image: cp S, cl K * S, standard 1.
std::int64_t sampler_nfe(const SamplerSettings& settings);

// Runs the sampler over the dataset's images (center-cropped to the
// checkpoint's input size, as in validation) in batches. CP with argmin or
// argmax gives the same posterior for any batch size; the seeded draws of
// CP-sample and CL depend only on (seed, image index, step), so they do too.
Posterior sample_dataset(const SampleInputs& inputs, const SamplerSettings& settings);

// A file name for a setting: cp-argmin-s8.h5, cl-s2-k16.h5, standard.h5.
std::string posterior_file_name(const SamplerSettings& settings);

// FNV-1a 64 of a file's bytes as 16 hex digits.
std::string file_hash(const std::string& path);

}  // namespace didicm
