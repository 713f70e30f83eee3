#pragma once

// The score-entropy training loss of DiDiCM (denoising score entropy on the
// uniform label chain), for one-hot or soft targets p0. Per example:
//   loss = dsigma * (1/N) * sum_{k != c} [ exp(l_k) - r_k l_k + K(r_k) ],
//   K(a) = a (log a - 1), K(0) = 0,   r_k = p_t[k] / p_t[c],
// where c ~ p_t is the noisy label and l the masked network output. Each
// summand is >= 0 and vanishes exactly at l_k = log r_k. The output is not
// clamped: clamping would cut the gradient of the entries that matter at small t.

#include "score_model.h"

#include <torch/types.h>

#include <cstdint>

namespace didicm {

// Draws one noisy label per row, c ~ Categorical(p_t): int64 [B] on p_t's
// device. `generator` must belong to that device.
torch::Tensor draw_noisy_labels(const torch::Tensor& p_t, at::Generator& generator);

// r[b, k] = p_t[b, k] / p_t[b, c_b]: float64 [B, N].
torch::Tensor score_ratios(const torch::Tensor& p_t, const torch::Tensor& labels);

// The bracketed sum times 1/N, before dsigma weighting: float64 [B],
// differentiable in log_scores ([B, N], any floating dtype, masked here).
// Each summand is evaluated as r (expm1(x) - x) with x = l - log r, which is the
// same value without cancellation near the optimum. Finite for finite log-scores
// up to about 700 and ratios in (0, 1e300); r = 0 gives exp(l).
torch::Tensor score_entropy_per_example(const torch::Tensor& log_scores,
                                        const torch::Tensor& labels,
                                        const torch::Tensor& ratios);

// mean_b(dsigma_b * per_example_b): a float64 scalar.
torch::Tensor score_entropy_loss(const torch::Tensor& log_scores, const torch::Tensor& labels,
                                 const torch::Tensor& ratios, const torch::Tensor& dsigma);

// One training evaluation: draw t, compute p_t in closed form, draw c, call
// the model and weight by dsigma.
struct DiffusionLoss {
  torch::Tensor loss;          // float64 scalar, the batch mean
  torch::Tensor per_example;   // float64 [B], dsigma-weighted
  torch::Tensor t;             // float64 [B]
  torch::Tensor sigma;         // float64 [B]
  torch::Tensor noisy_labels;  // int64 [B]
};

// images: [B, ...]; p0: [B, N] target distributions (rows sum to 1). The
// generator drives both draws and must belong to the model's device.
DiffusionLoss diffusion_loss(ScoreModel& model, const torch::Tensor& images,
                             const torch::Tensor& p0, at::Generator& generator,
                             double eps_train);

}  // namespace didicm
