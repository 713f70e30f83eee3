#include "subset.h"

#include "prng.h"

#include <algorithm>
#include <cmath>

namespace didicm {

std::int64_t subset_size(std::int64_t count, double ratio) {
  return static_cast<std::int64_t>(std::floor(double(count) * ratio + 1e-9));
}

std::vector<std::int64_t> choose_subset(const std::vector<std::int32_t>& labels,
                                        const std::vector<std::string>& class_keys,
                                        const SubsetOptions& options) {
  // Members of every class, in item order.
  std::vector<std::vector<std::int64_t>> members(class_keys.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    members.at(static_cast<std::size_t>(labels[i])).push_back(static_cast<std::int64_t>(i));
  }

  std::vector<std::int64_t> kept;
  for (std::size_t c = 0; c < members.size(); ++c) {
    const auto& items = members[c];
    auto count = static_cast<std::int64_t>(items.size());
    std::int64_t keep = subset_size(count, options.ratio);
    if (options.max_per_class > 0) {
      keep = std::min(keep, options.max_per_class);
    }
    if (keep == count) {
      kept.insert(kept.end(), items.begin(), items.end());
      continue;
    }
    std::uint64_t class_seed = SplitMix64(options.seed ^ fnv1a(class_keys[c])).next();
    std::vector<std::int64_t> order = seeded_permutation(count, class_seed);
    for (std::int64_t k = 0; k < keep; ++k) {
      kept.push_back(items[order[k]]);
    }
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

}  // namespace didicm
