#pragma once

// The IDX format of MNIST and Fashion-MNIST: big-endian magic and sizes, then
// raw bytes. Files may be gzip-compressed or plain.

#include <cstdint>
#include <string>
#include <vector>

namespace didicm {

struct IdxDataset {
  std::int64_t count = 0;
  int rows = 0;
  int columns = 0;
  std::vector<std::uint8_t> images;  // count x rows x columns grayscale bytes
  std::vector<std::int32_t> labels;  // count
};

// Reads an image file (magic 0x00000803) and a label file (0x00000801) and
// checks that they describe the same number of items. Throws Error naming the
// file and what is wrong.
IdxDataset read_idx(const std::string& images_path, const std::string& labels_path);

// Reads a whole file, decompressing it when it is gzip (plain files pass through).
std::vector<std::uint8_t> read_gzip_or_plain(const std::string& path);

// The two standard file names of a split ("train" or "t10k") in `folder`:
// "<split>-images-idx3-ubyte" and "<split>-labels-idx1-ubyte", each with or
// without ".gz". Throws Error when a file is missing.
std::pair<std::string, std::string> idx_split_files(const std::string& folder,
                                                    const std::string& split);

// Class names: Fashion-MNIST's ten clothing names, or the digits "0".."9".
std::vector<std::string> fashion_mnist_classes();
std::vector<std::string> digit_classes();

// True when a path names Fashion-MNIST: it contains "fashion" (any case).
bool looks_like_fashion_mnist(const std::string& path);

}  // namespace didicm
