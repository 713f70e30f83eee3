#pragma once

// Builds any model of the toolkit by name, and wraps it so that tools can call
// DiDiRN as a score model and ResNet as a plain classifier.

#include "didirn.h"
#include "resnet.h"

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace didicm {

// What a tool or a checkpoint says about the model to build.
struct ModelConfig {
  std::string name = "didirn18";  // didirn18..didirn152, resnet18..resnet152
  std::int64_t num_classes = 0;   // N
  std::string stem;               // compact or imagenet; empty: compact for DiDiRN, imagenet for ResNet
  double width = 1.0;             // multiplies the 64 base channels
  std::int64_t embed_dim = 128;   // E, DiDiRN only
  std::int64_t input_size = 224;  // height and width of the input images, in pixels
};

// didirn18, didirn34, ..., resnet152.
const std::vector<std::string>& model_names();

// Checks every field and fills the defaults: the stem of the architecture, and
// embed_dim 0 for a ResNet (which has no embedding). Throws UsageError naming
// the bad value and the valid ones.
ModelConfig resolve_model_config(const ModelConfig& config);

// A built model. Copies share the same network (LibTorch modules are shared
// pointers).
class Model {
 public:
  Model() = default;
  Model(ModelConfig config, DiDiRN didirn);
  Model(ModelConfig config, ResNet resnet);

  const ModelConfig& config() const { return config_; }
  std::int64_t num_classes() const { return config_.num_classes; }

  // True for DiDiRN, which takes a noisy label and sigma besides the images.
  bool is_score_model() const { return !didirn_.is_empty(); }

  // Score model: images float32 [B, 3, H, W], labels int64 [B], sigma [B] ->
  // log-scores [B, N]. Throws Error for a ResNet.
  torch::Tensor forward(const torch::Tensor& images, const torch::Tensor& labels,
                        const torch::Tensor& sigma) const;
  // Plain classifier: images -> logits [B, N]. Throws Error for a DiDiRN.
  torch::Tensor forward(const torch::Tensor& images) const;

  // The network as a LibTorch module (parameters, train/eval, to(device)).
  std::shared_ptr<torch::nn::Module> module() const;
  DiDiRN didirn() const { return didirn_; }  // empty holder for a ResNet
  ResNet resnet() const { return resnet_; }  // empty holder for a DiDiRN

  void to(const torch::Device& device);
  void train(bool on = true);
  void eval() { train(false); }
  torch::Device device() const;  // where the parameters live

  std::int64_t parameter_count() const;  // trainable parameters
  std::int64_t buffer_count() const;     // elements of BatchNorm statistics and counters

 private:
  ModelConfig config_;
  DiDiRN didirn_{nullptr};
  ResNet resnet_{nullptr};
};

// Builds the model `config` names, with fresh weights. Throws UsageError for an
// invalid configuration.
Model build_model(const ModelConfig& config);

// Parameters and buffers in PyTorch's state_dict order: for each module in
// depth-first order, its own parameters, then its own buffers.
std::vector<std::pair<std::string, torch::Tensor>> state_dict(const torch::nn::Module& module);

}  // namespace didicm
