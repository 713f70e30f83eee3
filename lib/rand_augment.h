#pragma once

// RandAugment as timm 0.9 configures it with `rand-m7-mstd0.5-inc1`: each
// image gets `num_ops` operations drawn uniformly with replacement from the
// 15 "increasing" transforms below, each applied with probability 0.5 at a
// magnitude drawn from N(magnitude, magnitude_std) and clipped to [0, 10].
// Signed ops (rotate, shear, translate, the enhancers) flip their sign with
// probability 0.5. Every op works on uint8 HWC RGB images with the pixel
// semantics of Pillow (ImageOps, ImageEnhance, Image.transform with
// BILINEAR resampling); every op matched Pillow 9.4 pixel for pixel on a
// random 7x9 image. Torch-free, so data loader workers run it.
//
// Differences from timm: draws come from didicm::Rng (a seed gives other,
// equally distributed choices), and geometric ops always resample bilinearly,
// where timm's default training pipeline picks bilinear or bicubic at random.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "rng.h"

namespace didicm {

enum class RandAugmentOp : std::uint8_t {
  auto_contrast,
  equalize,
  invert,
  rotate,
  posterize_increasing,
  solarize_increasing,
  solarize_add,
  color_increasing,
  contrast_increasing,
  brightness_increasing,
  sharpness_increasing,
  shear_x,
  shear_y,
  translate_x_rel,
  translate_y_rel,
};

constexpr int rand_augment_op_count = 15;

// The op's name as timm spells it ("AutoContrast", "PosterizeIncreasing", ...).
const char* rand_augment_op_name(RandAugmentOp op);

struct RandAugmentConfig {
  int num_ops = 0;          // ops per image (timm's n); 0 disables RandAugment
  double magnitude = 9;     // timm's m, on the 0..10 scale
  double magnitude_std = 0; // Gaussian noise of the magnitude per op; 0: fixed
  double probability = 0.5; // chance that a drawn op is applied
  std::array<std::uint8_t, 3> fill{124, 116, 104};  // RGB of pixels moved in from outside
};

// Parses timm's spec `rand-mM-mstdS-incI[-nN]` (sections after `rand` in any
// order, each at most once; n defaults to 2, mstd to 0). Only inc1 (the
// increasing transforms) is supported. Throws UsageError naming the spec.
RandAugmentConfig parse_rand_augment(const std::string& spec);

// One drawn op: which, and its argument after the level mapping (degrees for
// rotate, bits to keep for posterize, threshold for solarize, added value for
// solarize_add, enhancement factor, shear factor, translation as a fraction of
// the image side). Ops without an argument ignore it.
struct RandAugmentStep {
  RandAugmentOp op = RandAugmentOp::invert;
  double argument = 0;
};

// Draws the ops of one image: an op index, then whether it applies, then its
// magnitude and sign. Ops that do not apply are left out of the result.
std::vector<RandAugmentStep> draw_rand_augment(const RandAugmentConfig& config, Rng& rng);

// Applies one op in place to a uint8 HWC RGB image of height x width.
void apply_rand_augment_step(const RandAugmentStep& step, std::uint8_t* pixels, int height,
                             int width, const std::array<std::uint8_t, 3>& fill);

// Applies Pillow's Image.transform(AFFINE, coefficients, BILINEAR, fillcolor):
// the output pixel (x, y) samples the input at (a x + b y + c, d x + e y + f),
// measured at pixel centers. Samples outside the image take `fill`.
void affine_transform(std::uint8_t* pixels, int height, int width,
                      const std::array<double, 6>& coefficients,
                      const std::array<std::uint8_t, 3>& fill);

// A standard normal draw (Box-Muller on two uniforms).
double normal_draw(Rng& rng);

}  // namespace didicm
