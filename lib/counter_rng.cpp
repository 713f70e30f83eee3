#include "counter_rng.h"

#include <torch/torch.h>

namespace didicm {
namespace {

// The SplitMix64 finaliser: a bijection on 64 bits with full avalanche.
std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

double counter_uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t step) {
  constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
  std::uint64_t z = mix64(seed + kGolden);
  z = mix64(z ^ (stream + 2 * kGolden));
  z = mix64(z ^ (step + 3 * kGolden));
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

torch::Tensor counter_uniforms(std::uint64_t seed, const torch::Tensor& streams, std::uint64_t step,
                               torch::Device device) {
  torch::Tensor ids = streams.to(torch::kCPU, torch::kLong).contiguous();
  torch::Tensor u = torch::empty({ids.numel()}, torch::kDouble);
  const std::int64_t* id = ids.data_ptr<std::int64_t>();
  double* out = u.data_ptr<double>();
  for (std::int64_t i = 0; i < ids.numel(); ++i) {
    out[i] = counter_uniform(seed, static_cast<std::uint64_t>(id[i]), step);
  }
  return u.to(device);
}

torch::Tensor draw_from_weights(const torch::Tensor& weights, const torch::Tensor& u) {
  torch::Tensor w = weights.to(torch::kDouble);
  torch::Tensor cumulative = w.cumsum(1);
  torch::Tensor total = cumulative.select(1, -1);
  torch::Tensor target = (u.to(w.device(), torch::kDouble) * total).unsqueeze(1).contiguous();

  // The first index whose cumulative weight exceeds the target. A zero-weight
  // entry repeats its predecessor's sum, so it can never be that index.
  torch::Tensor index = torch::searchsorted(cumulative.contiguous(), target, false, true);
  return index.squeeze(1).clamp_max(w.size(1) - 1);
}

}  // namespace didicm
