#pragma once

// The didicm-train command: its options and its entry point. Flags are named
// as timm names them where the meaning is the same.

#include "model_factory.h"

#include <torch/torch.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace didicm {

struct TrainOptions {
  // weak or strong: fill every option of that training recipe that the user
  // did not give (see apply_recipe); empty: the defaults below.
  std::string recipe;
  // Long names (without dashes) of the options given on the command line,
  // and, after restore_resumed_options, of those restored from the checkpoint.
  std::set<std::string> given;

  bool dry_run = false;  // build the model, run one forward pass, print a summary
  ModelConfig model;     // num_classes comes from the dataset; input_size 0: the stored size
  std::string objective;         // didicm or ce; empty: didicm for DiDiRN, ce for ResNet
  std::string device = "auto";   // auto, cpu, cuda, cuda:N
  bool amp = false;  // bfloat16 autocast for forward passes, with float32 weights and optimizer

  std::string data;    // training dataset file
  std::string val;     // validation dataset file (optional)
  std::string output;  // run folder: last.h5, best.h5, config.json, summary.csv, metrics.jsonl
  std::string resume;  // checkpoint to continue from
  bool force = false;  // replace the files of an earlier run in the output folder

  std::int64_t epochs = 100;
  std::int64_t batch_size = 1024;
  double lr = 2e-3;
  double warmup_epochs = 5;
  double warmup_lr = 1e-5;
  double min_lr = 1e-6;
  std::string opt = "lamb";  // lamb, adamw or sgd
  double momentum = 0.9;
  double weight_decay = 0.01;
  std::string sched = "cosine";  // cosine, step or none
  double decay_epochs = 30;      // step schedule
  double decay_rate = 0.1;       // step schedule
  double smoothing = 0.0;        // label smoothing of the targets

  // Augmentation.
  double color_jitter = 0.4;     // brightness, contrast and saturation strength; 0: off
  std::string aa;                // RandAugment spec (rand-m7-mstd0.5-inc1); empty: off
  double mixup = 0;              // Mixup alpha; 0: off
  double cutmix = 0;             // CutMix alpha; 0: off
  double mixup_switch_prob = 0.5;  // chance of CutMix per batch when both are on
  int aug_repeats = 1;           // repeated augmentation; 1: off
  std::string lr_ratio_scaling = "none";  // none, or sqrt: lr * sqrt(1 / ratio of the dataset)
  std::vector<double> mean{0.485, 0.456, 0.406};
  std::vector<double> stddev{0.229, 0.224, 0.225};

  std::uint64_t seed = 42;
  int workers = 4;
  std::int64_t val_every = 1;       // epochs between validations
  double checkpoint_every = 0;      // minutes between extra writes of last.h5; 0: only per epoch
  double diffusion_eps = 1e-5;      // lower bound of the training time t
  std::int64_t val_steps = 2;       // DiDiCM-CP steps of the validation sampler
  std::int64_t stop_after_steps = 0;  // stop (as if interrupted) after this many steps; 0: never
};

// Sets the options of `options.recipe` whose names are not in
// `options.given`, for the objective `options.objective` (resolved before).
// weak: LAMB, cosine, 5 warmup epochs, batch 1024, lr 2e-3 scaled by
// sqrt(1 / ratio), color jitter 0.4, no RandAugment, Mixup, CutMix, smoothing
// or repeats. strong: the same optimizer and schedule, batch 2048, lr 3.5e-3
// unscaled for didicm and 5e-3 scaled by sqrt(1 / ratio) for ce, RandAugment
// rand-m7-mstd0.5-inc1, 3 repeats, Mixup 0.2, CutMix 1.0, switch probability
// 0.5, smoothing 0.1, no color jitter. Throws UsageError for another recipe.
void apply_recipe(TrainOptions& options);

// The smallest input size for `stem` (compact or imagenet): the kernel size
// of the stem's first convolution, so that its window fits in the image.
std::int64_t min_input_size(const std::string& stem);

// Throws UsageError when the input size of `resolved` (stem filled in) is
// below min_input_size().
void check_input_size(const ModelConfig& resolved);

// Checks every flag and fills the defaults that depend on others (the
// objective from the model, the recipe's values, the dry run's input size).
// Throws UsageError
// naming the bad value.
TrainOptions resolve_train_options(const TrainOptions& options);

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

// Validates `options` and runs the command; returns the exit status. With
// --resume, the settings stored in the checkpoint fill the options not given
// (see restore_resumed_options).
int run_train(const TrainOptions& options);

}  // namespace didicm
