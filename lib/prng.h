#pragma once

// A small random number generator with a fixed, documented algorithm, so that
// a seed selects the same items on every machine and standard library (the
// distributions and std::shuffle of <random> are implementation-defined).

#include <cstdint>
#include <string_view>
#include <vector>

namespace didicm {

// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
// generators", 2014): state += 0x9E3779B97F4A7C15, then two xor-shift-multiply
// rounds.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Uniform integer in [0, bound), bound > 0, without modulo bias: draws that
  // fall into the incomplete last block of 2^64 are rejected.
  std::uint64_t below(std::uint64_t bound) {
    std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % bound);
    std::uint64_t value = next();
    while (value >= limit) {
      value = next();
    }
    return value % bound;
  }

 private:
  std::uint64_t state_;
};

// FNV-1a, 64 bits: a stable hash of bytes, for seeds and content checks.
constexpr std::uint64_t fnv1a_offset = 0xCBF29CE484222325ULL;
constexpr std::uint64_t fnv1a_prime = 0x100000001B3ULL;

inline std::uint64_t fnv1a(const void* data, std::size_t size, std::uint64_t hash = fnv1a_offset) {
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    hash = (hash ^ bytes[i]) * fnv1a_prime;
  }
  return hash;
}

inline std::uint64_t fnv1a(std::string_view text, std::uint64_t hash = fnv1a_offset) {
  return fnv1a(text.data(), text.size(), hash);
}

// A permutation of 0..count-1 by Fisher-Yates with SplitMix64 draws.
inline std::vector<std::int64_t> seeded_permutation(std::int64_t count, std::uint64_t seed) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    order[i] = i;
  }
  SplitMix64 generator(seed);
  for (std::int64_t i = count - 1; i > 0; --i) {
    auto j = static_cast<std::int64_t>(generator.below(static_cast<std::uint64_t>(i) + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

}  // namespace didicm
