#include "dataset.h"

#include "errors.h"
#include "h5.h"
#include "jpeg.h"
#include "prng.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>

namespace didicm {

struct DatasetWriter::State {
  h5::File file;
  std::optional<h5::Dataset> images;
};

DatasetWriter::DatasetWriter(const std::string& path, std::int64_t capacity, int size,
                             const std::string& store, int gzip_level)
    : state_(std::make_unique<State>()), path_(path), size_(size), store_(store), capacity_(capacity) {
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  state_->file = h5::File::create(path);
  auto rows = static_cast<std::uint64_t>(std::max<std::int64_t>(capacity, 0));
  auto side = static_cast<std::uint64_t>(size);
  if (store == "raw") {
    h5::WriteOptions options{{1, side, side, 3}, gzip_level, true};
    state_->images = state_->file.create_dataset("images", H5T_NATIVE_UINT8, {rows, side, side, 3}, options);
  } else if (store == "jpeg") {
    h5::Handle type(H5Tvlen_create(H5T_NATIVE_UINT8), H5Tclose);
    // Small chunks keep reading one JPEG cheap.
    h5::WriteOptions options{{64}, 0, true};
    state_->images = state_->file.create_dataset("jpeg", type.get(), {rows}, options);
  } else {
    throw UsageError(fmt::format("--store {}: unknown store; use raw or jpeg", store));
  }
}

DatasetWriter::~DatasetWriter() {
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  state_.reset();
}

void DatasetWriter::append_raw(const std::uint8_t* pixels, std::int64_t count) {
  if (count_ + count > capacity_) {
    throw Error(fmt::format("{}: more images than announced ({})", path_, capacity_));
  }
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  state_->images->write_rows(static_cast<std::uint64_t>(count_), static_cast<std::uint64_t>(count), pixels);
  count_ += count;
}

void DatasetWriter::append_jpeg(const std::vector<std::vector<std::uint8_t>>& images) {
  auto count = static_cast<std::int64_t>(images.size());
  if (count_ + count > capacity_) {
    throw Error(fmt::format("{}: more images than announced ({})", path_, capacity_));
  }
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  state_->images->write_bytes_rows(static_cast<std::uint64_t>(count_), images);
  count_ += count;
}

void DatasetWriter::finish(const std::vector<std::int32_t>& labels,
                           const std::vector<std::string>& classes,
                           const std::vector<std::string>& sources,
                           const std::vector<SkippedFile>& skipped,
                           const DatasetAttributes& attributes) {
  if (static_cast<std::int64_t>(labels.size()) != count_ ||
      static_cast<std::int64_t>(sources.size()) != count_) {
    throw Error(fmt::format("{}: {} images but {} labels and {} sources", path_, count_,
                            labels.size(), sources.size()));
  }
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  h5::File& file = state_->file;
  state_->images->resize_rows(static_cast<std::uint64_t>(count_));
  state_->images.reset();

  file.write("labels", labels);
  file.write_strings("classes", classes);
  file.write_strings("sources", sources);
  if (!skipped.empty()) {
    std::vector<std::string> skipped_sources;
    std::vector<std::string> reasons;
    for (const auto& entry : skipped) {
      skipped_sources.push_back(entry.source);
      reasons.push_back(entry.reason);
    }
    file.write_strings("skipped/sources", skipped_sources);
    file.write_strings("skipped/reasons", reasons);
  }

  file.set_attribute("format", dataset_format);
  file.set_attribute("format_version", dataset_format_version);
  file.set_attribute("created_by", attributes.created_by);
  file.set_attribute("command_line", attributes.command_line);
  file.set_attribute("size", std::int64_t{attributes.size});
  file.set_attribute("resolution", std::int64_t{attributes.resolution});
  file.set_attribute("split", attributes.split);
  file.set_attribute("ratio", attributes.ratio);
  file.set_attribute("seed", attributes.seed);
  file.set_attribute("crop_pct", attributes.crop_pct);
  file.set_attribute("source_kind", attributes.source_kind);
  file.set_attribute("store", attributes.store);
  file.set_attribute("filter", attributes.filter);
  file.set_attribute("scaled_decode", std::int64_t{attributes.scaled_decode});
  file.set_attribute("exif_orientation", std::int64_t{attributes.exif_orientation});
  file.flush();
  file.close();
}

struct DatasetReader::State {
  h5::File file;
  std::optional<h5::Dataset> images;
};

namespace {

// The end of a message about a dataset file whose parts contradict each other.
constexpr const char* remake_hint = "make the dataset again with didicm-prep";

std::string optional_string(const h5::File& file, const std::string& name) {
  return file.has_attribute(name) ? file.string_attribute(name) : std::string();
}

}  // namespace

DatasetReader::DatasetReader(const std::string& path) : state_(std::make_unique<State>()) {
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  h5::File& file = state_->file;
  file = h5::File::open(path, /*writable=*/false, "a dataset written by didicm-prep");
  info_.path = path;

  std::string format = file.has_attribute("format") ? file.string_attribute("format") : "";
  if (format != dataset_format) {
    throw Error(fmt::format("{}: format attribute is '{}', expected '{}'; make datasets with didicm-prep",
                            path, format, dataset_format));
  }
  std::int64_t version = file.int_attribute("format_version");
  if (version != dataset_format_version) {
    throw Error(fmt::format("{}: dataset format_version {} is not supported (this didicm reads "
                            "version {}); use a matching didicm version",
                            path, version, dataset_format_version));
  }

  info_.store = file.string_attribute("store");
  info_.size = static_cast<int>(file.int_attribute("size"));
  info_.split = optional_string(file, "split");
  info_.ratio = file.has_attribute("ratio") ? file.double_attribute("ratio") : 1.0;
  info_.seed = file.has_attribute("seed") ? file.int_attribute("seed") : 0;
  info_.classes = file.read_strings("classes");
  labels_ = file.read<std::int32_t>("labels");
  info_.count = static_cast<std::int64_t>(labels_.size());
  if (info_.size <= 0) {
    throw Error(fmt::format("{}: size attribute {} is invalid; {}", path, info_.size, remake_hint));
  }

  auto rows = static_cast<std::uint64_t>(info_.count);
  auto side = static_cast<std::uint64_t>(info_.size);
  if (info_.store == "raw") {
    state_->images = file.open_dataset("images");
    h5::Dims dims = state_->images->dims();
    if (dims != h5::Dims{rows, side, side, 3}) {
      throw Error(fmt::format("{}: /images has shape [{}], expected [{}, {}, {}, 3] from /labels "
                              "and the size attribute; {}",
                              path, fmt::join(dims, ", "), rows, side, side, remake_hint));
    }
  } else if (info_.store == "jpeg") {
    state_->images = file.open_dataset("jpeg");
    h5::Dims dims = state_->images->dims();
    if (dims != h5::Dims{rows}) {
      throw Error(fmt::format("{}: /jpeg has shape [{}], expected [{}] from /labels; {}", path,
                              fmt::join(dims, ", "), rows, remake_hint));
    }
  } else {
    throw Error(fmt::format("{}: store attribute is '{}', expected raw or jpeg; {}", path,
                            info_.store, remake_hint));
  }

  auto num_classes = static_cast<std::int32_t>(info_.classes.size());
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    if (labels_[i] < 0 || labels_[i] >= num_classes) {
      throw Error(fmt::format("{}: label {} of image {} is outside 0..{} ({} classes); {}", path,
                              labels_[i], i, num_classes - 1, num_classes, remake_hint));
    }
  }
}

DatasetReader::~DatasetReader() {
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  state_.reset();
}

const DatasetInfo& DatasetReader::info() const { return info_; }

const std::vector<std::int32_t>& DatasetReader::labels() const { return labels_; }

void DatasetReader::read_image(std::int64_t index, std::uint8_t* out) const {
  if (index < 0 || index >= info_.count) {
    throw Error(fmt::format("{}: image index {} is outside 0..{}", info_.path, index, info_.count - 1));
  }
  if (info_.store == "raw") {
    std::lock_guard<std::mutex> lock(hdf5_mutex());
    state_->images->read_rows(static_cast<std::uint64_t>(index), 1, out);
    return;
  }

  std::vector<std::uint8_t> bytes;
  {
    std::lock_guard<std::mutex> lock(hdf5_mutex());
    bytes = state_->images->read_bytes(static_cast<std::uint64_t>(index));
  }
  Image image;
  try {
    image = decode_jpeg(bytes.data(), bytes.size(), DecodeOptions{});
  } catch (const Error& e) {
    throw Error(fmt::format("{}: image {}: {}; {}", info_.path, index, e.what(), remake_hint));
  }
  if (image.width != info_.size || image.height != info_.size) {
    throw Error(fmt::format("{}: image {} is {}x{}, expected {}x{}; {}", info_.path, index,
                            image.width, image.height, info_.size, info_.size, remake_hint));
  }
  std::memcpy(out, image.pixels.data(), image.pixels.size());
}

std::string DatasetReader::content_hash() const {
  std::lock_guard<std::mutex> hash_lock(hash_mutex_);
  if (hash_) {
    return *hash_;
  }

  // Little-endian integers, so the hash does not depend on the machine.
  auto hash_integer = [](std::uint64_t hash, std::int64_t value) {
    std::uint8_t bytes[8];
    for (int i = 0; i < 8; ++i) {
      bytes[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(value) >> (8 * i));
    }
    return fnv1a(bytes, 8, hash);
  };
  std::uint64_t hash = fnv1a(info_.store);
  hash = hash_integer(hash, info_.size);
  hash = hash_integer(hash, info_.count);
  for (std::int32_t label : labels_) {
    hash = hash_integer(hash, label);
  }

  std::lock_guard<std::mutex> lock(hdf5_mutex());
  if (info_.store == "raw") {
    std::size_t image_bytes = std::size_t(info_.size) * info_.size * 3;
    constexpr std::int64_t block = 64;
    std::vector<std::uint8_t> buffer(image_bytes * block);
    for (std::int64_t first = 0; first < info_.count; first += block) {
      std::int64_t count = std::min(block, info_.count - first);
      state_->images->read_rows(static_cast<std::uint64_t>(first), static_cast<std::uint64_t>(count),
                                buffer.data());
      hash = fnv1a(buffer.data(), image_bytes * static_cast<std::size_t>(count), hash);
    }
  } else {
    for (std::int64_t i = 0; i < info_.count; ++i) {
      std::vector<std::uint8_t> bytes = state_->images->read_bytes(static_cast<std::uint64_t>(i));
      hash = hash_integer(hash, static_cast<std::int64_t>(bytes.size()));
      hash = fnv1a(bytes.data(), bytes.size(), hash);
    }
  }
  hash_ = fmt::format("{:016x}", hash);
  return *hash_;
}

}  // namespace didicm
