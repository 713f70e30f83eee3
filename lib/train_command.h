#pragma once

// The didicm-train command: its options and its entry point. So far it only
// builds and checks a model (--dry-run); the training loop comes next.

#include "model_factory.h"

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace didicm {

struct TrainOptions {
  bool dry_run = false;  // build the model, run one forward pass, print a summary
  ModelConfig model;
  std::string device = "auto";  // auto, cpu, cuda, cuda:N
};

// Throws UsageError for an invalid combination of options.
void validate_train_options(const TrainOptions& options);

// Summary of a model that a dry run built and ran.
struct ModelSummary {
  ModelConfig model;                      // resolved: stem and embedding width filled in
  std::int64_t parameters = 0;            // trainable parameters
  std::int64_t buffers = 0;               // elements of BatchNorm statistics and counters
  std::int64_t state_dict_entries = 0;    // checkpoint tensors
  std::vector<std::int64_t> output_shape; // of one forward pass on a batch of 1
  std::string device;
};

// Builds the model on `device` in eval mode and runs one forward pass on a
// zero image batch of 1 (label 0 and sigma 1 for a score model).
ModelSummary dry_run_model(const ModelConfig& config, const torch::Device& device);

// One line of JSON: model, num_classes, stem, width, embed_dim, input_size,
// params, buffers, state_dict_entries, output_shape, device.
std::string summary_json(const ModelSummary& summary);

// Validates `options` and runs the command; returns the exit status.
int run_train(const TrainOptions& options);

}  // namespace didicm
