#pragma once

// DiDiCM-CL: the reverse label diffusion run on sampled labels. K chains per
// image run batched together (B * K network rows):
//
//   c <- uniform random label
//   for i in 0..S-1:
//     s   <- exp(l(y, c, sigma(t_i)))                        s_c = 1
//     w_k <- h_i s_k / N (k != c),  w_c <- max(0, 1 - h_i sum_{k != c} s_k / N)
//     c   <- draw from w / sum w
//   posterior <- mean over the K chains of one_hot(c)        NFE = K * S

#include "noise_schedule.h"
#include "sampler_result.h"
#include "score_model.h"

#include <torch/types.h>

#include <cstdint>

namespace didicm {

struct ClOptions {
  std::int64_t steps = 2;
  std::int64_t samples = 16;    // K, chains per image
  double eps_sample = kSampleEpsDefault;
  bool trajectory = false;      // keep every chain's labels
  std::uint64_t seed = 0;
  std::int64_t first_index = 0;  // global index of images[0]: the draws of chain k of
                                 // image b depend on (seed, (first_index + b) K + k, step)
};

// The step distribution w / sum w: float64 [M, N] from masked log-scores [M, N],
// current labels int64 [M] and step sizes h [M]. Computed in the log domain
// (the stay weight as -expm1(log(h sum_{k != c} s_k / N))), so every finite
// log-score row gives a finite distribution.
torch::Tensor cl_step_probs(const torch::Tensor& log_scores, const torch::Tensor& labels,
                            const torch::Tensor& h);

// One CL step for every row: calls the model once on (images, labels, sigma)
// ([M, ...], int64 [M], float64 [M]) and draws the next labels with
// counter_uniform(seed, streams[m], step). Returns int64 [M].
torch::Tensor cl_step(ScoreModel& model, const torch::Tensor& images, const torch::Tensor& labels,
                      const torch::Tensor& sigma, const torch::Tensor& h, std::uint64_t seed,
                      const torch::Tensor& streams, std::uint64_t step);

// Runs K chains of S steps for every image in images [B, ...].
SamplerResult sample_cl(ScoreModel& model, const torch::Tensor& images, const ClOptions& options);

}  // namespace didicm
