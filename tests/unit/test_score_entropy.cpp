#include "errors.h"
#include "forward_process.h"
#include "noise_schedule.h"
#include "score_entropy.h"
#include "support.h"
#include "tensor_support.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace didicm;
using namespace didicm::testing;

namespace {

// SEDD's closed-form score entropy on the uniform graph (before dsigma
// weighting), with the ratio written as expm1(sigma) / (expm1(sigma) + N) so
// that it does not cancel. s: masked log-scores [B, N]; x: noisy labels; x0: clean labels.
torch::Tensor sedd_score_entropy(const torch::Tensor& s, const torch::Tensor& sigma,
                                 const torch::Tensor& x, const torch::Tensor& x0) {
  const double n = static_cast<double>(s.size(1));
  torch::Tensor em1 = torch::expm1(sigma);
  torch::Tensor ratio = em1 / (em1 + n);
  torch::Tensor s_x = s.gather(1, x.unsqueeze(1)).squeeze(1);
  torch::Tensor s_x0 = s.gather(1, x0.unsqueeze(1)).squeeze(1);

  torch::Tensor pos = s.exp().mean(1) - s_x.exp() / n;
  torch::Tensor neg_sum = s.mean(1) - s_x / n;
  torch::Tensor same = x == x0;
  torch::Tensor neg = torch::where(same, ratio * neg_sum, s_x0 / em1 + neg_sum);
  torch::Tensor constant =
      torch::where(same, (n - 1.0) / n * ratio * (ratio.log() - 1.0),
                   ((-ratio.log() - 1.0) / ratio - (n - 2.0)) / n);
  return pos - neg + constant;
}

// The authors' soft-target variant with all its clamps (before dsigma
// weighting). It also counts K(r_c) = K(1) = -1 for k = c.
torch::Tensor authors_soft_loss(const torch::Tensor& s, const torch::Tensor& p_t,
                                const torch::Tensor& c) {
  const double n = static_cast<double>(s.size(1));
  torch::Tensor p = p_t.clamp_min(1e-10);
  p = p / p.sum(1, true);
  torch::Tensor own = p.gather(1, c.unsqueeze(1)).clamp_min(1e-10);
  torch::Tensor r = (p / own).clamp(1e-10, 1e10);
  torch::Tensor clipped = s.clamp(-20.0, 20.0);
  torch::Tensor k_r = r * (r.clamp_min(1e-10).log() - 1.0);
  torch::Tensor not_own = 1.0 - torch::zeros_like(s).scatter(1, c.unsqueeze(1), 1.0);
  return ((not_own * (clipped.exp() - r * clipped) + k_r).sum(1)) / n;
}

// Every group below `group` that contains a dataset or group named `marker`.
void collect_groups(const h5::Group& group, const std::string& marker,
                    std::vector<h5::Group>& found) {
  for (const auto& name : group.children()) {
    if (group.is_group(name)) {
      h5::Group child = group.open_group(name);
      if (child.exists(marker)) {
        found.push_back(group.open_group(name));
      }
      collect_groups(child, marker, found);
    }
  }
}

torch::Tensor uniform(std::vector<std::int64_t> shape, double low, double high) {
  return torch::rand(shape, torch::kDouble) * (high - low) + low;
}

}  // namespace

TEST_CASE("score entropy matches golden SEDD loss") {
  auto file = h5::File::open(golden_file("sedd_loss.h5").string());
  std::vector<h5::Group> groups;
  collect_groups(file, "loss_per_sample", groups);
  REQUIRE(!groups.empty());
  for (const auto& group : groups) {
    CAPTURE(group.path());
    torch::Tensor s = read_tensor(group, "log_score", torch::kDouble);
    torch::Tensor sigma = read_tensor(group, "sigma", torch::kDouble);
    torch::Tensor dsigma = read_tensor(group, "dsigma", torch::kDouble);
    torch::Tensor x = read_tensor(group, "x", torch::kLong);
    torch::Tensor x0 = read_tensor(group, "x0", torch::kLong);
    torch::Tensor expected = read_tensor(group, "loss_per_sample", torch::kDouble);
    const std::int64_t n = s.size(1);

    // The SEDD closed form reproduces its own golden numbers.
    CHECK(max_relative_error(sedd_score_entropy(s, sigma, x, x0), expected) <= 1e-8);

    // Ours, for one-hot p0, is exactly SEDD's score entropy.
    torch::Tensor p_t = forward_marginal(one_hot_probs(x0, n), sigma);
    torch::Tensor ours = score_entropy_per_example(s, x, score_ratios(p_t, x));
    CHECK(max_relative_error(ours, expected) <= 1e-8);
    CHECK(max_relative_error(ours, read_tensor(group, "loss_per_sample_explicit_sum",
                                               torch::kDouble)) <= 1e-12);
    double weighted = score_entropy_loss(s, x, score_ratios(p_t, x), dsigma).item<double>();
    CHECK(weighted == doctest::Approx(group.double_attribute("weighted_mean")).epsilon(1e-8));

    // The float32 network output gives a finite loss where SEDD's float32 form is NaN.
    torch::Tensor ours_f32 = score_entropy_per_example(s.to(torch::kFloat), x, score_ratios(p_t, x));
    CHECK(all_finite(ours_f32));
    CHECK(max_relative_error(ours_f32, expected) <= 1e-5);
  }
}

TEST_CASE("authors' soft loss matches golden") {
  auto file = h5::File::open(golden_file("didicm_loss.h5").string());
  std::vector<h5::Group> groups;
  collect_groups(file, "loss_per_sample", groups);
  REQUIRE(!groups.empty());
  for (const auto& group : groups) {
    CAPTURE(group.path());
    torch::Tensor s = read_tensor(group, "log_score", torch::kDouble);
    torch::Tensor p_t = read_tensor(group, "p_t", torch::kDouble);
    torch::Tensor c = read_tensor(group, "c_t", torch::kLong);
    torch::Tensor dsigma = read_tensor(group, "dsigma", torch::kDouble);
    torch::Tensor expected = read_tensor(group, "loss_per_sample", torch::kDouble);
    const double n = static_cast<double>(s.size(1));

    torch::Tensor theirs = authors_soft_loss(s, p_t, c);
    CHECK(max_relative_error(theirs, expected) <= 1e-12);
    CHECK((dsigma * theirs).mean().item<double>() ==
          doctest::Approx(group.double_attribute("weighted_mean")).epsilon(1e-12));

    // The closed-form p_t of the stored p0 agrees with the stored one.
    torch::Tensor sigma = read_tensor(group, "sigma", torch::kDouble);
    CHECK(max_abs_error(forward_marginal(read_tensor(group, "p0", torch::kDouble), sigma), p_t) <=
          1e-15);

    // Where no clamp acts, ours is theirs plus 1/N: they also count K(r_c) = -1.
    torch::Tensor ratios = score_ratios(p_t, c);
    CHECK(max_relative_error(ratios.clamp(1e-10, 1e10), read_tensor(group, "ratios", torch::kDouble)) <=
          1e-12);
    torch::Tensor ours = score_entropy_per_example(s, c, ratios);
    torch::Tensor unclamped = (s.abs() <= 20.0).all(1) & (ratios >= 1e-10).all(1) &
                              (ratios <= 1e10).all(1);
    REQUIRE(unclamped.any().item<bool>());
    torch::Tensor rows = unclamped.nonzero().squeeze(1);
    CHECK(max_relative_error(ours.index_select(0, rows) - 1.0 / n, expected.index_select(0, rows)) <=
          1e-10);
  }
}

TEST_CASE("one-hot DiDiCM loss is SEDD minus 1/N") {
  auto file = h5::File::open(golden_file("didicm_loss.h5").string());
  std::vector<h5::Group> groups;
  collect_groups(file, "sedd_per_sample", groups);
  REQUIRE(!groups.empty());
  for (const auto& group : groups) {
    CAPTURE(group.path());
    torch::Tensor s = read_tensor(group, "log_score", torch::kDouble);
    torch::Tensor p_t = read_tensor(group, "p_t", torch::kDouble);
    torch::Tensor c = read_tensor(group, "c_t", torch::kLong);
    torch::Tensor x0 = read_tensor(group, "x0", torch::kLong);
    torch::Tensor sigma = read_tensor(group, "sigma", torch::kDouble);
    torch::Tensor sedd = read_tensor(group, "sedd_per_sample", torch::kDouble);
    torch::Tensor didicm = read_tensor(group, "didicm_per_sample", torch::kDouble);
    const double n = static_cast<double>(s.size(1));

    CHECK(max_relative_error(sedd_score_entropy(s, sigma, c, x0), sedd) <= 1e-8);
    CHECK(max_relative_error(authors_soft_loss(s, p_t, c), didicm) <= 1e-12);
    CHECK(group.double_attribute("expected_diff") == doctest::Approx(-1.0 / n).epsilon(1e-15));

    torch::Tensor ours = score_entropy_per_example(s, c, score_ratios(p_t, c));
    CHECK(max_relative_error(ours, sedd) <= 1e-8);
    CHECK(max_relative_error(ours - 1.0 / n, didicm) <= 1e-8);
  }
}

TEST_CASE("score entropy non-negative, zero at optimum") {
  torch::manual_seed(11);
  for (std::int64_t n : {2, 10, 1000}) {
    CAPTURE(n);
    const std::int64_t batch = 32;
    // Soft targets (Dirichlet-like) and one-hot targets, t over the training range.
    torch::Tensor soft = torch::softmax(2.0 * torch::randn({batch, n}, torch::kDouble), 1);
    torch::Tensor hard = one_hot_probs(torch::randint(n, {batch}, torch::kLong), n);
    torch::Tensor t = torch::linspace(1e-5, 1.0, batch, torch::kDouble);
    for (const auto& p0 : {soft, hard}) {
      torch::Tensor p_t = forward_marginal(p0, sigma_at(t));
      auto generator = at::detail::createCPUGenerator(3);
      torch::Tensor c = draw_noisy_labels(p_t, generator);
      torch::Tensor r = score_ratios(p_t, c);

      torch::Tensor random_loss = score_entropy_per_example(uniform({batch, n}, -80, 80), c, r);
      CHECK(all_finite(random_loss));
      CHECK(random_loss.min().item<double>() >= 0.0);

      torch::Tensor optimum = score_entropy_per_example(torch::log(r), c, r);
      CHECK(optimum.abs().max().item<double>() == 0.0);

      torch::Tensor near = score_entropy_per_example(torch::log(r) + 1e-4, c, r);
      CHECK(near.min().item<double>() > 0.0);
    }
  }
}

TEST_CASE("score entropy gradient is finite and exact") {
  const std::int64_t n = 1000;
  const std::int64_t batch = 6;
  torch::Tensor t = torch::tensor({1e-5, 1e-4, 0.01, 0.5, 0.9, 1.0}, torch::kDouble);
  torch::Tensor p_t = forward_marginal(one_hot_probs(torch::arange(batch), n), sigma_at(t));
  torch::Tensor c = torch::tensor({0, 7, 2, 3, 999, 5}, torch::kLong);  // c == x0 and c != x0
  torch::Tensor r = score_ratios(p_t, c);

  torch::manual_seed(5);
  torch::Tensor output = uniform({batch, n}, -80, 80).to(torch::kFloat).requires_grad_(true);
  torch::Tensor loss = score_entropy_loss(output, c, r, dsigma_at(t));
  loss.backward();

  torch::Tensor grad = output.grad();
  CHECK(std::isfinite(loss.item<double>()));
  CHECK(all_finite(grad));
  // d loss / d l_k = dsigma (exp(l_k) - r_k) / (N B) for k != c, and 0 at c.
  torch::Tensor expected = dsigma_at(t).unsqueeze(1) *
                           (output.detach().to(torch::kDouble).exp() - r) /
                           static_cast<double>(n * batch);
  expected.scatter_(1, c.unsqueeze(1), 0.0);
  CHECK(max_relative_error(grad, expected) <= 1e-5);
  CHECK(grad.gather(1, c.unsqueeze(1)).abs().max().item<float>() == 0.0F);
}

TEST_CASE("score entropy rejects mismatched shapes") {
  torch::Tensor l = torch::zeros({2, 3});
  CHECK_THROWS_AS(score_entropy_per_example(l, torch::zeros({2}, torch::kLong), torch::ones({2, 4})),
                  Error);
  CHECK_THROWS_AS(score_entropy_per_example(l, torch::zeros({3}, torch::kLong), torch::ones({2, 3})),
                  Error);
}

TEST_CASE("noisy labels follow p_t") {
  const std::int64_t draws = 100000;
  torch::Tensor p = torch::tensor({0.2, 0.5, 0.0, 0.3}, torch::kDouble);
  auto generator = at::detail::createCPUGenerator(17);
  torch::Tensor c = draw_noisy_labels(p.unsqueeze(0).expand({draws, 4}).contiguous(), generator);
  torch::Tensor counts = torch::bincount(c, {}, 4).to(torch::kDouble);

  CHECK(counts[2].item<double>() == 0.0);
  for (std::int64_t k : {0, 1, 3}) {
    double pk = p[k].item<double>();
    double z = (counts[k].item<double>() - draws * pk) / std::sqrt(draws * pk * (1 - pk));
    CHECK(std::abs(z) < 5.0);
  }
}

TEST_CASE("diffusion loss of a perfect model vanishes") {
  const std::int64_t n = 20;
  const std::int64_t batch = 16;
  torch::manual_seed(2);
  torch::Tensor p0 = torch::softmax(torch::randn({batch, n}, torch::kDouble), 1);
  PerfectScoreModel perfect(p0);
  torch::Tensor images = torch::arange(batch);

  auto first = at::detail::createCPUGenerator(9);
  DiffusionLoss a = diffusion_loss(perfect, images, p0, first, 1e-5);
  auto second = at::detail::createCPUGenerator(9);
  DiffusionLoss b = diffusion_loss(perfect, images, p0, second, 1e-5);

  CHECK(torch::equal(a.t, b.t));
  CHECK(torch::equal(a.noisy_labels, b.noisy_labels));
  CHECK(shape_of(a.per_example) == std::vector<std::int64_t>{batch});
  CHECK(a.t.min().item<double>() >= 1e-5);
  // Exact log-ratios up to rounding: each summand is r (expm1(x) - x) with |x| ~ 1e-15.
  CHECK(std::abs(a.loss.item<double>()) <= 1e-20);

  torch::Tensor wrong = torch::zeros({batch, n + 1}, torch::kDouble);
  CHECK_THROWS_AS(diffusion_loss(perfect, images, wrong, first, 1e-5), Error);
}
