#include "mixup.h"

#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cmath>

using namespace didicm;

namespace {

MixupConfig strong_config() {
  MixupConfig config;
  config.mixup_alpha = 0.2;
  config.cutmix_alpha = 1.0;
  config.switch_probability = 0.5;
  config.smoothing = 0.1;
  return config;
}

// Images whose every pixel of image b equals b, so a mixed pixel tells its sources.
torch::Tensor constant_images(std::int64_t batch, int height, int width) {
  return torch::arange(batch, torch::kFloat32).view({batch, 1, 1, 1}).expand({batch, 3, height, width}).contiguous();
}

}  // namespace

TEST_CASE("mixup soft targets rows") {
  const std::int64_t classes = 10;
  for (std::int64_t batch : {7, 8}) {
    CAPTURE(batch);
    torch::Tensor labels = torch::arange(batch, torch::kInt64) % classes;
    for (std::uint64_t step = 0; step < 20; ++step) {
      Rng rng(step);
      MixupParams params = draw_mixup(strong_config(), 16, 16, rng);
      MixedBatch mixed = mix_batch(constant_images(batch, 16, 16), labels, classes, params, 0.1);
      REQUIRE(mixed.targets.sizes() == torch::IntArrayRef{batch, classes});
      CHECK(torch::allclose(mixed.targets.sum(1), torch::ones({batch}, torch::kFloat64)));
      CHECK(mixed.targets.min().item<double>() == doctest::Approx(0.1 / classes));
      // Row b mixes its own label and that of row B - 1 - b with weights lambda, 1 - lambda.
      const double off = 0.1 / classes;
      const double top = mixed.targets[0][labels[0].item<std::int64_t>()].item<double>();
      CHECK(top == doctest::Approx(off + 0.9 * params.lambda));
    }
  }
}

TEST_CASE("mixup odd batch middle row") {
  // In a batch of 7 the middle row pairs with itself: its pixels and target are its own.
  torch::Tensor labels = torch::tensor({0, 1, 2, 3, 4, 5, 6}, torch::kInt64);
  MixupParams params;
  params.lambda = 0.3;
  MixedBatch mixed = mix_batch(constant_images(7, 4, 4), labels, 7, params, 0.1);
  CHECK(torch::allclose(mixed.images[3], torch::full({3, 4, 4}, 3.0f)));
  CHECK(mixed.targets[3][3].item<double>() == doctest::Approx(0.9 + 0.1 / 7));
  // Row 0: 0.3 * 0 + 0.7 * 6.
  CHECK(mixed.images[0][0][0][0].item<float>() == doctest::Approx(4.2));
  CHECK(mixed.targets[0][6].item<double>() == doctest::Approx(0.7 * 0.9 + 0.1 / 7));
}

TEST_CASE("cutmix weights equal box area") {
  MixupConfig config = strong_config();
  config.mixup_alpha = 0;  // CutMix only
  int clipped = 0;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    Rng rng(seed);
    const int height = 12;
    const int width = 20;
    MixupParams params = draw_mixup(config, height, width, rng);
    REQUIRE(params.cutmix);
    const MixBox& box = params.box;
    const double area = static_cast<double>(box.bottom - box.top) * (box.right - box.left);
    CHECK(params.lambda == doctest::Approx(1.0 - area / (height * width)));

    torch::Tensor images = constant_images(5, height, width);
    MixedBatch mixed = mix_batch(images, torch::arange(5, torch::kInt64), 5, params, 0.0);
    // Pixels from the partner (row 4 for row 0) cover exactly the box.
    const double replaced = mixed.images[0][0].eq(4.0f).sum().item<double>();
    CHECK(replaced == area);
    CHECK(mixed.targets[0][4].item<double>() == doctest::Approx(area / (height * width)));
    clipped += box.top == 0 || box.left == 0 || box.bottom == height || box.right == width;
  }
  CHECK(clipped > 0);  // some boxes were cut at the border
}

TEST_CASE("mixup switch and beta draws") {
  Rng rng(9);
  int cutmix = 0;
  double mixup_lambda_sum = 0;
  int mixup = 0;
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) {
    MixupParams params = draw_mixup(strong_config(), 32, 32, rng);
    CHECK(params.lambda >= 0.0);
    CHECK(params.lambda <= 1.0);
    if (params.cutmix) {
      ++cutmix;
    } else {
      ++mixup;
      mixup_lambda_sum += params.lambda;
    }
  }
  CHECK(cutmix > draws * 0.45);
  CHECK(cutmix < draws * 0.55);
  // Beta(0.2, 0.2) has mean 0.5.
  CHECK(mixup_lambda_sum / mixup == doctest::Approx(0.5).epsilon(0.05));

  // Beta(2, 5): mean 2/7, variance 10 / (49 * 8).
  double sum = 0;
  double squares = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double x = beta_draw(rng, 2.0, 5.0);
    sum += x;
    squares += x * x;
  }
  const double mean = sum / n;
  CHECK(mean == doctest::Approx(2.0 / 7.0).epsilon(0.02));
  CHECK(squares / n - mean * mean == doctest::Approx(10.0 / 392.0).epsilon(0.05));
  // Gamma(0.2) (boosted branch) has mean 0.2.
  double gamma_sum = 0;
  for (int i = 0; i < n; ++i) {
    gamma_sum += gamma_draw(rng, 0.2);
  }
  CHECK(gamma_sum / n == doctest::Approx(0.2).epsilon(0.05));
}
