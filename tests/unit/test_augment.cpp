#include "augment.h"

#include <doctest/doctest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

using namespace didicm;

namespace {

// A deterministic image with varied colors: HWC uint8.
std::vector<std::uint8_t> pattern_image(int height, int width, std::uint64_t seed) {
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(height) * width * 3);
  Rng rng(seed);
  for (auto& value : pixels) {
    value = static_cast<std::uint8_t>(rng.below(256));
  }
  return pixels;
}

// Values as they leave normalize(): (v / 255 - mean) / std.
float normalized(float value, int channel, const Normalization& normalization) {
  return (value / 255.0f - normalization.mean[channel]) / normalization.std[channel];
}

// [H, W, 3] uint8 image as a [1, 3, H, W] float tensor.
torch::Tensor to_nchw(const std::vector<std::uint8_t>& pixels, int height, int width) {
  return torch::from_blob(const_cast<std::uint8_t*>(pixels.data()), {height, width, 3},
                          torch::kUInt8)
      .permute({2, 0, 1})
      .unsqueeze(0)
      .to(torch::kFloat32);
}

}  // namespace

TEST_CASE("rng is reproducible and uniform") {
  Rng first(42);
  Rng second(42);
  for (int i = 0; i < 100; ++i) {
    CHECK(first.next_u64() == second.next_u64());
  }
  // The first outputs of xoshiro256** seeded by SplitMix64 from 0, computed by
  // an independent Python transcription, so the generator cannot change silently.
  Rng zero(0);
  CHECK(zero.next_u64() == 0x99ec5f36cb75f2b4ULL);
  CHECK(zero.next_u64() == 0xbf6e1f784956452aULL);
  Rng rng(7);
  std::vector<int> counts(6, 0);
  double sum = 0.0;
  for (int i = 0; i < 60000; ++i) {
    ++counts[rng.below(6)];
    sum += rng.uniform();
  }
  for (int count : counts) {
    CHECK(count > 9500);
    CHECK(count < 10500);
  }
  CHECK(sum / 60000 == doctest::Approx(0.5).epsilon(0.01));
}

TEST_CASE("random crop stays inside the image") {
  const AugmentConfig config;
  const std::pair<int, int> shapes[] = {{32, 32}, {28, 28}, {224, 224}, {3, 50}, {50, 3}, {1, 1},
                                        {375, 500}};
  for (const auto& [height, width] : shapes) {
    CAPTURE(height);
    CAPTURE(width);
    Rng rng(static_cast<std::uint64_t>(height * 1000 + width));
    for (int i = 0; i < 2000; ++i) {
      const CropBox box = random_resized_crop_box(height, width, config, rng);
      REQUIRE(box.height >= 1);
      REQUIRE(box.width >= 1);
      REQUIRE(box.top >= 0);
      REQUIRE(box.left >= 0);
      REQUIRE(box.top + box.height <= height);
      REQUIRE(box.left + box.width <= width);
    }
  }
}

TEST_CASE("random crop area and ratio ranges") {
  const AugmentConfig config;
  Rng rng(3);
  double smallest = 1.0;
  double largest = 0.0;
  for (int i = 0; i < 5000; ++i) {
    const CropBox box = random_resized_crop_box(224, 224, config, rng);
    const double fraction = static_cast<double>(box.height) * box.width / (224.0 * 224.0);
    smallest = std::min(smallest, fraction);
    largest = std::max(largest, fraction);
    // Rounding both sides to whole pixels moves the ratio a little.
    const double ratio = static_cast<double>(box.width) / box.height;
    CHECK(ratio > 0.75 * 0.97);
    CHECK(ratio < 4.0 / 3.0 * 1.03);
  }
  CHECK(smallest < 0.1);
  CHECK(smallest > 0.075);
  CHECK(largest > 0.9);
}

TEST_CASE("random crop falls back to a center crop") {
  AugmentConfig config;
  config.scale_min = 2.0;  // every attempt needs more than the whole image
  config.scale_max = 3.0;
  Rng rng(1);

  const CropBox wide = random_resized_crop_box(10, 40, config, rng);
  CHECK(wide.height == 10);
  CHECK(wide.width == 13);  // round(10 * 4 / 3)
  CHECK(wide.top == 0);
  CHECK(wide.left == 13);  // (40 - 13) / 2

  const CropBox tall = random_resized_crop_box(40, 10, config, rng);
  CHECK(tall.width == 10);
  CHECK(tall.height == 13);  // round(10 / (3 / 4))
  CHECK(tall.top == 13);

  const CropBox square = random_resized_crop_box(20, 20, config, rng);
  CHECK(square.height == 20);
  CHECK(square.width == 20);
}

TEST_CASE("train transform writes the requested size") {
  const int stored = 40;
  const auto pixels = pattern_image(stored, stored, 5);
  const ImageView image{pixels.data(), stored, stored};
  const AugmentConfig config;
  for (const int size : {8, 32, 64}) {
    CAPTURE(size);
    const std::size_t count = static_cast<std::size_t>(3) * size * size;
    std::vector<float> out(count + 16, 12345.0f);
    train_transform(image, size, config, 99, out.data());
    for (std::size_t i = 0; i < count; ++i) {
      REQUIRE(std::isfinite(out[i]));
      // Every value lies in the normalized image of [0, 255].
      const int channel = static_cast<int>(i / (count / 3));
      REQUIRE(out[i] >= normalized(0.0f, channel, config.normalization) - 1e-4f);
      REQUIRE(out[i] <= normalized(255.0f, channel, config.normalization) + 1e-4f);
    }
    for (std::size_t i = count; i < out.size(); ++i) {
      CHECK(out[i] == 12345.0f);
    }
  }
}

TEST_CASE("train transform same seed same output") {
  const auto pixels = pattern_image(48, 48, 8);
  const ImageView image{pixels.data(), 48, 48};
  const AugmentConfig config;
  std::vector<float> first(3 * 32 * 32);
  std::vector<float> second(3 * 32 * 32);
  std::vector<float> other(3 * 32 * 32);
  train_transform(image, 32, config, 1234, first.data());
  train_transform(image, 32, config, 1234, second.data());
  train_transform(image, 32, config, 1235, other.data());
  CHECK(first == second);
  CHECK(first != other);
}

TEST_CASE("flip and jitter draws are sane") {
  const AugmentConfig config;
  Rng rng(11);
  int flips = 0;
  std::set<std::array<JitterOp, 3>> orders;
  double brightness_sum = 0.0;
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) {
    const TrainAugmentParams params = draw_train_params(32, 32, config, rng);
    flips += params.flip ? 1 : 0;
    orders.insert(params.jitter_order);
    for (const double factor :
         {params.brightness_factor, params.contrast_factor, params.saturation_factor}) {
      REQUIRE(factor >= 0.6);
      REQUIRE(factor <= 1.4);
    }
    brightness_sum += params.brightness_factor;
  }
  CHECK(flips > draws * 0.46);
  CHECK(flips < draws * 0.54);
  CHECK(orders.size() == 6);
  CHECK(brightness_sum / draws == doctest::Approx(1.0).epsilon(0.02));

  AugmentConfig no_jitter;
  no_jitter.brightness = 0;
  no_jitter.contrast = 0;
  no_jitter.saturation = 0;
  no_jitter.flip_probability = 0;
  const TrainAugmentParams plain = draw_train_params(32, 32, no_jitter, rng);
  CHECK_FALSE(plain.flip);
  CHECK(plain.brightness_factor == 1.0);
  CHECK(plain.saturation_factor == 1.0);
}

TEST_CASE("flip mirrors the crop") {
  const auto pixels = pattern_image(16, 16, 2);
  const ImageView image{pixels.data(), 16, 16};
  TrainAugmentParams params;
  params.crop = {2, 3, 10, 12};
  std::vector<float> straight(3 * 8 * 8);
  std::vector<float> mirrored(3 * 8 * 8);
  const Normalization normalization;
  apply_train_transform(image, params, 8, normalization, straight.data());
  params.flip = true;
  apply_train_transform(image, params, 8, normalization, mirrored.data());
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 8; ++y) {
      for (int x = 0; x < 8; ++x) {
        CHECK(mirrored[(c * 8 + y) * 8 + x] == straight[(c * 8 + y) * 8 + (7 - x)]);
      }
    }
  }
}

TEST_CASE("jitter ops follow torchvision") {
  // A 2 x 1 image: pixel values chosen so that clamping shows.
  const std::vector<std::uint8_t> pixels = {200, 100, 50, 20, 40, 240};
  const ImageView image{pixels.data(), 2, 1};
  Normalization identity;
  identity.mean = {0.0f, 0.0f, 0.0f};
  identity.std = {1.0f / 255.0f, 1.0f / 255.0f, 1.0f / 255.0f};  // output in [0, 255]
  TrainAugmentParams params;
  params.crop = {0, 0, 2, 1};
  // The 2 x 1 crop resized to 2 x 2 repeats the column: wide[c * 4 + y * 2 + x].
  std::vector<float> wide(3 * 4);
  auto gray = [&](int y) {
    const std::size_t at = static_cast<std::size_t>(y) * 3;
    return 0.2989f * pixels[at] + 0.587f * pixels[at + 1] + 0.114f * pixels[at + 2];
  };

  SUBCASE("brightness scales and clamps") {
    params.brightness_factor = 1.4;
    apply_train_transform(image, params, 2, identity, wide.data());
    CHECK(wide[0] == doctest::Approx(255.0f));           // 200 * 1.4 clamped
    CHECK(wide[4] == doctest::Approx(140.0f).epsilon(1e-5));  // 100 * 1.4
    CHECK(wide[4 + 2] == doctest::Approx(56.0f).epsilon(1e-5));  // 40 * 1.4
  }
  SUBCASE("saturation 0 gives grayscale") {
    params.saturation_factor = 0.0;
    apply_train_transform(image, params, 2, identity, wide.data());
    for (int c = 0; c < 3; ++c) {
      CHECK(wide[c * 4 + 0] == doctest::Approx(gray(0)).epsilon(1e-5));
      CHECK(wide[c * 4 + 2] == doctest::Approx(gray(1)).epsilon(1e-5));
    }
  }
  SUBCASE("contrast 0 gives the gray mean") {
    params.contrast_factor = 0.0;
    apply_train_transform(image, params, 2, identity, wide.data());
    const float mean = (gray(0) + gray(1)) / 2;
    for (const float v : wide) {
      CHECK(v == doctest::Approx(mean).epsilon(1e-5));
    }
  }
}

TEST_CASE("resize matches torch bilinear when upscaling") {
  const auto pixels = pattern_image(7, 9, 4);
  const ImageView image{pixels.data(), 7, 9};
  const CropBox whole{0, 0, 7, 9};
  std::vector<float> out(3 * 20 * 15);
  resize_bilinear(image, whole, 20, 15, out.data());

  const torch::Tensor expected = torch::nn::functional::interpolate(
      to_nchw(pixels, 7, 9), torch::nn::functional::InterpolateFuncOptions()
                                 .size(std::vector<int64_t>{20, 15})
                                 .mode(torch::kBilinear)
                                 .align_corners(false));
  const torch::Tensor actual = torch::from_blob(out.data(), {1, 3, 20, 15}, torch::kFloat32);
  CHECK(torch::allclose(actual, expected, 1e-4, 1e-3));
}

TEST_CASE("resize matches torch antialias when downscaling") {
  const auto pixels = pattern_image(50, 40, 6);
  const ImageView image{pixels.data(), 50, 40};
  const CropBox box{5, 3, 41, 33};
  std::vector<float> out(3 * 12 * 10);
  resize_bilinear(image, box, 12, 10, out.data());

  const torch::Tensor crop = to_nchw(pixels, 50, 40).slice(2, 5, 46).slice(3, 3, 36);
  const torch::Tensor expected = torch::nn::functional::interpolate(
      crop, torch::nn::functional::InterpolateFuncOptions()
                .size(std::vector<int64_t>{12, 10})
                .mode(torch::kBilinear)
                .align_corners(false)
                .antialias(true));
  const torch::Tensor actual = torch::from_blob(out.data(), {1, 3, 12, 10}, torch::kFloat32);
  CHECK(torch::allclose(actual, expected, 1e-4, 1e-2));
}

TEST_CASE("eval transform passes the stored size") {
  const auto pixels = pattern_image(32, 32, 9);
  const ImageView image{pixels.data(), 32, 32};
  const Normalization normalization;
  std::vector<float> out(3 * 32 * 32);
  eval_transform(image, 32, normalization, out.data());
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 32; ++y) {
      for (int x = 0; x < 32; ++x) {
        const float expected = normalized(pixels[(y * 32 + x) * 3 + c], c, normalization);
        REQUIRE(out[(c * 32 + y) * 32 + x] == doctest::Approx(expected).epsilon(1e-6));
      }
    }
  }
}

TEST_CASE("eval transform resizes then center crops") {
  // Stored 64, input 32: resize to floor(32 / 0.875) = 36, crop at offset 2.
  const auto pixels = pattern_image(64, 64, 10);
  const ImageView image{pixels.data(), 64, 64};
  Normalization identity;
  identity.mean = {0.0f, 0.0f, 0.0f};
  identity.std = {1.0f / 255.0f, 1.0f / 255.0f, 1.0f / 255.0f};
  std::vector<float> out(3 * 32 * 32);
  eval_transform(image, 32, identity, out.data());

  std::vector<float> resized(3 * 36 * 36);
  resize_bilinear(image, CropBox{0, 0, 64, 64}, 36, 36, resized.data());
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 32; ++y) {
      for (int x = 0; x < 32; ++x) {
        REQUIRE(out[(c * 32 + y) * 32 + x] ==
                doctest::Approx(resized[(c * 36 + y + 2) * 36 + x + 2]).epsilon(1e-5));
      }
    }
  }
}
