#include "errors.h"
#include "resize.h"

#include <doctest/doctest.h>

using namespace didicm;

namespace {

// A one-row image whose red channel contains `values`; green and blue are 0.
Image red_row(const std::vector<int>& values) {
  Image image(static_cast<int>(values.size()), 1);
  for (std::size_t x = 0; x < values.size(); ++x) {
    image.pixels[x * 3] = static_cast<std::uint8_t>(values[x]);
  }
  return image;
}

std::vector<int> red_values(const Image& image) {
  std::vector<int> values;
  for (int x = 0; x < image.width; ++x) {
    values.push_back(image.at(x, 0)[0]);
  }
  return values;
}

}  // namespace

TEST_CASE("resize bilinear downscale by two") {
  // Scale 2 widens the triangle to support 2. Output 0 has center 1.0 and
  // averages inputs 0..2 with weights 0.75, 0.75, 0.25 (normalized by 1.75):
  // (0 * 0.75 + 100 * 0.75 + 200 * 0.25) / 1.75 = 71.4. Output 1 has center
  // 3.0 and averages inputs 1..3 with weights 0.25, 0.75, 0.75: 362.5 / 1.75 = 207.1.
  Image result = resize(red_row({0, 100, 200, 250}), 2, 1, ResizeFilter::bilinear);
  CHECK(red_values(result) == std::vector<int>{71, 207});
}

TEST_CASE("resize bicubic upscale by two") {
  // Keys cubic with a = -0.5: k(0.25) = 0.8671875, k(0.75) = 0.2265625,
  // k(1.25) = -0.0703125. Output 0 (center 0.25): 100 * -0.0703 / 0.7969 < 0,
  // clamped to 0. Output 1 (center 0.75): 100 * 0.2266 / 1.0938 = 20.7.
  // Output 2: 100 * 0.8672 / 1.0938 = 79.3. Output 3: 100 * 0.8672 / 0.7969 = 108.8.
  Image result = resize(red_row({0, 100}), 4, 1, ResizeFilter::bicubic);
  CHECK(red_values(result) == std::vector<int>{0, 21, 79, 109});
}

TEST_CASE("resize antialiases a checkerboard") {
  // Without antialiasing, every 4th pixel would be sampled: pure 0 or 255.
  Image board(16, 16);
  for (int y = 0; y < 16; ++y) {
    for (int x = 0; x < 16; ++x) {
      std::fill_n(board.at(x, y), 3, static_cast<std::uint8_t>((x + y) % 2 == 0 ? 0 : 255));
    }
  }
  Image small = resize(board, 4, 4, ResizeFilter::bilinear);
  for (std::uint8_t value : small.pixels) {
    CHECK(value >= 120);
    CHECK(value <= 135);
  }
}

TEST_CASE("resize equal size is identity") {
  Image image(5, 3);
  for (std::size_t i = 0; i < image.pixels.size(); ++i) {
    image.pixels[i] = static_cast<std::uint8_t>(i * 17);
  }
  CHECK(resize(image, 5, 3, ResizeFilter::bicubic).pixels == image.pixels);
  CropGeometry geometry = center_crop_geometry(5, 3, 3, 3);
  Image crop = resize_and_crop(image, geometry, ResizeFilter::bilinear);
  CHECK(crop.width == 3);
  CHECK(crop.height == 3);
  CHECK(crop.at(0, 0)[0] == image.at(1, 0)[0]);
}

TEST_CASE("resize short side from crop_pct") {
  CHECK(resize_short_side(224, 0.875) == 256);
  CHECK(resize_short_side(112, 0.875) == 128);
  CHECK(resize_short_side(56, 0.875) == 64);
  CHECK(resize_short_side(28, 1.0) == 28);
}

TEST_CASE("resize center crop geometry") {
  // 500x375 to shorter side 64: 64 * 500 / 375 = 85.3, truncated to 85.
  // Left offset (85 - 56) / 2 = 14.5 rounds half to even: 14.
  CropGeometry landscape = center_crop_geometry(500, 375, 64, 56);
  CHECK(landscape.resized_width == 85);
  CHECK(landscape.resized_height == 64);
  CHECK(landscape.left == 14);
  CHECK(landscape.top == 4);

  CropGeometry portrait = center_crop_geometry(375, 500, 64, 56);
  CHECK(portrait.resized_width == 64);
  CHECK(portrait.resized_height == 85);
  CHECK(portrait.top == 14);

  CHECK_THROWS_AS(center_crop_geometry(100, 100, 50, 60), Error);
}

TEST_CASE("resize crop matches full resize window") {
  Image image(37, 23);
  for (std::size_t i = 0; i < image.pixels.size(); ++i) {
    image.pixels[i] = static_cast<std::uint8_t>((i * 31) % 251);
  }
  CropGeometry geometry = center_crop_geometry(37, 23, 16, 14);
  Image full = resize(image, geometry.resized_width, geometry.resized_height, ResizeFilter::bicubic);
  Image crop = resize_and_crop(image, geometry, ResizeFilter::bicubic);
  REQUIRE(crop.width == 14);
  for (int y = 0; y < 14; ++y) {
    for (int x = 0; x < 14; ++x) {
      for (int c = 0; c < 3; ++c) {
        CHECK(crop.at(x, y)[c] == full.at(x + geometry.left, y + geometry.top)[c]);
      }
    }
  }
}

TEST_CASE("resize filter names") {
  CHECK(parse_resize_filter("bicubic") == ResizeFilter::bicubic);
  CHECK(std::string(resize_filter_name(ResizeFilter::bilinear)) == "bilinear");
  CHECK_THROWS_AS(parse_resize_filter("nearest"), UsageError);
}
