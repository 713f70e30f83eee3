#include "data_loader.h"
#include "errors.h"

#include <doctest/doctest.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

using namespace didicm;

namespace {

// An in-memory dataset: image i has pixels derived from i, label i % 10.
class FakeSource : public ImageSource {
 public:
  FakeSource(std::int64_t count, int side) : count_(count), side_(side) {}

  std::int64_t size() const override { return count_; }
  int image_size() const override { return side_; }
  std::int32_t label(std::int64_t index) const override {
    return static_cast<std::int32_t>(index % 10);
  }
  void read_image(std::int64_t index, std::uint8_t* out) const override {
    if (index == failing_index) {
      throw Error("fake.h5: image " + std::to_string(index) + ": cannot decode");
    }
    if (delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    }
    const std::size_t bytes = static_cast<std::size_t>(side_) * side_ * 3;
    for (std::size_t k = 0; k < bytes; ++k) {
      out[k] = static_cast<std::uint8_t>((index * 37 + k * 11 + (k % 3) * 50) % 256);
    }
  }

  std::int64_t failing_index = -1;
  std::atomic<int> delay_ms{0};

 private:
  std::int64_t count_;
  int side_;
};

DataLoaderConfig small_config(int workers) {
  DataLoaderConfig config;
  config.batch_size = 8;
  config.input_size = 12;
  config.seed = 2024;
  config.workers = workers;
  return config;
}

std::vector<Batch> whole_epoch(DataLoader& loader, std::int64_t epoch, std::int64_t first = 0) {
  loader.start_epoch(epoch, first);
  std::vector<Batch> batches;
  while (auto batch = loader.next()) {
    batches.push_back(std::move(*batch));
  }
  return batches;
}

void check_same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].batch_index == b[i].batch_index);
    CHECK(torch::equal(a[i].indices, b[i].indices));
    CHECK(torch::equal(a[i].labels, b[i].labels));
    CHECK(torch::equal(a[i].images, b[i].images));
  }
}

}  // namespace

TEST_CASE("epoch order is a permutation") {
  const auto order = epoch_order(1000, 5, 0);
  CHECK(std::set<std::int64_t>(order.begin(), order.end()).size() == 1000);
  CHECK(*std::min_element(order.begin(), order.end()) == 0);
  CHECK(*std::max_element(order.begin(), order.end()) == 999);
  CHECK(order == epoch_order(1000, 5, 0));
  CHECK(order != epoch_order(1000, 5, 1));
  CHECK(order != epoch_order(1000, 6, 0));
}

TEST_CASE("loader drops the last partial batch in training") {
  auto source = std::make_shared<FakeSource>(45, 16);
  DataLoader loader(source, small_config(2));
  CHECK(loader.batches_per_epoch() == 5);

  const auto batches = whole_epoch(loader, 0);
  REQUIRE(batches.size() == 5);
  std::set<std::int64_t> seen;
  for (const auto& batch : batches) {
    CHECK(batch.images.sizes().vec() == std::vector<std::int64_t>{8, 3, 12, 12});
    CHECK((batch.images.scalar_type() == torch::kFloat32));
    CHECK((batch.labels.scalar_type() == torch::kInt64));
    CHECK((batch.indices.scalar_type() == torch::kInt64));
    for (std::int64_t row = 0; row < 8; ++row) {
      const std::int64_t index = batch.indices[row].item<std::int64_t>();
      CHECK(batch.labels[row].item<std::int64_t>() == index % 10);
      CHECK(seen.insert(index).second);  // each index at most once
    }
  }
  CHECK(seen.size() == 40);
}

TEST_CASE("loader keeps the last batch in evaluation") {
  auto source = std::make_shared<FakeSource>(45, 16);
  DataLoaderConfig config = small_config(3);
  config.train = false;
  DataLoader loader(source, config);
  CHECK(loader.batches_per_epoch() == 6);

  const auto batches = whole_epoch(loader, 0);
  REQUIRE(batches.size() == 6);
  CHECK(batches.back().images.size(0) == 5);
  std::int64_t expected = 0;
  for (const auto& batch : batches) {
    for (std::int64_t row = 0; row < batch.indices.size(0); ++row) {
      CHECK(batch.indices[row].item<std::int64_t>() == expected++);
    }
  }
  CHECK(expected == 45);

  // Evaluation has no randomness: a second pass is identical.
  check_same_batches(batches, whole_epoch(loader, 3));
}

TEST_CASE("loader batches independent of workers") {
  auto source = std::make_shared<FakeSource>(50, 20);
  DataLoader inline_loader(source, small_config(0));
  DataLoader one(source, small_config(1));
  DataLoader three(source, small_config(3));
  const auto reference = whole_epoch(inline_loader, 4);
  check_same_batches(reference, whole_epoch(one, 4));
  check_same_batches(reference, whole_epoch(three, 4));

  // Another epoch shuffles and augments differently.
  const auto next_epoch = whole_epoch(three, 5);
  CHECK_FALSE(torch::equal(reference[0].indices, next_epoch[0].indices));

  // Another seed too.
  DataLoaderConfig config = small_config(2);
  config.seed = 7;
  DataLoader reseeded(source, config);
  CHECK_FALSE(torch::equal(reference[0].images, whole_epoch(reseeded, 4)[0].images));
}

TEST_CASE("loader resume at batch k") {
  auto source = std::make_shared<FakeSource>(70, 16);
  DataLoader loader(source, small_config(2));
  const auto full = whole_epoch(loader, 2);
  REQUIRE(full.size() == 8);

  const auto resumed = whole_epoch(loader, 2, 5);
  REQUIRE(resumed.size() == 3);
  check_same_batches(std::vector<Batch>(full.begin() + 5, full.end()), resumed);

  CHECK(whole_epoch(loader, 2, 8).empty());
  CHECK_THROWS_AS(loader.start_epoch(2, 9), UsageError);
}

TEST_CASE("loader restarts an epoch midway") {
  auto source = std::make_shared<FakeSource>(64, 16);
  source->delay_ms = 1;
  DataLoader loader(source, small_config(2));
  loader.start_epoch(0);
  REQUIRE(loader.next().has_value());
  // Abandon epoch 0 with batches in flight, then read epoch 1 in full.
  const auto batches = whole_epoch(loader, 1);
  source->delay_ms = 0;
  DataLoader fresh(source, small_config(0));
  check_same_batches(whole_epoch(fresh, 1), batches);
}

TEST_CASE("loader early destruction does not hang") {
  auto source = std::make_shared<FakeSource>(400, 16);
  source->delay_ms = 2;
  {
    DataLoader loader(source, small_config(3));
    loader.start_epoch(0);
    REQUIRE(loader.next().has_value());
  }
  {
    // Never started, and started but never read.
    DataLoader idle(source, small_config(2));
    DataLoader unread(source, small_config(2));
    unread.start_epoch(0);
  }
  // Reaching this line is the check: a hang shows as a test timeout.
}

TEST_CASE("loader rethrows worker errors") {
  auto source = std::make_shared<FakeSource>(40, 16);
  DataLoaderConfig config = small_config(2);
  config.train = false;
  source->failing_index = 19;  // in batch 2
  DataLoader loader(source, config);
  loader.start_epoch(0);
  CHECK(loader.next().has_value());
  CHECK(loader.next().has_value());
  CHECK_THROWS_WITH_AS(loader.next(), "fake.h5: image 19: cannot decode", Error);
  // The batches after the failed one still come.
  CHECK(loader.next().has_value());
}

TEST_CASE("loader rejects bad settings") {
  auto source = std::make_shared<FakeSource>(5, 16);
  DataLoaderConfig config = small_config(1);
  CHECK_THROWS_AS(DataLoader(source, config), Error);  // 5 images, batch 8, training
  config.train = false;
  CHECK_NOTHROW(DataLoader(source, config));
  config.batch_size = 0;
  CHECK_THROWS_AS(DataLoader(source, config), UsageError);
  config = small_config(-1);
  CHECK_THROWS_AS(DataLoader(source, config), UsageError);

  config = small_config(0);
  config.train = false;
  DataLoader unstarted(source, config);
  CHECK_THROWS_AS(unstarted.next(), Error);
  CHECK_THROWS_AS(DataLoader(std::make_shared<FakeSource>(0, 16), config), Error);
}

TEST_CASE("loader reuse keeps held batches intact") {
  auto source = std::make_shared<FakeSource>(96, 16);
  DataLoader loader(source, small_config(2));
  loader.start_epoch(0);
  const Batch held = *loader.next();
  const torch::Tensor held_copy = held.images.clone();
  torch::Tensor view = loader.next()->images[3];  // the batch itself is dropped
  const torch::Tensor view_copy = view.clone();

  // Two more epochs recycle every tensor the loader alone references.
  std::set<const void*> buffers;
  for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
    for (const auto& batch : whole_epoch(loader, epoch + 1)) {
      buffers.insert(batch.images.data_ptr());
    }
  }
  CHECK(torch::equal(held.images, held_copy));
  CHECK(torch::equal(view, view_copy));
  CHECK(buffers.count(held.images.data_ptr()) == 0);
  CHECK(buffers.count(view.storage().data_ptr().get()) == 0);
  CHECK(buffers.size() < 24);  // 24 batches, some storage reused
}
