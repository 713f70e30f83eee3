#include "mixup.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "rand_augment.h"

namespace didicm {

double gamma_draw(Rng& rng, double shape) {
  if (shape < 1.0) {
    // Gamma(a) = Gamma(a + 1) * U^(1 / a); 1 - uniform() avoids U = 0.
    return gamma_draw(rng, shape + 1.0) * std::pow(1.0 - rng.uniform(), 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = 0;
    double v = 0;
    do {
      x = normal_draw(rng);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = 1.0 - rng.uniform();  // in (0, 1]
    if (u < 1.0 - 0.0331 * x * x * x * x || std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) {
      return d * v;
    }
  }
}

double beta_draw(Rng& rng, double a, double b) {
  const double x = gamma_draw(rng, a);
  const double y = gamma_draw(rng, b);
  // Both draws can underflow to 0 for tiny shapes; then either end is as likely.
  if (x + y == 0.0) {
    return rng.bernoulli(a / (a + b)) ? 1.0 : 0.0;
  }
  return x / (x + y);
}

MixBox cutmix_box(int height, int width, double lambda, Rng& rng) {
  const double ratio = std::sqrt(std::max(0.0, 1.0 - lambda));
  const int cut_height = static_cast<int>(height * ratio);
  const int cut_width = static_cast<int>(width * ratio);
  const int center_y = static_cast<int>(rng.below(static_cast<std::uint64_t>(height)));
  const int center_x = static_cast<int>(rng.below(static_cast<std::uint64_t>(width)));
  MixBox box;
  box.top = std::clamp(center_y - cut_height / 2, 0, height);
  box.bottom = std::clamp(center_y + cut_height / 2, 0, height);
  box.left = std::clamp(center_x - cut_width / 2, 0, width);
  box.right = std::clamp(center_x + cut_width / 2, 0, width);
  return box;
}

MixupParams draw_mixup(const MixupConfig& config, int height, int width, Rng& rng) {
  MixupParams params;
  if (config.mixup_alpha > 0 && config.cutmix_alpha > 0) {
    params.cutmix = rng.uniform() < config.switch_probability;
  } else {
    params.cutmix = config.cutmix_alpha > 0;
  }
  const double alpha = params.cutmix ? config.cutmix_alpha : config.mixup_alpha;
  params.lambda = beta_draw(rng, alpha, alpha);
  if (params.cutmix) {
    params.box = cutmix_box(height, width, params.lambda, rng);
    const double area = static_cast<double>(params.box.bottom - params.box.top) *
                        (params.box.right - params.box.left);
    params.lambda = 1.0 - area / (static_cast<double>(height) * width);
  }
  return params;
}

at::Tensor mixup_targets(const at::Tensor& labels, std::int64_t num_classes, double lambda,
                         double smoothing) {
  const double off = smoothing / static_cast<double>(num_classes);
  const double on = 1.0 - smoothing + off;
  auto options = torch::TensorOptions().dtype(torch::kFloat64).device(labels.device());
  auto smoothed = [&](const at::Tensor& y) {
    return torch::full({y.size(0), num_classes}, off, options)
        .scatter_(1, y.unsqueeze(1), on);
  };
  at::Tensor own = smoothed(labels);
  if (lambda == 1.0) {
    return own;
  }
  return own * lambda + smoothed(labels.flip(0)) * (1.0 - lambda);
}

MixedBatch mix_batch(const at::Tensor& images, const at::Tensor& labels,
                     std::int64_t num_classes, const MixupParams& params, double smoothing) {
  MixedBatch result;
  result.targets = mixup_targets(labels, num_classes, params.lambda, smoothing);
  if (params.lambda == 1.0) {
    result.images = images;
    return result;
  }
  const at::Tensor partners = images.flip(0);
  if (params.cutmix) {
    result.images = images.clone();
    using torch::indexing::Slice;
    auto rows = Slice(params.box.top, params.box.bottom);
    auto columns = Slice(params.box.left, params.box.right);
    result.images.index_put_({Slice(), Slice(), rows, columns},
                             partners.index({Slice(), Slice(), rows, columns}));
  } else {
    result.images = images * params.lambda + partners * (1.0 - params.lambda);
  }
  return result;
}

}  // namespace didicm
