#include "resnet.h"

#include "errors.h"

#include <fmt/format.h>

namespace didicm {

ResNetBlockImpl::ResNetBlockImpl(std::int64_t in_channels, std::int64_t channels,
                                 std::int64_t stride, bool bottleneck)
    : bottleneck_(bottleneck), out_channels_(bottleneck ? 4 * channels : channels) {
  if (bottleneck_) {
    conv1 = register_module("conv1", make_conv(in_channels, channels, 1, 1));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(channels));
    conv2 = register_module("conv2", make_conv(channels, channels, 3, stride));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(channels));
    conv3 = register_module("conv3", make_conv(channels, out_channels_, 1, 1));
    bn3 = register_module("bn3", torch::nn::BatchNorm2d(out_channels_));
  } else {
    conv1 = register_module("conv1", make_conv(in_channels, channels, 3, stride));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(channels));
    conv2 = register_module("conv2", make_conv(channels, channels, 3, 1));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(channels));
  }
  if (stride != 1 || in_channels != out_channels_) {
    downsample = register_module(
        "downsample", torch::nn::Sequential(make_conv(in_channels, out_channels_, 1, stride),
                                            torch::nn::BatchNorm2d(out_channels_)));
  }
}

torch::Tensor ResNetBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = torch::relu(bn1(conv1(x)));
  if (bottleneck_) {
    h = torch::relu(bn2(conv2(h)));
    h = bn3(conv3(h));
  } else {
    h = bn2(conv2(h));
  }
  torch::Tensor skip = downsample ? downsample->forward(x) : x;
  return torch::relu(h + skip);
}

ResNetImpl::ResNetImpl(const ResNetOptions& options) : options_(options) {
  ResNetLayout layout = resnet_layout(options.depth);
  std::int64_t base = base_channels(options.width);
  if (options.num_classes < 1) {
    throw UsageError(fmt::format("number of classes {}: invalid; it must be at least 1",
                                 options.num_classes));
  }

  conv1 = register_module("conv1", make_stem_conv(options.stem, base));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(base));

  std::int64_t in_channels = base;
  for (int stage = 0; stage < 4; ++stage) {
    std::int64_t channels = base << stage;
    torch::nn::ModuleList blocks;
    stages_.emplace_back();
    for (int j = 0; j < layout.blocks[stage]; ++j) {
      std::int64_t stride = (stage > 0 && j == 0) ? 2 : 1;
      ResNetBlock block(in_channels, channels, stride, layout.bottleneck);
      in_channels = block->out_channels();
      blocks->push_back(block);
      stages_.back().push_back(block);
    }
    register_module(fmt::format("layer{}", stage + 1), blocks);
  }
  fc = register_module("fc", torch::nn::Linear(in_channels, options.num_classes));

  torch::NoGradGuard no_grad;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, /*a=*/0, torch::kFanOut, torch::kReLU);
    } else if (auto* norm = module->as<torch::nn::BatchNorm2d>()) {
      norm->weight.fill_(1.0);
      norm->bias.zero_();
    }
  }
}

torch::Tensor ResNetImpl::forward(const torch::Tensor& images) {
  if (images.dim() != 4 || images.size(1) != 3) {
    throw Error(fmt::format("ResNet: images have shape [{}], expected [B, 3, H, W]",
                            fmt::join(images.sizes(), ", ")));
  }
  torch::Tensor out = finish_stem(bn1(conv1(images)));
  for (const auto& blocks : stages_) {
    for (auto block : blocks) {
      out = block->forward(out);
    }
  }
  return fc(torch::adaptive_avg_pool2d(out, {1, 1}).flatten(1));
}

}  // namespace didicm
