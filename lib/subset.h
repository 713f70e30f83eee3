#pragma once

// Class-balanced subsets: keep floor(n_c * ratio) items of every class c,
// chosen by a seeded permutation that is the same on every machine.

#include <cstdint>
#include <string>
#include <vector>

namespace didicm {

struct SubsetOptions {
  double ratio = 1.0;            // in (0, 1]
  std::uint64_t seed = 0;
  std::int64_t max_per_class = 0;  // 0: no limit
};

// floor(count * ratio), tolerant to the rounding of decimal ratios
// (0.29 * 100 = 28.999999999999996 keeps 29).
std::int64_t subset_size(std::int64_t count, double ratio);

// Chooses items to keep. `labels[i]` is the class of item i, and
// `class_keys` names each class. The permutation of class c is seeded from the
// seed and class_keys[c], so it does not depend on which other classes are
// present. The first floor(n_c * ratio) items of the permutation are kept,
// at most max_per_class. Returns the kept item indices in increasing order.
std::vector<std::int64_t> choose_subset(const std::vector<std::int32_t>& labels,
                                        const std::vector<std::string>& class_keys,
                                        const SubsetOptions& options);

}  // namespace didicm
