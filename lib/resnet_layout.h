#pragma once

// Shapes shared by DiDiRN and the plain ResNet baselines: depths, block
// counts, stage widths and the two stems.

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <string>

namespace didicm {

// The first layers before the residual stages. compact: conv 3x3 stride 1
// (the DiDiRN authors' choice, suited to small images); imagenet: torchvision's
// conv 7x7 stride 2. Both are followed by BatchNorm, ReLU and max-pool 3x3 stride 2.
enum class Stem { compact, imagenet };

Stem parse_stem(const std::string& name);  // throws UsageError naming the valid stems
std::string stem_name(Stem stem);

// Blocks per stage and block type of one ResNet depth (18, 34, 50, 101, 152),
// as in torchvision.
struct ResNetLayout {
  int depth = 18;
  std::array<int, 4> blocks{2, 2, 2, 2};
  bool bottleneck = false;  // Bottleneck (1x1, 3x3, 1x1 x4) instead of BasicBlock

  std::int64_t expansion() const { return bottleneck ? 4 : 1; }
};

// Throws UsageError for a depth outside 18, 34, 50, 101, 152.
ResNetLayout resnet_layout(int depth);

// Channels of the stem and the first stage: 64 * width, rounded, at least 1.
// Stage k (0..3) has base << k channels inside its blocks.
std::int64_t base_channels(double width);

// GroupNorm group count for `channels`: 32, or gcd(32, channels) when
// channels is not a multiple of 32.
std::int64_t group_norm_groups(std::int64_t channels);

// The stem convolution (no bias) from 3 input channels to `channels`.
torch::nn::Conv2d make_stem_conv(Stem stem, std::int64_t channels);

torch::nn::Conv2d make_conv(std::int64_t in, std::int64_t out, std::int64_t kernel,
                            std::int64_t stride);

// ReLU and max-pool 3x3 stride 2 pad 1 after the stem's BatchNorm.
torch::Tensor finish_stem(const torch::Tensor& normalized);

}  // namespace didicm
