#include "data_loader.h"

#include <doctest/doctest.h>
#include <torch/torch.h>

#include <map>
#include <vector>

using namespace didicm;

namespace {

// Image i: every byte (i * 7 + k) % 256; label i % 10.
class PatternSource : public ImageSource {
 public:
  PatternSource(std::int64_t count, int side) : count_(count), side_(side) {}
  std::int64_t size() const override { return count_; }
  int image_size() const override { return side_; }
  std::int32_t label(std::int64_t index) const override {
    return static_cast<std::int32_t>(index % 10);
  }
  void read_image(std::int64_t index, std::uint8_t* out) const override {
    const std::size_t bytes = static_cast<std::size_t>(side_) * side_ * 3;
    for (std::size_t k = 0; k < bytes; ++k) {
      out[k] = static_cast<std::uint8_t>((index * 7 + k) % 256);
    }
  }

 private:
  std::int64_t count_;
  int side_;
};

}  // namespace

TEST_CASE("repeated order follows timm") {
  const std::vector<std::int64_t> base = epoch_order(600, 5, 2);
  const std::vector<std::int64_t> repeated = repeated_epoch_order(600, 5, 2, 3);
  // floor(600 / 256) * 256 positions: each index three times in a row.
  REQUIRE(repeated.size() == 512);
  for (std::size_t i = 0; i < repeated.size(); ++i) {
    CHECK(repeated[i] == base[i / 3]);
  }
  CHECK(repeated_epoch_length(600, 1) == 600);
  CHECK(repeated_epoch_length(100, 3) == 100);  // below 256: all positions kept
  CHECK(repeated_epoch_order(50, 5, 2, 1) == epoch_order(50, 5, 2));
}

TEST_CASE("repeated augmentation batches") {
  DataLoaderConfig config;
  config.batch_size = 12;
  config.input_size = 10;
  config.seed = 77;
  config.workers = 2;
  config.aug_repeats = 3;
  config.augment.rand_augment = parse_rand_augment("rand-m7-mstd0.5-inc1");
  auto source = std::make_shared<PatternSource>(300, 16);

  DataLoader loader(source, config);
  // 300 images -> 256 positions -> 21 batches of 12 (the last 4 positions dropped).
  CHECK(loader.batches_per_epoch() == 256 / 12);

  DataLoaderConfig plain = config;
  plain.aug_repeats = 1;
  CHECK(DataLoader(source, plain).batches_per_epoch() == 300 / 12);

  loader.start_epoch(0);
  std::map<std::int64_t, std::vector<torch::Tensor>> views;
  std::int64_t rows = 0;
  while (auto batch = loader.next()) {
    for (std::int64_t r = 0; r < batch->indices.size(0); ++r) {
      views[batch->indices[r].item<std::int64_t>()].push_back(batch->images[r].clone());
      ++rows;
    }
  }
  CHECK(rows == 252);
  CHECK(views.size() == 84);
  for (const auto& [index, images] : views) {
    CAPTURE(index);
    REQUIRE(images.size() == 3);
    // Independent augmentations: no two copies of an image are equal.
    CHECK(!torch::equal(images[0], images[1]));
    CHECK(!torch::equal(images[0], images[2]));
    CHECK(!torch::equal(images[1], images[2]));
  }
}
