#include "autocast.h"
#include "model_factory.h"
#include "network_score_model.h"

#include <doctest/doctest.h>

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

using namespace didicm;

TEST_CASE("autocast guard: bfloat16 inside, float32 after") {
  torch::nn::Linear linear(4, 3);
  torch::Tensor input = torch::randn({2, 4});
  {
    AutocastGuard autocast(true, torch::kCPU);
    CHECK((linear(input).scalar_type() == torch::kBFloat16));
    {
      // A nested guard leaves autocast on when it ends.
      AutocastGuard inner(true, torch::kCPU);
    }
    CHECK(at::autocast::is_cpu_enabled());
    CHECK((linear(input).scalar_type() == torch::kBFloat16));
  }
  CHECK_FALSE(at::autocast::is_cpu_enabled());
  CHECK((linear(input).scalar_type() == torch::kFloat32));
}

TEST_CASE("autocast guard: disabled guard changes nothing") {
  AutocastGuard autocast(false, torch::kCPU);
  CHECK_FALSE(at::autocast::is_cpu_enabled());
  torch::nn::Linear linear(4, 3);
  CHECK((linear(torch::randn({2, 4})).scalar_type() == torch::kFloat32));
}

TEST_CASE("autocast guard: updated weights reach next forward") {
  // Autocast caches bfloat16 copies of weights, so a stale copy would hide the
  // update from every later step.
  torch::nn::Linear linear(4, 1);
  torch::Tensor input = torch::ones({1, 4});
  torch::Tensor before;
  {
    AutocastGuard autocast(true, torch::kCPU);
    before = linear(input).to(torch::kFloat32);
  }
  {
    torch::NoGradGuard no_grad;
    linear->weight.add_(1.0);
  }
  AutocastGuard autocast(true, torch::kCPU);
  torch::Tensor after = linear(input).to(torch::kFloat32);
  CHECK((after - before).item<double>() == doctest::Approx(4.0).epsilon(0.02));
}

TEST_CASE("network score model: amp log-scores in float32") {
  torch::manual_seed(0);
  ModelConfig config;
  config.name = "didirn18";
  config.num_classes = 10;
  config.input_size = 16;
  config.width = 0.25;
  Model model = build_model(config);
  model.eval();
  torch::NoGradGuard no_grad;
  torch::Tensor images = torch::randn({4, 3, 16, 16});
  torch::Tensor labels = torch::arange(4, torch::kInt64);
  torch::Tensor sigma = torch::full({4}, 0.5);

  torch::Tensor exact = NetworkScoreModel(model, false).log_scores(images, labels, sigma);
  torch::Tensor mixed = NetworkScoreModel(model, true).log_scores(images, labels, sigma);
  CHECK((mixed.scalar_type() == torch::kFloat32));
  CHECK_FALSE(at::autocast::is_cpu_enabled());
  // bfloat16 keeps 8 significant bits, so relative errors of about 1e-2 are
  // expected (an estimate).
  double scale = exact.abs().max().item<double>();
  CHECK((mixed - exact).abs().max().item<double>() < 0.05 * scale + 0.05);
}
