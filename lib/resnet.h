#pragma once

// Plain ResNet-18..152 classifiers, the baselines DiDiCM is compared with.
// Parameter names follow torchvision (conv1, bn1, layer1.0.downsample.0, fc),
// Bottleneck blocks are torchvision's (stride on the 3x3 convolution).

#include "resnet_layout.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace didicm {

struct ResNetOptions {
  int depth = 18;                   // 18, 34, 50, 101 or 152
  std::int64_t num_classes = 1000;  // N logits
  Stem stem = Stem::imagenet;
  double width = 1.0;  // multiplies the 64 base channels
};

// One residual block: ReLU(F(x) + downsample(x)).
class ResNetBlockImpl : public torch::nn::Module {
 public:
  ResNetBlockImpl(std::int64_t in_channels, std::int64_t channels, std::int64_t stride,
                  bool bottleneck);

  torch::Tensor forward(const torch::Tensor& x);
  std::int64_t out_channels() const { return out_channels_; }

 private:
  bool bottleneck_;
  std::int64_t out_channels_;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};  // null for the identity
};
TORCH_MODULE(ResNetBlock);

class ResNetImpl : public torch::nn::Module {
 public:
  // Initializes as torchvision does: convolutions Kaiming normal (fan_out),
  // BatchNorm weight 1 and bias 0, fc PyTorch's default.
  explicit ResNetImpl(const ResNetOptions& options);

  // images float [B, 3, H, W] -> logits [B, N].
  torch::Tensor forward(const torch::Tensor& images);

  const ResNetOptions& options() const { return options_; }

 private:
  ResNetOptions options_;
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  std::vector<std::vector<ResNetBlock>> stages_;  // registered as layer1..layer4
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(ResNet);

}  // namespace didicm
