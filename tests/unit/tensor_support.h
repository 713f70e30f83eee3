#pragma once

// Test helpers for tensors: reading golden HDF5 datasets into tensors, error
// measures, and the score models the sampler and loss tests use.

#include "h5.h"
#include "forward_process.h"
#include "score_model.h"

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace didicm::testing {

// Reads a whole dataset as a CPU tensor of `type` (HDF5 converts the elements).
inline torch::Tensor read_tensor(const h5::Group& group, const std::string& name,
                                 torch::ScalarType type) {
  h5::Dims dims = group.dims(name);
  std::vector<std::int64_t> shape(dims.begin(), dims.end());
  if (type == torch::kLong) {
    auto values = group.read<std::int64_t>(name);
    return torch::tensor(values, torch::kLong).reshape(shape);
  }
  if (type == torch::kFloat) {
    auto values = group.read<float>(name);
    return torch::tensor(values, torch::kFloat).reshape(shape);
  }
  auto values = group.read<double>(name);
  return torch::tensor(values, torch::kDouble).reshape(shape);
}

inline std::vector<std::int64_t> shape_of(const torch::Tensor& values) {
  return values.sizes().vec();
}

inline double max_abs_error(const torch::Tensor& actual, const torch::Tensor& expected) {
  return (actual.to(torch::kDouble) - expected.to(torch::kDouble)).abs().max().item<double>();
}

// max |actual - expected| / |expected| over entries with expected != 0.
inline double max_relative_error(const torch::Tensor& actual, const torch::Tensor& expected) {
  torch::Tensor e = expected.to(torch::kDouble);
  torch::Tensor error = (actual.to(torch::kDouble) - e).abs() / e.abs();
  return error.masked_select(e != 0).max().item<double>();
}

inline double max_abs(const torch::Tensor& values) {
  return values.to(torch::kDouble).abs().max().item<double>();
}

inline bool all_finite(const torch::Tensor& values) {
  return torch::isfinite(values).all().item<bool>();
}

// The fake model of the golden sampler cases. The "image" of row b is its
// index into L and Bm; in the model's dtype,
//   out[b, k] = (L[img_b, k] + (sigma_b * Bm[img_b, k]) * 0.1) + C[c_b, k].
class FakeScoreModel : public ScoreModel {
 public:
  FakeScoreModel(torch::Tensor l, torch::Tensor bm, torch::Tensor c, torch::ScalarType type)
      : l_(l.to(type)), bm_(bm.to(type)), c_(c.to(type)), type_(type) {}

  torch::Tensor log_scores(const torch::Tensor& images, const torch::Tensor& labels,
                           const torch::Tensor& sigma) override {
    ++calls;
    rows += images.size(0);
    torch::Tensor rows_l = l_.index_select(0, images);
    torch::Tensor rows_bm = bm_.index_select(0, images);
    torch::Tensor s = sigma.to(type_).unsqueeze(1);
    torch::Tensor tenth = torch::full({}, 0.1, torch::dtype(type_));
    return (rows_l + (s * rows_bm) * tenth) + c_.index_select(0, labels);
  }
  std::int64_t num_classes() const override { return l_.size(1); }
  torch::Device device() const override { return torch::kCPU; }

  std::int64_t calls = 0;
  std::int64_t rows = 0;

 private:
  torch::Tensor l_, bm_, c_;
  torch::ScalarType type_;
};

// A perfect score model: for image b with known target distribution p0[b], it
// returns the exact log-ratios log p_t[k] - log p_t[c] of the forward marginal.
class PerfectScoreModel : public ScoreModel {
 public:
  explicit PerfectScoreModel(torch::Tensor p0) : p0_(p0.to(torch::kDouble)) {}

  torch::Tensor log_scores(const torch::Tensor& images, const torch::Tensor& labels,
                           const torch::Tensor& sigma) override {
    torch::Tensor log_p = torch::log(forward_marginal(p0_.index_select(0, images), sigma));
    return log_p - log_p.gather(1, labels.reshape({-1, 1}));
  }
  std::int64_t num_classes() const override { return p0_.size(1); }
  torch::Device device() const override { return torch::kCPU; }

 private:
  torch::Tensor p0_;
};

}  // namespace didicm::testing
