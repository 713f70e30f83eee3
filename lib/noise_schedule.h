#pragma once

// The log-linear noise schedule of the label diffusion:
//   sigma(t)  = -log(1 - (1 - eps) t)            (total noise, eps = 1e-3)
//   dsigma(t) = (1 - eps) / (1 - (1 - eps) t)    (its rate, d sigma / d t)
// so exp(-sigma(t)) = 1 - (1 - eps) t, sigma(1) = -log(1e-3) and dsigma(1) = 999.
// Training and sampling share this schedule. The training and sampling epsilons
// below are other constants: they bound the time range, not the noise.

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace didicm {

constexpr double kNoiseEps = 1e-3;          // the schedule's own epsilon
constexpr double kTrainEpsDefault = 1e-5;   // training draws t in [eps_train, 1)
constexpr double kSampleEpsDefault = 1e-5;  // last time of the sampling grid

double sigma_at(double t);
double dsigma_at(double t);

// Elementwise on a floating tensor of times. The arithmetic runs in the
// tensor's dtype, so a float32 `t` gives the float32 values PyTorch gives.
torch::Tensor sigma_at(const torch::Tensor& t);
torch::Tensor dsigma_at(const torch::Tensor& t);

// Draws training times t = eps_train + (1 - eps_train) u, u ~ U[0, 1): float64 [batch]
// on `device`. Throws UsageError unless 0 <= eps_train < 1.
torch::Tensor draw_train_times(std::int64_t batch, double eps_train, at::Generator& generator,
                               torch::Device device = torch::kCPU);

// The sampling grid of S steps: t_i = linspace(1, eps_sample, S)[i] (both ends
// included, S = 1 gives t_0 = 1) and one fixed step dt = (1 - eps_sample) / S.
// Step i moves the state by h_i = dt * dsigma(t_i) in sigma.
struct TimeGrid {
  std::vector<double> t;
  std::vector<double> sigma;
  std::vector<double> dsigma;
  std::vector<double> h;  // dt * dsigma[i]
  double dt = 0.0;

  std::int64_t steps() const { return static_cast<std::int64_t>(t.size()); }
};

// Throws UsageError unless steps >= 1 and 0 < eps_sample < 1.
TimeGrid sampling_grid(std::int64_t steps, double eps_sample = kSampleEpsDefault);

}  // namespace didicm
