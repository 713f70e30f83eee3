#pragma once

// Mixup and CutMix on a batch, as timm's Mixup with mode 'batch' and
// mix_prob 1.0: one lambda and one choice between Mixup and CutMix per batch,
// the mixing partner of row i is row B - 1 - i (the batch flipped, so in an
// odd batch the middle row pairs with itself), and the soft targets are
//   lambda * smooth(y) + (1 - lambda) * smooth(flip(y)),
//   smooth(y) = one_hot(y) * (1 - smoothing) + smoothing / N.
// CutMix replaces a box of every image by the partner's pixels and sets lambda
// to 1 - (area of the box clipped to the image) / (image area), as timm does
// with correct_lam. Draws come from didicm::Rng, so a (seed, step) pair gives
// the same mix on every machine.

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "rng.h"

namespace didicm {

struct MixupConfig {
  double mixup_alpha = 0;   // Beta(alpha, alpha) for Mixup; 0 disables Mixup
  double cutmix_alpha = 0;  // Beta(alpha, alpha) for CutMix; 0 disables CutMix
  double switch_probability = 0.5;  // chance of CutMix when both are enabled
  double smoothing = 0;     // label smoothing of the soft targets

  bool enabled() const { return mixup_alpha > 0 || cutmix_alpha > 0; }
};

// A box of rows [top, bottom) and columns [left, right), clipped to the image.
struct MixBox {
  int top = 0;
  int bottom = 0;
  int left = 0;
  int right = 0;
};

// The random choices of one batch.
struct MixupParams {
  bool cutmix = false;
  double lambda = 1;  // weight of the row's own target; for CutMix, after the area correction
  MixBox box;         // CutMix only
};

// A Gamma(shape, 1) draw by Marsaglia and Tsang's method (shape > 0; a shape
// below 1 is boosted by U^(1 / shape)).
double gamma_draw(Rng& rng, double shape);

// A Beta(a, b) draw from two Gamma draws: X / (X + Y).
double beta_draw(Rng& rng, double a, double b);

// timm's rand_bbox: a box of int(H sqrt(1 - lambda)) x int(W sqrt(1 - lambda))
// centered on a uniform pixel, its half sides floored, clipped to the image.
MixBox cutmix_box(int height, int width, double lambda, Rng& rng);

// Draws the choice between Mixup and CutMix (only when both are enabled),
// lambda, and the CutMix box. `config.enabled()` must be true.
MixupParams draw_mixup(const MixupConfig& config, int height, int width, Rng& rng);

// Soft targets float64 [B, N] from labels int64 [B]: lambda times the
// smoothed one-hot rows plus (1 - lambda) times those of the flipped batch.
at::Tensor mixup_targets(const at::Tensor& labels, std::int64_t num_classes, double lambda,
                         double smoothing);

// Mixes images [B, C, H, W] (a new tensor, the input is unchanged) as
// `params` specify and returns the images with their soft targets.
struct MixedBatch {
  at::Tensor images;
  at::Tensor targets;  // float64 [B, N], rows sum to 1
};
MixedBatch mix_batch(const at::Tensor& images, const at::Tensor& labels,
                     std::int64_t num_classes, const MixupParams& params, double smoothing);

}  // namespace didicm
