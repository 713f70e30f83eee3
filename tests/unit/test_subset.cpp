#include "prng.h"
#include "subset.h"

#include <doctest/doctest.h>

#include <map>

using namespace didicm;

namespace {

std::vector<std::int32_t> make_labels(const std::vector<int>& counts) {
  std::vector<std::int32_t> labels;
  for (std::size_t c = 0; c < counts.size(); ++c) {
    labels.insert(labels.end(), static_cast<std::size_t>(counts[c]), static_cast<std::int32_t>(c));
  }
  return labels;
}

std::map<std::int32_t, int> count_per_class(const std::vector<std::int32_t>& labels,
                                            const std::vector<std::int64_t>& kept) {
  std::map<std::int32_t, int> counts;
  for (auto index : kept) {
    ++counts[labels[static_cast<std::size_t>(index)]];
  }
  return counts;
}

}  // namespace

TEST_CASE("splitmix64 reference values") {
  // First outputs for seed 0 of the reference implementation by Vigna.
  SplitMix64 generator(0);
  CHECK(generator.next() == 0xE220A8397B1DCDAFULL);
  CHECK(generator.next() == 0x6E789E6AA1B965F4ULL);
  CHECK(generator.next() == 0x06C45D188009454FULL);
}

TEST_CASE("subset size floors the product") {
  CHECK(subset_size(6000, 0.25) == 1500);
  CHECK(subset_size(7, 0.5) == 3);
  CHECK(subset_size(100, 0.29) == 29);
  CHECK(subset_size(3, 0.25) == 0);
  CHECK(subset_size(10, 1.0) == 10);
}

TEST_CASE("subset keeps floor per class") {
  auto labels = make_labels({10, 7, 1, 0, 13});
  std::vector<std::string> keys{"a", "b", "c", "d", "e"};
  auto kept = choose_subset(labels, keys, {0.5, 42, 0});
  auto counts = count_per_class(labels, kept);
  CHECK(counts[0] == 5);
  CHECK(counts[1] == 3);
  CHECK(counts[2] == 0);
  CHECK(counts[4] == 6);
  CHECK(std::is_sorted(kept.begin(), kept.end()));
}

TEST_CASE("subset max per class caps") {
  auto labels = make_labels({10, 3});
  auto kept = choose_subset(labels, {"a", "b"}, {1.0, 0, 4});
  auto counts = count_per_class(labels, kept);
  CHECK(counts[0] == 4);
  CHECK(counts[1] == 3);
}

TEST_CASE("subset is seeded and deterministic") {
  auto labels = make_labels({50, 50});
  std::vector<std::string> keys{"n01", "n02"};
  auto first = choose_subset(labels, keys, {0.3, 7, 0});
  auto again = choose_subset(labels, keys, {0.3, 7, 0});
  auto other_seed = choose_subset(labels, keys, {0.3, 8, 0});
  CHECK(first == again);
  CHECK(first != other_seed);

  // A class's choice depends on its own key and the seed, not on other classes.
  auto alone = choose_subset(make_labels({50}), {"n02"}, {0.3, 7, 0});
  std::vector<std::int64_t> second_class;
  for (auto index : first) {
    if (index >= 50) {
      second_class.push_back(index - 50);
    }
  }
  CHECK(alone == second_class);
}

TEST_CASE("subset permutation is a permutation") {
  auto order = seeded_permutation(1000, 123);
  std::vector<std::int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t i = 0; i < 1000; ++i) {
    CHECK(sorted[i] == i);
  }
  CHECK(order != sorted);
}
