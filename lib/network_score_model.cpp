#include "network_score_model.h"

#include "autocast.h"
#include "errors.h"

#include <fmt/format.h>

namespace didicm {

NetworkScoreModel::NetworkScoreModel(Model model, bool amp) : model_(std::move(model)), amp_(amp) {
  if (!model_.is_score_model()) {
    throw Error(fmt::format("{} is a plain classifier, not a score model: the DiDiCM samplers "
                            "and loss need a DiDiRN",
                            model_.config().name));
  }
}

torch::Tensor NetworkScoreModel::log_scores(const torch::Tensor& images,
                                            const torch::Tensor& labels,
                                            const torch::Tensor& sigma) {
  AutocastGuard autocast(amp_, model_.device());
  torch::Tensor log_scores = model_.forward(images, labels, sigma.to(torch::kFloat32));
  return amp_ ? log_scores.to(torch::kFloat32) : log_scores;
}

}  // namespace didicm
