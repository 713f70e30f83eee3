#include "errors.h"
#include "forward_process.h"
#include "support.h"
#include "tensor_support.h"

#include <doctest/doctest.h>

using namespace didicm;
using namespace didicm::testing;

TEST_CASE("forward marginal matches golden closed form") {
  auto file = h5::File::open(golden_file("forward.h5").string());
  int cases = 0;
  for (const auto& name : file.children()) {
    CAPTURE(name);
    auto group = file.open_group(name);
    torch::Tensor p0 = read_tensor(group, "p0", torch::kDouble);
    torch::Tensor sigma = read_tensor(group, "sigma", torch::kDouble);
    torch::Tensor expected = read_tensor(group, "pt_closed", torch::kDouble);

    torch::Tensor p_t = forward_marginal(p0, sigma);
    REQUIRE(shape_of(p_t) == shape_of(expected));
    CHECK(max_abs_error(p_t, expected) <= 1e-15);
    CHECK(max_abs_error(p_t.sum(1), torch::ones({p0.size(0)}, torch::kDouble)) <= 1e-14);
    CHECK(p_t.min().item<double>() > 0.0);
    ++cases;
  }
  CHECK(cases > 0);
}

TEST_CASE("forward marginal of float32 input is float64") {
  torch::Tensor p0 = torch::tensor({0.25F, 0.75F}).reshape({1, 2});
  torch::Tensor p_t = forward_marginal(p0, torch::tensor({1e-6F}));
  CHECK((p_t.scalar_type() == torch::kDouble));
  // Without expm1 the spread (1 - e^{-sigma}) / N would carry float32 error.
  double spread = -std::expm1(-static_cast<double>(1e-6F)) / 2.0;
  CHECK(p_t[0][0].item<double>() ==
        doctest::Approx(std::exp(-static_cast<double>(1e-6F)) * 0.25 + spread).epsilon(1e-15));
}

TEST_CASE("forward marginal rejects mismatched shapes") {
  CHECK_THROWS_AS(forward_marginal(torch::ones({3}), torch::ones({3})), Error);
  CHECK_THROWS_AS(forward_marginal(torch::ones({3, 2}), torch::ones({2})), Error);
}

TEST_CASE("one-hot rows from labels") {
  torch::Tensor p = one_hot_probs(torch::tensor({2, 0}, torch::kLong), 3);
  CHECK(torch::equal(p, torch::tensor({0.0, 0.0, 1.0, 1.0, 0.0, 0.0}).reshape({2, 3})));
  CHECK_THROWS_WITH_AS(one_hot_probs(torch::tensor({3}, torch::kLong), 3),
                       doctest::Contains("outside [0, 3)"), Error);
  CHECK_THROWS_AS(one_hot_probs(torch::tensor({-1}, torch::kLong), 3), Error);
}
