#pragma once

// The didicm dataset file (HDF5), written by didicm-prep and read by the
// training and sampling tools:
//   /images   uint8 N x S x S x 3, RGB, one image per chunk (store "raw"), or
//   /jpeg     variable-length byte strings, one JPEG per image (store "jpeg")
//   /labels   int32 N, indices into /classes
//   /classes  variable-length UTF-8 strings, index = label id
//   /sources  variable-length UTF-8 strings, source path of each image
//             relative to the input folder (IDX: "<file>#<index>")
//   /skipped/sources, /skipped/reasons   files left out by --skip-bad (only when any)
// Root attributes: format = "didicm-dataset", format_version = 1, created_by,
// command_line, size (stored square side S), resolution (the --size the
// images are meant for), split, ratio, seed, crop_pct, source_kind
// (tree|flat|idx), store (raw|jpeg), filter, scaled_decode, exif_orientation.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace didicm {

inline constexpr const char* dataset_format = "didicm-dataset";
inline constexpr std::int64_t dataset_format_version = 1;

// Everything the writer records besides the arrays.
struct DatasetAttributes {
  std::string created_by;  // "didicm-prep 0.1.0"
  std::string command_line;
  int size = 0;
  int resolution = 0;
  std::string split;
  double ratio = 1.0;
  std::int64_t seed = 0;
  double crop_pct = 0.875;
  std::string source_kind;  // tree, flat or idx
  std::string store;        // raw or jpeg
  std::string filter;       // bilinear or bicubic
  bool scaled_decode = true;
  bool exif_orientation = false;
};

struct SkippedFile {
  std::string source;
  std::string reason;
};

// Writes a dataset file in the order images arrive. The caller gives an
// upper bound on the image count; finish() shrinks the arrays to what was
// written. Not thread-safe: one thread appends.
class DatasetWriter {
 public:
  DatasetWriter(const std::string& path, std::int64_t capacity, int size, const std::string& store,
                int gzip_level);
  ~DatasetWriter();
  DatasetWriter(const DatasetWriter&) = delete;
  DatasetWriter& operator=(const DatasetWriter&) = delete;

  // `count` images of size x size x 3 bytes each, store "raw".
  void append_raw(const std::uint8_t* pixels, std::int64_t count);
  // Encoded JPEGs, store "jpeg".
  void append_jpeg(const std::vector<std::vector<std::uint8_t>>& images);
  std::int64_t count() const { return count_; }

  // Writes labels, classes, sources, skipped files and attributes, and closes
  // the file. `labels` and `sources` have one entry per appended image.
  void finish(const std::vector<std::int32_t>& labels, const std::vector<std::string>& classes,
              const std::vector<std::string>& sources, const std::vector<SkippedFile>& skipped,
              const DatasetAttributes& attributes);

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::string path_;
  int size_ = 0;
  std::string store_;
  std::int64_t capacity_ = 0;
  std::int64_t count_ = 0;
};

struct DatasetInfo {
  std::string path;
  std::int64_t count = 0;
  int size = 0;  // stored square side
  std::string store;  // raw|jpeg
  std::vector<std::string> classes;
  std::string split;
  double ratio = 1.0;
  std::int64_t seed = 0;
};

// Reads a dataset file. Opening validates the format attribute, the shapes
// and the label range, and throws Error naming the file and the bad value.
class DatasetReader {
 public:
  explicit DatasetReader(const std::string& path);
  ~DatasetReader();
  DatasetReader(const DatasetReader&) = delete;
  DatasetReader& operator=(const DatasetReader&) = delete;

  const DatasetInfo& info() const;
  const std::vector<std::int32_t>& labels() const;

  // Decodes image `index` into `out` (size * size * 3 bytes, HWC RGB).
  // Thread-safe: HDF5 access is serialized by hdf5_mutex(), and JPEG
  // decoding runs outside the lock.
  void read_image(std::int64_t index, std::uint8_t* out) const;

  // A stable hex hash (FNV-1a 64) of the store, size, labels and stored image
  // bytes; computed on the first call, which reads the whole file.
  std::string content_hash() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  DatasetInfo info_;
  std::vector<std::int32_t> labels_;
  mutable std::mutex hash_mutex_;
  mutable std::optional<std::string> hash_;
};

}  // namespace didicm
