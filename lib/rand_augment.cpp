#include "rand_augment.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "errors.h"

namespace didicm {

namespace {

constexpr double level_denominator = 10.0;  // timm's _LEVEL_DENOM
constexpr double pi = 3.14159265358979323846;

using Lut = std::array<std::uint8_t, 256>;

// Clips to [0, 255] and truncates, as Pillow stores blended and resampled values.
std::uint8_t truncate_to_byte(double value) {
  if (value <= 0.0) {
    return 0;
  }
  if (value >= 255.0) {
    return 255;
  }
  return static_cast<std::uint8_t>(value);
}

// Maps every channel value through its channel's table.
void apply_luts(std::uint8_t* pixels, std::size_t count, const std::array<Lut, 3>& luts) {
  for (std::size_t i = 0; i < count; ++i) {
    for (int c = 0; c < 3; ++c) {
      pixels[3 * i + c] = luts[c][pixels[3 * i + c]];
    }
  }
}

void apply_lut(std::uint8_t* pixels, std::size_t count, const Lut& lut) {
  apply_luts(pixels, count, {lut, lut, lut});
}

std::array<std::array<std::int64_t, 256>, 3> histograms(const std::uint8_t* pixels,
                                                         std::size_t count) {
  std::array<std::array<std::int64_t, 256>, 3> result{};
  for (std::size_t i = 0; i < count; ++i) {
    for (int c = 0; c < 3; ++c) {
      ++result[c][pixels[3 * i + c]];
    }
  }
  return result;
}

Lut identity_lut() {
  Lut lut;
  for (int i = 0; i < 256; ++i) {
    lut[i] = static_cast<std::uint8_t>(i);
  }
  return lut;
}

// ImageOps.autocontrast with cutoff 0: per channel, stretch [lo, hi] to [0, 255].
void auto_contrast(std::uint8_t* pixels, std::size_t count) {
  const auto histogram = histograms(pixels, count);
  std::array<Lut, 3> luts;
  for (int c = 0; c < 3; ++c) {
    int lo = 0;
    while (lo < 255 && histogram[c][lo] == 0) {
      ++lo;
    }
    int hi = 255;
    while (hi > 0 && histogram[c][hi] == 0) {
      --hi;
    }
    if (hi <= lo) {
      luts[c] = identity_lut();
      continue;
    }
    const double scale = 255.0 / (hi - lo);
    const double offset = -lo * scale;
    for (int i = 0; i < 256; ++i) {
      // Python's int() truncates toward zero.
      const auto value = static_cast<int>(i * scale + offset);
      luts[c][i] = static_cast<std::uint8_t>(std::clamp(value, 0, 255));
    }
  }
  apply_luts(pixels, count, luts);
}

// ImageOps.equalize: per channel, a table from the cumulative histogram whose
// step leaves out the count of the highest occupied value.
void equalize(std::uint8_t* pixels, std::size_t count) {
  const auto histogram = histograms(pixels, count);
  std::array<Lut, 3> luts;
  for (int c = 0; c < 3; ++c) {
    std::int64_t total = 0;
    std::int64_t last = 0;
    int occupied = 0;
    for (int i = 0; i < 256; ++i) {
      if (histogram[c][i] != 0) {
        total += histogram[c][i];
        last = histogram[c][i];
        ++occupied;
      }
    }
    const std::int64_t step = occupied <= 1 ? 0 : (total - last) / 256;
    if (step == 0) {
      luts[c] = identity_lut();
      continue;
    }
    std::int64_t n = step / 2;
    for (int i = 0; i < 256; ++i) {
      luts[c][i] = static_cast<std::uint8_t>(std::min<std::int64_t>(255, n / step));
      n += histogram[c][i];
    }
  }
  apply_luts(pixels, count, luts);
}

void posterize(std::uint8_t* pixels, std::size_t count, int bits) {
  if (bits >= 8) {
    return;
  }
  const auto mask = static_cast<std::uint8_t>(~((1 << (8 - bits)) - 1));
  Lut lut;
  for (int i = 0; i < 256; ++i) {
    lut[i] = static_cast<std::uint8_t>(i & mask);
  }
  apply_lut(pixels, count, lut);
}

// ImageOps.solarize: values at or above the threshold are inverted.
void solarize(std::uint8_t* pixels, std::size_t count, int threshold) {
  Lut lut;
  for (int i = 0; i < 256; ++i) {
    lut[i] = static_cast<std::uint8_t>(i < threshold ? i : 255 - i);
  }
  apply_lut(pixels, count, lut);
}

// timm's solarize_add: values below 128 get `add`, capped at 255.
void solarize_add(std::uint8_t* pixels, std::size_t count, int add) {
  Lut lut;
  for (int i = 0; i < 256; ++i) {
    lut[i] = static_cast<std::uint8_t>(i < 128 ? std::min(255, i + add) : i);
  }
  apply_lut(pixels, count, lut);
}

// Pillow's RGB to L conversion: ITU-R 601-2 luma in 16-bit fixed point, rounded.
std::uint8_t luma(const std::uint8_t* rgb) {
  return static_cast<std::uint8_t>((rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16);
}

// Image.blend(degenerate, image, factor) in place on `pixels`: the float
// result is truncated, as Pillow's ImagingBlend does.
void blend_from(const std::uint8_t* degenerate, std::uint8_t* pixels, std::size_t values,
                double factor) {
  const auto alpha = static_cast<float>(factor);
  for (std::size_t i = 0; i < values; ++i) {
    const float value = static_cast<float>(degenerate[i]) +
                        alpha * static_cast<float>(static_cast<int>(pixels[i]) - degenerate[i]);
    pixels[i] = truncate_to_byte(value);
  }
}

// ImageFilter.SMOOTH: 3x3 kernel [1 1 1; 1 5 1; 1 1 1] / 13; the border
// pixels are copied unchanged.
std::vector<std::uint8_t> smoothed(const std::uint8_t* pixels, int height, int width) {
  std::vector<std::uint8_t> result(pixels, pixels + static_cast<std::size_t>(height) * width * 3);
  if (height < 3 || width < 3) {
    return result;
  }
  for (int y = 1; y < height - 1; ++y) {
    for (int x = 1; x < width - 1; ++x) {
      for (int c = 0; c < 3; ++c) {
        float sum = 0.5f;  // Pillow rounds by adding 0.5 before truncating
        for (int dy = -1; dy <= 1; ++dy) {
          for (int dx = -1; dx <= 1; ++dx) {
            const float weight = (dx == 0 && dy == 0 ? 5.0f : 1.0f) / 13.0f;
            sum += weight * pixels[(static_cast<std::size_t>(y + dy) * width + (x + dx)) * 3 + c];
          }
        }
        result[(static_cast<std::size_t>(y) * width + x) * 3 + c] =
            sum >= 255.0f ? 255 : static_cast<std::uint8_t>(sum);
      }
    }
  }
  return result;
}

enum class Enhancer { color, contrast, brightness, sharpness };

// ImageEnhance: blend of the image with a degenerate version of it.
void enhance(Enhancer enhancer, std::uint8_t* pixels, int height, int width, double factor) {
  const std::size_t count = static_cast<std::size_t>(height) * width;
  std::vector<std::uint8_t> degenerate(count * 3, 0);
  if (enhancer == Enhancer::color) {
    for (std::size_t i = 0; i < count; ++i) {
      std::fill_n(degenerate.begin() + 3 * i, 3, luma(pixels + 3 * i));
    }
  } else if (enhancer == Enhancer::contrast) {
    // The mean of the L image, rounded half up as int(mean + 0.5).
    double sum = 0;
    for (std::size_t i = 0; i < count; ++i) {
      sum += luma(pixels + 3 * i);
    }
    const auto mean = static_cast<std::uint8_t>(static_cast<int>(sum / count + 0.5));
    std::fill(degenerate.begin(), degenerate.end(), mean);
  } else if (enhancer == Enhancer::sharpness) {
    degenerate = smoothed(pixels, height, width);
  }
  blend_from(degenerate.data(), pixels, count * 3, factor);
}

// Pillow's bilinear sample at (x, y) in pixel-edge coordinates, truncated to
// uint8, or false outside the image. A neighbor column beyond the edge repeats the edge; a
// neighbor row below the last one is left out, as Pillow's BILINEAR_BODY does.
bool bilinear_sample(const std::uint8_t* pixels, int height, int width, double x, double y,
                     std::uint8_t* out) {
  if (x < 0.0 || x >= width || y < 0.0 || y >= height) {
    return false;
  }
  x -= 0.5;
  y -= 0.5;
  const int x0 = static_cast<int>(std::floor(x));
  const int y0 = static_cast<int>(std::floor(y));
  const double dx = x - x0;
  const double dy = y - y0;
  const int left = std::clamp(x0, 0, width - 1);
  const int right = std::clamp(x0 + 1, 0, width - 1);
  const int top = std::clamp(y0, 0, height - 1);
  const bool has_bottom = y0 + 1 >= 0 && y0 + 1 < height;
  for (int c = 0; c < 3; ++c) {
    const std::uint8_t* row = pixels + static_cast<std::size_t>(top) * width * 3;
    double value = row[left * 3 + c] + (row[right * 3 + c] - row[left * 3 + c]) * dx;
    if (has_bottom) {
      const std::uint8_t* below = pixels + static_cast<std::size_t>(y0 + 1) * width * 3;
      const double second = below[left * 3 + c] + (below[right * 3 + c] - below[left * 3 + c]) * dx;
      value = value + (second - value) * dy;
    }
    out[c] = truncate_to_byte(value);
  }
  return true;
}

// Image.rotate(degrees, BILINEAR, fillcolor) without expand, about the image
// center. Multiples of 90 degrees that Pillow turns into transposes are exact.
void rotate(std::uint8_t* pixels, int height, int width, double degrees,
            const std::array<std::uint8_t, 3>& fill) {
  const double angle_degrees = std::fmod(std::fmod(degrees, 360.0) + 360.0, 360.0);
  if (angle_degrees == 0.0) {
    return;
  }
  const double angle = -angle_degrees * pi / 180.0;
  // Pillow rounds the rotation entries to 15 decimals, so 180 degrees is exact.
  auto round15 = [](double v) { return std::nearbyint(v * 1e15) / 1e15; };
  std::array<double, 6> m{round15(std::cos(angle)), round15(std::sin(angle)), 0.0,
                          round15(-std::sin(angle)), round15(std::cos(angle)), 0.0};
  const double cx = width / 2.0;
  const double cy = height / 2.0;
  m[2] = m[0] * -cx + m[1] * -cy + cx;
  m[5] = m[3] * -cx + m[4] * -cy + cy;
  affine_transform(pixels, height, width, m, fill);
}

void enhance_op(RandAugmentOp op, std::uint8_t* pixels, int height, int width, double factor) {
  switch (op) {
    case RandAugmentOp::color_increasing:
      enhance(Enhancer::color, pixels, height, width, factor);
      break;
    case RandAugmentOp::contrast_increasing:
      enhance(Enhancer::contrast, pixels, height, width, factor);
      break;
    case RandAugmentOp::brightness_increasing:
      enhance(Enhancer::brightness, pixels, height, width, factor);
      break;
    default:
      enhance(Enhancer::sharpness, pixels, height, width, factor);
      break;
  }
}

// timm's _randomly_negate: the sign flips when a uniform draw exceeds 0.5.
double randomly_negate(double value, Rng& rng) { return rng.uniform() > 0.5 ? -value : value; }

// The op's argument at `level` (0..10), as timm's *_level_to_arg functions
// for the increasing transforms compute it.
double level_to_argument(RandAugmentOp op, double level, Rng& rng) {
  const double fraction = level / level_denominator;
  switch (op) {
    case RandAugmentOp::rotate:
      return randomly_negate(fraction * 30.0, rng);
    case RandAugmentOp::posterize_increasing:
      return 4 - static_cast<int>(fraction * 4);
    case RandAugmentOp::solarize_increasing:
      return 256 - static_cast<int>(fraction * 256);
    case RandAugmentOp::solarize_add:
      return static_cast<int>(fraction * 110);
    case RandAugmentOp::color_increasing:
    case RandAugmentOp::contrast_increasing:
    case RandAugmentOp::brightness_increasing:
    case RandAugmentOp::sharpness_increasing:
      return std::max(0.1, 1.0 + randomly_negate(fraction * 0.9, rng));
    case RandAugmentOp::shear_x:
    case RandAugmentOp::shear_y:
      return randomly_negate(fraction * 0.3, rng);
    case RandAugmentOp::translate_x_rel:
    case RandAugmentOp::translate_y_rel:
      return randomly_negate(fraction * 0.45, rng);
    default:
      return 0;  // auto_contrast, equalize, invert take no argument
  }
}

[[noreturn]] void reject_spec(const std::string& spec, const std::string& cause) {
  throw UsageError(fmt::format("--aa {}: invalid RandAugment spec: {}; expected the form "
                               "rand-m7-mstd0.5-inc1 (optional -nN)",
                               spec, cause));
}

double parse_number(const std::string& spec, const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value)) {
    reject_spec(spec, fmt::format("'{}' is not a number", text));
  }
  return value;
}

}  // namespace

const char* rand_augment_op_name(RandAugmentOp op) {
  static const char* const names[rand_augment_op_count] = {
      "AutoContrast",        "Equalize",           "Invert",
      "Rotate",              "PosterizeIncreasing", "SolarizeIncreasing",
      "SolarizeAdd",         "ColorIncreasing",    "ContrastIncreasing",
      "BrightnessIncreasing", "SharpnessIncreasing", "ShearX",
      "ShearY",              "TranslateXRel",      "TranslateYRel"};
  return names[static_cast<int>(op)];
}

RandAugmentConfig parse_rand_augment(const std::string& spec) {
  std::vector<std::string> sections;
  std::size_t start = 0;
  while (true) {
    const std::size_t dash = spec.find('-', start);
    sections.push_back(spec.substr(start, dash - start));
    if (dash == std::string::npos) {
      break;
    }
    start = dash + 1;
  }
  if (sections.front() != "rand") {
    reject_spec(spec, "it must start with 'rand'");
  }

  RandAugmentConfig config;
  config.num_ops = 2;
  bool seen_m = false, seen_mstd = false, seen_inc = false, seen_n = false;
  auto once = [&](bool& seen, const std::string& key) {
    if (seen) {
      reject_spec(spec, fmt::format("'{}' appears twice", key));
    }
    seen = true;
  };
  for (std::size_t i = 1; i < sections.size(); ++i) {
    const std::string& section = sections[i];
    if (section.rfind("mstd", 0) == 0) {
      once(seen_mstd, "mstd");
      config.magnitude_std = parse_number(spec, section.substr(4));
      if (config.magnitude_std < 0) {
        reject_spec(spec, "mstd must not be negative");
      }
    } else if (section.rfind("m", 0) == 0) {
      once(seen_m, "m");
      config.magnitude = parse_number(spec, section.substr(1));
      if (config.magnitude < 0 || config.magnitude > level_denominator) {
        reject_spec(spec, "m must be in [0, 10]");
      }
    } else if (section.rfind("inc", 0) == 0) {
      once(seen_inc, "inc");
      if (section != "inc1") {
        reject_spec(spec, "only inc1 (the increasing transforms) is supported");
      }
    } else if (section.rfind("n", 0) == 0) {
      once(seen_n, "n");
      const double n = parse_number(spec, section.substr(1));
      if (n < 1 || n > 16 || n != std::floor(n)) {
        reject_spec(spec, "n must be an integer in [1, 16]");
      }
      config.num_ops = static_cast<int>(n);
    } else {
      reject_spec(spec, fmt::format("unknown section '{}'", section));
    }
  }
  if (!seen_m || !seen_inc) {
    reject_spec(spec, "it needs an m section and inc1");
  }
  return config;
}

double normal_draw(Rng& rng) {
  // 1 - uniform() lies in (0, 1], so the logarithm is finite.
  const double radius = std::sqrt(-2.0 * std::log(1.0 - rng.uniform()));
  return radius * std::cos(2.0 * pi * rng.uniform());
}

std::vector<RandAugmentStep> draw_rand_augment(const RandAugmentConfig& config, Rng& rng) {
  std::vector<RandAugmentOp> ops;
  for (int i = 0; i < config.num_ops; ++i) {
    ops.push_back(static_cast<RandAugmentOp>(rng.below(rand_augment_op_count)));
  }

  std::vector<RandAugmentStep> steps;
  for (const RandAugmentOp op : ops) {
    // timm skips an op when a uniform draw exceeds its probability.
    if (config.probability < 1.0 && rng.uniform() > config.probability) {
      continue;
    }
    double magnitude = config.magnitude;
    if (config.magnitude_std > 0) {
      magnitude += config.magnitude_std * normal_draw(rng);
    }
    magnitude = std::clamp(magnitude, 0.0, level_denominator);
    steps.push_back({op, level_to_argument(op, magnitude, rng)});
  }
  return steps;
}

void affine_transform(std::uint8_t* pixels, int height, int width,
                      const std::array<double, 6>& coefficients,
                      const std::array<std::uint8_t, 3>& fill) {
  const std::size_t bytes = static_cast<std::size_t>(height) * width * 3;
  thread_local std::vector<std::uint8_t> source;
  source.assign(pixels, pixels + bytes);
  const auto& [a, b, c, d, e, f] = coefficients;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      // Pillow maps the output pixel center (x + 0.5, y + 0.5).
      const double xin = a * (x + 0.5) + b * (y + 0.5) + c;
      const double yin = d * (x + 0.5) + e * (y + 0.5) + f;
      std::uint8_t* out = pixels + (static_cast<std::size_t>(y) * width + x) * 3;
      if (!bilinear_sample(source.data(), height, width, xin, yin, out)) {
        std::copy(fill.begin(), fill.end(), out);
      }
    }
  }
}

void apply_rand_augment_step(const RandAugmentStep& step, std::uint8_t* pixels, int height,
                             int width, const std::array<std::uint8_t, 3>& fill) {
  const std::size_t count = static_cast<std::size_t>(height) * width;
  const double argument = step.argument;
  switch (step.op) {
    case RandAugmentOp::auto_contrast:
      auto_contrast(pixels, count);
      break;
    case RandAugmentOp::equalize:
      equalize(pixels, count);
      break;
    case RandAugmentOp::invert:
      for (std::size_t i = 0; i < count * 3; ++i) {
        pixels[i] = static_cast<std::uint8_t>(255 - pixels[i]);
      }
      break;
    case RandAugmentOp::rotate:
      rotate(pixels, height, width, argument, fill);
      break;
    case RandAugmentOp::posterize_increasing:
      posterize(pixels, count, static_cast<int>(argument));
      break;
    case RandAugmentOp::solarize_increasing:
      solarize(pixels, count, static_cast<int>(argument));
      break;
    case RandAugmentOp::solarize_add:
      solarize_add(pixels, count, static_cast<int>(argument));
      break;
    case RandAugmentOp::color_increasing:
    case RandAugmentOp::contrast_increasing:
    case RandAugmentOp::brightness_increasing:
    case RandAugmentOp::sharpness_increasing:
      enhance_op(step.op, pixels, height, width, argument);
      break;
    case RandAugmentOp::shear_x:
      affine_transform(pixels, height, width, {1, argument, 0, 0, 1, 0}, fill);
      break;
    case RandAugmentOp::shear_y:
      affine_transform(pixels, height, width, {1, 0, 0, argument, 1, 0}, fill);
      break;
    case RandAugmentOp::translate_x_rel:
      affine_transform(pixels, height, width, {1, 0, argument * width, 0, 1, 0}, fill);
      break;
    case RandAugmentOp::translate_y_rel:
      affine_transform(pixels, height, width, {1, 0, 0, 0, 1, argument * height}, fill);
      break;
  }
}

}  // namespace didicm
