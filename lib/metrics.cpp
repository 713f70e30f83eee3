#include "metrics.h"

#include "errors.h"
#include "posterior.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace didicm {

TieRule parse_tie_rule(const std::string& text) {
  if (text == "expected") {
    return TieRule::expected;
  }
  if (text == "index") {
    return TieRule::index;
  }
  throw UsageError(fmt::format("--ties {}: unknown rule; use 'expected' or 'index'", text));
}

double top_k_credit(const float* probs, std::int64_t num_classes, std::int32_t target, int k,
                    TieRule ties) {
  // The target's place is decided by the classes strictly above it and by the
  // classes tied with it (the target included).
  const float value = probs[target];
  std::int64_t above = 0;
  std::int64_t tied = 0;
  std::int64_t tied_before = 0;  // tied classes with a lower index than the target
  for (std::int64_t c = 0; c < num_classes; ++c) {
    if (probs[c] > value) {
      ++above;
    } else if (probs[c] == value) {
      ++tied;
      tied_before += c < target ? 1 : 0;
    }
  }
  if (above >= k) {
    return 0.0;
  }
  if (ties == TieRule::index) {
    return above + tied_before < k ? 1.0 : 0.0;
  }
  // A uniformly random order of the tied classes puts the target in each of
  // their `tied` places with equal chance, and k - above of those places count.
  if (above + tied <= k) {
    return 1.0;
  }
  return static_cast<double>(k - above) / static_cast<double>(tied);
}

int calibration_bin(double confidence) {
  int bin = static_cast<int>(std::ceil(confidence * calibration_bins)) - 1;
  return std::clamp(bin, 0, calibration_bins - 1);
}

Metrics compute_metrics(const Posterior& posterior, TieRule ties) {
  const std::int64_t classes = posterior.num_classes;
  Metrics metrics;
  metrics.count = posterior.rows;
  metrics.nfe = posterior.nfe;
  metrics.bins.resize(calibration_bins);
  metrics.class_count.assign(static_cast<std::size_t>(classes), 0);
  metrics.class_top1.assign(static_cast<std::size_t>(classes), 0.0);
  metrics.class_top5.assign(static_cast<std::size_t>(classes), 0.0);

  double top1_sum = 0.0;
  double top5_sum = 0.0;
  double nll_sum = 0.0;
  double brier_sum = 0.0;
  for (std::int64_t row = 0; row < posterior.rows; ++row) {
    const float* probs = posterior.probs.data() + row * classes;
    const std::int32_t target = posterior.targets[static_cast<std::size_t>(row)];
    const auto target_index = static_cast<std::size_t>(target);

    double top1 = top_k_credit(probs, classes, target, 1, ties);
    double top5 = top_k_credit(probs, classes, target, 5, ties);
    top1_sum += top1;
    top5_sum += top5;
    metrics.class_count[target_index] += 1;
    metrics.class_top1[target_index] += top1;
    metrics.class_top5[target_index] += top5;

    nll_sum -= std::log(std::max(static_cast<double>(probs[target]), nll_probability_floor));

    double squared_error = 0.0;
    double confidence = 0.0;
    for (std::int64_t c = 0; c < classes; ++c) {
      double difference = probs[c] - (c == target ? 1.0 : 0.0);
      squared_error += difference * difference;
      confidence = std::max(confidence, static_cast<double>(probs[c]));
    }
    brier_sum += squared_error;

    CalibrationBin& bin = metrics.bins[static_cast<std::size_t>(calibration_bin(confidence))];
    bin.count += 1;
    bin.confidence_sum += confidence;
    bin.correct_sum += top1;
  }

  const auto count = static_cast<double>(std::max<std::int64_t>(posterior.rows, 1));
  metrics.top1 = top1_sum / count;
  metrics.top5 = top5_sum / count;
  metrics.nll = nll_sum / count;
  metrics.brier = brier_sum / count;
  for (const CalibrationBin& bin : metrics.bins) {
    if (bin.count > 0) {
      metrics.ece += std::abs(bin.correct_sum - bin.confidence_sum) / count;
    }
  }
  return metrics;
}

}  // namespace didicm
