#include "forward_process.h"

#include "errors.h"

#include <torch/torch.h>

namespace didicm {

torch::Tensor forward_marginal(const torch::Tensor& p0, const torch::Tensor& sigma) {
  if (p0.dim() != 2) {
    throw Error(fmt::format("forward process: p0 has {} dimensions: expected [batch, classes]",
                            p0.dim()));
  }
  torch::Tensor p = p0.to(torch::kDouble);
  torch::Tensor s = sigma.to(p.device(), torch::kDouble).reshape({-1, 1});
  if (s.size(0) != 1 && s.size(0) != p.size(0)) {
    throw Error(fmt::format("forward process: {} sigma values for a batch of {}: expected one per row",
                            s.size(0), p.size(0)));
  }

  const double n = static_cast<double>(p.size(1));
  torch::Tensor keep = torch::exp(-s);               // e^{-sigma}, [B, 1]
  torch::Tensor spread = -torch::expm1(-s) / n;      // (1 - e^{-sigma}) / N, [B, 1]
  return keep * p + spread;
}

torch::Tensor one_hot_probs(const torch::Tensor& labels, std::int64_t num_classes) {
  torch::Tensor flat = labels.to(torch::kLong).reshape({-1});
  if (flat.numel() > 0 && (flat.min().item<std::int64_t>() < 0 ||
                           flat.max().item<std::int64_t>() >= num_classes)) {
    throw Error(fmt::format("labels: a value lies outside [0, {}): check the class count",
                            num_classes));
  }
  torch::Tensor p = torch::zeros({flat.size(0), num_classes},
                                 torch::dtype(torch::kDouble).device(labels.device()));
  return p.scatter_(1, flat.unsqueeze(1), 1.0);
}

}  // namespace didicm
