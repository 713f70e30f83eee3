#include "score_entropy.h"

#include "counter_rng.h"
#include "errors.h"
#include "forward_process.h"
#include "noise_schedule.h"

#include <torch/torch.h>

namespace didicm {
namespace {

// Above this x = l - log r, e^x dominates and the direct form is exact enough.
constexpr double kDirectFormThreshold = 50.0;

}  // namespace

torch::Tensor draw_noisy_labels(const torch::Tensor& p_t, at::Generator& generator) {
  torch::Tensor u =
      torch::rand({p_t.size(0)}, generator, torch::dtype(torch::kDouble).device(p_t.device()));
  return draw_from_weights(p_t, u);
}

torch::Tensor score_ratios(const torch::Tensor& p_t, const torch::Tensor& labels) {
  torch::Tensor p = p_t.to(torch::kDouble);
  torch::Tensor own = p.gather(1, labels.to(p.device(), torch::kLong).reshape({-1, 1}));
  return p / own;
}

torch::Tensor score_entropy_per_example(const torch::Tensor& log_scores,
                                        const torch::Tensor& labels,
                                        const torch::Tensor& ratios) {
  if (log_scores.dim() != 2 || ratios.sizes() != log_scores.sizes() ||
      labels.numel() != log_scores.size(0)) {
    throw Error(fmt::format("score entropy: log-scores [{}], ratios [{}] and {} labels: "
                            "expected [B, N], [B, N] and B",
                            fmt::join(log_scores.sizes(), ", "), fmt::join(ratios.sizes(), ", "),
                            labels.numel()));
  }
  torch::Tensor l = mask_own_label(log_scores, labels).to(torch::kDouble);
  torch::Tensor r = ratios.to(l.device(), torch::kDouble);

  // exp(l) - r l + r (log r - 1) = r (e^x - 1 - x) with x = l - log r. The
  // unused branch of each where() gets harmless inputs, so that its gradient
  // (multiplied by 0) cannot be inf or NaN.
  torch::Tensor positive = r > 0;
  torch::Tensor log_r = torch::log(torch::where(positive, r, torch::ones_like(r)));
  torch::Tensor x = l - log_r;
  torch::Tensor large = x > kDirectFormThreshold;
  torch::Tensor x_small = torch::where(large, torch::zeros_like(x), x);
  torch::Tensor x_large = torch::where(large, x, torch::zeros_like(x));
  torch::Tensor near_form = r * (torch::expm1(x_small) - x_small);
  torch::Tensor direct_form = torch::exp(x_large + log_r) - r * (x_large + 1.0);
  torch::Tensor term = torch::where(large, direct_form, near_form);
  term = torch::where(positive, term, torch::exp(l));  // K(0) = 0 leaves exp(l)

  torch::Tensor own = torch::zeros_like(term, torch::kBool)
                          .scatter_(1, labels.to(l.device(), torch::kLong).reshape({-1, 1}), true);
  term = torch::where(own, torch::zeros_like(term), term);
  return term.sum(1) / static_cast<double>(l.size(1));
}

torch::Tensor score_entropy_loss(const torch::Tensor& log_scores, const torch::Tensor& labels,
                                 const torch::Tensor& ratios, const torch::Tensor& dsigma) {
  torch::Tensor per_example = score_entropy_per_example(log_scores, labels, ratios);
  return (dsigma.to(per_example.device(), torch::kDouble) * per_example).mean();
}

DiffusionLoss diffusion_loss(ScoreModel& model, const torch::Tensor& images,
                             const torch::Tensor& p0, at::Generator& generator,
                             double eps_train) {
  const torch::Device device = model.device();
  const std::int64_t batch = p0.size(0);
  if (p0.dim() != 2 || p0.size(1) != model.num_classes()) {
    throw Error(fmt::format("diffusion loss: targets [{}]: expected [batch, {}]",
                            fmt::join(p0.sizes(), ", "), model.num_classes()));
  }

  DiffusionLoss out;
  out.t = draw_train_times(batch, eps_train, generator, device);
  out.sigma = sigma_at(out.t);
  torch::Tensor dsigma = dsigma_at(out.t);

  torch::Tensor p_t = forward_marginal(p0.to(device), out.sigma);
  out.noisy_labels = draw_noisy_labels(p_t, generator);
  torch::Tensor ratios = score_ratios(p_t, out.noisy_labels);

  torch::Tensor log_scores = masked_log_scores(model, images, out.noisy_labels, out.sigma);
  out.per_example = dsigma * score_entropy_per_example(log_scores, out.noisy_labels, ratios);
  out.loss = out.per_example.mean();
  return out;
}

}  // namespace didicm
