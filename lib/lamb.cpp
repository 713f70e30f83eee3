#include "lamb.h"

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "errors.h"

namespace didicm {

namespace {

std::string state_key(const torch::Tensor& parameter) {
  return c10::guts::to_string(parameter.unsafeGetTensorImpl());
}

}  // namespace

// ---- LambOptions and LambParamState serialization (torch::save/torch::load) ----

void LambOptions::serialize(torch::serialize::OutputArchive& archive) const {
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(lr);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(betas);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(eps);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(weight_decay);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(max_grad_norm);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(trust_clip);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(always_adapt);
}

void LambOptions::serialize(torch::serialize::InputArchive& archive) {
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, lr);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(betas_t, betas);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, eps);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, weight_decay);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, max_grad_norm);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(bool, trust_clip);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(bool, always_adapt);
}

void LambParamState::serialize(torch::serialize::OutputArchive& archive) const {
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(step);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(exp_avg);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(exp_avg_sq);
}

void LambParamState::serialize(torch::serialize::InputArchive& archive) {
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(int64_t, step);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(torch::Tensor, exp_avg);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(torch::Tensor, exp_avg_sq);
}

// ---- Lamb ----

namespace {

void check_lamb_options(const LambOptions& options) {
  const auto [beta1, beta2] = options.betas();
  TORCH_CHECK(options.lr() >= 0, "Invalid learning rate: ", options.lr());
  TORCH_CHECK(options.eps() >= 0, "Invalid epsilon value: ", options.eps());
  TORCH_CHECK(beta1 >= 0 && beta1 < 1, "Invalid beta parameter at index 0: ", beta1);
  TORCH_CHECK(beta2 >= 0 && beta2 < 1, "Invalid beta parameter at index 1: ", beta2);
  TORCH_CHECK(options.weight_decay() >= 0, "Invalid weight_decay value: ", options.weight_decay());
  TORCH_CHECK(options.max_grad_norm() >= 0, "Invalid max_grad_norm value: ",
              options.max_grad_norm());
}

}  // namespace

Lamb::Lamb(std::vector<torch::optim::OptimizerParamGroup> param_groups, LambOptions defaults)
    : torch::optim::Optimizer(std::move(param_groups), std::make_unique<LambOptions>(defaults)) {
  check_lamb_options(defaults);
  for (const auto& group : param_groups_) {
    check_lamb_options(static_cast<const LambOptions&>(group.options()));
  }
}

Lamb::Lamb(std::vector<torch::Tensor> params, LambOptions defaults)
    : Lamb(std::vector<torch::optim::OptimizerParamGroup>{
               torch::optim::OptimizerParamGroup(std::move(params))},
           defaults) {}

// Divides every gradient by max(1, global_norm / max_grad_norm), where
// global_norm is the L2 norm of all gradients of all groups together.
// Returns the global norm before clipping.
torch::Tensor Lamb::clip_gradients() {
  std::vector<torch::Tensor> norms;
  for (const auto& group : param_groups_) {
    for (const auto& parameter : group.params()) {
      if (parameter.grad().defined()) {
        TORCH_CHECK(!parameter.grad().is_sparse(), "Lamb does not support sparse gradients");
        norms.push_back(parameter.grad().norm(2));
      }
    }
  }
  if (norms.empty()) {
    return torch::zeros({});
  }
  const torch::Tensor global_norm = torch::stack(norms).norm(2);

  const double max_grad_norm = static_cast<const LambOptions&>(defaults()).max_grad_norm();
  if (max_grad_norm > 0) {
    // A tensor factor keeps the step free of device-to-host copies.
    const torch::Tensor factor = (global_norm / max_grad_norm).clamp_min(1.0);
    for (auto& group : param_groups_) {
      for (auto& parameter : group.params()) {
        if (parameter.grad().defined()) {
          parameter.mutable_grad().div_(factor);
        }
      }
    }
  }
  return global_norm;
}

torch::Tensor Lamb::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss = {};
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }

  last_grad_norm_ = clip_gradients();

  for (auto& group : param_groups_) {
    const auto& options = static_cast<const LambOptions&>(group.options());
    const auto [beta1, beta2] = options.betas();
    const double weight_decay = options.weight_decay();

    for (auto& parameter : group.params()) {
      if (!parameter.grad().defined()) {
        continue;
      }
      const torch::Tensor& grad = parameter.grad();

      auto& slot = state_[state_key(parameter)];
      if (!slot) {
        auto fresh = std::make_unique<LambParamState>();
        fresh->exp_avg(torch::zeros_like(parameter, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(parameter, torch::MemoryFormat::Preserve));
        slot = std::move(fresh);
      }
      auto& state = static_cast<LambParamState&>(*slot);
      state.step(state.step() + 1);
      const double bias_correction1 = 1.0 - std::pow(beta1, static_cast<double>(state.step()));
      const double bias_correction2 = 1.0 - std::pow(beta2, static_cast<double>(state.step()));

      // Adam moments, then update = m_hat / (sqrt(v_hat) + eps).
      state.exp_avg().mul_(beta1).add_(grad, 1.0 - beta1);
      state.exp_avg_sq().mul_(beta2).addcmul_(grad, grad, 1.0 - beta2);
      const torch::Tensor denominator =
          (state.exp_avg_sq().sqrt() / std::sqrt(bias_correction2)).add_(options.eps());
      torch::Tensor update = (state.exp_avg() / bias_correction1).div_(denominator);

      // Decoupled weight decay enters the update before the trust ratio.
      if (weight_decay != 0) {
        update.add_(parameter, weight_decay);
      }

      // Layer-wise trust ratio ||p|| / ||update||, skipped for the groups
      // without weight decay unless always_adapt is set.
      if (weight_decay != 0 || options.always_adapt()) {
        const torch::Tensor weight_norm = parameter.norm(2);
        const torch::Tensor update_norm = update.norm(2);
        const torch::Tensor one = torch::ones_like(weight_norm);
        torch::Tensor trust_ratio = torch::where(
            weight_norm > 0, torch::where(update_norm > 0, weight_norm / update_norm, one), one);
        if (options.trust_clip()) {
          trust_ratio = torch::minimum(trust_ratio, one);
        }
        update.mul_(trust_ratio);
      }

      parameter.add_(update, -options.lr());
    }
  }
  return loss;
}

double Lamb::last_grad_norm() const {
  return last_grad_norm_.defined() ? last_grad_norm_.item<double>() : 0.0;
}

void Lamb::save(torch::serialize::OutputArchive& archive) const { serialize(*this, archive); }

void Lamb::load(torch::serialize::InputArchive& archive) { serialize(*this, archive); }

// ---- Factory ----

bool is_no_weight_decay(const std::string& name, const torch::Tensor& parameter) {
  const std::string suffix = ".bias";
  const bool is_bias = name.size() >= suffix.size() &&
                       name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  return parameter.dim() <= 1 || is_bias;
}

namespace {

void check_hyperparameter(const std::string& what, double value) {
  if (!std::isfinite(value) || value < 0) {
    throw UsageError(fmt::format("{} {}: invalid value: expected a finite number >= 0", what, value));
  }
}

std::unique_ptr<torch::optim::OptimizerOptions> make_group_options(const std::string& name,
                                                                   double lr, double weight_decay,
                                                                   double momentum) {
  if (name == "lamb") {
    return std::make_unique<LambOptions>(LambOptions(lr).weight_decay(weight_decay));
  }
  if (name == "adamw") {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(lr).weight_decay(weight_decay));
  }
  return std::make_unique<torch::optim::SGDOptions>(torch::optim::SGDOptions(lr)
                                                        .momentum(momentum)
                                                        .nesterov(momentum > 0)
                                                        .weight_decay(weight_decay));
}

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::string& name,
                                                        const std::vector<NamedTensor>& parameters,
                                                        double lr, double weight_decay,
                                                        double momentum) {
  if (name != "lamb" && name != "adamw" && name != "sgd") {
    throw UsageError(fmt::format("optimizer '{}': unknown name: use lamb, adamw or sgd", name));
  }
  check_hyperparameter("learning rate", lr);
  check_hyperparameter("weight decay", weight_decay);
  check_hyperparameter("momentum", momentum);
  if (momentum >= 1) {
    throw UsageError(fmt::format("momentum {}: invalid value: expected a number in [0, 1)", momentum));
  }

  std::vector<torch::Tensor> decay;
  std::vector<torch::Tensor> no_decay;
  for (const auto& [parameter_name, parameter] : parameters) {
    if (!parameter.requires_grad()) {
      continue;
    }
    (is_no_weight_decay(parameter_name, parameter) ? no_decay : decay).push_back(parameter);
  }

  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!decay.empty()) {
    groups.emplace_back(decay, make_group_options(name, lr, weight_decay, momentum));
  }
  if (!no_decay.empty()) {
    groups.emplace_back(no_decay, make_group_options(name, lr, 0.0, momentum));
  }

  if (name == "lamb") {
    return std::make_unique<Lamb>(std::move(groups), LambOptions(lr).weight_decay(weight_decay));
  }
  if (name == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        std::move(groups), torch::optim::AdamWOptions(lr).weight_decay(weight_decay));
  }
  return std::make_unique<torch::optim::SGD>(
      std::move(groups), torch::optim::SGDOptions(lr)
                             .momentum(momentum)
                             .nesterov(momentum > 0)
                             .weight_decay(weight_decay));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    group.options().set_lr(lr);
  }
}

// ---- State export and import ----

namespace {

enum class OptimizerKind { lamb, adamw, sgd };

OptimizerKind optimizer_kind(const torch::optim::Optimizer& optimizer) {
  if (dynamic_cast<const Lamb*>(&optimizer) != nullptr) {
    return OptimizerKind::lamb;
  }
  if (dynamic_cast<const torch::optim::AdamW*>(&optimizer) != nullptr) {
    return OptimizerKind::adamw;
  }
  if (dynamic_cast<const torch::optim::SGD*>(&optimizer) != nullptr) {
    return OptimizerKind::sgd;
  }
  throw Error("optimizer state: unsupported optimizer type: expected Lamb, AdamW or SGD");
}

torch::Tensor cpu_copy(const torch::Tensor& tensor) {
  return tensor.detach().to(torch::kCPU).clone();
}

torch::Tensor step_tensor(std::int64_t step) { return torch::tensor(step, torch::kInt64); }

void export_one(OptimizerKind kind, const std::string& name,
                const torch::optim::OptimizerParamState& state, std::vector<NamedTensor>& out) {
  if (kind == OptimizerKind::lamb) {
    const auto& lamb = static_cast<const LambParamState&>(state);
    out.emplace_back(name + "/step", step_tensor(lamb.step()));
    out.emplace_back(name + "/exp_avg", cpu_copy(lamb.exp_avg()));
    out.emplace_back(name + "/exp_avg_sq", cpu_copy(lamb.exp_avg_sq()));
  } else if (kind == OptimizerKind::adamw) {
    const auto& adamw = static_cast<const torch::optim::AdamWParamState&>(state);
    out.emplace_back(name + "/step", step_tensor(adamw.step()));
    out.emplace_back(name + "/exp_avg", cpu_copy(adamw.exp_avg()));
    out.emplace_back(name + "/exp_avg_sq", cpu_copy(adamw.exp_avg_sq()));
    if (adamw.max_exp_avg_sq().defined()) {
      out.emplace_back(name + "/max_exp_avg_sq", cpu_copy(adamw.max_exp_avg_sq()));
    }
  } else {
    const auto& sgd = static_cast<const torch::optim::SGDParamState&>(state);
    if (sgd.momentum_buffer().defined()) {
      out.emplace_back(name + "/momentum_buffer", cpu_copy(sgd.momentum_buffer()));
    }
  }
}

// The fields of one parameter, by field name.
using Fields = std::map<std::string, torch::Tensor>;

torch::Tensor take_field(Fields& fields, const std::string& parameter_name,
                         const std::string& field, const torch::Tensor& parameter) {
  const auto found = fields.find(field);
  if (found == fields.end()) {
    throw Error(fmt::format("optimizer state: {}/{}: missing entry: the state is incomplete; "
                            "resume with the --opt of the interrupted run",
                            parameter_name, field));
  }
  const torch::Tensor value = found->second;
  fields.erase(found);
  if (field == "step") {
    if (value.numel() != 1) {
      throw Error(fmt::format("optimizer state: {}/step: expected one value, found {}",
                              parameter_name, value.numel()));
    }
    return value;
  }
  if (value.sizes() != parameter.sizes()) {
    throw Error(fmt::format("optimizer state: {}/{}: shape {} differs from the parameter's {}",
                            parameter_name, field, c10::str(value.sizes()),
                            c10::str(parameter.sizes())));
  }
  return value.detach().to(parameter.device(), parameter.scalar_type()).clone();
}

std::unique_ptr<torch::optim::OptimizerParamState> import_one(OptimizerKind kind,
                                                              const std::string& name,
                                                              const torch::Tensor& parameter,
                                                              Fields fields) {
  std::unique_ptr<torch::optim::OptimizerParamState> result;
  if (kind == OptimizerKind::lamb) {
    auto state = std::make_unique<LambParamState>();
    state->step(take_field(fields, name, "step", parameter).item<std::int64_t>());
    state->exp_avg(take_field(fields, name, "exp_avg", parameter));
    state->exp_avg_sq(take_field(fields, name, "exp_avg_sq", parameter));
    result = std::move(state);
  } else if (kind == OptimizerKind::adamw) {
    auto state = std::make_unique<torch::optim::AdamWParamState>();
    state->step(take_field(fields, name, "step", parameter).item<std::int64_t>());
    state->exp_avg(take_field(fields, name, "exp_avg", parameter));
    state->exp_avg_sq(take_field(fields, name, "exp_avg_sq", parameter));
    if (fields.count("max_exp_avg_sq") != 0) {
      state->max_exp_avg_sq(take_field(fields, name, "max_exp_avg_sq", parameter));
    }
    result = std::move(state);
  } else {
    auto state = std::make_unique<torch::optim::SGDParamState>();
    state->momentum_buffer(take_field(fields, name, "momentum_buffer", parameter));
    result = std::move(state);
  }

  if (!fields.empty()) {
    throw Error(fmt::format(
        "optimizer state: {}/{}: unknown field for this optimizer: the state was saved by "
        "another optimizer; resume with the --opt of the interrupted run",
        name, fields.begin()->first));
  }
  return result;
}

}  // namespace

std::vector<NamedTensor> export_optimizer_state(const torch::optim::Optimizer& optimizer,
                                                const std::vector<NamedTensor>& parameters) {
  const OptimizerKind kind = optimizer_kind(optimizer);
  std::vector<NamedTensor> out;
  for (const auto& [name, parameter] : parameters) {
    const auto found = optimizer.state().find(state_key(parameter));
    if (found != optimizer.state().end() && found->second) {
      export_one(kind, name, *found->second, out);
    }
  }
  return out;
}

void import_optimizer_state(torch::optim::Optimizer& optimizer,
                            const std::vector<NamedTensor>& parameters,
                            const std::vector<NamedTensor>& state) {
  const OptimizerKind kind = optimizer_kind(optimizer);

  std::map<std::string, torch::Tensor> by_name(parameters.begin(), parameters.end());
  std::map<std::string, Fields> fields_by_parameter;
  for (const auto& [entry_name, tensor] : state) {
    const auto slash = entry_name.rfind('/');
    const std::string parameter_name =
        slash == std::string::npos ? entry_name : entry_name.substr(0, slash);
    if (slash == std::string::npos || by_name.count(parameter_name) == 0) {
      throw Error(fmt::format(
          "optimizer state: {}: no such parameter in the model: the state belongs to another "
          "model; resume with the options of the interrupted run",
          entry_name));
    }
    fields_by_parameter[parameter_name][entry_name.substr(slash + 1)] = tensor;
  }

  // Build everything first, so a failure leaves the optimizer untouched.
  std::vector<std::pair<std::string, std::unique_ptr<torch::optim::OptimizerParamState>>> built;
  for (auto& [parameter_name, fields] : fields_by_parameter) {
    const torch::Tensor& parameter = by_name.at(parameter_name);
    built.emplace_back(state_key(parameter),
                       import_one(kind, parameter_name, parameter, std::move(fields)));
  }
  optimizer.state().clear();
  for (auto& [key, param_state] : built) {
    optimizer.state()[key] = std::move(param_state);
  }
}

}  // namespace didicm
