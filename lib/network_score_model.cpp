#include "network_score_model.h"

#include "errors.h"

#include <fmt/format.h>

namespace didicm {

NetworkScoreModel::NetworkScoreModel(Model model) : model_(std::move(model)) {
  if (!model_.is_score_model()) {
    throw Error(fmt::format("{} is a plain classifier, not a score model: the DiDiCM samplers "
                            "and loss need a DiDiRN",
                            model_.config().name));
  }
}

torch::Tensor NetworkScoreModel::log_scores(const torch::Tensor& images,
                                            const torch::Tensor& labels,
                                            const torch::Tensor& sigma) {
  return model_.forward(images, labels, sigma.to(torch::kFloat32));
}

}  // namespace didicm
