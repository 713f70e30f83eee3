#include "errors.h"
#include "idx.h"
#include "support.h"

#include <doctest/doctest.h>
#include <zlib.h>

#include <fstream>

using namespace didicm;
using didicm::testing::TempDir;

namespace {

std::vector<std::uint8_t> idx_bytes(int rank, const std::vector<std::uint32_t>& dims,
                                    const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> bytes{0, 0, 8, static_cast<std::uint8_t>(rank)};
  for (auto size : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      bytes.push_back(static_cast<std::uint8_t>(size >> shift));
    }
  }
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  return bytes;
}

void write_plain(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
}

void write_gzip(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(file);
}

}  // namespace

TEST_CASE("idx reads plain and gzip files") {
  TempDir folder;
  std::vector<std::uint8_t> pixels(3 * 2 * 2);
  for (std::size_t i = 0; i < pixels.size(); ++i) {
    pixels[i] = static_cast<std::uint8_t>(i * 20);
  }
  write_gzip(folder.file("train-images-idx3-ubyte.gz"), idx_bytes(3, {3, 2, 2}, pixels));
  write_plain(folder.file("train-labels-idx1-ubyte"), idx_bytes(1, {3}, {4, 0, 9}));

  auto [images, labels] = idx_split_files(folder.path().string(), "train");
  IdxDataset data = read_idx(images, labels);
  CHECK(data.count == 3);
  CHECK(data.rows == 2);
  CHECK(data.columns == 2);
  CHECK(data.images == pixels);
  CHECK(data.labels == std::vector<std::int32_t>{4, 0, 9});
  CHECK_THROWS_AS(idx_split_files(folder.path().string(), "t10k"), Error);
}

TEST_CASE("idx rejects bad files") {
  TempDir folder;
  write_plain(folder.file("images"), idx_bytes(3, {2, 2, 2}, std::vector<std::uint8_t>(8)));
  write_plain(folder.file("labels"), idx_bytes(1, {3}, {1, 2, 3}));
  write_plain(folder.file("short"), idx_bytes(3, {2, 2, 2}, std::vector<std::uint8_t>(7)));
  CHECK_THROWS_WITH_AS(read_idx(folder.file("images"), folder.file("labels")),
                       doctest::Contains("3 labels"), Error);
  CHECK_THROWS_WITH_AS(read_idx(folder.file("labels"), folder.file("labels")),
                       doctest::Contains("magic number"), Error);
  CHECK_THROWS_WITH_AS(read_idx(folder.file("short"), folder.file("labels")),
                       doctest::Contains("truncated"), Error);
}

TEST_CASE("idx class names") {
  CHECK(fashion_mnist_classes().size() == 10);
  CHECK(fashion_mnist_classes()[0] == "T-shirt/top");
  CHECK(fashion_mnist_classes()[9] == "Ankle boot");
  CHECK(digit_classes()[3] == "3");
  CHECK(looks_like_fashion_mnist("/usr/share/datasets/Fashion-MNIST/train.gz"));
  CHECK_FALSE(looks_like_fashion_mnist("/data/mnist/train-images-idx3-ubyte"));
}
