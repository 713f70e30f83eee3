#include "cp_sampler.h"

#include "counter_rng.h"
#include "errors.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace didicm {
namespace {

// The lowest index where `mask` [B, N] is true, per row.
torch::Tensor first_true_index(const torch::Tensor& mask) {
  const std::int64_t n = mask.size(1);
  torch::Tensor index = torch::arange(n, torch::dtype(torch::kLong).device(mask.device()));
  torch::Tensor candidates = torch::where(mask, index.expand_as(mask), torch::full_like(index, n));
  return std::get<0>(candidates.min(1));
}

// The three scaled terms of the update for one batch: value = e^m * u.
struct ScaledUpdate {
  torch::Tensor m;
  torch::Tensor u;
};

ScaledUpdate scaled_update(const torch::Tensor& p, const torch::Tensor& log_scores,
                           const torch::Tensor& h) {
  torch::Tensor p64 = p.to(torch::kDouble);
  torch::Tensor h64 = h.to(p64.device(), torch::kDouble).reshape({-1, 1});
  const double n = static_cast<double>(p64.size(1));

  // log q is finite for finite l. log p is -inf where p = 0, which only zeroes
  // terms. The in-place steps keep about six [B, N] float64 buffers alive.
  torch::Tensor log_q = torch::log_softmax(log_scores.to(p64.device()), 1, torch::kDouble);
  torch::Tensor log_p = torch::log(p64);
  torch::Tensor log_ratio = log_p - log_q;                       // log(p / q)
  torch::Tensor log_sum = torch::logsumexp(log_ratio, 1, true);  // log sum_j p_j / q_j
  torch::Tensor log_rate = torch::log(h64 / n);

  torch::Tensor gain = log_q.add_(log_rate + log_sum);  // log((h / N) q sum p / q)
  torch::Tensor loss = log_ratio.add_(log_rate);        // log((h / N) p / q)
  torch::Tensor m = torch::maximum(gain, loss);
  torch::maximum_out(m, m, log_p);
  m.masked_fill_(torch::isneginf(m), 0.0);  // h = 0 and p = 0: every term is 0

  torch::Tensor u = log_p.sub_(m).exp_();
  u.add_(gain.sub_(m).exp_());
  u.sub_(loss.sub_(m).exp_());
  return {m, u};
}

// Divides each row of `clamped` (modified in place) by its sum. A row whose sum
// is 0 takes the row of `previous` instead.
torch::Tensor renormalise(torch::Tensor clamped, const torch::Tensor& previous) {
  torch::Tensor total = clamped.sum(1, true);
  torch::Tensor empty = total <= 0;
  clamped.div_(total.masked_fill(empty, 1.0));
  if (empty.any().item<bool>()) {
    torch::Tensor rows = empty.squeeze(1);
    clamped.index_put_({rows}, previous.index({rows}).to(clamped.dtype()));
  }
  return clamped;
}

void check_update_inputs(const torch::Tensor& p, const torch::Tensor& log_scores,
                         const torch::Tensor& h) {
  if (p.dim() != 2 || log_scores.sizes() != p.sizes() || h.numel() != p.size(0)) {
    throw Error(fmt::format("CP update: p [{}], log-scores [{}] and {} step sizes: "
                            "expected [B, N], [B, N] and B",
                            fmt::join(p.sizes(), ", "), fmt::join(log_scores.sizes(), ", "),
                            h.numel()));
  }
}

}  // namespace

LabelSelect parse_label_select(const std::string& name) {
  if (name == "argmin" || name == "min") {
    return LabelSelect::argmin;
  }
  if (name == "argmax" || name == "max") {
    return LabelSelect::argmax;
  }
  if (name == "sample") {
    return LabelSelect::sample;
  }
  throw UsageError(fmt::format("label selection '{}': unknown: use argmin, argmax or sample", name));
}

const char* label_select_name(LabelSelect select) {
  switch (select) {
    case LabelSelect::argmin:
      return "argmin";
    case LabelSelect::argmax:
      return "argmax";
    case LabelSelect::sample:
      return "sample";
  }
  return "?";
}

torch::Tensor select_labels(const torch::Tensor& p, LabelSelect select, std::uint64_t seed,
                            const torch::Tensor& streams, std::uint64_t step) {
  switch (select) {
    case LabelSelect::argmin:
      return first_true_index(p == std::get<0>(p.min(1, true)));
    case LabelSelect::argmax:
      return first_true_index(p == std::get<0>(p.max(1, true)));
    case LabelSelect::sample:
      return draw_from_weights(p, counter_uniforms(seed, streams, step, p.device()));
  }
  throw Error("label selection: unknown mode");
}

torch::Tensor cp_update(const torch::Tensor& p, const torch::Tensor& log_scores,
                        const torch::Tensor& h) {
  check_update_inputs(p, log_scores, h);
  ScaledUpdate update = scaled_update(p, log_scores, h);
  // sign(u) e^{m + log|u|}; u = 0 gives exp(-inf) = 0, never 0 * inf.
  return torch::sign(update.u) * torch::exp(update.m + torch::log(update.u.abs()));
}

torch::Tensor cp_step(const torch::Tensor& p, const torch::Tensor& log_scores,
                      const torch::Tensor& h) {
  check_update_inputs(p, log_scores, h);
  ScaledUpdate update = scaled_update(p, log_scores, h);

  // clamp(e^m u, 0, 1) without forming e^m u: m is finite, so u <= 0 gives
  // exp(-inf) = 0, and an overflow of the exponent saturates at 1.
  torch::Tensor clamped = update.u.clamp_min_(0.0).log_().add_(update.m).exp_().clamp_max_(1.0);
  return renormalise(clamped, p);
}

torch::Tensor cp_update_dense(const torch::Tensor& p, const torch::Tensor& log_scores,
                              const torch::Tensor& h) {
  check_update_inputs(p, log_scores, h);
  const std::int64_t n = p.size(1);
  const auto options = p.options();

  torch::Tensor e = torch::exp(log_scores.to(options.dtype()));
  torch::Tensor s = e / e.sum(1, true);
  torch::Tensor m = s.unsqueeze(2) * torch::reciprocal(s).unsqueeze(1);  // [B, N, N]

  torch::Tensor eye = torch::eye(n, options);
  torch::Tensor forward_rates = (torch::ones({n, n}, options) - eye * static_cast<double>(n)) /
                                static_cast<double>(n);
  torch::Tensor rates = m * forward_rates;
  torch::Tensor column_sums = rates.sum(1);
  rates.diagonal(0, 1, 2).sub_(column_sums);

  torch::Tensor transition = eye + h.to(options.dtype()).reshape({-1, 1, 1}) * rates;
  return torch::bmm(transition, p.unsqueeze(2)).squeeze(2);
}

torch::Tensor cp_step_dense(const torch::Tensor& p, const torch::Tensor& log_scores,
                            const torch::Tensor& h) {
  return renormalise(cp_update_dense(p, log_scores, h).clamp_(0.0, 1.0), p);
}

SamplerResult sample_cp(ScoreModel& model, const torch::Tensor& images, const CpOptions& options) {
  TimeGrid grid = sampling_grid(options.steps, options.eps_sample);
  const torch::Device device = model.device();
  const std::int64_t batch = images.size(0);
  const std::int64_t n = model.num_classes();
  const auto f64 = torch::dtype(torch::kDouble).device(device);
  torch::NoGradGuard no_grad;

  torch::Tensor p = torch::full({batch, n}, 1.0 / static_cast<double>(n), f64);
  torch::Tensor streams =
      torch::arange(options.first_index, options.first_index + batch, torch::kLong);
  std::vector<torch::Tensor> trajectory{p};
  std::vector<torch::Tensor> labels;

  for (std::int64_t i = 0; i < grid.steps(); ++i) {
    torch::Tensor c = select_labels(p, options.select, options.seed, streams,
                                    static_cast<std::uint64_t>(i));
    torch::Tensor sigma = torch::full({batch}, grid.sigma[i], f64);
    torch::Tensor h = torch::full({batch}, grid.h[i], f64);
    torch::Tensor l = masked_log_scores(model, images, c, sigma);

    p = options.update == CpUpdate::linear ? cp_step(p, l, h)
                                           : cp_step_dense(p, l.to(torch::kDouble), h);
    labels.push_back(c);
    if (options.trajectory) {
      trajectory.push_back(p);
    }
  }

  SamplerResult result;
  result.posterior = p.to(torch::kFloat);
  result.nfe = grid.steps();
  result.labels = torch::stack(labels, 1);
  if (options.trajectory) {
    result.trajectory = torch::stack(trajectory, 1);
  }
  return result;
}

}  // namespace didicm
