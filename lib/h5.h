#pragma once

// RAII wrappers over the HDF5 C API. Every failure throws didicm::Error with
// one line naming the file, the object and HDF5's own reason; HDF5's automatic
// error-stack printing is switched off by silence_hdf5_errors().

#include <hdf5.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace didicm {

void silence_hdf5_errors();

// Serializes HDF5 calls made from several threads (readers of different files
// included). Debian's HDF5 1.10 is built thread-safe (H5_HAVE_THREADSAFE) and
// locks internally anyway; this mutex keeps the code correct with a build
// that is not.
std::mutex& hdf5_mutex();

namespace h5 {

// Maps a C++ element type to its native HDF5 type.
template <typename T>
hid_t native_type();
template <> inline hid_t native_type<std::uint8_t>() { return H5T_NATIVE_UINT8; }
template <> inline hid_t native_type<std::int32_t>() { return H5T_NATIVE_INT32; }
template <> inline hid_t native_type<std::int64_t>() { return H5T_NATIVE_INT64; }
template <> inline hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }
template <> inline hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }

using Dims = std::vector<std::uint64_t>;

// The element type of a stored numeric dataset; `other` for strings, compounds
// and numeric types the toolkit does not write.
enum class ElementType { uint8, int32, int64, float32, float64, other };

// Owns one HDF5 identifier and closes it with the matching H5?close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept { *this = std::move(other); }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

struct WriteOptions {
  Dims chunk;           // empty: contiguous layout
  int gzip_level = 0;   // 0: no compression (needs chunks)
  bool extendible = false;  // axis 0 may grow or shrink later (needs chunks)
};

class Dataset;

// A file or group: the place datasets, groups and attributes live.
class Group {
 public:
  Group() = default;
  Group(Handle handle, std::string file, std::string path)
      : handle_(std::move(handle)), file_(std::move(file)), path_(std::move(path)) {}

  hid_t id() const { return handle_.get(); }
  const std::string& file_name() const { return file_; }
  const std::string& path() const { return path_; }

  bool exists(const std::string& name) const;  // a link of that name (nested paths allowed)
  bool is_group(const std::string& name) const;  // exists and is a group (not a dataset)
  Group open_group(const std::string& name) const;
  Group create_group(const std::string& name) const;  // creates missing parents too
  std::vector<std::string> children() const;          // names in this group, sorted

  // Whole-array writes and reads, row-major.
  template <typename T>
  void write(const std::string& name, const T* data, const Dims& dims,
             const WriteOptions& options = {}) const;
  template <typename T>
  void write(const std::string& name, const std::vector<T>& data) const {
    write(name, data.data(), Dims{data.size()});
  }
  template <typename T>
  std::vector<T> read(const std::string& name) const;
  // Reads the whole dataset into `data`, which has room for `count` elements.
  // The dataset must have exactly that many, and HDF5 converts the element type.
  template <typename T>
  void read(const std::string& name, T* data, std::uint64_t count) const;
  Dims dims(const std::string& name) const;

  // Variable-length UTF-8 strings, and variable-length byte strings.
  void write_strings(const std::string& name, const std::vector<std::string>& values) const;
  std::vector<std::string> read_strings(const std::string& name) const;

  Dataset create_dataset(const std::string& name, hid_t type, const Dims& dims,
                         const WriteOptions& options = {}) const;
  Dataset open_dataset(const std::string& name) const;

  // Scalar attributes.
  bool has_attribute(const std::string& name) const;
  void set_attribute(const std::string& name, const std::string& value) const;
  void set_attribute(const std::string& name, const char* value) const {
    set_attribute(name, std::string(value));
  }
  void set_attribute(const std::string& name, std::int64_t value) const;
  void set_attribute(const std::string& name, double value) const;
  std::string string_attribute(const std::string& name) const;
  std::int64_t int_attribute(const std::string& name) const;
  double double_attribute(const std::string& name) const;
  std::vector<std::string> attribute_names() const;
  // Type class (H5T_STRING, H5T_INTEGER, H5T_FLOAT, ...) and element count of
  // an attribute; a scalar has one element.
  H5T_class_t attribute_type_class(const std::string& name) const;
  std::uint64_t attribute_size(const std::string& name) const;

  // "file: /path/name" for messages.
  std::string describe(const std::string& name = "") const;

 protected:
  Handle handle_;
  std::string file_;
  std::string path_;
};

// One dataset, for partial (row range) reads and writes along the first axis.
class Dataset {
 public:
  Dataset(Handle handle, std::string description)
      : handle_(std::move(handle)), description_(std::move(description)) {}
  hid_t id() const { return handle_.get(); }
  Dims dims() const;
  H5T_class_t type_class() const;
  std::size_t type_size() const;
  ElementType element_type() const;

  // Rows [first, first + count) along axis 0; `data` holds count * row size elements.
  template <typename T>
  void write_rows(std::uint64_t first, std::uint64_t count, const T* data) const;
  template <typename T>
  void read_rows(std::uint64_t first, std::uint64_t count, T* data) const;

  // One variable-length byte string (for example a JPEG) per row.
  void write_bytes(std::uint64_t row, const std::vector<std::uint8_t>& bytes) const;
  // Rows [first, first + rows.size()), one byte string each.
  void write_bytes_rows(std::uint64_t first, const std::vector<std::vector<std::uint8_t>>& rows) const;

  // Changes the size of axis 0 of a dataset created with WriteOptions::extendible.
  void resize_rows(std::uint64_t rows) const;
  std::vector<std::uint8_t> read_bytes(std::uint64_t row) const;

  const std::string& description() const { return description_; }

 private:
  void select_rows(std::uint64_t first, std::uint64_t count, Handle& file_space,
                   Handle& memory_space) const;
  void transfer_rows(std::uint64_t first, std::uint64_t count, hid_t type, void* data,
                     bool writing) const;
  Handle handle_;
  std::string description_;
};

// An open HDF5 file; also the root group "/".
class File : public Group {
 public:
  // Truncates or creates `path`. Callers write to an AtomicFile's temp_path().
  static File create(const std::string& path);
  // Opens for reading; a missing, truncated or non-HDF5 file gives one clear Error.
  // `expected` names the kind of file the caller needs, for example "a checkpoint
  // written by didicm-train". The messages for a folder or a non-HDF5 file end with it.
  static File open(const std::string& path, bool writable = false,
                   const std::string& expected = "");
  // An in-memory file (nothing touches disk); see image().
  static File create_in_memory(const std::string& name);
  // Opens a file image held in memory (for example read from stdin), with
  // `expected` as for open().
  static File open_image(const std::vector<char>& bytes, const std::string& name,
                         const std::string& expected = "");

  // Flushes and returns the bytes of the whole file (for writing it to stdout).
  std::vector<char> image() const;
  void flush() const;
  void close() { handle_.reset(); }
};

// Throws Error(context + HDF5's reason) when `status` is negative.
herr_t check(herr_t status, const std::string& context);
hid_t check_id(hid_t id, const std::string& context);

}  // namespace h5
}  // namespace didicm
