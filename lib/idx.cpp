#include "idx.h"

#include "errors.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace didicm {
namespace {

std::uint32_t read_big_endian(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}

// Checks the magic number and returns the sizes of the dimensions.
std::vector<std::uint32_t> parse_header(const std::vector<std::uint8_t>& bytes, const std::string& path,
                                        int expected_rank) {
  std::uint32_t expected_magic = 0x00000800U | std::uint32_t(expected_rank);
  if (bytes.size() < 4) {
    throw Error(fmt::format("{}: too short for an IDX file ({} bytes); is this the right file?",
                            path, bytes.size()));
  }
  std::uint32_t magic = read_big_endian(bytes.data());
  if (magic != expected_magic) {
    throw Error(fmt::format("{}: IDX magic number is 0x{:08x}, expected 0x{:08x} (unsigned bytes, "
                            "{} dimensions); is this the right file?",
                            path, magic, expected_magic, expected_rank));
  }
  if (bytes.size() < 4 + 4 * std::size_t(expected_rank)) {
    throw Error(fmt::format("{}: too short for an IDX file ({} bytes); is this the right file?",
                            path, bytes.size()));
  }
  std::vector<std::uint32_t> dims;
  std::uint64_t payload = 1;
  for (int i = 0; i < expected_rank; ++i) {
    dims.push_back(read_big_endian(bytes.data() + 4 + 4 * i));
    payload *= dims.back();
  }
  std::uint64_t header = 4 + 4 * std::uint64_t(expected_rank);
  if (bytes.size() != header + payload) {
    throw Error(fmt::format("{}: IDX file has {} bytes, its header announces {}; the file is "
                            "truncated or damaged, so download it again",
                            path, bytes.size(), header + payload));
  }
  return dims;
}

}  // namespace

std::vector<std::uint8_t> read_gzip_or_plain(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    int error = errno;
    throw Error(fmt::format("{}: cannot open: {}{}", path, std::strerror(error),
                            error == ENOENT ? "; check the path" : ""));
  }
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint8_t> buffer(1 << 20);
  while (true) {
    int count = gzread(file, buffer.data(), static_cast<unsigned>(buffer.size()));
    if (count < 0) {
      int code = 0;
      std::string reason = gzerror(file, &code);
      gzclose(file);
      throw Error(fmt::format("{}: reading failed: {}", path, reason));
    }
    if (count == 0) {
      break;
    }
    bytes.insert(bytes.end(), buffer.begin(), buffer.begin() + count);
  }
  gzclose(file);
  return bytes;
}

IdxDataset read_idx(const std::string& images_path, const std::string& labels_path) {
  std::vector<std::uint8_t> image_bytes = read_gzip_or_plain(images_path);
  std::vector<std::uint8_t> label_bytes = read_gzip_or_plain(labels_path);
  auto image_dims = parse_header(image_bytes, images_path, 3);
  auto label_dims = parse_header(label_bytes, labels_path, 1);
  if (image_dims[0] != label_dims[0]) {
    throw Error(fmt::format("{}: contains {} labels but {} contains {} images; use the label "
                            "file of the same split",
                            labels_path, label_dims[0], images_path, image_dims[0]));
  }

  IdxDataset data;
  data.count = image_dims[0];
  data.rows = static_cast<int>(image_dims[1]);
  data.columns = static_cast<int>(image_dims[2]);
  data.images.assign(image_bytes.begin() + 16, image_bytes.end());
  data.labels.assign(label_bytes.begin() + 8, label_bytes.end());
  return data;
}

std::pair<std::string, std::string> idx_split_files(const std::string& folder,
                                                    const std::string& split) {
  auto find = [&](const std::string& kind, int rank) {
    std::string base = fmt::format("{}/{}-{}-idx{}-ubyte", folder, split, kind, rank);
    std::error_code error;
    for (const std::string& candidate : {base, base + ".gz"}) {
      if (std::filesystem::is_regular_file(candidate, error)) {
        return candidate;
      }
    }
    throw Error(fmt::format("{}: IDX {} file not found (looked for {} and {}.gz); add the file "
                            "or choose another --split",
                            folder, kind, base, base));
  };
  return {find("images", 3), find("labels", 1)};
}

std::vector<std::string> fashion_mnist_classes() {
  return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
}

std::vector<std::string> digit_classes() {
  return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
}

bool looks_like_fashion_mnist(const std::string& path) {
  std::string lower = path;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("fashion") != std::string::npos;
}

}  // namespace didicm
