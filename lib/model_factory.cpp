#include "model_factory.h"

#include "errors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace didicm {
namespace {

bool is_didirn(const std::string& name) { return name.rfind("didirn", 0) == 0; }

// "didirn50" -> 50, "resnet152" -> 152 (both prefixes have 6 letters).
int depth_of(const std::string& name) { return std::stoi(name.substr(6)); }

std::int64_t count_elements(const std::vector<torch::Tensor>& tensors) {
  std::int64_t count = 0;
  for (const auto& tensor : tensors) {
    count += tensor.numel();
  }
  return count;
}

}  // namespace

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names{"didirn18", "didirn34", "didirn50", "didirn101",
                                              "didirn152", "resnet18", "resnet34", "resnet50",
                                              "resnet101", "resnet152"};
  return names;
}

ModelConfig resolve_model_config(const ModelConfig& config) {
  const auto& names = model_names();
  if (std::find(names.begin(), names.end(), config.name) == names.end()) {
    throw UsageError(fmt::format("model '{}': unknown; valid models are {}", config.name,
                                 fmt::join(names, ", ")));
  }
  if (config.num_classes < 2) {
    throw UsageError(fmt::format(
        "number of classes {}: invalid; a classifier needs at least 2 classes", config.num_classes));
  }
  if (config.input_size < 1 || config.input_size > 4096) {
    throw UsageError(fmt::format("input size {}: invalid; give 1 to 4096 pixels", config.input_size));
  }
  if (!std::isfinite(config.width)) {
    throw UsageError(fmt::format("width {}: invalid; give a positive number", config.width));
  }
  base_channels(config.width);  // throws for a width that gives no channel

  ModelConfig resolved = config;
  bool didirn = is_didirn(config.name);
  if (resolved.stem.empty()) {
    resolved.stem = didirn ? "compact" : "imagenet";
  }
  parse_stem(resolved.stem);
  if (didirn) {
    if (config.embed_dim < 1 || config.embed_dim > 65536) {
      throw UsageError(fmt::format("embedding width {}: invalid; give 1 to 65536", config.embed_dim));
    }
  } else {
    resolved.embed_dim = 0;
  }
  return resolved;
}

Model::Model(ModelConfig config, DiDiRN didirn) : config_(std::move(config)), didirn_(std::move(didirn)) {}

Model::Model(ModelConfig config, ResNet resnet) : config_(std::move(config)), resnet_(std::move(resnet)) {}

torch::Tensor Model::forward(const torch::Tensor& images, const torch::Tensor& labels,
                             const torch::Tensor& sigma) const {
  if (!is_score_model()) {
    throw Error(fmt::format("model {}: is a plain classifier, not a score model; it takes no "
                            "labels or sigma",
                            config_.name));
  }
  return didirn_.ptr()->forward(images, labels, sigma);
}

torch::Tensor Model::forward(const torch::Tensor& images) const {
  if (is_score_model()) {
    throw Error(fmt::format("model {}: is a score model; it needs labels and sigma besides the "
                            "images",
                            config_.name));
  }
  return resnet_.ptr()->forward(images);
}

std::shared_ptr<torch::nn::Module> Model::module() const {
  if (is_score_model()) {
    return didirn_.ptr();
  }
  if (resnet_.is_empty()) {
    throw Error("model: used before it was built");
  }
  return resnet_.ptr();
}

void Model::to(const torch::Device& device) { module()->to(device); }

void Model::train(bool on) { module()->train(on); }

torch::Device Model::device() const {
  auto parameters = module()->parameters();
  return parameters.empty() ? torch::Device(torch::kCPU) : parameters.front().device();
}

std::int64_t Model::parameter_count() const {
  std::int64_t count = 0;
  for (const auto& parameter : module()->parameters()) {
    if (parameter.requires_grad()) {
      count += parameter.numel();
    }
  }
  return count;
}

std::int64_t Model::buffer_count() const { return count_elements(module()->buffers()); }

Model build_model(const ModelConfig& config) {
  ModelConfig resolved = resolve_model_config(config);
  int depth = depth_of(resolved.name);
  Stem stem = parse_stem(resolved.stem);
  if (is_didirn(resolved.name)) {
    DiDiRNOptions options;
    options.depth = depth;
    options.num_classes = resolved.num_classes;
    options.embed_dim = resolved.embed_dim;
    options.stem = stem;
    options.width = resolved.width;
    return Model(resolved, DiDiRN(options));
  }
  ResNetOptions options;
  options.depth = depth;
  options.num_classes = resolved.num_classes;
  options.stem = stem;
  options.width = resolved.width;
  return Model(resolved, ResNet(options));
}

std::vector<std::pair<std::string, torch::Tensor>> state_dict(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> entries;
  for (const auto& item : module.named_modules()) {
    std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto& parameter : item.value()->named_parameters(/*recurse=*/false)) {
      entries.emplace_back(prefix + parameter.key(), parameter.value());
    }
    for (const auto& buffer : item.value()->named_buffers(/*recurse=*/false)) {
      entries.emplace_back(prefix + buffer.key(), buffer.value());
    }
  }
  return entries;
}

}  // namespace didicm
