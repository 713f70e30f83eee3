#include "cl_sampler.h"

#include "counter_rng.h"
#include "errors.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace didicm {

torch::Tensor cl_step_probs(const torch::Tensor& log_scores, const torch::Tensor& labels,
                            const torch::Tensor& h) {
  if (log_scores.dim() != 2 || labels.numel() != log_scores.size(0) ||
      h.numel() != log_scores.size(0)) {
    throw Error(fmt::format("CL step: log-scores [{}], {} labels and {} step sizes: "
                            "expected [M, N], M and M",
                            fmt::join(log_scores.sizes(), ", "), labels.numel(), h.numel()));
  }
  torch::Tensor l = log_scores.to(torch::kDouble);
  torch::Tensor h64 = h.to(l.device(), torch::kDouble).reshape({-1, 1});
  torch::Tensor own = labels.to(l.device(), torch::kLong).reshape({-1, 1});
  const double n = static_cast<double>(l.size(1));

  // log w_k = log(h / N) + l_k for k != c. The own label is left out of the sum.
  torch::Tensor log_w = (torch::log(h64 / n) + l).scatter(1, own, -std::numeric_limits<double>::infinity());
  torch::Tensor log_move = torch::logsumexp(log_w, 1, true);  // log(h sum_{k != c} s_k / N)

  // Moving mass below 1: w_c = 1 - e^log_move and the total is 1. At or above
  // 1: w_c = 0 and the off-diagonal weights are renormalised.
  torch::Tensor moves = torch::exp(log_w - log_move.clamp_min(0.0));
  torch::Tensor stay = torch::where(log_move < 0, -torch::expm1(log_move), torch::zeros_like(log_move));
  return moves.scatter(1, own, stay);
}

torch::Tensor cl_step(ScoreModel& model, const torch::Tensor& images, const torch::Tensor& labels,
                      const torch::Tensor& sigma, const torch::Tensor& h, std::uint64_t seed,
                      const torch::Tensor& streams, std::uint64_t step) {
  torch::Tensor l = masked_log_scores(model, images, labels, sigma);
  torch::Tensor probs = cl_step_probs(l, labels, h);
  return draw_from_weights(probs, counter_uniforms(seed, streams, step, probs.device()));
}

SamplerResult sample_cl(ScoreModel& model, const torch::Tensor& images, const ClOptions& options) {
  if (options.samples < 1) {
    throw UsageError(fmt::format("samples {}: invalid: use at least 1 chain per image",
                                 options.samples));
  }
  TimeGrid grid = sampling_grid(options.steps, options.eps_sample);
  const torch::Device device = model.device();
  const std::int64_t batch = images.size(0);
  const std::int64_t chains = options.samples;
  const std::int64_t rows = batch * chains;
  const std::int64_t n = model.num_classes();
  const auto f64 = torch::dtype(torch::kDouble).device(device);
  torch::NoGradGuard no_grad;

  // Row b * K + k is chain k of image b.
  torch::Tensor chain_images = images.repeat_interleave(chains, 0);
  torch::Tensor streams = torch::arange(options.first_index * chains,
                                        options.first_index * chains + rows, torch::kLong);

  torch::Tensor u = counter_uniforms(options.seed, streams, 0, device);
  torch::Tensor c = (u * static_cast<double>(n)).floor().to(torch::kLong).clamp_max(n - 1);
  std::vector<torch::Tensor> trajectory{c};

  for (std::int64_t i = 0; i < grid.steps(); ++i) {
    torch::Tensor sigma = torch::full({rows}, grid.sigma[i], f64);
    torch::Tensor h = torch::full({rows}, grid.h[i], f64);
    c = cl_step(model, chain_images, c, sigma, h, options.seed, streams,
                static_cast<std::uint64_t>(i) + 1);
    if (options.trajectory) {
      trajectory.push_back(c);
    }
  }

  SamplerResult result;
  torch::Tensor final_one_hot = torch::zeros({rows, n}, torch::dtype(torch::kFloat).device(device))
                                    .scatter_(1, c.unsqueeze(1), 1.0F);
  result.posterior = final_one_hot.reshape({batch, chains, n}).mean(1);
  result.nfe = chains * grid.steps();
  result.labels = c.reshape({batch, chains});
  if (options.trajectory) {
    result.trajectory = torch::stack(trajectory, 1).reshape({batch, chains, grid.steps() + 1});
  }
  return result;
}

}  // namespace didicm
