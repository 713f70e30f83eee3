#pragma once

// LAMB (You et al., "Large Batch Optimization for Deep Learning", 2019) as
// timm implements it in timm/optim/lamb.py. It is the optimizer of the DiDiCM
// training recipes. The factory builds LAMB, AdamW or SGD with timm's weight
// decay groups, and the export/import functions carry optimizer state across
// a resume.

#include <torch/optim/optimizer.h>
#include <torch/optim/serialize.h>

#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace didicm {

struct LambOptions : public torch::optim::OptimizerCloneableOptions<LambOptions> {
  LambOptions(double lr = 1e-3) : lr_(lr) {}
  TORCH_ARG(double, lr) = 1e-3;
  typedef std::tuple<double, double> betas_t;
  TORCH_ARG(betas_t, betas) = std::make_tuple(0.9, 0.999);
  TORCH_ARG(double, eps) = 1e-6;
  TORCH_ARG(double, weight_decay) = 0.01;
  // Global gradient-norm clipping over every group; 0 disables it. Only the
  // optimizer defaults carry it, as in timm.
  TORCH_ARG(double, max_grad_norm) = 1.0;
  // Clip the trust ratio at 1 (LAMBC).
  TORCH_ARG(bool, trust_clip) = false;
  // Apply the trust ratio also where weight_decay is 0.
  TORCH_ARG(bool, always_adapt) = false;

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  double get_lr() const override { return lr(); }
  void set_lr(const double lr) override { this->lr(lr); }
};

struct LambParamState : public torch::optim::OptimizerCloneableParamState<LambParamState> {
  TORCH_ARG(std::int64_t, step) = 0;
  TORCH_ARG(torch::Tensor, exp_avg);
  TORCH_ARG(torch::Tensor, exp_avg_sq);

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
};

// One step, for each parameter p with gradient g (t = its step count):
//   g      <- g / max(1, global_norm / max_grad_norm)   (global over all groups)
//   m      <- beta1 m + (1 - beta1) g
//   v      <- beta2 v + (1 - beta2) g^2
//   update  = (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps) + weight_decay p
//   ratio   = ||p|| / ||update|| if both > 0 else 1, when weight_decay != 0 or
//             always_adapt, else 1; min(ratio, 1) with trust_clip
//   p      <- p - lr ratio update
// The clipping divides the .grad tensors in place, as timm does.
// NOTE: timm counts steps per group, this class per parameter. The two agree
// unless a parameter has no gradient in some step.
class Lamb : public torch::optim::Optimizer {
 public:
  explicit Lamb(std::vector<torch::optim::OptimizerParamGroup> param_groups,
                LambOptions defaults = {});
  explicit Lamb(std::vector<torch::Tensor> params, LambOptions defaults = {});

  torch::Tensor step(LossClosure closure = nullptr) override;

  // torch::save / torch::load support. As for LibTorch's own optimizers, load
  // restores the per-parameter state and keeps this optimizer's group options.
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

  // The global L2 norm of all gradients before clipping in the last step
  // (0 before the first step); useful for logging.
  double last_grad_norm() const;

 private:
  torch::Tensor clip_gradients();

  template <typename Self, typename Archive>
  static void serialize(Self& self, Archive& archive) {
    torch::optim::serialize<LambParamState, LambOptions>(archive, self);
  }

  torch::Tensor last_grad_norm_;
};

// A parameter with its state_dict-style name ("layer1.0.conv1.weight").
using NamedTensor = std::pair<std::string, torch::Tensor>;

// Builds the optimizer `name` (lamb, adamw or sgd) over `parameters` in two
// groups, as timm's param_groups_weight_decay does: group 0 contains the
// parameters with weight decay `weight_decay`, group 1 every 1-D parameter and
// every name ending in ".bias" (biases, normalization weights) with weight
// decay 0. Parameters that do not require gradients are left out, and an empty
// group is not created.
// - lamb: Lamb with the defaults above (eps 1e-6, clipping at 1.0).
// - adamw: torch::optim::AdamW, betas (0.9, 0.999), eps 1e-8 (the
//   torch.optim.AdamW defaults, which timm keeps).
// - sgd: torch::optim::SGD with Nesterov momentum `momentum`, as timm's "sgd"
//   is (plain SGD when momentum is 0); its weight decay is L2 added to the
//   gradient. `momentum` is ignored by lamb and adamw.
// Throws UsageError for an unknown name, a negative or non-finite lr, weight
// decay or momentum, or momentum >= 1.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::string& name,
                                                        const std::vector<NamedTensor>& parameters,
                                                        double lr, double weight_decay,
                                                        double momentum = 0.9);

// Sets the learning rate of every parameter group (the schedule's value for
// the coming step).
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

// True for the parameters timm keeps out of weight decay.
bool is_no_weight_decay(const std::string& name, const torch::Tensor& parameter);

// The per-parameter state of `optimizer` (Lamb, AdamW or SGD) as named tensors
// "<parameter name>/<field>": fields step (int64 scalar), exp_avg and
// exp_avg_sq (Lamb, AdamW), max_exp_avg_sq (AdamW with amsgrad) and
// momentum_buffer (SGD). Parameters without state yet (before their first
// step) have no entries. Tensors are detached copies on the CPU.
std::vector<NamedTensor> export_optimizer_state(const torch::optim::Optimizer& optimizer,
                                                const std::vector<NamedTensor>& parameters);

// Restores the state written by export_optimizer_state into an optimizer built
// over the same named parameters. The existing state is replaced. Tensors are
// copied to the device and dtype of their parameter. Throws didicm::Error for
// an entry whose parameter or field is unknown, whose shape differs, or a
// parameter with an incomplete set of fields.
void import_optimizer_state(torch::optim::Optimizer& optimizer,
                            const std::vector<NamedTensor>& parameters,
                            const std::vector<NamedTensor>& state);

}  // namespace didicm
