#pragma once

// DiDiCM-CP: the reverse label diffusion run on whole class-probability vectors.
//
//   p <- uniform(1/N)
//   for i in 0..S-1:
//     c <- select(p)                          argmin (default), argmax or a draw from p
//     q <- softmax(l(y, c, sigma(t_i)))       l masked at c; q estimates p_t(. | y)
//     p <- p + (h_i / N) (q sum_j p_j / q_j - p / q),   h_i = dt * dsigma(t_i)
//     p <- clamp(p, 0, 1) / sum
//
// Derivation of the O(N) update: the reverse rate matrix is R[i, j] = q_i / (N q_j)
// for i != j, with R[j, j] = -(1 - q_j) / (N q_j) so that columns sum to zero
// (sum q = 1). Then
//   (R p)_i = (q_i / N) (sum_j p_j / q_j - p_i / q_i) - (1 - q_i) p_i / (N q_i)
//           = (1 / N) (q_i sum_j p_j / q_j - p_i / q_i),
// so (I + h R) p needs one reduction over j: O(N) per image instead of the
// N x N matrix of the dense form.

#include "sampler_result.h"
#include "score_model.h"
#include "noise_schedule.h"

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace didicm {

enum class LabelSelect { argmin, argmax, sample };

// "argmin" | "argmax" | "sample" (also "min" | "max"); anything else throws UsageError.
LabelSelect parse_label_select(const std::string& name);
const char* label_select_name(LabelSelect select);

enum class CpUpdate { linear, dense };

struct CpOptions {
  std::int64_t steps = 8;
  LabelSelect select = LabelSelect::argmin;
  double eps_sample = kSampleEpsDefault;
  bool trajectory = false;
  std::uint64_t seed = 0;         // used by LabelSelect::sample only
  std::int64_t first_index = 0;   // global index of images[0]: the draws of image b
                                  // depend on (seed, first_index + b, step) only
  CpUpdate update = CpUpdate::linear;  // dense: the O(N^2) oracle, for tests and benchmarks
};

// The conditioning label per row of p [B, N]: int64 [B]. Argmin and argmax break
// ties towards the lowest index; sample draws c ~ p with counter_uniform(seed,
// streams[b], step).
torch::Tensor select_labels(const torch::Tensor& p, LabelSelect select, std::uint64_t seed,
                            const torch::Tensor& streams, std::uint64_t step);

// One O(N) update before the clamp: p + (h / N) (q sum(p / q) - p / q) with
// q = softmax(log_scores). p: [B, N] probabilities; log_scores: [B, N] masked;
// h: [B]. Evaluated in float64 with every term scaled by its row maximum in the
// log domain, so no inf - inf or 0 / 0 arises: entries can only overflow to
// +-inf, never to NaN. Returns float64 [B, N].
torch::Tensor cp_update(const torch::Tensor& p, const torch::Tensor& log_scores,
                        const torch::Tensor& h);

// cp_update followed by clamp to [0, 1] and renormalisation: a finite
// probability vector for any finite log-scores. A row whose clamped entries
// are all 0 (possible only by rounding) keeps its previous p.
torch::Tensor cp_step(const torch::Tensor& p, const torch::Tensor& log_scores,
                      const torch::Tensor& h);

// The dense form, as the authors' PyTorch code (omerb01/didicm) computes it,
// in the inputs' dtype:
// s = exp(l) / sum exp(l), M[i, j] = s_i * (1 / s_j), R = M * F with
// F = (1 1^T - N I) / N, R[j, j] -= sum_i R[i, j], q = (I + h R) p.
// O(B N^2) time and memory. Returns q before the clamp.
torch::Tensor cp_update_dense(const torch::Tensor& p, const torch::Tensor& log_scores,
                              const torch::Tensor& h);
torch::Tensor cp_step_dense(const torch::Tensor& p, const torch::Tensor& log_scores,
                            const torch::Tensor& h);

// Runs S steps on images [B, ...] (NFE = S). Tensors stay on the model's device.
// The trajectory is float64 [B, S+1, N] here, so that it keeps the update's precision.
SamplerResult sample_cp(ScoreModel& model, const torch::Tensor& images, const CpOptions& options);

}  // namespace didicm
