#include "data_loader.h"

#include <torch/torch.h>

#include <fmt/format.h>

#include <numeric>

#include "errors.h"

namespace didicm {

namespace {

// Separate streams for the data order and the augmentation of one seed.
constexpr std::uint64_t kOrderStream = 0x6f72646572ULL;       // "order"
constexpr std::uint64_t kAugmentStream = 0x6175676d656e74ULL;  // "augment"

// Thrown inside a worker when its batch is no longer wanted (stop or a new epoch).
struct BatchAbandoned {};

}  // namespace

std::vector<std::int64_t> epoch_order(std::int64_t size, std::uint64_t seed, std::int64_t epoch) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(size));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  Rng rng(derive_seed(seed, kOrderStream, static_cast<std::uint64_t>(epoch)));
  for (std::int64_t i = size - 1; i > 0; --i) {
    const auto j = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(i + 1)));
    std::swap(order[i], order[j]);
  }
  return order;
}

std::int64_t repeated_epoch_length(std::int64_t size, int repeats) {
  if (repeats <= 1) {
    return size;
  }
  // timm's selected_round of 256 with selected_ratio 1 (one replica).
  const std::int64_t rounded = size / 256 * 256;
  return rounded > 0 ? rounded : size;
}

std::vector<std::int64_t> repeated_epoch_order(std::int64_t size, std::uint64_t seed,
                                               std::int64_t epoch, int repeats) {
  std::vector<std::int64_t> order = epoch_order(size, seed, epoch);
  if (repeats <= 1) {
    return order;
  }
  const auto length = static_cast<std::size_t>(repeated_epoch_length(size, repeats));
  std::vector<std::int64_t> repeated;
  repeated.reserve(length);
  for (std::size_t i = 0; repeated.size() < length; ++i) {
    for (int r = 0; r < repeats && repeated.size() < length; ++r) {
      repeated.push_back(order[i]);
    }
  }
  return repeated;
}

std::uint64_t sample_seed(std::uint64_t seed, std::int64_t epoch, std::int64_t position) {
  return derive_seed(derive_seed(seed, kAugmentStream), static_cast<std::uint64_t>(epoch),
                     static_cast<std::uint64_t>(position));
}

DataLoader::DataLoader(std::shared_ptr<const ImageSource> source, DataLoaderConfig config)
    : source_(std::move(source)), config_(std::move(config)) {
  if (config_.batch_size < 1) {
    throw UsageError(fmt::format("batch size {}: invalid value: expected >= 1", config_.batch_size));
  }
  if (config_.input_size < 1) {
    throw UsageError(fmt::format("input size {}: invalid value: expected >= 1", config_.input_size));
  }
  if (config_.workers < 0) {
    throw UsageError(fmt::format("workers {}: invalid value: expected >= 0", config_.workers));
  }
  if (config_.prefetch < 0) {
    throw UsageError(fmt::format("prefetch {}: invalid value: expected >= 0", config_.prefetch));
  }
  if (config_.aug_repeats < 1) {
    throw UsageError(fmt::format("aug repeats {}: invalid value: expected >= 1", config_.aug_repeats));
  }
  if (config_.prefetch == 0) {
    config_.prefetch = std::max(2, 2 * config_.workers);
  }

  const std::int64_t images = source_->size();
  if (images < 1 || source_->image_size() < 1) {
    throw Error(fmt::format("dataset: no images ({} images of side {}): use a non-empty dataset",
                            images, source_->image_size()));
  }
  epoch_length_ = config_.train ? repeated_epoch_length(images, config_.aug_repeats) : images;
  batches_per_epoch_ = config_.train
                           ? epoch_length_ / config_.batch_size
                           : (images + config_.batch_size - 1) / config_.batch_size;
  if (batches_per_epoch_ == 0) {
    throw Error(fmt::format(
        "dataset: {} images per epoch are fewer than one batch of {}: the last partial batch is "
        "dropped in training: use a smaller batch size",
        config_.train ? epoch_length_ : images, config_.batch_size));
  }

  for (int i = 0; i < config_.workers; ++i) {
    workers_.emplace_back([this] { worker_loop(); });
  }
}

DataLoader::~DataLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    stop_requested_ = true;
  }
  work_ready_.notify_all();
  for (auto& worker : workers_) {
    worker.join();
  }
}

std::int64_t DataLoader::batches_per_epoch() const { return batches_per_epoch_; }

std::int64_t DataLoader::batch_rows(std::int64_t batch_index) const {
  return std::min(config_.batch_size, epoch_length_ - batch_index * config_.batch_size);
}

void DataLoader::start_epoch(std::int64_t epoch, std::int64_t first_batch) {
  if (first_batch < 0 || first_batch > batches_per_epoch_) {
    throw UsageError(fmt::format("resume batch {}: invalid value: expected 0 to {}", first_batch,
                                 batches_per_epoch_));
  }
  auto plan = std::make_shared<EpochPlan>();
  plan->epoch = epoch;
  if (config_.train) {
    plan->order = repeated_epoch_order(source_->size(), config_.seed, epoch, config_.aug_repeats);
  } else {
    plan->order.resize(static_cast<std::size_t>(source_->size()));
    std::iota(plan->order.begin(), plan->order.end(), std::int64_t{0});
  }

  {
    std::lock_guard<std::mutex> lock(mutex_);
    plan->generation = ++generation_;
    current_generation_ = generation_;
    plan_ = std::move(plan);
    next_to_claim_ = first_batch;
    next_to_return_ = first_batch;
    ready_.clear();
  }
  work_ready_.notify_all();
}

std::optional<Batch> DataLoader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!plan_) {
    throw Error("data loader: next() before start_epoch(): start an epoch first");
  }
  if (next_to_return_ >= batches_per_epoch_) {
    return std::nullopt;
  }

  if (workers_.empty()) {
    const std::shared_ptr<const EpochPlan> plan = plan_;
    const std::int64_t batch_index = next_to_return_++;
    lock.unlock();
    return make_batch(*plan, batch_index);
  }

  batch_ready_.wait(lock, [this] { return ready_.count(next_to_return_) != 0; });
  auto found = ready_.find(next_to_return_);
  Slot slot = std::move(found->second);
  ready_.erase(found);
  ++next_to_return_;
  lock.unlock();
  work_ready_.notify_all();  // a prefetch place is free

  if (slot.error) {
    std::rethrow_exception(slot.error);
  }
  return std::move(slot.batch);
}

void DataLoader::worker_loop() {
  for (;;) {
    std::shared_ptr<const EpochPlan> plan;
    std::int64_t batch_index = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [this] {
        return stopping_ || (plan_ && next_to_claim_ < batches_per_epoch_ &&
                             next_to_claim_ < next_to_return_ + config_.prefetch);
      });
      if (stopping_) {
        return;
      }
      plan = plan_;
      batch_index = next_to_claim_++;
    }

    Slot slot;
    try {
      slot.batch = make_batch(*plan, batch_index);
    } catch (const BatchAbandoned&) {
      continue;
    } catch (...) {
      slot.error = std::current_exception();
    }

    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_ || plan->generation != generation_) {
        continue;
      }
      ready_[batch_index] = std::move(slot);
    }
    batch_ready_.notify_all();
  }
}

at::Tensor DataLoader::acquire_images(std::int64_t rows) const {
  const int size = config_.input_size;
  if (rows != config_.batch_size) {
    return torch::empty({rows, 3, size, size}, torch::kFloat32);
  }

  std::lock_guard<std::mutex> lock(pool_mutex_);
  for (const at::Tensor& images : pool_) {
    // Copying the tensor out under the lock raises its use count, so no other
    // worker takes it too.
    if (images.use_count() == 1 && images.storage().use_count() == 1) {
      return images;
    }
  }
  at::Tensor images = torch::empty({rows, 3, size, size}, torch::kFloat32);
  // Enough for the prefetched batches, one per worker in progress and a few
  // the consumer still holds; beyond that, tensors are not pooled.
  const std::size_t pool_limit = static_cast<std::size_t>(config_.prefetch + config_.workers) + 4;
  if (pool_.size() < pool_limit) {
    pool_.push_back(images);
  }
  return images;
}

Batch DataLoader::make_batch(const EpochPlan& plan, std::int64_t batch_index) const {
  const std::int64_t rows = batch_rows(batch_index);
  const int size = config_.input_size;
  const int stored = source_->image_size();

  Batch batch;
  batch.epoch = plan.epoch;
  batch.batch_index = batch_index;
  batch.images = acquire_images(rows);
  batch.labels = torch::empty({rows}, torch::kInt64);
  batch.indices = torch::empty({rows}, torch::kInt64);
  float* images = batch.images.data_ptr<float>();
  std::int64_t* labels = batch.labels.data_ptr<std::int64_t>();
  std::int64_t* indices = batch.indices.data_ptr<std::int64_t>();

  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(stored) * stored * 3);
  const ImageView view{pixels.data(), stored, stored};
  const std::size_t image_floats = static_cast<std::size_t>(3) * size * size;

  for (std::int64_t row = 0; row < rows; ++row) {
    // A worker stops early on a batch that next() will not return.
    if (stop_requested_ || plan.generation != current_generation_) {
      throw BatchAbandoned{};
    }
    const std::int64_t position = batch_index * config_.batch_size + row;
    const std::int64_t index = plan.order[static_cast<std::size_t>(position)];
    source_->read_image(index, pixels.data());
    float* out = images + row * image_floats;
    if (config_.train) {
      train_transform(view, size, config_.augment, sample_seed(config_.seed, plan.epoch, position),
                      out);
    } else {
      eval_transform(view, size, config_.augment.normalization, out);
    }
    labels[row] = source_->label(index);
    indices[row] = index;
  }
  return batch;
}

}  // namespace didicm
