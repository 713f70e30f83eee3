#include "train_command.h"

#include "device.h"
#include "errors.h"
#include "logging.h"

#include <fmt/format.h>

#include <cstdio>

namespace didicm {

void validate_train_options(const TrainOptions& options) {
  if (!options.dry_run) {
    // TODO: the training loop (dataset, optimizer, checkpoints); until then only --dry-run runs.
    throw UsageError(
        "--data is missing: training needs a training dataset, and this build of didicm-train "
        "only supports --dry-run (build the model and run one forward pass)");
  }
  resolve_model_config(options.model);
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

int run_train(const TrainOptions& options) {
  validate_train_options(options);
  torch::Device device = select_device(options.device);
  log_info("building {} with {} classes on {}", options.model.name, options.model.num_classes,
           device_name(device));
  ModelSummary summary = dry_run_model(options.model, device);
  std::printf("%s\n", summary_json(summary).c_str());
  return 0;
}

}  // namespace didicm
