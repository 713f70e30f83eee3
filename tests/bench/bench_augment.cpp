// Throughput of the training and evaluation transforms through DataLoader, in
// images per second, with an in-memory source whose read_image is a memcpy,
// so the figures exclude JPEG decoding and HDF5 reads. "weak" is the Weak Aug
// transform (crop, flip, color jitter 0.4); "strong" the Strong Aug one (crop,
// flip, RandAugment rand-m7-mstd0.5-inc1, 3 repeats, no jitter). A second
// table gives the time of Mixup and CutMix on a batch (done in the training
// thread, so it adds to the step time).
//
// Usage: bench_augment [images_scale]   (default 1; 0.1 for a quick check)

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "data_loader.h"
#include "mixup.h"
#include "rand_augment.h"

namespace {

class MemorySource : public didicm::ImageSource {
 public:
  MemorySource(std::int64_t distinct, std::int64_t count, int side)
      : count_(count), side_(side), bytes_(static_cast<std::size_t>(side) * side * 3) {
    didicm::Rng rng(1);
    pixels_.resize(bytes_ * distinct);
    for (auto& value : pixels_) {
      value = static_cast<std::uint8_t>(rng.below(256));
    }
    distinct_ = distinct;
  }
  std::int64_t size() const override { return count_; }
  int image_size() const override { return side_; }
  std::int32_t label(std::int64_t index) const override {
    return static_cast<std::int32_t>(index % 10);
  }
  void read_image(std::int64_t index, std::uint8_t* out) const override {
    std::memcpy(out, pixels_.data() + (index % distinct_) * bytes_, bytes_);
  }

 private:
  std::int64_t count_;
  std::int64_t distinct_ = 1;
  int side_;
  std::size_t bytes_;
  std::vector<std::uint8_t> pixels_;
};

enum class Transform { weak, strong, eval };

const char* transform_name(Transform transform) {
  return transform == Transform::weak ? "weak" : transform == Transform::strong ? "strong" : "eval";
}

double images_per_second(const std::shared_ptr<const didicm::ImageSource>& source, int input_size,
                         std::int64_t batch_size, int workers, Transform transform) {
  didicm::DataLoaderConfig config;
  config.batch_size = batch_size;
  config.input_size = input_size;
  config.workers = workers;
  config.train = transform != Transform::eval;
  if (transform == Transform::strong) {
    config.augment.brightness = config.augment.contrast = config.augment.saturation = 0;
    config.augment.rand_augment = didicm::parse_rand_augment("rand-m7-mstd0.5-inc1");
    config.aug_repeats = 3;
  }
  didicm::DataLoader loader(source, config);

  const auto start = std::chrono::steady_clock::now();
  loader.start_epoch(0);
  std::int64_t images = 0;
  while (auto batch = loader.next()) {
    images += batch->images.size(0);
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  return static_cast<double>(images) / elapsed.count();
}

}  // namespace

// Milliseconds per batch of mix_batch (Mixup or CutMix, as drawn) on float
// images [batch, 3, size, size], averaged over `repeats` batches.
double mix_milliseconds(std::int64_t batch, int size, int repeats) {
  didicm::MixupConfig config;
  config.mixup_alpha = 0.2;
  config.cutmix_alpha = 1.0;
  config.smoothing = 0.1;
  torch::Tensor images = torch::rand({batch, 3, size, size});
  torch::Tensor labels = torch::randint(10, {batch}, torch::kInt64);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) {
    didicm::Rng rng(static_cast<std::uint64_t>(i));
    didicm::MixupParams params = didicm::draw_mixup(config, size, size, rng);
    didicm::MixedBatch mixed = didicm::mix_batch(images, labels, 10, params, 0.1);
    if (mixed.images.numel() == 0) {
      std::abort();  // keeps the work observable
    }
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  return 1000.0 * elapsed.count() / repeats;
}

int main(int argc, char** argv) {
  const double scale = argc > 1 ? std::atof(argv[1]) : 1.0;

  struct Case {
    int stored;
    int input;
    std::int64_t batch_size;
    std::int64_t images;
  };
  const Case cases[] = {{32, 32, 128, 40960}, {256, 224, 64, 2048}};

  std::printf("| stored | input | transform | workers | images/s |\n");
  std::printf("|---|---|---|---|---|\n");
  for (const Case& c : cases) {
    const auto images = std::max<std::int64_t>(c.batch_size * 2, static_cast<std::int64_t>(c.images * scale));
    auto source = std::make_shared<MemorySource>(64, images, c.stored);
    for (const Transform transform : {Transform::weak, Transform::strong, Transform::eval}) {
      for (const int workers : {1, 2}) {
        const double rate = images_per_second(source, c.input, c.batch_size, workers, transform);
        std::printf("| %d | %d | %s | %d | %.0f |\n", c.stored, c.input,
                    transform_name(transform), workers, rate);
        std::fflush(stdout);
      }
    }
  }

  torch::set_num_threads(1);
  std::printf("\n| Mixup/CutMix batch | input | ms per batch (1 thread) |\n");
  std::printf("|---|---|---|\n");
  std::printf("| 128 | 32 | %.3f |\n", mix_milliseconds(128, 32, 200));
  std::printf("| 64 | 224 | %.3f |\n", mix_milliseconds(64, 224, 20));
  return 0;
}
