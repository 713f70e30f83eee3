#include "noise_schedule.h"

#include "errors.h"

#include <torch/torch.h>

#include <cmath>

namespace didicm {

double sigma_at(double t) { return -std::log1p(-(1.0 - kNoiseEps) * t); }

double dsigma_at(double t) { return (1.0 - kNoiseEps) / (1.0 - (1.0 - kNoiseEps) * t); }

torch::Tensor sigma_at(const torch::Tensor& t) { return -torch::log1p(-(t * (1.0 - kNoiseEps))); }

torch::Tensor dsigma_at(const torch::Tensor& t) {
  // A tensor numerator keeps the division in t's dtype, as PyTorch computes it.
  return torch::full_like(t, 1.0 - kNoiseEps) / (1.0 - (t * (1.0 - kNoiseEps)));
}

torch::Tensor draw_train_times(std::int64_t batch, double eps_train, at::Generator& generator,
                               torch::Device device) {
  if (!(eps_train >= 0.0 && eps_train < 1.0)) {
    throw UsageError(fmt::format("training time epsilon {}: out of range: use a value in [0, 1)",
                                 eps_train));
  }
  torch::Tensor u = torch::rand({batch}, generator, torch::dtype(torch::kDouble).device(device));
  return eps_train + (1.0 - eps_train) * u;
}

TimeGrid sampling_grid(std::int64_t steps, double eps_sample) {
  if (steps < 1) {
    throw UsageError(fmt::format("steps {}: invalid: use at least 1 step", steps));
  }
  if (!(eps_sample > 0.0 && eps_sample < 1.0)) {
    throw UsageError(fmt::format("sampling time epsilon {}: out of range: use a value in (0, 1)",
                                 eps_sample));
  }

  TimeGrid grid;
  grid.dt = (1.0 - eps_sample) / static_cast<double>(steps);
  for (std::int64_t i = 0; i < steps; ++i) {
    // linspace(1, eps, S): its spacing (1 - eps) / (S - 1) differs from dt on
    // purpose, because the authors' PyTorch sampler (omerb01/didicm) builds it so.
    double t = 1.0;
    if (i == steps - 1 && steps > 1) {
      t = eps_sample;
    } else if (i > 0) {
      t = 1.0 - (1.0 - eps_sample) * static_cast<double>(i) / static_cast<double>(steps - 1);
    }
    grid.t.push_back(t);
    grid.sigma.push_back(sigma_at(t));
    grid.dsigma.push_back(dsigma_at(t));
    grid.h.push_back(grid.dt * grid.dsigma.back());
  }
  return grid;
}

}  // namespace didicm
