#pragma once

// DiDiRN: a ResNet whose residual blocks are conditioned on a noisy class
// label and the noise level sigma. It is the score model of Discrete Diffusion
// Classification Modeling (DiDiCM). The layer names and the order of
// operations follow the authors' PyTorch code (omerb01/didicm,
// didicm/models/didirn.py), so that their checkpoints can be imported.

#include "resnet_layout.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace didicm {

struct DiDiRNOptions {
  int depth = 18;                   // 18, 34, 50, 101 or 152
  std::int64_t num_classes = 1000;  // N: label table rows and output size
  std::int64_t embed_dim = 128;     // E: width of the conditioning vector
  Stem stem = Stem::compact;
  double width = 1.0;  // multiplies the 64 base channels
};

// Embeds sigma: 256 sinusoidal features, then Linear(256, E), SiLU, Linear(E, E).
class SigmaEmbedderImpl : public torch::nn::Module {
 public:
  static constexpr std::int64_t frequency_count = 128;  // cos and sin each

  explicit SigmaEmbedderImpl(std::int64_t embed_dim);

  // sigma [B] -> float32 [B, 256] = [cos(sigma * f_j), sin(sigma * f_j)],
  // f_j = exp(-ln(10000) * j / 128), j = 0..127, always computed in float32.
  static torch::Tensor sinusoidal_features(const torch::Tensor& sigma);

  // sigma [B] -> [B, E] in the dtype of the MLP weights.
  torch::Tensor forward(const torch::Tensor& sigma);

  torch::nn::Sequential mlp{nullptr};  // mlp.0: Linear, mlp.1: SiLU, mlp.2: Linear
};
TORCH_MODULE(SigmaEmbedder);

// One conditioned residual block, BasicBlock or Bottleneck:
//   h = F(x) up to its last BatchNorm
//   h = SiLU(GroupNorm(h + Linear(SiLU(emb))))   (GroupNorm computed in float32)
//   out = ReLU(h + skip(x))
// skip is identity, or conv 1x1 with the block's stride + BatchNorm when the
// shape changes. A Bottleneck puts its stride on the 3x3 convolution.
class DiDiRNBlockImpl : public torch::nn::Module {
 public:
  DiDiRNBlockImpl(std::int64_t in_channels, std::int64_t channels, std::int64_t embed_dim,
                  std::int64_t stride, bool bottleneck);

  // x [B, in, H, W], emb [B, E] -> [B, out_channels(), H / stride, W / stride]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& emb);

  std::int64_t out_channels() const { return out_channels_; }

 private:
  bool bottleneck_;
  std::int64_t out_channels_;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential skip_connection{nullptr};  // null for the identity
  torch::nn::Sequential emb_layers{nullptr};       // SiLU, Linear(E, out)
  torch::nn::Sequential out_layers{nullptr};       // GroupNorm, SiLU
  torch::nn::Linear emb_linear{nullptr};           // emb_layers.1
  torch::nn::GroupNorm group_norm{nullptr};        // out_layers.0
};
TORCH_MODULE(DiDiRNBlock);

class DiDiRNImpl : public torch::nn::Module {
 public:
  explicit DiDiRNImpl(const DiDiRNOptions& options);

  // images float [B, 3, H, W], labels int64 [B] in 0..N-1, sigma [B] (total
  // noise, 0 to about 6.9) -> log-scores [B, N]. The caller sets the entry at
  // the label to 0 where the score model contract needs it.
  torch::Tensor forward(const torch::Tensor& images, const torch::Tensor& labels,
                        const torch::Tensor& sigma);

  // The steps of forward(), public so that tests can check intermediates.
  torch::Tensor forward_stem(const torch::Tensor& images);  // conv1, bn1, ReLU, max-pool
  torch::Tensor embed(const torch::Tensor& labels, const torch::Tensor& sigma);  // [B, E]
  const std::vector<DiDiRNBlock>& stage(int index) const { return stages_.at(index); }
  torch::Tensor forward_head(const torch::Tensor& features);  // average pool, fc

  const DiDiRNOptions& options() const { return options_; }

 private:
  DiDiRNOptions options_;
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  SigmaEmbedder ff_emb{nullptr};
  torch::nn::Embedding label_embedder{nullptr};
  std::vector<std::vector<DiDiRNBlock>> stages_;  // registered as layer1..layer4
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(DiDiRN);

}  // namespace didicm
