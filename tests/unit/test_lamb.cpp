#include "errors.h"
#include "lamb.h"

#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

using namespace didicm;

namespace {

// One parameter of the reference LAMB written with plain doubles.
struct ReferenceParameter {
  std::vector<double> value;
  std::vector<double> exp_avg;
  std::vector<double> exp_avg_sq;
  double weight_decay = 0.0;
};

double l2_norm(const std::vector<double>& values) {
  double sum = 0.0;
  for (double v : values) {
    sum += v * v;
  }
  return std::sqrt(sum);
}

// One LAMB step (step number t, 1-based) with timm's default hyperparameters.
void reference_lamb_step(std::vector<ReferenceParameter>& parameters,
                         std::vector<std::vector<double>> grads, int t, double lr) {
  const double beta1 = 0.9;
  const double beta2 = 0.999;
  const double eps = 1e-6;
  const double max_grad_norm = 1.0;

  double global_sum = 0.0;
  for (const auto& grad : grads) {
    for (double g : grad) {
      global_sum += g * g;
    }
  }
  const double clip = std::max(1.0, std::sqrt(global_sum) / max_grad_norm);

  for (std::size_t k = 0; k < parameters.size(); ++k) {
    ReferenceParameter& p = parameters[k];
    const double bias_correction1 = 1.0 - std::pow(beta1, t);
    const double bias_correction2 = 1.0 - std::pow(beta2, t);
    std::vector<double> update(p.value.size());
    for (std::size_t i = 0; i < p.value.size(); ++i) {
      const double g = grads[k][i] / clip;
      p.exp_avg[i] = beta1 * p.exp_avg[i] + (1 - beta1) * g;
      p.exp_avg_sq[i] = beta2 * p.exp_avg_sq[i] + (1 - beta2) * g * g;
      const double m_hat = p.exp_avg[i] / bias_correction1;
      const double v_hat = p.exp_avg_sq[i] / bias_correction2;
      update[i] = m_hat / (std::sqrt(v_hat) + eps) + p.weight_decay * p.value[i];
    }
    double trust_ratio = 1.0;
    if (p.weight_decay != 0) {
      const double weight_norm = l2_norm(p.value);
      const double update_norm = l2_norm(update);
      if (weight_norm > 0 && update_norm > 0) {
        trust_ratio = weight_norm / update_norm;
      }
    }
    for (std::size_t i = 0; i < p.value.size(); ++i) {
      p.value[i] -= lr * trust_ratio * update[i];
    }
  }
}

torch::Tensor as_tensor(const std::vector<double>& values, std::vector<int64_t> shape) {
  return torch::tensor(values, torch::kFloat64).reshape(shape).clone();
}

std::vector<double> as_vector(const torch::Tensor& tensor) {
  const torch::Tensor flat = tensor.detach().to(torch::kFloat64).contiguous().flatten();
  return std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
}

// A small model's named parameters: a 2-D weight, its bias, a norm weight.
std::vector<NamedTensor> tiny_parameters() {
  return {
      {"fc.weight", as_tensor({0.5, -1.0, 0.25, 2.0, -0.75, 1.5}, {2, 3}).requires_grad_(true)},
      {"fc.bias", as_tensor({0.1, -0.2}, {2}).requires_grad_(true)},
      {"norm.weight", as_tensor({1.0, 1.0, 1.0}, {3}).requires_grad_(true)},
  };
}

void set_grads(const std::vector<NamedTensor>& parameters,
               const std::vector<std::vector<double>>& grads) {
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    parameters[k].second.mutable_grad() = as_tensor(grads[k], parameters[k].second.sizes().vec());
  }
}

void check_close(const torch::Tensor& actual, const std::vector<double>& expected) {
  const std::vector<double> values = as_vector(actual);
  REQUIRE(values.size() == expected.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    CHECK(values[i] == doctest::Approx(expected[i]).epsilon(1e-12));
  }
}

}  // namespace

TEST_CASE("lamb two steps match hand computation") {
  const double lr = 0.01;
  const double weight_decay = 0.05;
  auto parameters = tiny_parameters();
  auto optimizer = make_optimizer("lamb", parameters, lr, weight_decay);

  std::vector<ReferenceParameter> reference;
  for (const auto& [name, tensor] : parameters) {
    ReferenceParameter p;
    p.value = as_vector(tensor);
    p.exp_avg.assign(p.value.size(), 0.0);
    p.exp_avg_sq.assign(p.value.size(), 0.0);
    p.weight_decay = is_no_weight_decay(name, tensor) ? 0.0 : weight_decay;
    reference.push_back(p);
  }
  CHECK(reference[0].weight_decay == weight_decay);
  CHECK(reference[1].weight_decay == 0.0);
  CHECK(reference[2].weight_decay == 0.0);

  // Step 1: global gradient norm below 1, no clipping.
  const std::vector<std::vector<double>> small = {
      {0.1, -0.2, 0.05, 0.3, 0.0, -0.1}, {0.2, -0.1}, {0.05, 0.0, -0.05}};
  // Step 2: global gradient norm about 6.7, clipped to 1.
  const std::vector<std::vector<double>> large = {
      {1.0, -2.0, 3.0, 0.5, -1.5, 2.5}, {3.0, 1.0}, {-2.0, 0.5, 1.0}};

  set_grads(parameters, small);
  optimizer->step();
  reference_lamb_step(reference, small, 1, lr);
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    check_close(parameters[k].second, reference[k].value);
  }

  set_grads(parameters, large);
  optimizer->step();
  reference_lamb_step(reference, large, 2, lr);
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    check_close(parameters[k].second, reference[k].value);
  }

  auto* lamb = dynamic_cast<Lamb*>(optimizer.get());
  REQUIRE(lamb != nullptr);
  double large_norm = 0.0;
  for (const auto& grad : large) {
    for (double g : grad) {
      large_norm += g * g;
    }
  }
  CHECK(lamb->last_grad_norm() == doctest::Approx(std::sqrt(large_norm)).epsilon(1e-12));
}

TEST_CASE("lamb clipping engages above norm 1") {
  auto parameters = tiny_parameters();
  auto optimizer = make_optimizer("lamb", parameters, 0.01, 0.0);

  // Global norm 5: every gradient is divided by 5 in place, as in timm.
  set_grads(parameters, {{3.0, 0, 0, 0, 0, 0}, {4.0, 0}, {0, 0, 0}});
  optimizer->step();
  check_close(parameters[0].second.grad(), {0.6, 0, 0, 0, 0, 0});
  check_close(parameters[1].second.grad(), {0.8, 0});

  // Global norm 0.5: left as it is.
  set_grads(parameters, {{0.3, 0, 0, 0, 0, 0}, {0.4, 0}, {0, 0, 0}});
  optimizer->step();
  check_close(parameters[0].second.grad(), {0.3, 0, 0, 0, 0, 0});
  check_close(parameters[1].second.grad(), {0.4, 0});
}

TEST_CASE("lamb trust ratio 1 for zero weights") {
  // ||p|| = 0: the ratio falls back to 1, so the first step moves each
  // element by lr * (m_hat / (sqrt(v_hat) + eps) + 0) = lr * sign(g) (almost).
  torch::Tensor weight = torch::zeros({2, 2}, torch::kFloat64).requires_grad_(true);
  auto optimizer = make_optimizer("lamb", {{"w", weight}}, 0.1, 0.5);
  weight.mutable_grad() = as_tensor({0.5, -0.5, 0.25, 0.0}, {2, 2});
  optimizer->step();
  const double move = 0.1 * (0.5 / (0.5 + 1e-6));
  CHECK(weight[0][0].item<double>() == doctest::Approx(-move).epsilon(1e-12));
  CHECK(weight[0][1].item<double>() == doctest::Approx(move).epsilon(1e-12));
  CHECK(weight[1][1].item<double>() == 0.0);
}

TEST_CASE("make_optimizer groups without weight decay") {
  torch::Tensor conv = torch::randn({4, 3, 3, 3}).requires_grad_(true);
  torch::Tensor conv_bias = torch::randn({4}).requires_grad_(true);
  torch::Tensor norm = torch::randn({4}).requires_grad_(true);
  torch::Tensor matrix_bias = torch::randn({2, 4}).requires_grad_(true);  // 2-D, named .bias
  torch::Tensor frozen = torch::randn({4, 4});                           // no gradient
  const std::vector<NamedTensor> parameters = {{"conv1.weight", conv},
                                               {"conv1.bias", conv_bias},
                                               {"bn1.weight", norm},
                                               {"head.bias", matrix_bias},
                                               {"frozen.weight", frozen}};

  for (const std::string name : {"lamb", "adamw", "sgd"}) {
    CAPTURE(name);
    auto optimizer = make_optimizer(name, parameters, 0.1, 0.05, 0.9);
    const auto& groups = optimizer->param_groups();
    REQUIRE(groups.size() == 2);
    REQUIRE(groups[0].params().size() == 1);
    CHECK(groups[0].params()[0].is_same(conv));
    REQUIRE(groups[1].params().size() == 3);
    CHECK(groups[1].params()[0].is_same(conv_bias));
    CHECK(groups[1].params()[1].is_same(norm));
    CHECK(groups[1].params()[2].is_same(matrix_bias));

    double decay = -1;
    double no_decay = -1;
    if (name == "lamb") {
      decay = static_cast<const LambOptions&>(groups[0].options()).weight_decay();
      no_decay = static_cast<const LambOptions&>(groups[1].options()).weight_decay();
    } else if (name == "adamw") {
      decay = static_cast<const torch::optim::AdamWOptions&>(groups[0].options()).weight_decay();
      no_decay = static_cast<const torch::optim::AdamWOptions&>(groups[1].options()).weight_decay();
    } else {
      const auto& options = static_cast<const torch::optim::SGDOptions&>(groups[0].options());
      CHECK(options.momentum() == 0.9);
      CHECK(options.nesterov());
      decay = options.weight_decay();
      no_decay = static_cast<const torch::optim::SGDOptions&>(groups[1].options()).weight_decay();
    }
    CHECK(decay == 0.05);
    CHECK(no_decay == 0.0);
  }
}

TEST_CASE("make_optimizer rejects bad settings") {
  const std::vector<NamedTensor> parameters = {{"w", torch::ones({2, 2}).requires_grad_(true)}};
  CHECK_THROWS_AS(make_optimizer("adam", parameters, 0.1, 0.0), UsageError);
  CHECK_THROWS_AS(make_optimizer("lamb", parameters, -0.1, 0.0), UsageError);
  CHECK_THROWS_AS(make_optimizer("lamb", parameters, 0.1, std::nan("")), UsageError);
  CHECK_THROWS_AS(make_optimizer("sgd", parameters, 0.1, 0.0, 1.0), UsageError);
  CHECK_NOTHROW(make_optimizer("sgd", parameters, 0.1, 0.0, 0.0));
}

TEST_CASE("set_learning_rate changes every group") {
  auto parameters = tiny_parameters();
  auto optimizer = make_optimizer("lamb", parameters, 0.1, 0.05);
  set_learning_rate(*optimizer, 0.025);
  for (const auto& group : optimizer->param_groups()) {
    CHECK(group.options().get_lr() == 0.025);
  }
}

TEST_CASE("optimizer state export and import resume exactly") {
  const std::vector<std::vector<double>> grads[3] = {
      {{0.1, -0.2, 0.05, 0.3, 0.0, -0.1}, {0.2, -0.1}, {0.05, 0.0, -0.05}},
      {{1.0, -2.0, 3.0, 0.5, -1.5, 2.5}, {3.0, 1.0}, {-2.0, 0.5, 1.0}},
      {{-0.4, 0.1, 0.2, 0.0, 0.3, -0.2}, {0.0, 0.5}, {0.1, 0.1, 0.1}},
  };

  for (const std::string name : {"lamb", "adamw", "sgd"}) {
    CAPTURE(name);
    auto original = tiny_parameters();
    auto first = make_optimizer(name, original, 0.01, 0.05, 0.9);
    set_grads(original, grads[0]);
    first->step();
    set_grads(original, grads[1]);
    first->step();

    const std::vector<NamedTensor> state = export_optimizer_state(*first, original);
    const std::size_t fields_per_parameter = name == "sgd" ? 1 : 3;
    CHECK(state.size() == original.size() * fields_per_parameter);
    CHECK(state[0].first == (name == "sgd" ? "fc.weight/momentum_buffer" : "fc.weight/step"));

    // A second optimizer over copies of the parameters, restored from the export.
    std::vector<NamedTensor> copy;
    for (const auto& [parameter_name, tensor] : original) {
      copy.emplace_back(parameter_name, tensor.detach().clone().requires_grad_(true));
    }
    auto second = make_optimizer(name, copy, 0.01, 0.05, 0.9);
    import_optimizer_state(*second, copy, state);

    set_grads(original, grads[2]);
    first->step();
    set_grads(copy, grads[2]);
    second->step();
    for (std::size_t k = 0; k < original.size(); ++k) {
      CHECK(torch::equal(original[k].second, copy[k].second));
    }
  }
}

TEST_CASE("optimizer state import rejects mismatches") {
  auto parameters = tiny_parameters();
  auto lamb = make_optimizer("lamb", parameters, 0.01, 0.05);
  set_grads(parameters, {{0.1, 0, 0, 0, 0, 0}, {0.1, 0}, {0, 0, 0}});
  lamb->step();
  const std::vector<NamedTensor> state = export_optimizer_state(*lamb, parameters);

  SUBCASE("unknown parameter") {
    std::vector<NamedTensor> renamed = state;
    renamed[0].first = "other.weight/step";
    CHECK_THROWS_AS(import_optimizer_state(*lamb, parameters, renamed), Error);
  }
  SUBCASE("wrong shape") {
    std::vector<NamedTensor> reshaped = state;
    reshaped[1].second = torch::zeros({3, 2}, torch::kFloat64);
    CHECK_THROWS_AS(import_optimizer_state(*lamb, parameters, reshaped), Error);
  }
  SUBCASE("missing field") {
    std::vector<NamedTensor> partial(state.begin() + 1, state.end());
    CHECK_THROWS_AS(import_optimizer_state(*lamb, parameters, partial), Error);
  }
  SUBCASE("state of another optimizer") {
    auto sgd = make_optimizer("sgd", parameters, 0.01, 0.05, 0.9);
    CHECK_THROWS_AS(import_optimizer_state(*sgd, parameters, state), Error);
  }
}

TEST_CASE("lamb save and load through torch archives") {
  auto parameters = tiny_parameters();
  auto optimizer = make_optimizer("lamb", parameters, 0.01, 0.05);
  set_grads(parameters, {{0.1, 0.2, 0, 0, 0, 0}, {0.1, 0}, {0, 0.3, 0}});
  optimizer->step();

  std::stringstream stream;
  torch::save(*optimizer, stream);
  auto restored = make_optimizer("lamb", parameters, 0.5, 0.0);
  torch::load(*restored, stream);

  const auto before = export_optimizer_state(*optimizer, parameters);
  const auto after = export_optimizer_state(*restored, parameters);
  REQUIRE(before.size() == after.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    CHECK(before[i].first == after[i].first);
    CHECK(torch::equal(before[i].second, after[i].second));
  }
  // LibTorch 1.13's optimizer load restores the per-parameter state only and
  // keeps the group options of the optimizer it loads into.
  CHECK(static_cast<const LambOptions&>(restored->param_groups()[0].options()).lr() == 0.5);
}
