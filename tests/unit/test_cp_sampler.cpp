#include "cp_sampler.h"
#include "errors.h"
#include "forward_process.h"
#include "support.h"
#include "tensor_support.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>

using namespace didicm;
using namespace didicm::testing;

namespace {

struct GoldenRun {
  std::string path;
  LabelSelect select;
  h5::Group group;
};

// Every {min,max}/steps* run under every N* group of cp_sampler.h5.
std::vector<GoldenRun> golden_runs(const h5::File& file) {
  std::vector<GoldenRun> runs;
  for (const auto& n_name : file.children()) {
    if (!file.is_group(n_name) || !file.open_group(n_name).exists("L")) {
      continue;
    }
    auto n_group = file.open_group(n_name);
    for (const auto& mode : n_group.children()) {
      if (!n_group.is_group(mode) || mode == "update") {
        continue;
      }
      auto mode_group = n_group.open_group(mode);
      for (const auto& run : mode_group.children()) {
        runs.push_back({n_name + "/" + mode + "/" + run, parse_label_select(mode),
                        mode_group.open_group(run)});
      }
    }
  }
  return runs;
}

FakeScoreModel golden_model(const h5::Group& n_group, torch::ScalarType type) {
  return FakeScoreModel(read_tensor(n_group, "L", torch::kFloat),
                        read_tensor(n_group, "Bm", torch::kFloat),
                        read_tensor(n_group, "C", torch::kFloat), type);
}

bool is_probability_rows(const torch::Tensor& p, double tolerance) {
  torch::Tensor sums = p.to(torch::kDouble).sum(1);
  return all_finite(p) && p.min().item<double>() >= 0.0 &&
         (sums - 1.0).abs().max().item<double>() <= tolerance;
}

}  // namespace

TEST_CASE("CP sampler matches golden float64 runs") {
  auto file = h5::File::open(golden_file("cp_sampler.h5").string());
  auto runs = golden_runs(file);
  REQUIRE(!runs.empty());
  for (const auto& run : runs) {
    CAPTURE(run.path);
    auto n_group = file.open_group(run.path.substr(0, run.path.find('/')));
    torch::Tensor labels = read_tensor(run.group, "labels_f64", torch::kLong);  // [S, B]
    torch::Tensor probs = read_tensor(run.group, "probs_f64", torch::kDouble);
    torch::Tensor trajectory = read_tensor(run.group, "traj_f64", torch::kDouble);
    const std::int64_t batch = probs.size(0);

    for (CpUpdate update : {CpUpdate::linear, CpUpdate::dense}) {
      CAPTURE(update == CpUpdate::linear ? "linear" : "dense");
      FakeScoreModel model = golden_model(n_group, torch::kDouble);
      CpOptions options;
      options.steps = labels.size(0);
      options.select = run.select;
      options.trajectory = true;
      options.update = update;
      SamplerResult result = sample_cp(model, torch::arange(batch), options);

      CHECK(result.nfe == options.steps);
      CHECK(model.calls == options.steps);
      CHECK(torch::equal(result.labels, labels.t()));
      REQUIRE(shape_of(result.trajectory) == shape_of(trajectory));
      CHECK(max_abs_error(result.trajectory, trajectory) <= 1e-10);
      CHECK(max_abs_error(result.posterior, probs) <= 1e-7);  // float32 rounding of the posterior
      CHECK((result.posterior.scalar_type() == torch::kFloat));
    }
  }
}

TEST_CASE("CP sampler matches golden float32 runs") {
  auto file = h5::File::open(golden_file("cp_sampler.h5").string());
  for (const auto& run : golden_runs(file)) {
    CAPTURE(run.path);
    auto n_group = file.open_group(run.path.substr(0, run.path.find('/')));
    torch::Tensor labels = read_tensor(run.group, "labels_f32", torch::kLong);
    torch::Tensor probs = read_tensor(run.group, "probs_f32", torch::kFloat);
    torch::Tensor trajectory = read_tensor(run.group, "traj_f32", torch::kFloat);

    FakeScoreModel model = golden_model(n_group, torch::kFloat);
    CpOptions options;
    options.steps = labels.size(0);
    options.select = run.select;
    options.trajectory = true;
    SamplerResult result = sample_cp(model, torch::arange(probs.size(0)), options);

    CHECK(torch::equal(result.labels, labels.t()));
    CHECK(max_abs_error(result.trajectory, trajectory) <= 2e-6);
    CHECK(max_abs_error(result.posterior, probs) <= 2e-6);
  }
}

TEST_CASE("CP update matches golden single updates") {
  auto file = h5::File::open(golden_file("cp_sampler.h5").string());
  int cases = 0;
  for (const auto& n_name : file.children()) {
    if (!file.exists(n_name + "/update")) {
      continue;
    }
    auto n_group = file.open_group(n_name);
    auto updates = n_group.open_group("update");
    torch::Tensor p = read_tensor(updates, "p", torch::kFloat);
    torch::Tensor images = torch::arange(p.size(0));
    FakeScoreModel model64 = golden_model(n_group, torch::kDouble);
    FakeScoreModel model32 = golden_model(n_group, torch::kFloat);

    for (const auto& config : updates.children()) {
      if (!updates.is_group(config)) {
        continue;
      }
      auto config_group = updates.open_group(config);
      const double step_size = config_group.double_attribute("step_size");
      torch::Tensor t = read_tensor(config_group, "t", torch::kFloat);
      for (const auto& mode : config_group.children()) {
        if (!config_group.is_group(mode)) {
          continue;
        }
        CAPTURE(n_name + "/update/" + config + "/" + mode);
        auto mode_group = config_group.open_group(mode);
        torch::Tensor labels = select_labels(p, parse_label_select(mode), 0, images, 0);
        CHECK(torch::equal(labels, read_tensor(mode_group, "labels", torch::kLong)));

        // float64: p and t upcast, schedule in float64.
        torch::Tensor t64 = t.to(torch::kDouble);
        torch::Tensor h64 = step_size * dsigma_at(t64);
        torch::Tensor l64 = mask_own_label(model64.log_scores(images, labels, sigma_at(t64)), labels);
        torch::Tensor next64 = read_tensor(mode_group, "next_f64", torch::kDouble);
        CHECK(max_abs_error(cp_update(p, l64, h64), next64) <= 1e-12 * max_abs(next64));
        CHECK(max_abs_error(cp_update_dense(p.to(torch::kDouble), l64, h64), next64) <=
              1e-12 * max_abs(next64));

        // float32: the model and the schedule in float32, as the authors' code runs.
        torch::Tensor h32 = dsigma_at(t) * static_cast<float>(step_size);
        torch::Tensor l32 = mask_own_label(model32.log_scores(images, labels, sigma_at(t)), labels);
        torch::Tensor next32 = read_tensor(mode_group, "next_f32", torch::kFloat);
        CHECK(max_abs_error(cp_update(p, l32, h32), next32) <= 2e-6 * max_abs(next32));
        ++cases;
      }
    }
  }
  CHECK(cases > 0);
}

TEST_CASE("CP finite on golden extreme scores") {
  auto file = h5::File::open(golden_file("cp_sampler.h5").string());
  if (!file.exists("extreme")) {
    return;
  }
  auto extreme = file.open_group("extreme");
  for (const auto& n_name : extreme.children()) {
    auto n_group = extreme.open_group(n_name);
    torch::Tensor u = read_tensor(n_group, "U", torch::kFloat);
    const std::int64_t batch = u.size(0);
    const std::int64_t n = u.size(1);
    for (const auto& r_name : n_group.children()) {
      if (!n_group.is_group(r_name) || r_name.front() != 'R') {
        continue;
      }
      // Group R<value>: the model output is value * U (Bm = 0, C = 0), sampled with S = 8.
      const float scale = std::stof(r_name.substr(1));
      auto r_group = n_group.open_group(r_name);
      for (const auto& mode : r_group.children()) {
        CAPTURE(n_name + "/" + r_name + "/" + mode);
        torch::Tensor golden64 = read_tensor(r_group.open_group(mode), "probs_float64", torch::kDouble);
        for (auto type : {torch::kFloat, torch::kDouble}) {
          FakeScoreModel model(u * scale, torch::zeros({batch, n}), torch::zeros({n, n}), type);
          CpOptions options;
          options.steps = 8;
          options.select = parse_label_select(mode);
          SamplerResult result = sample_cp(model, torch::arange(batch), options);
          CHECK(is_probability_rows(result.posterior, 1e-6));

          // Where the authors' float64 run stayed finite, both agree.
          torch::Tensor finite_rows = torch::isfinite(golden64).all(1).nonzero().squeeze(1);
          if (type == torch::kDouble && finite_rows.numel() > 0) {
            CHECK(max_abs_error(result.posterior.index_select(0, finite_rows),
                                golden64.index_select(0, finite_rows)) <= 1e-6);
          }
        }
      }
    }
  }
}

TEST_CASE("CP update equals dense form") {
  torch::manual_seed(21);
  for (std::int64_t n : {2, 3, 10, 1000}) {
    CAPTURE(n);
    const std::int64_t batch = n == 1000 ? 4 : 16;
    torch::Tensor p = torch::softmax(1.5 * torch::randn({batch, n}, torch::kDouble), 1);
    p.index_put_({0, 0}, 0.0);  // an exact zero, as the clamp produces
    p = p / p.sum(1, true);
    torch::Tensor c = torch::randint(n, {batch}, torch::kLong);
    torch::Tensor l = mask_own_label(3.0 * torch::randn({batch, n}, torch::kDouble), c);
    torch::Tensor h = torch::exp(torch::linspace(std::log(1e-3), std::log(999.0), batch,
                                                 torch::kDouble));

    torch::Tensor linear = cp_update(p, l, h);
    torch::Tensor dense = cp_update_dense(p, l, h);
    // Relative to the row's largest entry: entries near 0 come from cancellation.
    torch::Tensor scale = dense.abs().amax(1, true);
    CHECK(((linear - dense).abs() / scale).max().item<double>() <= 1e-6);
    CHECK(max_abs_error(linear.sum(1), torch::ones({batch}, torch::kDouble)) <=
          1e-9 * max_abs(scale));
    CHECK(max_abs_error(cp_step(p, l, h), cp_step_dense(p, l, h)) <= 1e-6);
  }
}

TEST_CASE("CP finite for scores in [-80, 80]") {
  torch::manual_seed(4);
  for (std::int64_t n : {10, 1000}) {
    CAPTURE(n);
    const std::int64_t batch = 8;
    torch::Tensor l = torch::rand({batch, n}) * 160.0F - 80.0F;
    for (auto select : {LabelSelect::argmin, LabelSelect::argmax, LabelSelect::sample}) {
      FakeScoreModel model(l, torch::zeros({batch, n}), torch::randn({n, n}) * 40.0F, torch::kFloat);
      CpOptions options;
      options.select = select;
      options.trajectory = true;
      SamplerResult result = sample_cp(model, torch::arange(batch), options);
      CHECK(is_probability_rows(result.posterior, 1e-6));
      CHECK(all_finite(result.trajectory));
    }
  }
}

TEST_CASE("CP sampler with one step and one image") {
  const std::int64_t n = 5;
  FakeScoreModel model(torch::randn({1, n}), torch::randn({1, n}), torch::randn({n, n}),
                       torch::kFloat);
  CpOptions options;
  options.steps = 1;
  options.trajectory = true;
  SamplerResult result = sample_cp(model, torch::arange(1), options);

  CHECK(shape_of(result.posterior) == std::vector<std::int64_t>{1, n});
  CHECK(shape_of(result.trajectory) == std::vector<std::int64_t>{1, 2, n});
  CHECK(shape_of(result.labels) == std::vector<std::int64_t>{1, 1});
  CHECK(result.nfe == 1);
  CHECK(result.labels[0][0].item<std::int64_t>() == 0);  // uniform start: tie at index 0
  CHECK(is_probability_rows(result.posterior, 1e-6));
}

TEST_CASE("CP label selection breaks ties low") {
  torch::Tensor p = torch::tensor({0.3, 0.1, 0.3, 0.1, 0.2}, torch::kDouble).unsqueeze(0);
  torch::Tensor streams = torch::zeros({1}, torch::kLong);
  CHECK(select_labels(p, LabelSelect::argmin, 0, streams, 0).item<std::int64_t>() == 1);
  CHECK(select_labels(p, LabelSelect::argmax, 0, streams, 0).item<std::int64_t>() == 0);
  CHECK(parse_label_select("min") == LabelSelect::argmin);
  CHECK(parse_label_select("argmax") == LabelSelect::argmax);
  CHECK(std::string(label_select_name(parse_label_select("sample"))) == "sample");
  CHECK_THROWS_AS(parse_label_select("median"), UsageError);
}

TEST_CASE("CP sampling batch and thread invariance") {
  const std::int64_t n = 12;
  const std::int64_t batch = 6;
  torch::manual_seed(8);
  FakeScoreModel model(2.0F * torch::randn({batch, n}), torch::randn({batch, n}),
                       torch::randn({n, n}), torch::kFloat);
  CpOptions options;
  options.select = LabelSelect::sample;
  options.seed = 1234;
  SamplerResult whole = sample_cp(model, torch::arange(batch), options);

  for (std::int64_t b = 0; b < batch; ++b) {
    CpOptions single = options;
    single.first_index = b;
    SamplerResult one = sample_cp(model, torch::tensor({b}, torch::kLong), single);
    CHECK(torch::equal(one.labels[0], whole.labels[b]));
    CHECK(torch::equal(one.posterior[0], whole.posterior[b]));
  }

  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  SamplerResult serial = sample_cp(model, torch::arange(batch), options);
  torch::set_num_threads(threads);
  CHECK(torch::equal(serial.posterior, whole.posterior));

  CpOptions other = options;
  other.seed = 1235;
  CHECK_FALSE(torch::equal(sample_cp(model, torch::arange(batch), other).labels, whole.labels));
}

TEST_CASE("CP perfect model recovers posterior") {
  // Posteriors pi from sharp to flat. The perfect model returns the exact
  // log-ratios of p_t(. | y) = e^{-sigma} pi + (1 - e^{-sigma}) / N, so q = p_t.
  const std::int64_t n = 10;
  torch::manual_seed(13);
  torch::Tensor sharpness = torch::tensor({4.0, 2.0, 1.0, 0.3}, torch::kDouble).unsqueeze(1);
  torch::Tensor pi = torch::softmax(torch::randn({4, n}, torch::kDouble) * sharpness, 1);
  PerfectScoreModel perfect(pi);

  // Why CP gets close: with p = q the update is p - h Q p, one Euler step
  // backwards along dp/dsigma = Q p, whose exact solution ends at
  // p_{eps} = pi + O(1e-5). A deviation e = p - q shrinks by about
  // (1 - h / (N q)) per step, so the uniform start (instead of p_1, which is
  // 1e-3 (pi - 1/N) away) is forgotten. What remains is of order 1/S: Euler's
  // error, and the grid itself, whose steps dt = (1 - eps) / S do not add up
  // to the spacing of linspace(1, eps, S). Measured on these inputs: 0.0068 at
  // S = 64 and 0.0012 at S = 512; the bounds leave a factor of 3.
  std::vector<double> distances;
  for (auto [steps, bound] : {std::pair<std::int64_t, double>{64, 0.02}, {512, 0.004}}) {
    CAPTURE(steps);
    CpOptions options;
    options.steps = steps;
    SamplerResult result = sample_cp(perfect, torch::arange(4), options);
    torch::Tensor difference = result.posterior.to(torch::kDouble) - pi;
    double total_variation = 0.5 * difference.abs().sum(1).max().item<double>();
    CHECK(total_variation <= bound);
    distances.push_back(total_variation);
  }
  CHECK(distances[1] < distances[0] / 3.0);  // converges as S grows
}
