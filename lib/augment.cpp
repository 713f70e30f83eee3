#include "augment.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace didicm {

namespace {

// Python's round(): to nearest, ties to even (the default floating-point
// rounding mode, which std::nearbyint follows).
int python_round(double value) { return static_cast<int>(std::nearbyint(value)); }

// torchvision's rgb_to_grayscale weights.
constexpr float kGrayRed = 0.2989f;
constexpr float kGrayGreen = 0.587f;
constexpr float kGrayBlue = 0.114f;

// Resampling weights along one axis: output i reads `count[i]` input samples
// from `first[i]` on, weighted by weights[i * taps ...].
struct AxisWeights {
  std::vector<int> first;
  std::vector<int> count;
  std::vector<float> weights;
  int taps = 0;
};

// The triangle filter of PIL's BILINEAR, scaled by the downscale factor so
// that each output averages all the input it covers.
AxisWeights axis_weights(int in_start, int in_length, int out_length) {
  const double scale = static_cast<double>(in_length) / out_length;
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter_scale;

  AxisWeights axis;
  axis.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  axis.first.resize(out_length);
  axis.count.resize(out_length);
  axis.weights.assign(static_cast<std::size_t>(out_length) * axis.taps, 0.0f);

  std::vector<double> row(axis.taps);
  for (int i = 0; i < out_length; ++i) {
    const double center = (i + 0.5) * scale;
    const int low = std::max(0, static_cast<int>(std::floor(center - support + 0.5)));
    const int high = std::min(in_length, static_cast<int>(std::floor(center + support + 0.5)));

    double total = 0.0;
    for (int x = low; x < high; ++x) {
      const double distance = (x - center + 0.5) / filter_scale;
      row[x - low] = std::max(0.0, 1.0 - std::abs(distance));
      total += row[x - low];
    }
    // The nearest input sample lies within half a pixel of the center, so
    // total > 0.
    for (int x = low; x < high; ++x) {
      axis.weights[static_cast<std::size_t>(i) * axis.taps + (x - low)] =
          static_cast<float>(row[x - low] / total);
    }
    axis.first[i] = in_start + low;
    axis.count[i] = high - low;
  }
  return axis;
}

void flip_horizontally(float* planes, int height, int width) {
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < height; ++y) {
      float* row = planes + (static_cast<std::size_t>(c) * height + y) * width;
      std::reverse(row, row + width);
    }
  }
}

float clamp_pixel(float value) { return std::min(255.0f, std::max(0.0f, value)); }

void adjust_brightness(float* planes, std::size_t area, float factor) {
  for (std::size_t k = 0; k < 3 * area; ++k) {
    planes[k] = clamp_pixel(planes[k] * factor);
  }
}

// Blends with the mean of the grayscale image, as torchvision's adjust_contrast.
void adjust_contrast(float* planes, std::size_t area, float factor) {
  const float* red = planes;
  const float* green = planes + area;
  const float* blue = planes + 2 * area;
  double sum = 0.0;
  for (std::size_t k = 0; k < area; ++k) {
    sum += kGrayRed * red[k] + kGrayGreen * green[k] + kGrayBlue * blue[k];
  }
  const float offset = static_cast<float>((1.0 - factor) * sum / static_cast<double>(area));
  for (std::size_t k = 0; k < 3 * area; ++k) {
    planes[k] = clamp_pixel(factor * planes[k] + offset);
  }
}

// Blends each pixel with its own grayscale value, as torchvision's adjust_saturation.
void adjust_saturation(float* planes, std::size_t area, float factor) {
  float* red = planes;
  float* green = planes + area;
  float* blue = planes + 2 * area;
  for (std::size_t k = 0; k < area; ++k) {
    const float gray = kGrayRed * red[k] + kGrayGreen * green[k] + kGrayBlue * blue[k];
    const float offset = (1.0f - factor) * gray;
    red[k] = clamp_pixel(factor * red[k] + offset);
    green[k] = clamp_pixel(factor * green[k] + offset);
    blue[k] = clamp_pixel(factor * blue[k] + offset);
  }
}

// Maps [0, 255] values to (v / 255 - mean) / std in place.
void normalize(float* planes, std::size_t area, const Normalization& normalization) {
  for (int c = 0; c < 3; ++c) {
    const float scale = 1.0f / (255.0f * normalization.std[c]);
    const float shift = normalization.mean[c] / normalization.std[c];
    float* plane = planes + c * area;
    for (std::size_t k = 0; k < area; ++k) {
      plane[k] = plane[k] * scale - shift;
    }
  }
}

double jitter_factor(double strength, Rng& rng) {
  if (strength <= 0) {
    return 1.0;
  }
  return rng.uniform(std::max(0.0, 1.0 - strength), 1.0 + strength);
}

}  // namespace

void resize_bilinear(const ImageView& image, const CropBox& box, int out_height, int out_width,
                     float* out) {
  if (box.height == out_height && box.width == out_width) {
    // The filter weights are exactly 1 on the same pixel: a plain copy.
    const std::size_t area = static_cast<std::size_t>(out_height) * out_width;
    for (int y = 0; y < out_height; ++y) {
      const std::uint8_t* source =
          image.pixels + (static_cast<std::size_t>(box.top + y) * image.width + box.left) * 3;
      for (int x = 0; x < out_width; ++x) {
        for (int c = 0; c < 3; ++c) {
          out[c * area + static_cast<std::size_t>(y) * out_width + x] = source[3 * x + c];
        }
      }
    }
    return;
  }

  const AxisWeights columns = axis_weights(box.left, box.width, out_width);
  const AxisWeights rows = axis_weights(box.top, box.height, out_height);

  // Horizontal pass over the rows of the box into channel planes
  // [3][box.height][out_width].
  const std::size_t plane = static_cast<std::size_t>(box.height) * out_width;
  thread_local std::vector<float> horizontal;
  horizontal.resize(3 * plane);
  for (int y = 0; y < box.height; ++y) {
    const std::uint8_t* source =
        image.pixels + (static_cast<std::size_t>(box.top + y) * image.width) * 3;
    float* red_row = horizontal.data() + static_cast<std::size_t>(y) * out_width;
    float* green_row = red_row + plane;
    float* blue_row = green_row + plane;
    for (int x = 0; x < out_width; ++x) {
      const float* weights = columns.weights.data() + static_cast<std::size_t>(x) * columns.taps;
      const std::uint8_t* pixel = source + static_cast<std::size_t>(columns.first[x]) * 3;
      float red = 0.0f;
      float green = 0.0f;
      float blue = 0.0f;
      for (int k = 0; k < columns.count[x]; ++k) {
        red += weights[k] * pixel[3 * k];
        green += weights[k] * pixel[3 * k + 1];
        blue += weights[k] * pixel[3 * k + 2];
      }
      red_row[x] = red;
      green_row[x] = green;
      blue_row[x] = blue;
    }
  }

  // Vertical pass: weighted sums of whole plane rows, written in place (vectorizes).
  const std::size_t area = static_cast<std::size_t>(out_height) * out_width;
  for (int c = 0; c < 3; ++c) {
    const float* source_plane = horizontal.data() + c * plane;
    for (int y = 0; y < out_height; ++y) {
      float* target = out + c * area + static_cast<std::size_t>(y) * out_width;
      std::fill(target, target + out_width, 0.0f);
      const float* weights = rows.weights.data() + static_cast<std::size_t>(y) * rows.taps;
      for (int k = 0; k < rows.count[y]; ++k) {
        const float* source =
            source_plane + static_cast<std::size_t>(rows.first[y] - box.top + k) * out_width;
        const float weight = weights[k];
        for (int x = 0; x < out_width; ++x) {
          target[x] += weight * source[x];
        }
      }
    }
  }
}

namespace {

// Rounds the float CHW image in `planes` to uint8 HWC, runs the RandAugment
// ops on it and writes it back as float CHW.
void apply_rand_augment_steps(const std::vector<RandAugmentStep>& steps,
                              const std::array<std::uint8_t, 3>& fill, int size, float* planes) {
  const std::size_t area = static_cast<std::size_t>(size) * size;
  thread_local std::vector<std::uint8_t> pixels;
  pixels.resize(3 * area);
  for (std::size_t k = 0; k < area; ++k) {
    for (int c = 0; c < 3; ++c) {
      const float value = std::nearbyint(planes[c * area + k]);
      pixels[3 * k + c] = static_cast<std::uint8_t>(std::clamp(value, 0.0f, 255.0f));
    }
  }
  for (const RandAugmentStep& step : steps) {
    apply_rand_augment_step(step, pixels.data(), size, size, fill);
  }
  for (std::size_t k = 0; k < area; ++k) {
    for (int c = 0; c < 3; ++c) {
      planes[c * area + k] = pixels[3 * k + c];
    }
  }
}

}  // namespace

CropBox random_resized_crop_box(int height, int width, const AugmentConfig& config, Rng& rng) {
  const double area = static_cast<double>(height) * width;
  // NOTE: std::log, std::exp and std::sqrt come from the C library. A libm
  // that differs in the last bit could round a crop side the other way in
  // rare cases, so crops are reproducible across machines with the same libm.
  const double log_ratio_min = std::log(config.ratio_min);
  const double log_ratio_max = std::log(config.ratio_max);

  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * rng.uniform(config.scale_min, config.scale_max);
    const double aspect_ratio = std::exp(rng.uniform(log_ratio_min, log_ratio_max));
    const int w = python_round(std::sqrt(target_area * aspect_ratio));
    const int h = python_round(std::sqrt(target_area / aspect_ratio));
    if (0 < w && w <= width && 0 < h && h <= height) {
      CropBox box;
      box.height = h;
      box.width = w;
      box.top = static_cast<int>(rng.below(static_cast<std::uint64_t>(height - h + 1)));
      box.left = static_cast<int>(rng.below(static_cast<std::uint64_t>(width - w + 1)));
      return box;
    }
  }

  // Fallback: the largest centered crop whose ratio lies in the range.
  const double in_ratio = static_cast<double>(width) / height;
  CropBox box{0, 0, height, width};
  if (in_ratio < std::min(config.ratio_min, config.ratio_max)) {
    box.height = std::min(height, python_round(width / std::min(config.ratio_min, config.ratio_max)));
  } else if (in_ratio > std::max(config.ratio_min, config.ratio_max)) {
    box.width = std::min(width, python_round(height * std::max(config.ratio_min, config.ratio_max)));
  }
  box.top = (height - box.height) / 2;
  box.left = (width - box.width) / 2;
  return box;
}

TrainAugmentParams draw_train_params(int height, int width, const AugmentConfig& config,
                                     Rng& rng) {
  TrainAugmentParams params;
  params.crop = random_resized_crop_box(height, width, config, rng);
  params.flip = rng.bernoulli(config.flip_probability);

  // Fisher-Yates over the three ops, then the factors (torchvision draws the
  // order first too).
  for (int i = 2; i > 0; --i) {
    const auto j = static_cast<int>(rng.below(static_cast<std::uint64_t>(i + 1)));
    std::swap(params.jitter_order[i], params.jitter_order[j]);
  }
  params.brightness_factor = jitter_factor(config.brightness, rng);
  params.contrast_factor = jitter_factor(config.contrast, rng);
  params.saturation_factor = jitter_factor(config.saturation, rng);
  if (config.rand_augment.num_ops > 0) {
    params.rand_augment = draw_rand_augment(config.rand_augment, rng);
    params.fill = config.rand_augment.fill;
  }
  return params;
}

void apply_train_transform(const ImageView& image, const TrainAugmentParams& params, int size,
                           const Normalization& normalization, float* out) {
  const std::size_t area = static_cast<std::size_t>(size) * size;
  resize_bilinear(image, params.crop, size, size, out);
  if (params.flip) {
    flip_horizontally(out, size, size);
  }
  if (!params.rand_augment.empty()) {
    apply_rand_augment_steps(params.rand_augment, params.fill, size, out);
  }

  for (const JitterOp op : params.jitter_order) {
    if (op == JitterOp::brightness && params.brightness_factor != 1.0) {
      adjust_brightness(out, area, static_cast<float>(params.brightness_factor));
    } else if (op == JitterOp::contrast && params.contrast_factor != 1.0) {
      adjust_contrast(out, area, static_cast<float>(params.contrast_factor));
    } else if (op == JitterOp::saturation && params.saturation_factor != 1.0) {
      adjust_saturation(out, area, static_cast<float>(params.saturation_factor));
    }
  }

  normalize(out, area, normalization);
}

void train_transform(const ImageView& image, int size, const AugmentConfig& config,
                     std::uint64_t seed, float* out) {
  Rng rng(seed);
  const TrainAugmentParams params = draw_train_params(image.height, image.width, config, rng);
  apply_train_transform(image, params, size, config.normalization, out);
}

void eval_transform(const ImageView& image, int size, const Normalization& normalization,
                    float* out) {
  const std::size_t area = static_cast<std::size_t>(size) * size;
  if (image.height == size && image.width == size) {
    for (std::size_t k = 0; k < area; ++k) {
      for (int c = 0; c < 3; ++c) {
        out[c * area + k] = image.pixels[3 * k + c];
      }
    }
    normalize(out, area, normalization);
    return;
  }

  // Shorter side to floor(size / 0.875), the longer one in proportion
  // (torchvision Resize(int) truncates it), then the centered size x size.
  const int shorter = static_cast<int>(std::floor(size / 0.875));
  int resized_height = shorter;
  int resized_width = shorter;
  if (image.width > image.height) {
    resized_width = static_cast<int>(static_cast<double>(shorter) * image.width / image.height);
  } else if (image.height > image.width) {
    resized_height = static_cast<int>(static_cast<double>(shorter) * image.height / image.width);
  }

  thread_local std::vector<float> resized;
  resized.resize(static_cast<std::size_t>(3) * resized_height * resized_width);
  const CropBox whole{0, 0, image.height, image.width};
  resize_bilinear(image, whole, resized_height, resized_width, resized.data());

  // torchvision's center_crop: offsets round((resized - size) / 2).
  const int top = python_round((resized_height - size) / 2.0);
  const int left = python_round((resized_width - size) / 2.0);
  const std::size_t resized_area = static_cast<std::size_t>(resized_height) * resized_width;
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < size; ++y) {
      const float* source =
          resized.data() + c * resized_area + static_cast<std::size_t>(top + y) * resized_width + left;
      std::copy(source, source + size, out + c * area + static_cast<std::size_t>(y) * size);
    }
  }
  normalize(out, area, normalization);
}

}  // namespace didicm
