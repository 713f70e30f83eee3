#include "rand_augment.h"
#include "errors.h"

#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <vector>

using namespace didicm;

namespace {

const std::array<std::uint8_t, 3> fill{124, 116, 104};

// A gray image (R = G = B) of height x width from row-major values.
std::vector<std::uint8_t> gray(const std::vector<int>& values) {
  std::vector<std::uint8_t> pixels;
  for (int value : values) {
    pixels.insert(pixels.end(), 3, static_cast<std::uint8_t>(value));
  }
  return pixels;
}

// The red channel of every pixel.
std::vector<int> red(const std::vector<std::uint8_t>& pixels) {
  std::vector<int> values;
  for (std::size_t i = 0; i < pixels.size(); i += 3) {
    values.push_back(pixels[i]);
  }
  return values;
}

std::vector<std::uint8_t> apply(RandAugmentOp op, double argument, std::vector<std::uint8_t> pixels,
                                int height, int width) {
  apply_rand_augment_step({op, argument}, pixels.data(), height, width, fill);
  return pixels;
}

std::vector<std::uint8_t> random_image(int height, int width) {
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(height) * width * 3);
  Rng rng(11);
  for (auto& value : pixels) {
    value = static_cast<std::uint8_t>(rng.below(256));
  }
  return pixels;
}

}  // namespace

TEST_CASE("rand augment identities") {
  const auto image = random_image(5, 6);
  CHECK(apply(RandAugmentOp::invert, 0, apply(RandAugmentOp::invert, 0, image, 5, 6), 5, 6) == image);
  CHECK(apply(RandAugmentOp::rotate, 0, image, 5, 6) == image);
  CHECK(apply(RandAugmentOp::rotate, 360, image, 5, 6) == image);
  CHECK(apply(RandAugmentOp::posterize_increasing, 8, image, 5, 6) == image);
  CHECK(apply(RandAugmentOp::solarize_increasing, 256, image, 5, 6) == image);
  CHECK(apply(RandAugmentOp::solarize_add, 0, image, 5, 6) == image);
  CHECK(apply(RandAugmentOp::shear_x, 0, image, 5, 6) == image);
  CHECK(apply(RandAugmentOp::translate_y_rel, 0, image, 5, 6) == image);
  for (auto op : {RandAugmentOp::color_increasing, RandAugmentOp::contrast_increasing,
                  RandAugmentOp::brightness_increasing, RandAugmentOp::sharpness_increasing}) {
    CHECK(apply(op, 1.0, image, 5, 6) == image);
  }
}

TEST_CASE("rand augment point ops") {
  const std::vector<std::uint8_t> colored{10, 20, 30};
  CHECK(apply(RandAugmentOp::invert, 0, colored, 1, 1) == std::vector<std::uint8_t>{245, 235, 225});

  // lo 50, hi 150: v -> int((v - 50) * 2.55).
  CHECK(red(apply(RandAugmentOp::auto_contrast, 0, gray({50, 100, 150}), 1, 3)) ==
        std::vector<int>{0, 127, 255});
  // A single value per channel: unchanged.
  CHECK(red(apply(RandAugmentOp::auto_contrast, 0, gray({77, 77}), 1, 2)) == std::vector<int>{77, 77});

  // 128 x 10, 128 x 20, 256 x 30: step (512 - 256) / 256 = 1, so the table is
  // the count of smaller values: 10 -> 0, 20 -> 128, 30 -> 256 clipped to 255.
  std::vector<int> values(128, 10);
  values.insert(values.end(), 128, 20);
  values.insert(values.end(), 256, 30);
  const auto equalized = red(apply(RandAugmentOp::equalize, 0, gray(values), 1, 512));
  CHECK(equalized[0] == 0);
  CHECK(equalized[128] == 128);
  CHECK(equalized[511] == 255);

  CHECK(red(apply(RandAugmentOp::posterize_increasing, 4, gray({171, 15}), 1, 2)) ==
        std::vector<int>{160, 0});
  CHECK(red(apply(RandAugmentOp::posterize_increasing, 0, gray({255}), 1, 1)) == std::vector<int>{0});
  CHECK(red(apply(RandAugmentOp::solarize_increasing, 128, gray({200, 100, 128}), 1, 3)) ==
        std::vector<int>{55, 100, 127});
  CHECK(red(apply(RandAugmentOp::solarize_add, 50, gray({100, 220, 127, 250}), 1, 4)) ==
        std::vector<int>{150, 220, 177, 250});
}

TEST_CASE("rand augment enhancers") {
  // Pure red has luma (255 * 19595 + 32768) >> 16 = 76.
  const std::vector<std::uint8_t> red_pixel{255, 0, 0};
  CHECK(apply(RandAugmentOp::color_increasing, 0.0, red_pixel, 1, 1) ==
        std::vector<std::uint8_t>{76, 76, 76});
  CHECK(apply(RandAugmentOp::color_increasing, 2.0, red_pixel, 1, 1) ==
        std::vector<std::uint8_t>{255, 0, 0});
  CHECK(apply(RandAugmentOp::color_increasing, 0.5, red_pixel, 1, 1) ==
        std::vector<std::uint8_t>{165, 38, 38});

  // Mean luma 100: 100 + 0.5 (v - 100).
  CHECK(red(apply(RandAugmentOp::contrast_increasing, 0.5, gray({0, 200}), 1, 2)) ==
        std::vector<int>{50, 150});
  // Blends truncate: 101 * 0.5 = 50.5 -> 50.
  CHECK(red(apply(RandAugmentOp::brightness_increasing, 1.5, gray({100, 200, 101}), 1, 3)) ==
        std::vector<int>{150, 255, 151});
  CHECK(red(apply(RandAugmentOp::brightness_increasing, 0.5, gray({101}), 1, 1)) ==
        std::vector<int>{50});

  // SMOOTH turns the center 130 into 5 * 130 / 13 = 50 and keeps the border.
  const auto spot = gray({0, 0, 0, 0, 130, 0, 0, 0, 0});
  CHECK(red(apply(RandAugmentOp::sharpness_increasing, 0.0, spot, 3, 3)) ==
        std::vector<int>{0, 0, 0, 0, 50, 0, 0, 0, 0});
  CHECK(red(apply(RandAugmentOp::sharpness_increasing, 2.0, spot, 3, 3)) ==
        std::vector<int>{0, 0, 0, 0, 210, 0, 0, 0, 0});
}

TEST_CASE("rand augment geometric ops") {
  // Shear 0.5 in a row: output x samples x + 0.25 (bilinear at pixel centers);
  // the last pixel repeats the edge.
  CHECK(red(apply(RandAugmentOp::shear_x, 0.5, gray({0, 100, 200, 40}), 1, 4)) ==
        std::vector<int>{25, 125, 160, 40});
  CHECK(red(apply(RandAugmentOp::shear_y, 0.5, gray({0, 100, 200, 40}), 4, 1)) ==
        std::vector<int>{25, 125, 160, 40});

  // A quarter of the width is one pixel; the pixel moved in takes the fill color.
  const auto moved_x = apply(RandAugmentOp::translate_x_rel, 0.25, gray({0, 100, 200, 40}), 1, 4);
  CHECK(moved_x == std::vector<std::uint8_t>{100, 100, 100, 200, 200, 200, 40, 40, 40, 124, 116, 104});
  const auto moved_y = apply(RandAugmentOp::translate_y_rel, -0.25, gray({0, 100, 200, 40}), 4, 1);
  CHECK(moved_y == std::vector<std::uint8_t>{124, 116, 104, 0, 0, 0, 100, 100, 100, 200, 200, 200});

  // 90 degrees counterclockwise: [1 4; 7 10] -> [4 10; 1 7].
  const auto turned = apply(RandAugmentOp::rotate, 90, gray({1, 4, 7, 10}), 2, 2);
  CHECK(red(turned) == std::vector<int>{4, 10, 1, 7});
  const auto half_turn = apply(RandAugmentOp::rotate, 180, gray({1, 4, 7, 10, 13, 16}), 2, 3);
  CHECK(red(half_turn) == std::vector<int>{16, 13, 10, 7, 4, 1});
  // A 45 degree turn of a uniform 4x4 image: the corner centers, sqrt(4.5)
  // from the center, map outside, so the corners take the fill color.
  const auto tilted = apply(RandAugmentOp::rotate, 45, gray(std::vector<int>(16, 200)), 4, 4);
  CHECK(red(tilted) == std::vector<int>{124, 200, 200, 124, 200, 200, 200, 200,
                                        200, 200, 200, 200, 124, 200, 200, 124});
  CHECK(tilted[1] == 116);
}

TEST_CASE("rand augment spec parsing") {
  const RandAugmentConfig config = parse_rand_augment("rand-m7-mstd0.5-inc1");
  CHECK(config.num_ops == 2);
  CHECK(config.magnitude == 7);
  CHECK(config.magnitude_std == 0.5);
  CHECK(parse_rand_augment("rand-n3-m9-inc1").num_ops == 3);
  CHECK(parse_rand_augment("rand-m9-inc1").magnitude_std == 0);
  for (const char* bad : {"", "rand", "augmix-m7", "rand-m7-mstd0.5", "rand-m7-inc0",
                          "rand-m11-inc1", "rand-mx-inc1", "rand-m7-m7-inc1", "rand-m7-inc1-w0",
                          "rand-m7-inc1-n0", "rand-m7-mstd-1-inc1"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_rand_augment(bad), UsageError);
  }
}

TEST_CASE("rand augment draws") {
  RandAugmentConfig config = parse_rand_augment("rand-m7-mstd0.5-inc1");
  Rng rng(3);
  std::set<int> ops;
  int applied = 0;
  int negative_rotations = 0;
  int rotations = 0;
  const int images = 4000;
  for (int i = 0; i < images; ++i) {
    for (const RandAugmentStep& step : draw_rand_augment(config, rng)) {
      ++applied;
      ops.insert(static_cast<int>(step.op));
      if (step.op == RandAugmentOp::rotate) {
        ++rotations;
        negative_rotations += step.argument < 0;
        // Magnitude 7 +- noise, clipped to [0, 10]: at most 30 degrees.
        CHECK(std::abs(step.argument) <= 30.0);
      }
      if (step.op == RandAugmentOp::posterize_increasing) {
        CHECK(step.argument >= 0);
        CHECK(step.argument <= 4);
      }
      if (step.op == RandAugmentOp::color_increasing) {
        CHECK(step.argument >= 0.1);
        CHECK(step.argument <= 1.9);
      }
    }
  }
  CHECK(ops.size() == rand_augment_op_count);
  // Each of 2 ops applies with probability 0.5: about one per image.
  CHECK(applied > images * 0.9);
  CHECK(applied < images * 1.1);
  CHECK(negative_rotations > rotations / 3);
  CHECK(negative_rotations < 2 * rotations / 3);
}
