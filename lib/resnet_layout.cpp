#include "resnet_layout.h"

#include "errors.h"

#include <fmt/format.h>

#include <cmath>
#include <numeric>

namespace didicm {

Stem parse_stem(const std::string& name) {
  if (name == "compact") {
    return Stem::compact;
  }
  if (name == "imagenet") {
    return Stem::imagenet;
  }
  throw UsageError(fmt::format("stem '{}': unknown; valid stems are compact, imagenet", name));
}

std::string stem_name(Stem stem) { return stem == Stem::compact ? "compact" : "imagenet"; }

ResNetLayout resnet_layout(int depth) {
  switch (depth) {
    case 18:
      return {18, {2, 2, 2, 2}, false};
    case 34:
      return {34, {3, 4, 6, 3}, false};
    case 50:
      return {50, {3, 4, 6, 3}, true};
    case 101:
      return {101, {3, 4, 23, 3}, true};
    case 152:
      return {152, {3, 8, 36, 3}, true};
    default:
      throw UsageError(
          fmt::format("depth {}: unknown; valid depths are 18, 34, 50, 101, 152", depth));
  }
}

std::int64_t base_channels(double width) {
  double channels = std::round(64.0 * width);
  if (!(channels >= 1.0) || channels > 64.0 * 64.0) {
    throw UsageError(fmt::format(
        "width {}: invalid; it multiplies the 64 base channels and must give 1 to 4096 channels",
        width));
  }
  return static_cast<std::int64_t>(channels);
}

std::int64_t group_norm_groups(std::int64_t channels) { return std::gcd<std::int64_t>(32, channels); }

torch::nn::Conv2d make_conv(std::int64_t in, std::int64_t out, std::int64_t kernel,
                            std::int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                               .stride(stride)
                               .padding(kernel / 2)
                               .bias(false));
}

torch::nn::Conv2d make_stem_conv(Stem stem, std::int64_t channels) {
  return stem == Stem::compact ? make_conv(3, channels, 3, 1) : make_conv(3, channels, 7, 2);
}

torch::Tensor finish_stem(const torch::Tensor& normalized) {
  return torch::max_pool2d(torch::relu(normalized), /*kernel_size=*/3, /*stride=*/2,
                           /*padding=*/1);
}

}  // namespace didicm
