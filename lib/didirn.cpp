#include "didirn.h"

#include "errors.h"

#include <fmt/format.h>

#include <cmath>
#include <string>

namespace didicm {
namespace {

std::string shape_string(const torch::Tensor& tensor) {
  return fmt::format("[{}]", fmt::join(tensor.sizes(), ", "));
}

// Checks images [B, 3, H, W], labels int64 [B] and sigma [B] before the first layer,
// so that a caller's mistake names the argument instead of a layer.
void check_inputs(const torch::Tensor& images, const torch::Tensor& labels,
                  const torch::Tensor& sigma) {
  if (images.dim() != 4 || images.size(1) != 3) {
    throw Error(fmt::format("DiDiRN: images have shape {}, expected [B, 3, H, W]",
                            shape_string(images)));
  }
  std::int64_t batch = images.size(0);
  if (labels.dim() != 1 || labels.size(0) != batch || labels.scalar_type() != torch::kInt64) {
    throw Error(fmt::format("DiDiRN: labels have shape {} and dtype {}, expected int64 [{}]",
                            shape_string(labels), c10::toString(labels.scalar_type()), batch));
  }
  if (sigma.dim() != 1 || sigma.size(0) != batch) {
    throw Error(fmt::format("DiDiRN: sigma has shape {}, expected [{}]", shape_string(sigma),
                            batch));
  }
}

}  // namespace

SigmaEmbedderImpl::SigmaEmbedderImpl(std::int64_t embed_dim) {
  mlp = register_module(
      "mlp", torch::nn::Sequential(torch::nn::Linear(2 * frequency_count, embed_dim),
                                   torch::nn::SiLU(), torch::nn::Linear(embed_dim, embed_dim)));
}

torch::Tensor SigmaEmbedderImpl::sinusoidal_features(const torch::Tensor& sigma) {
  // The same float32 steps as the authors' code: exp(-ln(10000) * j / 128).
  auto float32 = torch::TensorOptions().dtype(torch::kFloat32).device(sigma.device());
  torch::Tensor frequencies =
      torch::exp(torch::arange(0, frequency_count, float32) * -std::log(10000.0) /
                 static_cast<double>(frequency_count));
  torch::Tensor arguments = sigma.to(torch::kFloat32).unsqueeze(1) * frequencies.unsqueeze(0);
  return torch::cat({torch::cos(arguments), torch::sin(arguments)}, /*dim=*/1);
}

torch::Tensor SigmaEmbedderImpl::forward(const torch::Tensor& sigma) {
  torch::Tensor features = sinusoidal_features(sigma);
  torch::Tensor first_weight = mlp->ptr(0)->as<torch::nn::Linear>()->weight;
  return mlp->forward(features.to(first_weight.scalar_type()));
}

DiDiRNBlockImpl::DiDiRNBlockImpl(std::int64_t in_channels, std::int64_t channels,
                                 std::int64_t embed_dim, std::int64_t stride, bool bottleneck)
    : bottleneck_(bottleneck), out_channels_(bottleneck ? 4 * channels : channels) {
  // Registration order fixes the state_dict order of the authors' module:
  // conv/bn pairs, skip_connection, emb_layers, out_layers.
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
    skip_connection = register_module(
        "skip_connection", torch::nn::Sequential(make_conv(in_channels, out_channels_, 1, stride),
                                                 torch::nn::BatchNorm2d(out_channels_)));
  }

  emb_linear = torch::nn::Linear(embed_dim, out_channels_);
  emb_layers = register_module("emb_layers", torch::nn::Sequential(torch::nn::SiLU(), emb_linear));

  group_norm = torch::nn::GroupNorm(group_norm_groups(out_channels_), out_channels_);
  out_layers = register_module("out_layers", torch::nn::Sequential(group_norm, torch::nn::SiLU()));
}

torch::Tensor DiDiRNBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& emb) {
  torch::Tensor h = torch::relu(bn1(conv1(x)));
  if (bottleneck_) {
    h = torch::relu(bn2(conv2(h)));
    h = bn3(conv3(h));
  } else {
    h = bn2(conv2(h));
  }

  // emb [B, E] -> [B, C, 1, 1], broadcast over H x W.
  torch::Tensor conditioning = emb_linear(torch::silu(emb)).to(h.scalar_type());
  h = h + conditioning.unsqueeze(-1).unsqueeze(-1);

  // GroupNorm runs in float32 whatever the model's dtype, as the authors' GroupNorm32 does.
  h = torch::silu(group_norm(h.to(torch::kFloat32)).to(h.scalar_type()));

  torch::Tensor skip = skip_connection ? skip_connection->forward(x) : x;
  return torch::relu(h + skip);
}

DiDiRNImpl::DiDiRNImpl(const DiDiRNOptions& options) : options_(options) {
  ResNetLayout layout = resnet_layout(options.depth);
  std::int64_t base = base_channels(options.width);
  if (options.num_classes < 1) {
    throw UsageError(fmt::format("number of classes {}: invalid; it must be at least 1",
                                 options.num_classes));
  }
  if (options.embed_dim < 1) {
    throw UsageError(fmt::format("embedding width {}: invalid; it must be at least 1",
                                 options.embed_dim));
  }

  conv1 = register_module("conv1", make_stem_conv(options.stem, base));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(base));
  ff_emb = register_module("ff_emb", SigmaEmbedder(options.embed_dim));
  label_embedder = register_module(
      "label_embedder", torch::nn::Embedding(options.num_classes, options.embed_dim));

  std::int64_t in_channels = base;
  for (int stage = 0; stage < 4; ++stage) {
    std::int64_t channels = base << stage;
    torch::nn::ModuleList blocks;
    stages_.emplace_back();
    for (int j = 0; j < layout.blocks[stage]; ++j) {
      std::int64_t stride = (stage > 0 && j == 0) ? 2 : 1;
      DiDiRNBlock block(in_channels, channels, options.embed_dim, stride, layout.bottleneck);
      in_channels = block->out_channels();
      blocks->push_back(block);
      stages_.back().push_back(block);
    }
    register_module(fmt::format("layer{}", stage + 1), blocks);
  }

  fc = register_module("fc", torch::nn::Linear(in_channels, options.num_classes));
}

torch::Tensor DiDiRNImpl::forward_stem(const torch::Tensor& images) {
  return finish_stem(bn1(conv1(images)));
}

torch::Tensor DiDiRNImpl::embed(const torch::Tensor& labels, const torch::Tensor& sigma) {
  return ff_emb(sigma) + label_embedder(labels);
}

torch::Tensor DiDiRNImpl::forward_head(const torch::Tensor& features) {
  return fc(torch::adaptive_avg_pool2d(features, {1, 1}).flatten(1));
}

torch::Tensor DiDiRNImpl::forward(const torch::Tensor& images, const torch::Tensor& labels,
                                  const torch::Tensor& sigma) {
  check_inputs(images, labels, sigma);
  torch::Tensor out = forward_stem(images);
  torch::Tensor emb = embed(labels, sigma);
  for (const auto& blocks : stages_) {
    for (auto block : blocks) {
      out = block->forward(out, emb);
    }
  }
  return forward_head(out);
}

}  // namespace didicm
