#pragma once

// The forward (noising) process on class-probability vectors. The rate matrix
// Q = (1/N) 1 1^T - I has eigenvalue 0 on the all-ones vector and -1 on its
// orthogonal complement, so exp(sigma Q) = e^{-sigma} I + (1 - e^{-sigma}) 1 1^T / N
// and the forward marginal needs no eigendecomposition:
//   p_t = e^{-sigma} p0 + (1 - e^{-sigma}) / N        (O(B N), exact for sum(p0) = 1)

#include <torch/types.h>

#include <cstdint>

namespace didicm {

// p0: [B, N] rows summing to 1; sigma: [B] (or a scalar). Returns float64 [B, N]
// on p0's device. 1 - e^{-sigma} is computed as -expm1(-sigma), so p_t stays
// accurate for sigma near 0.
torch::Tensor forward_marginal(const torch::Tensor& p0, const torch::Tensor& sigma);

// One-hot float64 [B, N] rows from int64 labels [B]. Throws Error when a label
// lies outside [0, num_classes).
torch::Tensor one_hot_probs(const torch::Tensor& labels, std::int64_t num_classes);

}  // namespace didicm
