#pragma once

// Counter-based uniform numbers for the samplers: the draw for one row at one
// step depends only on (seed, stream id, step). A sampler that uses the global
// image index as stream id thus gives the same result whatever the batch size,
// batch order, thread count or device.

#include <torch/types.h>

#include <cstdint>

namespace didicm {

// Uniform float64 in [0, 1) with 53 random bits, from a SplitMix64-style mix of
// the three counters.
double counter_uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t step);

// counter_uniform for every stream id in `streams` (int64 [M]); float64 [M] on `device`.
torch::Tensor counter_uniforms(std::uint64_t seed, const torch::Tensor& streams, std::uint64_t step,
                               torch::Device device);

// Draws one index per row of non-negative weights [M, N] by inverting the
// cumulative sum at u * total (u: float64 [M] in [0, 1)). Entries of weight 0
// are never drawn. Returns int64 [M] on the weights' device.
torch::Tensor draw_from_weights(const torch::Tensor& weights, const torch::Tensor& u);

}  // namespace didicm
