#pragma once

// The score-model contract shared by the loss and both samplers. A network maps
// (image y, noisy label c, sigma) to N log-scores l; after the mask l_c := 0,
// s_k = exp(l_k) estimates the concrete score p_t(k | y) / p_t(c | y).

#include <torch/types.h>

#include <cstdint>

namespace didicm {

class ScoreModel {
 public:
  virtual ~ScoreModel() = default;

  // images: [B, ...] as the network takes them; labels: int64 [B]; sigma:
  // float64 [B] (the model casts it to its own dtype). Returns the raw,
  // unmasked output [B, N], floating, on device().
  virtual torch::Tensor log_scores(const torch::Tensor& images, const torch::Tensor& labels,
                                   const torch::Tensor& sigma) = 0;

  virtual std::int64_t num_classes() const = 0;
  virtual torch::Device device() const = 0;
};

// Sets l[b, labels[b]] := 0 out of place, leaving the other entries and their
// gradients as they are (the masked entries get zero gradient). Multiplying by
// 1 - one_hot instead would turn an infinite output into NaN.
torch::Tensor mask_own_label(const torch::Tensor& log_scores, const torch::Tensor& labels);

// Calls the model and applies mask_own_label: the one place where the loss and
// the samplers obtain log-scores. Throws Error when the output is not [B, N].
torch::Tensor masked_log_scores(ScoreModel& model, const torch::Tensor& images,
                                const torch::Tensor& labels, const torch::Tensor& sigma);

}  // namespace didicm
