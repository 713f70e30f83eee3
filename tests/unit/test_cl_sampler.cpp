#include "cl_sampler.h"
#include "errors.h"
#include "support.h"
#include "tensor_support.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace didicm;
using namespace didicm::testing;

namespace {

// Checks |z| < 5 for every class of `counts` [N] out of `draws` against `probs` [N];
// a class of probability 0 must never be drawn.
void check_frequencies(const torch::Tensor& counts, const torch::Tensor& probs, std::int64_t draws) {
  for (std::int64_t k = 0; k < probs.size(0); ++k) {
    CAPTURE(k);
    const double p = probs[k].item<double>();
    const double count = counts[k].item<double>();
    if (p == 0.0) {
      CHECK(count == 0.0);
      continue;
    }
    const double z = (count - draws * p) / std::sqrt(draws * p * (1.0 - p));
    CHECK(std::abs(z) < 5.0);
  }
}

}  // namespace

TEST_CASE("CL step matches golden distributions") {
  auto file = h5::File::open(golden_file("cl_step.h5").string());
  FakeScoreModel model(read_tensor(file, "L", torch::kFloat), read_tensor(file, "Bm", torch::kFloat),
                       read_tensor(file, "C", torch::kFloat), torch::kDouble);
  torch::Tensor x = read_tensor(file, "x", torch::kLong);
  torch::Tensor t = read_tensor(file, "t", torch::kFloat).to(torch::kDouble);
  const std::int64_t batch = x.size(0);
  const std::int64_t draws = 100000;
  int cases = 0;

  for (const auto& name : file.children()) {
    if (!file.is_group(name)) {
      continue;
    }
    CAPTURE(name);
    auto group = file.open_group(name);
    torch::Tensor h = group.double_attribute("step_size") * dsigma_at(t);
    torch::Tensor sigma = sigma_at(t);
    torch::Tensor expected = read_tensor(group, "probs_f64", torch::kDouble);
    const std::int64_t n = expected.size(1);

    torch::Tensor l = mask_own_label(model.log_scores(torch::arange(batch), x, sigma), x);
    torch::Tensor probs = cl_step_probs(l, x, h);
    CHECK(max_abs_error(probs, expected) <= 1e-14);

    // 10^5 draws per row through the sampler's own step.
    for (std::int64_t b = 0; b < batch; ++b) {
      CAPTURE(b);
      torch::Tensor images = torch::full({draws}, b, torch::kLong);
      torch::Tensor next = cl_step(model, images, torch::full({draws}, x[b].item<std::int64_t>()),
                                   sigma[b].expand({draws}), h[b].expand({draws}), 77,
                                   torch::arange(draws), static_cast<std::uint64_t>(cases));
      check_frequencies(torch::bincount(next, {}, n).to(torch::kDouble), expected[b], draws);
    }
    ++cases;
  }
  CHECK(cases > 0);
}

TEST_CASE("CL step distribution is finite for extreme scores") {
  torch::Tensor l = torch::tensor({0.0, 700.0, -700.0, 80.0, -80.0}, torch::kDouble).unsqueeze(0);
  torch::Tensor c = torch::zeros({1}, torch::kLong);
  for (double h : {1e-9, 1e-3, 999.0}) {
    torch::Tensor probs = cl_step_probs(l, c, torch::tensor({h}, torch::kDouble));
    CHECK(all_finite(probs));
    CHECK(probs.sum().item<double>() == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(probs.min().item<double>() >= 0.0);
  }
  // A tiny step keeps the label with probability 1 - h sum s / N.
  torch::Tensor small = torch::zeros({1, 4}, torch::kDouble);
  torch::Tensor stay = cl_step_probs(small, c, torch::tensor({0.004}, torch::kDouble));
  CHECK(stay[0][0].item<double>() == doctest::Approx(1.0 - 0.004 * 3.0 / 4.0).epsilon(1e-15));
  CHECK(stay[0][1].item<double>() == doctest::Approx(0.001).epsilon(1e-15));
}

TEST_CASE("CL one step matches exact mixture") {
  // S = 1: every chain starts from a uniform label c and takes one step at
  // t = 1, so the posterior is (1/N) sum_c P(. | c).
  const std::int64_t n = 4;
  const std::int64_t chains = 100000;
  torch::manual_seed(31);
  torch::Tensor scores = torch::rand({1, n}) * 4.0F - 9.0F;  // stay probability well inside (0, 1)
  torch::Tensor coupling = torch::rand({n, n}) * 2.0F - 1.0F;
  FakeScoreModel model(scores, torch::zeros({1, n}), coupling, torch::kDouble);

  ClOptions options;
  options.steps = 1;
  options.samples = chains;
  options.seed = 5;
  SamplerResult result = sample_cl(model, torch::zeros({1}, torch::kLong), options);

  TimeGrid grid = sampling_grid(1);
  torch::Tensor labels = torch::arange(n);
  torch::Tensor l = mask_own_label(
      model.log_scores(torch::zeros({n}, torch::kLong), labels,
                       torch::full({n}, grid.sigma[0], torch::kDouble)),
      labels);
  torch::Tensor exact = cl_step_probs(l, labels, torch::full({n}, grid.h[0], torch::kDouble)).mean(0);
  CHECK(exact.min().item<double>() > 0.0);

  CHECK(result.nfe == chains);
  torch::Tensor counts = result.posterior[0].to(torch::kDouble) * static_cast<double>(chains);
  check_frequencies(counts.round(), exact, chains);
}

TEST_CASE("CL sampler shapes, seeds, batches") {
  const std::int64_t n = 7;
  const std::int64_t batch = 3;
  torch::manual_seed(41);
  FakeScoreModel model(2.0F * torch::randn({batch, n}), torch::randn({batch, n}),
                       torch::randn({n, n}), torch::kFloat);
  ClOptions options;
  options.steps = 3;
  options.samples = 16;
  options.trajectory = true;
  options.seed = 99;
  SamplerResult whole = sample_cl(model, torch::arange(batch), options);

  CHECK(whole.nfe == 48);
  CHECK(shape_of(whole.posterior) == std::vector<std::int64_t>{batch, n});
  CHECK((whole.posterior.scalar_type() == torch::kFloat));
  CHECK(shape_of(whole.trajectory) == std::vector<std::int64_t>{batch, 16, 4});
  CHECK(torch::equal(whole.trajectory.select(2, 3), whole.labels));
  CHECK(max_abs_error(whole.posterior.sum(1), torch::ones({batch})) <= 1e-6);
  CHECK(model.rows == batch * 16 * 3);

  for (std::int64_t b = 0; b < batch; ++b) {
    ClOptions single = options;
    single.first_index = b;
    SamplerResult one = sample_cl(model, torch::tensor({b}, torch::kLong), single);
    CHECK(torch::equal(one.trajectory[0], whole.trajectory[b]));
  }

  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  SamplerResult serial = sample_cl(model, torch::arange(batch), options);
  torch::set_num_threads(threads);
  CHECK(torch::equal(serial.trajectory, whole.trajectory));

  ClOptions other = options;
  other.seed = 100;
  CHECK_FALSE(torch::equal(sample_cl(model, torch::arange(batch), other).trajectory,
                           whole.trajectory));
  ClOptions none = options;
  none.samples = 0;
  CHECK_THROWS_AS(sample_cl(model, torch::arange(batch), none), UsageError);
}
