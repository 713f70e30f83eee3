#pragma once

// Image transforms of the Weak Aug training recipe and of evaluation, on
// uint8 HWC RGB images, written as normalized float32 CHW into a caller's
// buffer (a slice of a batch tensor). Torch-free, so worker threads run them
// without touching LibTorch.
//
// Training: random resized crop (torchvision RandomResizedCrop.get_params),
// bilinear resize to the input size, horizontal flip, color jitter
// (brightness, contrast, saturation in a random order, as torchvision's
// ColorJitter), normalization.
// Evaluation: a stored image of exactly size x size passes unchanged. Any
// other is resized so its shorter side is floor(size / 0.875), as timm does
// with crop_pct 0.875, and then center-cropped to size x size.
//
// Differences from torchvision on PIL images, which the authors' pipeline uses:
// the transforms work in float and do not round to uint8 between steps, and
// draws come from didicm::Rng instead of torch's generator, so a seed gives
// other (equally distributed) crops than in PyTorch.

#include <array>
#include <cstdint>
#include <vector>

#include "rand_augment.h"
#include "rng.h"

namespace didicm {

// A read-only uint8 RGB image in HWC order, rows contiguous.
struct ImageView {
  const std::uint8_t* pixels = nullptr;
  int height = 0;
  int width = 0;
};

// Per-channel normalization applied to values in [0, 1]: (v - mean) / std.
struct Normalization {
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};  // ImageNet
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
};

struct AugmentConfig {
  double scale_min = 0.08;  // crop area as a fraction of the image area
  double scale_max = 1.0;
  double ratio_min = 3.0 / 4.0;  // crop width / height, drawn log-uniform
  double ratio_max = 4.0 / 3.0;
  double flip_probability = 0.5;
  // Jitter strengths s: factors uniform in [max(0, 1 - s), 1 + s]; 0 disables.
  double brightness = 0.4;
  double contrast = 0.4;
  double saturation = 0.4;
  // RandAugment after the flip (num_ops 0: off). Its fill color is set by the
  // caller, timm uses round(255 * mean) of the normalization.
  RandAugmentConfig rand_augment;
  Normalization normalization;
};

// A crop rectangle in pixels, inside the image.
struct CropBox {
  int top = 0;
  int left = 0;
  int height = 0;
  int width = 0;
};

enum class JitterOp : std::uint8_t { brightness, contrast, saturation };

// Every random choice of one training transform.
struct TrainAugmentParams {
  CropBox crop;
  bool flip = false;
  std::array<JitterOp, 3> jitter_order{JitterOp::brightness, JitterOp::contrast,
                                       JitterOp::saturation};
  // Factor 1 for an op whose strength is 0 (it does nothing).
  double brightness_factor = 1.0;
  double contrast_factor = 1.0;
  double saturation_factor = 1.0;
  std::vector<RandAugmentStep> rand_augment;  // applied ops, empty without RandAugment
  std::array<std::uint8_t, 3> fill{124, 116, 104};  // RandAugment's fill color
};

// Draws a crop as torchvision's RandomResizedCrop.get_params does. Each of up
// to 10 attempts draws an area fraction in [scale_min, scale_max] and a
// log-uniform aspect ratio, and the first whose rounded crop fits the image
// gets a uniform position. If none fits, the result is the largest centered
// crop with a ratio in the range. Python's round (half to even) is reproduced.
CropBox random_resized_crop_box(int height, int width, const AugmentConfig& config, Rng& rng);

// Draws the crop, then the flip, then the jitter order and factors, then (if
// enabled) the RandAugment ops.
TrainAugmentParams draw_train_params(int height, int width, const AugmentConfig& config, Rng& rng);

// Applies `params` to `image`: crop, resize to size x size, flip, jitter,
// normalize. With RandAugment ops, the flipped image is rounded to uint8 (as
// Pillow stores it), the ops run on it, and jitter and normalization follow. `out` receives 3 * size * size floats, channel-major (CHW).
void apply_train_transform(const ImageView& image, const TrainAugmentParams& params, int size,
                           const Normalization& normalization, float* out);

// draw_train_params from Rng(seed), then apply_train_transform.
void train_transform(const ImageView& image, int size, const AugmentConfig& config,
                     std::uint64_t seed, float* out);

// The evaluation transform described above; `out` receives 3 * size * size floats.
void eval_transform(const ImageView& image, int size, const Normalization& normalization,
                    float* out);

// Resamples the crop `box` of `image` to out_height x out_width with a
// bilinear (triangle) filter whose support widens with the downscale factor,
// as PIL's BILINEAR resize does, so downscaling is antialiased and upscaling
// equals bilinear interpolation with half-pixel centers (align_corners=False).
// Samples come only from inside the box. `out` receives float CHW values in
// [0, 255], 3 * out_height * out_width of them.
void resize_bilinear(const ImageView& image, const CropBox& box, int out_height, int out_width,
                     float* out);

}  // namespace didicm
