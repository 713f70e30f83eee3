#include "errors.h"
#include "noise_schedule.h"
#include "support.h"
#include "tensor_support.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace didicm;
using namespace didicm::testing;

TEST_CASE("noise schedule matches golden float64") {
  auto file = h5::File::open(golden_file("noise.h5").string());
  torch::Tensor t = read_tensor(file, "t", torch::kDouble);
  torch::Tensor sigma = read_tensor(file, "sigma", torch::kDouble);
  torch::Tensor dsigma = read_tensor(file, "dsigma", torch::kDouble);

  CHECK(max_relative_error(sigma_at(t), sigma) <= 1e-14);
  CHECK(max_relative_error(dsigma_at(t), dsigma) <= 1e-14);
  for (std::int64_t i = 0; i < t.size(0); ++i) {
    double ti = t[i].item<double>();
    CHECK(std::abs(sigma_at(ti) - sigma[i].item<double>()) <= 1e-14 * sigma[i].item<double>());
    CHECK(std::abs(dsigma_at(ti) - dsigma[i].item<double>()) <= 1e-14 * dsigma[i].item<double>());
  }
}

TEST_CASE("noise schedule matches golden float32") {
  auto file = h5::File::open(golden_file("noise.h5").string());
  torch::Tensor t = read_tensor(file, "t_f32", torch::kFloat);

  torch::Tensor sigma = sigma_at(t);
  torch::Tensor dsigma = dsigma_at(t);
  CHECK((sigma.scalar_type() == torch::kFloat));
  CHECK(max_relative_error(sigma, read_tensor(file, "sigma_f32", torch::kFloat)) <= 3e-7);
  CHECK(max_relative_error(dsigma, read_tensor(file, "dsigma_f32", torch::kFloat)) <= 3e-7);
}

TEST_CASE("sampling grid matches golden grids") {
  auto file = h5::File::open(golden_file("noise.h5").string());
  auto grids = file.open_group("sampler_grid");
  int cases = 0;
  for (const auto& name : grids.children()) {
    CAPTURE(name);
    auto group = grids.open_group(name);
    torch::Tensor t = read_tensor(group, "t", torch::kFloat);
    const std::int64_t steps = t.size(0);
    TimeGrid grid = sampling_grid(steps);

    REQUIRE(grid.steps() == steps);
    CHECK(grid.dt == doctest::Approx(group.double_attribute("dt")).epsilon(1e-15));
    torch::Tensor ours_t = torch::tensor(grid.t, torch::kDouble);
    CHECK(max_relative_error(ours_t, t) <= 1e-6);  // the golden grid is float32

    // The float32 schedule on the float32 grid reproduces the authors' PyTorch code.
    CHECK(max_relative_error(sigma_at(t), read_tensor(group, "sigma", torch::kFloat)) <= 3e-7);
    CHECK(max_relative_error(dsigma_at(t), read_tensor(group, "dsigma", torch::kFloat)) <= 3e-7);

    // The double schedule differs by float32's rounding of 1 - 1e-3 (1.3e-5 at t = 1).
    torch::Tensor ours_dsigma = torch::tensor(grid.dsigma, torch::kDouble);
    CHECK(max_relative_error(ours_dsigma, read_tensor(group, "dsigma", torch::kFloat)) <= 3e-5);
    for (std::int64_t i = 0; i < steps; ++i) {
      CHECK(grid.h[i] == doctest::Approx(grid.dt * grid.dsigma[i]).epsilon(1e-15));
    }
    ++cases;
  }
  CHECK(cases > 0);
}

TEST_CASE("sampling grid edge cases") {
  TimeGrid one = sampling_grid(1);
  REQUIRE(one.steps() == 1);
  CHECK(one.t[0] == 1.0);
  CHECK(one.dt == doctest::Approx(1.0 - 1e-5).epsilon(1e-15));
  CHECK(one.dsigma[0] == doctest::Approx(999.0).epsilon(1e-13));

  TimeGrid two = sampling_grid(2, 0.01);
  CHECK(two.t[0] == 1.0);
  CHECK(two.t[1] == 0.01);
  CHECK(two.dt == doctest::Approx(0.495).epsilon(1e-15));

  CHECK_THROWS_AS(sampling_grid(0), UsageError);
  CHECK_THROWS_AS(sampling_grid(4, 0.0), UsageError);
  CHECK_THROWS_AS(sampling_grid(4, 1.0), UsageError);
}

TEST_CASE("training times range and seed") {
  auto first = at::detail::createCPUGenerator(7);
  auto second = at::detail::createCPUGenerator(7);
  torch::Tensor a = draw_train_times(10000, 1e-5, first);
  torch::Tensor b = draw_train_times(10000, 1e-5, second);

  CHECK((a.scalar_type() == torch::kDouble));
  CHECK(torch::equal(a, b));
  CHECK(a.min().item<double>() >= 1e-5);
  CHECK(a.max().item<double>() < 1.0);
  CHECK(a.mean().item<double>() == doctest::Approx(0.5).epsilon(0.02));
  CHECK_THROWS_AS(draw_train_times(4, 1.0, first), UsageError);
  CHECK_THROWS_AS(draw_train_times(4, -0.1, first), UsageError);
}
