#pragma once

// Classification metrics of a posterior: top-1 and top-5 accuracy, negative
// log-likelihood, expected calibration error and Brier score. Every metric is
// a plain mean over rows in row order, accumulated in double, so it does not
// depend on how the sampler batched the rows.

#include <cstdint>
#include <string>
#include <vector>

namespace didicm {

struct Posterior;

// Rule for a tie at the k-th place. `expected` gives the expected hit under a
// uniformly random order of the tied classes, a fraction in [0, 1]. `index`
// ranks a tied class with a lower index first.
// NOTE: torch.topk does not document its tie order. `index` is the order it is
// taken to give in the authors' evaluation, not verified here.
enum class TieRule { expected, index };

// Parses "expected" or "index"; throws UsageError otherwise.
TieRule parse_tie_rule(const std::string& text);

// The NLL takes -log(max(p_target, nll_probability_floor)), so a zero
// probability on the target costs about 27.6 nats instead of infinity.
inline constexpr double nll_probability_floor = 1e-12;

// Equal-width confidence bins of the ECE and of the reliability diagram.
inline constexpr int calibration_bins = 15;

// Credit in [0, 1] for `target` being among the top k of `probs`
// (`num_classes` values). With fewer than k classes every target is a hit.
double top_k_credit(const float* probs, std::int64_t num_classes, std::int32_t target, int k,
                    TieRule ties);

// Returns the bin of a top-1 confidence in [0, 1]. Bin b covers
// (b/15, (b+1)/15], and bin 0 also covers 0.
int calibration_bin(double confidence);

// One confidence bin: sums over its rows of the top-1 confidence and of the
// top-1 credit.
struct CalibrationBin {
  std::int64_t count = 0;
  double confidence_sum = 0.0;
  double correct_sum = 0.0;
};

struct Metrics {
  std::int64_t count = 0;  // rows evaluated
  std::int64_t nfe = 0;    // network evaluations per image, from the posterior
  double top1 = 0.0;       // fraction in [0, 1]
  double top5 = 0.0;       // fraction in [0, 1]
  double nll = 0.0;        // nats per row
  double ece = 0.0;        // sum over bins of (rows in bin / count) * |accuracy - confidence|
  double brier = 0.0;      // mean over rows of sum over classes of (p - onehot)^2, in [0, 2]
  std::vector<CalibrationBin> bins;  // calibration_bins entries

  // Per target class: rows, and sums of top-1 and top-5 credit.
  std::vector<std::int64_t> class_count;
  std::vector<double> class_top1;
  std::vector<double> class_top5;
};

// Metrics of every row of `posterior`. The confidence of a row is its largest
// probability, and its correctness for the ECE is its top-1 credit under `ties`.
Metrics compute_metrics(const Posterior& posterior, TieRule ties);

}  // namespace didicm
