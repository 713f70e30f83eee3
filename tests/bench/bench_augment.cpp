// Throughput of the training and evaluation transforms through DataLoader, in
// images per second, with an in-memory source whose read_image is a memcpy,
// so the figures exclude JPEG decoding and HDF5 reads.
//
// Usage: bench_augment [images_scale]   (default 1; 0.1 for a quick check)

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "data_loader.h"

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

double images_per_second(const std::shared_ptr<const didicm::ImageSource>& source, int input_size,
                         std::int64_t batch_size, int workers, bool train) {
  didicm::DataLoaderConfig config;
  config.batch_size = batch_size;
  config.input_size = input_size;
  config.workers = workers;
  config.train = train;
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
    for (const bool train : {true, false}) {
      for (const int workers : {1, 2}) {
        const double rate = images_per_second(source, c.input, c.batch_size, workers, train);
        std::printf("| %d | %d | %s | %d | %.0f |\n", c.stored, c.input, train ? "train" : "eval",
                    workers, rate);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
