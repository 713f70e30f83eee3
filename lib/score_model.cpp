#include "score_model.h"

#include "errors.h"

#include <torch/torch.h>

namespace didicm {

torch::Tensor mask_own_label(const torch::Tensor& log_scores, const torch::Tensor& labels) {
  torch::Tensor index = labels.to(log_scores.device(), torch::kLong).reshape({-1, 1});
  return log_scores.scatter(1, index, 0.0);
}

torch::Tensor masked_log_scores(ScoreModel& model, const torch::Tensor& images,
                                const torch::Tensor& labels, const torch::Tensor& sigma) {
  torch::Tensor output = model.log_scores(images, labels, sigma);

  const std::int64_t batch = labels.size(0);
  if (output.dim() != 2 || output.size(0) != batch || output.size(1) != model.num_classes()) {
    throw Error(fmt::format("score model: output shape [{}]: expected [{}, {}]",
                            fmt::join(output.sizes(), ", "), batch, model.num_classes()));
  }
  return mask_own_label(output, labels);
}

}  // namespace didicm
