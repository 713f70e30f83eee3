#pragma once

// Batches of augmented images from a dataset, made by worker threads ahead of
// the training step. The content and order of every batch depend only on
// (seed, epoch, batch index), not on the number of workers or on timing. So a
// run resumed at a batch index gets the batches the interrupted run would have
// got.

#include <ATen/core/Tensor.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "augment.h"

namespace didicm {

// Read access to a dataset of square uint8 RGB images with integer labels.
// read_image and label may be called from several threads at once.
struct ImageSource {
  virtual ~ImageSource() = default;
  virtual std::int64_t size() const = 0;     // number of images
  virtual int image_size() const = 0;        // stored square side in pixels
  virtual std::int32_t label(std::int64_t index) const = 0;
  // Writes image_size()^2 * 3 bytes, HWC RGB, to `out`.
  virtual void read_image(std::int64_t index, std::uint8_t* out) const = 0;
};

struct Batch {
  at::Tensor images;   // float32 [B, 3, S, S], normalized
  at::Tensor labels;   // int64 [B]
  at::Tensor indices;  // int64 [B], dataset indices of the images
  std::int64_t epoch = 0;
  std::int64_t batch_index = 0;  // position of the batch within its epoch
};

struct DataLoaderConfig {
  std::int64_t batch_size = 128;
  int input_size = 224;  // S
  // Training: shuffle per epoch, drop the last partial batch, random
  // augmentation. Evaluation: dataset order, keep the last partial batch,
  // eval_transform.
  bool train = true;
  std::uint64_t seed = 0;
  // Threads that read and transform; 0 makes every batch in the thread that
  // calls next().
  int workers = 4;
  // Batches made ahead of the consumer at most; 0 picks 2 per worker.
  int prefetch = 0;
  // Repeated augmentation in training: each chosen image appears this many
  // times in a row per epoch, with independent augmentations (see
  // repeated_epoch_order); 1 disables it.
  int aug_repeats = 1;
  AugmentConfig augment;  // its normalization also applies to evaluation
};

// The permutation of [0, size) used for `epoch`: Fisher-Yates driven by an
// Rng seeded from (seed, epoch). It uses integer arithmetic only, so it is the
// same on every machine.
std::vector<std::int64_t> epoch_order(std::int64_t size, std::uint64_t seed, std::int64_t epoch);

// The images per training epoch with `repeats` > 1, as timm's
// RepeatAugSampler with one process computes it: floor(N / 256) * 256, so the
// epoch is not longer than without repeats. A dataset of fewer than 256 images
// (where timm's epoch would be empty) keeps all N positions.
std::int64_t repeated_epoch_length(std::int64_t size, int repeats);

// The order of a training epoch with repeated augmentation: epoch_order, each
// index repeated `repeats` times in a row, cut to repeated_epoch_length. So
// about length / repeats distinct images are chosen per epoch. With repeats 1
// it equals epoch_order.
std::vector<std::int64_t> repeated_epoch_order(std::int64_t size, std::uint64_t seed,
                                               std::int64_t epoch, int repeats);

// The seed of the augmentation of the image at `position` (batch_index *
// batch_size + row) of `epoch`.
std::uint64_t sample_seed(std::uint64_t seed, std::int64_t epoch, std::int64_t position);

// Usage: start_epoch(e) (or start_epoch(e, k) to resume at batch k), then
// next() until it returns nothing. Calling start_epoch again at any time
// abandons the rest of the current epoch. An exception thrown while reading or
// transforming a batch is rethrown by the next() that would return that batch.
// One consumer thread: next() and start_epoch() are not safe to call
// concurrently with each other.
class DataLoader {
 public:
  // Throws UsageError for a batch size < 1, an input size < 1, negative
  // workers or prefetch, and didicm::Error for an empty source (or, in
  // training, a source with fewer images than one batch).
  DataLoader(std::shared_ptr<const ImageSource> source, DataLoaderConfig config);
  // Stops the workers (they finish at most the image in hand) and joins them.
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Batches per epoch: floor(L / B) in training, where L is N or the
  // repeated_epoch_length, and ceil(N / B) in evaluation.
  std::int64_t batches_per_epoch() const;

  // Starts `epoch` at batch `first_batch` (0 <= first_batch <= batches_per_epoch()).
  void start_epoch(std::int64_t epoch, std::int64_t first_batch = 0);

  // The next batch of the current epoch in order, or nothing at its end.
  // Blocks while the workers are behind. Throws didicm::Error if no epoch was started.
  std::optional<Batch> next();

  const DataLoaderConfig& config() const { return config_; }

 private:
  // The immutable description of one started epoch, shared with the workers.
  struct EpochPlan {
    std::uint64_t generation = 0;
    std::int64_t epoch = 0;
    std::vector<std::int64_t> order;  // dataset indices in epoch order
  };

  // A made batch or the error that stopped it.
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };

  void worker_loop();
  Batch make_batch(const EpochPlan& plan, std::int64_t batch_index) const;
  at::Tensor acquire_images(std::int64_t rows) const;
  std::int64_t batch_rows(std::int64_t batch_index) const;

  std::shared_ptr<const ImageSource> source_;
  DataLoaderConfig config_;
  std::int64_t batches_per_epoch_ = 0;
  std::int64_t epoch_length_ = 0;  // positions per epoch

  std::mutex mutex_;
  std::condition_variable work_ready_;   // workers wait for claimable batches
  std::condition_variable batch_ready_;  // the consumer waits for its batch
  std::shared_ptr<const EpochPlan> plan_;
  std::uint64_t generation_ = 0;
  std::int64_t next_to_claim_ = 0;     // lowest batch index no worker has taken
  std::int64_t next_to_return_ = 0;    // batch index next() returns next
  std::map<std::int64_t, Slot> ready_;  // finished batches of the current generation
  bool stopping_ = false;
  // Read by workers between images without the lock.
  std::atomic<bool> stop_requested_{false};
  std::atomic<std::uint64_t> current_generation_{0};
  std::vector<std::thread> workers_;

  // Full-size image tensors for reuse, because a fresh allocation of a large
  // batch costs first-touch page faults for every page. A tensor is reused
  // only when the pool has the only reference to it and to its storage, so
  // a batch (or a view of it) the consumer still holds is never overwritten.
  mutable std::mutex pool_mutex_;
  mutable std::vector<at::Tensor> pool_;
};

}  // namespace didicm
