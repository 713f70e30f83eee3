#include "train_command.h"

#include "device.h"
#include "errors.h"
#include "logging.h"
#include "rand_augment.h"
#include "train_settings.h"
#include "trainer.h"

#include <fmt/format.h>

#include <cstdio>

namespace didicm {

namespace {

void require(bool condition, const std::string& message) {
  if (!condition) {
    throw UsageError(message);
  }
}

bool one_of(const std::string& value, std::initializer_list<const char*> choices) {
  for (const char* choice : choices) {
    if (value == choice) {
      return true;
    }
  }
  return false;
}

void validate_training_flags(const TrainOptions& options) {
  require(!options.data.empty(), "--data is missing: give the training dataset file");
  require(!options.output.empty(), "--output is missing: give the run folder");
  require(options.epochs >= 1, fmt::format("--epochs {}: must be at least 1", options.epochs));
  require(options.batch_size >= 1,
          fmt::format("--batch-size {}: must be at least 1", options.batch_size));
  require(options.lr > 0, fmt::format("--lr {}: must be positive", options.lr));
  require(options.warmup_epochs >= 0,
          fmt::format("--warmup-epochs {}: must not be negative", options.warmup_epochs));
  require(options.warmup_lr >= 0 && options.min_lr >= 0,
          "--warmup-lr and --min-lr must not be negative");
  require(one_of(options.opt, {"lamb", "adamw", "sgd"}),
          fmt::format("--opt {}: expected lamb, adamw or sgd", options.opt));
  require(one_of(options.sched, {"cosine", "step", "none"}),
          fmt::format("--sched {}: expected cosine, step or none", options.sched));
  require(options.decay_epochs > 0 && options.decay_rate > 0,
          "--decay-epochs and --decay-rate must be positive");
  require(options.weight_decay >= 0,
          fmt::format("--weight-decay {}: must not be negative", options.weight_decay));
  require(options.momentum >= 0 && options.momentum < 1,
          fmt::format("--momentum {}: must be in [0, 1)", options.momentum));
  require(options.smoothing >= 0 && options.smoothing < 1,
          fmt::format("--smoothing {}: must be in [0, 1)", options.smoothing));
  require(one_of(options.lr_ratio_scaling, {"none", "sqrt"}),
          fmt::format("--lr-ratio-scaling {}: expected none or sqrt", options.lr_ratio_scaling));
  require(options.mean.size() == 3 && options.stddev.size() == 3,
          "--mean and --std take three values, one per RGB channel");
  for (double value : options.stddev) {
    require(value > 0, fmt::format("--std {}: must be positive", value));
  }
  require(options.workers >= 0, fmt::format("-j/--workers {}: must not be negative", options.workers));
  require(options.val_every >= 1, fmt::format("--val-every {}: must be at least 1", options.val_every));
  require(options.checkpoint_every >= 0,
          fmt::format("--checkpoint-every {}: must not be negative", options.checkpoint_every));
  require(options.diffusion_eps > 0 && options.diffusion_eps < 1,
          fmt::format("--diffusion-eps {}: must be in (0, 1)", options.diffusion_eps));
  require(options.val_steps >= 1, fmt::format("--val-steps {}: must be at least 1", options.val_steps));
  require(options.stop_after_steps >= 0, "--stop-after-steps must not be negative");
  require(options.model.input_size >= 0, "--input-size must not be negative");
  require(options.color_jitter >= 0,
          fmt::format("--color-jitter {}: must not be negative", options.color_jitter));
  if (!options.aa.empty()) {
    parse_rand_augment(options.aa);  // throws UsageError for a bad spec
  }
  require(options.mixup >= 0, fmt::format("--mixup {}: must not be negative", options.mixup));
  require(options.cutmix >= 0, fmt::format("--cutmix {}: must not be negative", options.cutmix));
  require(options.mixup_switch_prob >= 0 && options.mixup_switch_prob <= 1,
          fmt::format("--mixup-switch-prob {}: must be in [0, 1]", options.mixup_switch_prob));
  require(options.aug_repeats >= 1,
          fmt::format("--aug-repeats {}: must be at least 1", options.aug_repeats));
}

// Sets `field` to `value` unless the option `name` was given.
template <typename T, typename V>
void preset(const TrainOptions& options, const char* name, T& field, const V& value) {
  if (options.given.count(name) == 0) {
    field = value;
  }
}

}  // namespace

std::int64_t min_input_size(const std::string& stem) {
  // With padding, every layer gives at least a 1x1 map from any input size,
  // so the bound is the first convolution's kernel: 3x3 compact, 7x7 imagenet.
  return stem == "imagenet" ? 7 : 3;
}

void check_input_size(const ModelConfig& resolved) {
  std::int64_t minimum = min_input_size(resolved.stem);
  require(resolved.input_size >= minimum,
          fmt::format("--input-size {}: too small for the {} stem, whose first convolution is "
                      "{}x{}; give at least {} pixels",
                      resolved.input_size, resolved.stem, minimum, minimum, minimum));
}

void apply_recipe(TrainOptions& options) {
  if (options.recipe.empty()) {
    return;
  }
  require(one_of(options.recipe, {"weak", "strong"}),
          fmt::format("--recipe {}: expected weak or strong", options.recipe));
  const bool strong = options.recipe == "strong";
  const bool classifier = options.objective == "ce";

  preset(options, "opt", options.opt, std::string("lamb"));
  preset(options, "sched", options.sched, std::string("cosine"));
  preset(options, "warmup-epochs", options.warmup_epochs, 5.0);
  preset(options, "batch-size", options.batch_size, strong ? 2048 : 1024);
  double lr = 2e-3;
  if (strong) {
    lr = classifier ? 5e-3 : 3.5e-3;
  }
  preset(options, "lr", options.lr, lr);
  preset(options, "lr-ratio-scaling", options.lr_ratio_scaling,
         std::string(strong && !classifier ? "none" : "sqrt"));
  preset(options, "color-jitter", options.color_jitter, strong ? 0.0 : 0.4);
  preset(options, "aa", options.aa, std::string(strong ? "rand-m7-mstd0.5-inc1" : ""));
  preset(options, "aug-repeats", options.aug_repeats, strong ? 3 : 1);
  preset(options, "mixup", options.mixup, strong ? 0.2 : 0.0);
  preset(options, "cutmix", options.cutmix, strong ? 1.0 : 0.0);
  preset(options, "mixup-switch-prob", options.mixup_switch_prob, 0.5);
  preset(options, "smoothing", options.smoothing, strong ? 0.1 : 0.0);
}

TrainOptions resolve_train_options(const TrainOptions& options) {
  TrainOptions resolved = options;
  if (resolved.dry_run) {
    require(resolved.model.num_classes > 0, "--num-classes is missing: a dry run needs N");
    if (resolved.model.input_size == 0) {
      resolved.model.input_size = 224;
    }
    check_input_size(resolve_model_config(resolved.model));
    return resolved;
  }
  validate_training_flags(resolved);

  // The class count comes from the dataset; check the rest of the model now.
  ModelConfig probe = resolved.model;
  probe.num_classes = 2;
  probe.input_size = probe.input_size == 0 ? 32 : probe.input_size;
  ModelConfig resolved_probe = resolve_model_config(probe);
  if (resolved.model.input_size != 0) {
    check_input_size(resolved_probe);  // a size from the dataset is checked when it is read
  }
  bool score_model = resolved_probe.name.rfind("didirn", 0) == 0;
  if (resolved.objective.empty()) {
    resolved.objective = score_model ? "didicm" : "ce";
  }
  require(one_of(resolved.objective, {"didicm", "ce"}),
          fmt::format("--objective {}: expected didicm or ce", resolved.objective));
  require(score_model == (resolved.objective == "didicm"),
          fmt::format("--objective {} does not fit --model {}: didicm trains a DiDiRN score model, "
                      "ce a ResNet classifier",
                      resolved.objective, resolved.model.name));

  // The recipe's learning rate depends on the objective, so it comes last.
  // Validate again: the recipe filled further options.
  apply_recipe(resolved);
  validate_training_flags(resolved);
  return resolved;
}

ModelSummary dry_run_model(const ModelConfig& config, const torch::Device& device) {
  Model model = build_model(config);
  model.to(device);
  model.eval();

  ModelSummary summary;
  summary.model = model.config();
  summary.parameters = model.parameter_count();
  summary.buffers = model.buffer_count();
  summary.state_dict_entries = static_cast<std::int64_t>(state_dict(*model.module()).size());
  summary.device = device_name(device);

  torch::NoGradGuard no_grad;
  auto options = torch::TensorOptions().device(device);
  std::int64_t size = config.input_size;
  torch::Tensor images = torch::zeros({1, 3, size, size}, options.dtype(torch::kFloat32));
  torch::Tensor output;
  if (model.is_score_model()) {
    torch::Tensor labels = torch::zeros({1}, options.dtype(torch::kInt64));
    torch::Tensor sigma = torch::ones({1}, options.dtype(torch::kFloat32));
    output = model.forward(images, labels, sigma);
  } else {
    output = model.forward(images);
  }
  summary.output_shape = output.sizes().vec();
  return summary;
}

std::string summary_json(const ModelSummary& summary) {
  // Every string here is a validated name (model, stem, device), so none needs escaping.
  const ModelConfig& model = summary.model;
  return fmt::format(
      "{{\"model\":\"{}\",\"num_classes\":{},\"stem\":\"{}\",\"width\":{},\"embed_dim\":{},"
      "\"input_size\":{},\"params\":{},\"buffers\":{},\"state_dict_entries\":{},"
      "\"output_shape\":[{}],\"device\":\"{}\"}}",
      model.name, model.num_classes, model.stem, model.width, model.embed_dim, model.input_size,
      summary.parameters, summary.buffers, summary.state_dict_entries,
      fmt::join(summary.output_shape, ","), summary.device);
}

int run_train(const TrainOptions& requested) {
  bool restoring = !requested.dry_run && !requested.resume.empty();
  require(requested.given.count("model") > 0 || restoring,
          "--model is missing: give the architecture, for example --model didirn18");
  TrainOptions options =
      resolve_train_options(restoring ? restore_resumed_options(requested) : requested);
  if (!options.dry_run) {
    return train(options);
  }
  torch::Device device = select_device(options.device);
  log_info("building {} with {} classes on {}", options.model.name, options.model.num_classes,
           device_name(device));
  ModelSummary summary = dry_run_model(options.model, device);
  std::printf("%s\n", summary_json(summary).c_str());
  return 0;
}

}  // namespace didicm
