#include "errors.h"
#include "metrics.h"
#include "posterior.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace didicm;

namespace {

Posterior make_posterior(std::int64_t classes, const std::vector<std::vector<float>>& rows,
                         const std::vector<std::int32_t>& targets) {
  Posterior posterior;
  posterior.rows = static_cast<std::int64_t>(rows.size());
  posterior.num_classes = classes;
  for (const auto& row : rows) {
    posterior.probs.insert(posterior.probs.end(), row.begin(), row.end());
  }
  posterior.targets = targets;
  for (std::int64_t c = 0; c < classes; ++c) {
    posterior.classes.push_back("class" + std::to_string(c));
  }
  posterior.source = "memory.h5";
  return posterior;
}

}  // namespace

TEST_CASE("top-k credit splits ties at the k-th place") {
  // Two classes at 0.5 and eight tied zeros: the target 0 is one of eight
  // zeros competing for the three top-5 places left, so its credit is 3/8.
  const std::vector<float> probs{0, 0, 0, 0.5F, 0, 0, 0, 0.5F, 0, 0};
  CHECK(top_k_credit(probs.data(), 10, 0, 5, TieRule::expected) == doctest::Approx(0.375));
  CHECK(top_k_credit(probs.data(), 10, 0, 5, TieRule::expected) < 1.0);
  CHECK(top_k_credit(probs.data(), 10, 0, 1, TieRule::expected) == 0.0);

  // Two classes tied at the top share the top-1 place.
  CHECK(top_k_credit(probs.data(), 10, 3, 1, TieRule::expected) == doctest::Approx(0.5));
  CHECK(top_k_credit(probs.data(), 10, 7, 1, TieRule::expected) == doctest::Approx(0.5));
  CHECK(top_k_credit(probs.data(), 10, 3, 5, TieRule::expected) == 1.0);
  // The last zero is as likely as the first under a random order.
  CHECK(top_k_credit(probs.data(), 10, 9, 5, TieRule::expected) == doctest::Approx(0.375));
}

TEST_CASE("top-k credit by lowest index") {
  const std::vector<float> probs{0, 0, 0, 0.5F, 0, 0, 0, 0.5F, 0, 0};
  // torch.topk order: 3, 7, 0, 1, 2, 4, ... so class 0 is third.
  CHECK(top_k_credit(probs.data(), 10, 0, 5, TieRule::index) == 1.0);
  CHECK(top_k_credit(probs.data(), 10, 2, 5, TieRule::index) == 1.0);
  CHECK(top_k_credit(probs.data(), 10, 4, 5, TieRule::index) == 0.0);
  CHECK(top_k_credit(probs.data(), 10, 3, 1, TieRule::index) == 1.0);
  CHECK(top_k_credit(probs.data(), 10, 7, 1, TieRule::index) == 0.0);
}

TEST_CASE("top-k credit with fewer classes than k") {
  const std::vector<float> probs{0.2F, 0.3F, 0.5F};
  for (std::int32_t target = 0; target < 3; ++target) {
    CHECK(top_k_credit(probs.data(), 3, target, 5, TieRule::expected) == 1.0);
    CHECK(top_k_credit(probs.data(), 3, target, 5, TieRule::index) == 1.0);
  }
  CHECK(top_k_credit(probs.data(), 3, 0, 1, TieRule::expected) == 0.0);
  CHECK(top_k_credit(probs.data(), 3, 2, 1, TieRule::expected) == 1.0);
  CHECK(top_k_credit(probs.data(), 3, 1, 2, TieRule::expected) == 1.0);
  CHECK(top_k_credit(probs.data(), 3, 0, 2, TieRule::expected) == 0.0);
}

TEST_CASE("tie rule parsing") {
  CHECK(parse_tie_rule("expected") == TieRule::expected);
  CHECK(parse_tie_rule("index") == TieRule::index);
  CHECK_THROWS_AS(parse_tie_rule("random"), UsageError);
}

TEST_CASE("calibration bins are right-closed") {
  CHECK(calibration_bin(0.0) == 0);
  CHECK(calibration_bin(1.0 / 15.0) == 0);
  CHECK(calibration_bin(0.07) == 1);
  CHECK(calibration_bin(0.5) == 7);
  CHECK(calibration_bin(0.99) == 14);
  CHECK(calibration_bin(1.0) == 14);
}

TEST_CASE("metrics of a three-row posterior") {
  // conf 0.9 right, conf 0.9 wrong, conf 0.65 right.
  Posterior posterior = make_posterior(2, {{0.9F, 0.1F}, {0.9F, 0.1F}, {0.65F, 0.35F}}, {0, 1, 0});
  Metrics metrics = compute_metrics(posterior, TieRule::expected);

  CHECK(metrics.count == 3);
  CHECK(metrics.top1 == doctest::Approx(2.0 / 3.0));
  CHECK(metrics.top5 == 1.0);
  CHECK(metrics.nll == doctest::Approx((-std::log(0.9) - std::log(0.1) - std::log(0.65)) / 3.0)
                           .epsilon(1e-6));
  // Bin 13 contains both 0.9 rows (accuracy 1/2), bin 9 the 0.65 row (accuracy 1):
  // ECE = (|1 - 1.8| + |1 - 0.65|) / 3.
  CHECK(metrics.ece == doctest::Approx((0.8 + 0.35) / 3.0).epsilon(1e-6));
  // Brier: 0.1^2 + 0.1^2, 0.9^2 + 0.9^2, 0.35^2 + 0.35^2, averaged over rows.
  CHECK(metrics.brier == doctest::Approx((0.02 + 1.62 + 0.245) / 3.0).epsilon(1e-6));

  REQUIRE(metrics.bins.size() == static_cast<std::size_t>(calibration_bins));
  CHECK(metrics.bins[13].count == 2);
  CHECK(metrics.bins[13].correct_sum == 1.0);
  CHECK(metrics.bins[9].count == 1);
  CHECK(metrics.bins[0].count == 0);
}

TEST_CASE("metrics NLL of a zero probability is finite") {
  Posterior posterior = make_posterior(2, {{1.0F, 0.0F}}, {1});
  Metrics metrics = compute_metrics(posterior, TieRule::expected);
  CHECK(std::isfinite(metrics.nll));
  CHECK(metrics.nll == doctest::Approx(-std::log(nll_probability_floor)));
  CHECK(metrics.brier == doctest::Approx(2.0));
  CHECK(metrics.top1 == 0.0);
}

TEST_CASE("metrics per class") {
  Posterior posterior = make_posterior(
      3, {{0.8F, 0.1F, 0.1F}, {0.1F, 0.8F, 0.1F}, {0.1F, 0.1F, 0.8F}, {0.6F, 0.3F, 0.1F}},
      {0, 0, 2, 1});
  Metrics metrics = compute_metrics(posterior, TieRule::expected);
  CHECK(metrics.class_count == std::vector<std::int64_t>{2, 1, 1});
  CHECK(metrics.class_top1 == std::vector<double>{1.0, 0.0, 1.0});
  CHECK(metrics.top1 == doctest::Approx(0.5));
}

TEST_CASE("metrics use the tie rule for accuracy and calibration") {
  // A CL-like row: the target shares the top with another class.
  Posterior posterior = make_posterior(4, {{0.5F, 0.5F, 0.0F, 0.0F}}, {1});
  Metrics expected = compute_metrics(posterior, TieRule::expected);
  Metrics index = compute_metrics(posterior, TieRule::index);
  CHECK(expected.top1 == doctest::Approx(0.5));
  CHECK(index.top1 == 0.0);
  CHECK(expected.ece == doctest::Approx(0.0));
  CHECK(index.ece == doctest::Approx(0.5));
}

TEST_CASE("metrics do not depend on row grouping") {
  // The same rows evaluated whole and in two parts give the weighted mean.
  std::vector<std::vector<float>> rows{{0.7F, 0.2F, 0.1F}, {0.2F, 0.5F, 0.3F}, {0.3F, 0.3F, 0.4F},
                                       {0.1F, 0.1F, 0.8F}, {0.5F, 0.25F, 0.25F}};
  std::vector<std::int32_t> targets{0, 2, 0, 2, 1};
  Metrics whole = compute_metrics(make_posterior(3, rows, targets), TieRule::expected);
  Metrics head = compute_metrics(
      make_posterior(3, {rows.begin(), rows.begin() + 2}, {targets.begin(), targets.begin() + 2}),
      TieRule::expected);
  Metrics tail = compute_metrics(
      make_posterior(3, {rows.begin() + 2, rows.end()}, {targets.begin() + 2, targets.end()}),
      TieRule::expected);
  CHECK(whole.top1 == doctest::Approx((2 * head.top1 + 3 * tail.top1) / 5));
  CHECK(whole.nll == doctest::Approx((2 * head.nll + 3 * tail.nll) / 5));
  CHECK(whole.brier == doctest::Approx((2 * head.brier + 3 * tail.brier) / 5));
}
