#include "resize.h"

#include "errors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace didicm {
namespace {

double bilinear_kernel(double x) {
  x = std::abs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// Keys' cubic convolution with a = -0.5, as PIL uses for BICUBIC.
double bicubic_kernel(double x) {
  constexpr double a = -0.5;
  x = std::abs(x);
  if (x < 1.0) {
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  }
  if (x < 2.0) {
    return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  }
  return 0.0;
}

// For each output position in [begin, end): the first input index and the
// normalized weights of the input pixels it averages.
struct Taps {
  std::vector<int> first;
  std::vector<int> count;
  std::vector<float> weights;  // `stride` per output position
  int stride = 0;
};

Taps compute_taps(int in_size, int out_size, int begin, int end, ResizeFilter filter) {
  double (*kernel)(double) = filter == ResizeFilter::bilinear ? bilinear_kernel : bicubic_kernel;
  double kernel_support = filter == ResizeFilter::bilinear ? 1.0 : 2.0;

  // When shrinking, the kernel is stretched by the scale so that it averages
  // all input pixels under one output pixel (antialiasing).
  double scale = double(in_size) / out_size;
  double filter_scale = std::max(scale, 1.0);
  double support = kernel_support * filter_scale;

  Taps taps;
  taps.stride = static_cast<int>(std::ceil(support)) * 2 + 1;
  int count = end - begin;
  taps.first.resize(count);
  taps.count.resize(count);
  taps.weights.assign(std::size_t(count) * taps.stride, 0.0F);
  for (int i = 0; i < count; ++i) {
    double center = (begin + i + 0.5) * scale;
    int low = std::max(static_cast<int>(center - support + 0.5), 0);
    int high = std::min(static_cast<int>(center + support + 0.5), in_size);
    std::vector<double> weights;
    double total = 0.0;
    for (int x = low; x < high; ++x) {
      double weight = kernel((x - center + 0.5) / filter_scale);
      weights.push_back(weight);
      total += weight;
    }
    taps.first[i] = low;
    taps.count[i] = high - low;
    for (std::size_t k = 0; k < weights.size(); ++k) {
      taps.weights[std::size_t(i) * taps.stride + k] =
          static_cast<float>(total != 0.0 ? weights[k] / total : 0.0);
    }
  }
  return taps;
}

std::uint8_t to_byte(float value) {
  // Round half up and clamp: bicubic weights can overshoot 0..255.
  float rounded = std::floor(value + 0.5F);
  return static_cast<std::uint8_t>(std::clamp(rounded, 0.0F, 255.0F));
}

// Resamples rows [row_begin, row_end) of `image` horizontally.
Image resample_rows(const Image& image, int row_begin, int row_end, const Taps& taps) {
  int out_width = static_cast<int>(taps.first.size());
  Image result(out_width, row_end - row_begin);
  for (int y = row_begin; y < row_end; ++y) {
    const std::uint8_t* source = image.row(y);
    std::uint8_t* target = result.row(y - row_begin);
    for (int x = 0; x < out_width; ++x) {
      const float* weights = taps.weights.data() + std::size_t(x) * taps.stride;
      const std::uint8_t* pixel = source + std::size_t(taps.first[x]) * 3;
      float r = 0.0F;
      float g = 0.0F;
      float b = 0.0F;
      for (int k = 0; k < taps.count[x]; ++k) {
        r += weights[k] * pixel[k * 3];
        g += weights[k] * pixel[k * 3 + 1];
        b += weights[k] * pixel[k * 3 + 2];
      }
      target[x * 3] = to_byte(r);
      target[x * 3 + 1] = to_byte(g);
      target[x * 3 + 2] = to_byte(b);
    }
  }
  return result;
}

// Resamples vertically; row 0 of `image` is input row `row_offset`.
Image resample_columns(const Image& image, int row_offset, const Taps& taps) {
  int out_height = static_cast<int>(taps.first.size());
  int row_bytes = image.width * 3;
  Image result(image.width, out_height);
  std::vector<float> sums(row_bytes);
  for (int y = 0; y < out_height; ++y) {
    std::fill(sums.begin(), sums.end(), 0.0F);
    const float* weights = taps.weights.data() + std::size_t(y) * taps.stride;
    for (int k = 0; k < taps.count[y]; ++k) {
      const std::uint8_t* source = image.row(taps.first[y] + k - row_offset);
      float weight = weights[k];
      for (int i = 0; i < row_bytes; ++i) {
        sums[i] += weight * source[i];
      }
    }
    std::uint8_t* target = result.row(y);
    for (int i = 0; i < row_bytes; ++i) {
      target[i] = to_byte(sums[i]);
    }
  }
  return result;
}

Image copy_window(const Image& image, int left, int top, int width, int height) {
  Image result(width, height);
  for (int y = 0; y < height; ++y) {
    std::copy_n(image.at(left, top + y), std::size_t(width) * 3, result.row(y));
  }
  return result;
}

// Python's round(): halves go to the even neighbour.
int round_half_even(double value) { return static_cast<int>(std::nearbyint(value)); }

}  // namespace

ResizeFilter parse_resize_filter(const std::string& name) {
  if (name == "bilinear") return ResizeFilter::bilinear;
  if (name == "bicubic") return ResizeFilter::bicubic;
  throw UsageError(fmt::format("--filter {}: unknown filter; use bilinear or bicubic", name));
}

const char* resize_filter_name(ResizeFilter filter) {
  return filter == ResizeFilter::bilinear ? "bilinear" : "bicubic";
}

int resize_short_side(int size, double crop_pct) {
  return static_cast<int>(std::lround(size / crop_pct));
}

CropGeometry center_crop_geometry(int width, int height, int short_side, int crop) {
  CropGeometry geometry;
  geometry.crop = crop;
  if (width <= height) {
    geometry.resized_width = short_side;
    geometry.resized_height = static_cast<int>(std::int64_t(short_side) * height / width);
  } else {
    geometry.resized_height = short_side;
    geometry.resized_width = static_cast<int>(std::int64_t(short_side) * width / height);
  }
  if (crop > geometry.resized_width || crop > geometry.resized_height) {
    throw Error(fmt::format("a {}x{} crop does not fit in the resized {}x{} image", crop, crop,
                            geometry.resized_width, geometry.resized_height));
  }
  geometry.left = round_half_even((geometry.resized_width - crop) / 2.0);
  geometry.top = round_half_even((geometry.resized_height - crop) / 2.0);
  return geometry;
}

Image resize_and_crop(const Image& image, const CropGeometry& geometry, ResizeFilter filter) {
  if (image.width <= 0 || image.height <= 0) {
    throw Error("cannot resize an empty image");
  }
  int right = geometry.left + geometry.crop;
  int bottom = geometry.top + geometry.crop;
  bool same_width = geometry.resized_width == image.width;
  bool same_height = geometry.resized_height == image.height;

  // Vertical taps first: they tell which input rows the horizontal pass needs.
  Taps vertical;
  int row_begin = geometry.top;
  int row_end = bottom;
  if (!same_height) {
    vertical = compute_taps(image.height, geometry.resized_height, geometry.top, bottom, filter);
    row_begin = vertical.first.front();
    row_end = vertical.first.back() + vertical.count.back();
    for (std::size_t i = 0; i < vertical.first.size(); ++i) {
      row_begin = std::min(row_begin, vertical.first[i]);
      row_end = std::max(row_end, vertical.first[i] + vertical.count[i]);
    }
  }

  // Horizontal pass over the needed rows, rounded to 8 bits as PIL does.
  Image rows;
  if (same_width) {
    rows = copy_window(image, geometry.left, row_begin, geometry.crop, row_end - row_begin);
  } else {
    Taps horizontal = compute_taps(image.width, geometry.resized_width, geometry.left, right, filter);
    rows = resample_rows(image, row_begin, row_end, horizontal);
  }

  if (same_height) {
    return rows;
  }
  return resample_columns(rows, row_begin, vertical);
}

Image resize(const Image& image, int width, int height, ResizeFilter filter) {
  if (width <= 0 || height <= 0) {
    throw Error(fmt::format("invalid resize target {}x{}", width, height));
  }
  Taps vertical = compute_taps(image.height, height, 0, height, filter);
  Taps horizontal = compute_taps(image.width, width, 0, width, filter);
  Image rows = resample_rows(image, 0, image.height, horizontal);
  return resample_columns(rows, 0, vertical);
}

}  // namespace didicm
