#pragma once

// What the DiDiCM samplers return.

#include <torch/types.h>

#include <cstdint>

namespace didicm {

struct SamplerResult {
  torch::Tensor posterior;   // float32 [B, N], rows sum to 1
  std::int64_t nfe = 0;      // network calls per image (CP: S; CL: K * S)
  torch::Tensor trajectory;  // CP: float64 [B, S+1, N], p after every step (row 0 uniform);
                             // CL: int64 [B, K, S+1], labels of every chain; undefined unless requested
  torch::Tensor labels;      // CP: int64 [B, S], the conditioning label of each step;
                             // CL: int64 [B, K], the final label of every chain
};

}  // namespace didicm
