#pragma once

// DiDiRN as a ScoreModel, so that the loss and the samplers can call it.

#include "model_factory.h"
#include "score_model.h"

namespace didicm {

class NetworkScoreModel : public ScoreModel {
 public:
  // Throws Error when `model` is not a score model (a ResNet). With `amp`,
  // the network runs under bfloat16 autocast.
  explicit NetworkScoreModel(Model model, bool amp = false);

  // sigma is cast to float32, the dtype the network's embedding runs in. The
  // log-scores are float32 also under autocast, so the loss and the samplers'
  // updates keep full precision.
  torch::Tensor log_scores(const torch::Tensor& images, const torch::Tensor& labels,
                           const torch::Tensor& sigma) override;
  std::int64_t num_classes() const override { return model_.num_classes(); }
  torch::Device device() const override { return model_.device(); }

 private:
  Model model_;
  bool amp_;
};

}  // namespace didicm
