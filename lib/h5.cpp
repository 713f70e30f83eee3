#include "h5.h"

#include "errors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace didicm {

void silence_hdf5_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

std::mutex& hdf5_mutex() {
  static std::mutex mutex;
  return mutex;
}

namespace h5 {
namespace {

// Collects the innermost description on HDF5's error stack, the most specific
// reason ("truncated file: eof = ...", "file signature not found"). A downward
// walk visits the API call first and the innermost frame last.
herr_t collect_message(unsigned /*depth*/, const H5E_error2_t* error, void* client) {
  auto* message = static_cast<std::string*>(client);
  if (error->desc != nullptr && error->desc[0] != '\0') {
    *message = error->desc;
  }
  return 0;
}

std::string hdf5_reason() {
  std::string message;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_message, &message);
  H5Eclear2(H5E_DEFAULT);
  return message.empty() ? "HDF5 call failed" : message;
}

// The end of a message about a group, dataset or attribute that a file lacks
// or stores with another type. Such a file is usually of another kind, or from
// another didicm version.
constexpr const char* missing_part_hint =
    "is it the right kind of file, written by this didicm version?";

std::string not_hdf5_message(const std::string& name, const std::string& expected) {
  if (expected.empty()) {
    return fmt::format("{}: not an HDF5 file, or truncated", name);
  }
  return fmt::format("{}: not an HDF5 file, or truncated; expected {}", name, expected);
}

std::string join_path(const std::string& base, const std::string& name) {
  if (name.empty()) {
    return base;
  }
  if (name.front() == '/') {
    return name;
  }
  return base == "/" ? "/" + name : base + "/" + name;
}

Handle make_space(const Dims& dims, bool extendible = false) {
  std::vector<hsize_t> sizes(dims.begin(), dims.end());
  std::vector<hsize_t> max_sizes(sizes);
  if (extendible && !max_sizes.empty()) {
    max_sizes[0] = H5S_UNLIMITED;
  }
  hid_t space = dims.empty() ? H5Screate(H5S_SCALAR)
                             : H5Screate_simple(static_cast<int>(sizes.size()), sizes.data(),
                                                max_sizes.data());
  return Handle(check_id(space, "creating a dataspace"), H5Sclose);
}

Handle string_type() {
  Handle type(check_id(H5Tcopy(H5T_C_S1), "creating a string type"), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

Handle bytes_type() {
  return Handle(check_id(H5Tvlen_create(H5T_NATIVE_UINT8), "creating a byte-string type"), H5Tclose);
}

}  // namespace

herr_t check(herr_t status, const std::string& context) {
  if (status < 0) {
    throw Error(fmt::format("{}: {}", context, hdf5_reason()));
  }
  return status;
}

hid_t check_id(hid_t id, const std::string& context) {
  if (id < 0) {
    throw Error(fmt::format("{}: {}", context, hdf5_reason()));
  }
  return id;
}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    closer_ = other.closer_;
    other.id_ = -1;
  }
  return *this;
}

void Handle::reset() {
  if (id_ >= 0 && closer_ != nullptr) {
    closer_(id_);
  }
  id_ = -1;
}

std::string Group::describe(const std::string& name) const {
  return fmt::format("{}: {}", file_, join_path(path_, name));
}

bool Group::exists(const std::string& name) const {
  // H5Lexists fails on a missing intermediate group, so test each prefix.
  std::string prefix;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t slash = name.find('/', start);
    std::string part = name.substr(0, slash);
    if (!part.empty() && part != prefix) {
      if (H5Lexists(id(), part.c_str(), H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
      }
      prefix = part;
    }
    if (slash == std::string::npos) {
      break;
    }
    start = slash + 1;
  }
  return true;
}

bool Group::is_group(const std::string& name) const {
  if (!exists(name)) {
    return false;
  }
  H5O_info_t info;
  check(H5Oget_info_by_name2(id(), name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT),
        describe(name));
  return info.type == H5O_TYPE_GROUP;
}

Group Group::open_group(const std::string& name) const {
  if (!exists(name)) {
    throw Error(fmt::format("{}: group not found; {}", describe(name), missing_part_hint));
  }
  hid_t group = check_id(H5Gopen2(id(), name.c_str(), H5P_DEFAULT), describe(name));
  return Group(Handle(group, H5Gclose), file_, join_path(path_, name));
}

Group Group::create_group(const std::string& name) const {
  if (exists(name)) {
    return open_group(name);
  }
  Handle properties(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(properties.get(), 1);
  hid_t group = check_id(H5Gcreate2(id(), name.c_str(), properties.get(), H5P_DEFAULT, H5P_DEFAULT),
                         describe(name));
  return Group(Handle(group, H5Gclose), file_, join_path(path_, name));
}

std::vector<std::string> Group::children() const {
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  };
  check(H5Literate(id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names), describe());
  std::sort(names.begin(), names.end());
  return names;
}

Dataset Group::create_dataset(const std::string& name, hid_t type, const Dims& dims,
                              const WriteOptions& options) const {
  if (options.extendible && options.chunk.empty()) {
    throw Error(fmt::format("{}: an extendible dataset needs chunks", describe(name)));
  }
  Handle space = make_space(dims, options.extendible);
  Handle link_properties(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(link_properties.get(), 1);
  Handle properties(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (!options.chunk.empty()) {
    std::vector<hsize_t> chunk(options.chunk.begin(), options.chunk.end());
    check(H5Pset_chunk(properties.get(), static_cast<int>(chunk.size()), chunk.data()),
          describe(name));
    if (options.gzip_level > 0) {
      check(H5Pset_deflate(properties.get(), static_cast<unsigned>(options.gzip_level)),
            describe(name));
    }
  }
  hid_t dataset = check_id(H5Dcreate2(id(), name.c_str(), type, space.get(), link_properties.get(),
                                      properties.get(), H5P_DEFAULT),
                           fmt::format("{}: creating dataset", describe(name)));
  return Dataset(Handle(dataset, H5Dclose), describe(name));
}

Dataset Group::open_dataset(const std::string& name) const {
  if (!exists(name)) {
    throw Error(fmt::format("{}: dataset not found; {}", describe(name), missing_part_hint));
  }
  hid_t dataset = check_id(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), describe(name));
  return Dataset(Handle(dataset, H5Dclose), describe(name));
}

Dims Group::dims(const std::string& name) const { return open_dataset(name).dims(); }

template <typename T>
void Group::write(const std::string& name, const T* data, const Dims& dims,
                  const WriteOptions& options) const {
  Dataset dataset = create_dataset(name, native_type<T>(), dims, options);
  check(H5Dwrite(dataset.id(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
        fmt::format("{}: writing failed", describe(name)));
}

template <typename T>
std::vector<T> Group::read(const std::string& name) const {
  Dataset dataset = open_dataset(name);
  std::uint64_t count = 1;
  for (auto size : dataset.dims()) {
    count *= size;
  }
  std::vector<T> values(count);
  check(H5Dread(dataset.id(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
        fmt::format("{}: reading failed", describe(name)));
  return values;
}

template <typename T>
void Group::read(const std::string& name, T* data, std::uint64_t count) const {
  Dataset dataset = open_dataset(name);
  std::uint64_t stored = 1;
  for (auto size : dataset.dims()) {
    stored *= size;
  }
  if (stored != count) {
    throw Error(fmt::format("{}: has {} elements, expected {}", describe(name), stored, count));
  }
  if (count > 0) {
    check(H5Dread(dataset.id(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
          fmt::format("{}: reading failed", describe(name)));
  }
}

#define DIDICM_H5_INSTANTIATE(T)                                                              \
  template void Group::write<T>(const std::string&, const T*, const Dims&, const WriteOptions&) \
      const;                                                                                  \
  template std::vector<T> Group::read<T>(const std::string&) const;                           \
  template void Group::read<T>(const std::string&, T*, std::uint64_t) const;                  \
  template void Dataset::write_rows<T>(std::uint64_t, std::uint64_t, const T*) const;         \
  template void Dataset::read_rows<T>(std::uint64_t, std::uint64_t, T*) const;

void Group::write_strings(const std::string& name, const std::vector<std::string>& values) const {
  Handle type = string_type();
  Dataset dataset = create_dataset(name, type.get(), Dims{values.size()});
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const auto& value : values) {
    pointers.push_back(value.c_str());
  }
  if (!values.empty()) {
    check(H5Dwrite(dataset.id(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()),
          fmt::format("{}: writing failed", describe(name)));
  }
}

std::vector<std::string> Group::read_strings(const std::string& name) const {
  Dataset dataset = open_dataset(name);
  if (dataset.type_class() != H5T_STRING) {
    throw Error(fmt::format("{}: expected a string dataset; {}", describe(name), missing_part_hint));
  }
  Dims dims = dataset.dims();
  std::uint64_t count = dims.empty() ? 1 : dims[0];
  Handle type = string_type();
  std::vector<char*> pointers(count, nullptr);
  if (count > 0) {
    check(H5Dread(dataset.id(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()),
          fmt::format("{}: reading failed", describe(name)));
  }
  std::vector<std::string> values;
  values.reserve(count);
  for (char* pointer : pointers) {
    values.emplace_back(pointer == nullptr ? "" : pointer);
    H5free_memory(pointer);
  }
  return values;
}

bool Group::has_attribute(const std::string& name) const {
  htri_t found = H5Aexists(id(), name.c_str());
  if (found < 0) {
    H5Eclear2(H5E_DEFAULT);
  }
  return found > 0;
}

namespace {

void write_attribute(const Group& group, const std::string& name, hid_t type, const void* value) {
  if (group.has_attribute(name)) {
    H5Adelete(group.id(), name.c_str());
  }
  Handle space = make_space({});
  std::string context = fmt::format("{} @{}", group.describe(), name);
  Handle attribute(check_id(H5Acreate2(group.id(), name.c_str(), type, space.get(), H5P_DEFAULT,
                                       H5P_DEFAULT),
                            context),
                   H5Aclose);
  check(H5Awrite(attribute.get(), type, value), context);
}

Handle open_attribute(const Group& group, const std::string& name) {
  if (!group.has_attribute(name)) {
    throw Error(fmt::format("{}: attribute '{}' not found; {}", group.describe(), name,
                            missing_part_hint));
  }
  return Handle(check_id(H5Aopen(group.id(), name.c_str(), H5P_DEFAULT),
                         fmt::format("{} @{}", group.describe(), name)),
                H5Aclose);
}

template <typename T>
T read_numeric_attribute(const Group& group, const std::string& name) {
  Handle attribute = open_attribute(group, name);
  Handle type(H5Aget_type(attribute.get()), H5Tclose);
  H5T_class_t type_class = H5Tget_class(type.get());
  if (type_class != H5T_INTEGER && type_class != H5T_FLOAT) {
    throw Error(fmt::format("{} @{}: expected a number; {}", group.describe(), name,
                            missing_part_hint));
  }
  T value{};
  check(H5Aread(attribute.get(), native_type<T>(), &value),
        fmt::format("{} @{}", group.describe(), name));
  return value;
}

}  // namespace

void Group::set_attribute(const std::string& name, const std::string& value) const {
  Handle type = string_type();
  const char* pointer = value.c_str();
  write_attribute(*this, name, type.get(), &pointer);
}

void Group::set_attribute(const std::string& name, std::int64_t value) const {
  write_attribute(*this, name, H5T_NATIVE_INT64, &value);
}

void Group::set_attribute(const std::string& name, double value) const {
  write_attribute(*this, name, H5T_NATIVE_DOUBLE, &value);
}

std::string Group::string_attribute(const std::string& name) const {
  Handle attribute = open_attribute(*this, name);
  Handle stored_type(H5Aget_type(attribute.get()), H5Tclose);
  std::string context = fmt::format("{} @{}", describe(), name);
  if (H5Tget_class(stored_type.get()) != H5T_STRING) {
    throw Error(fmt::format("{}: expected a string; {}", context, missing_part_hint));
  }
  if (H5Tis_variable_str(stored_type.get()) > 0) {
    Handle type = string_type();
    char* pointer = nullptr;
    check(H5Aread(attribute.get(), type.get(), &pointer), context);
    std::string value = pointer == nullptr ? "" : pointer;
    H5free_memory(pointer);
    return value;
  }
  // Fixed-length strings, as h5py writes numpy byte strings.
  std::size_t size = H5Tget_size(stored_type.get());
  std::string value(size, '\0');
  check(H5Aread(attribute.get(), stored_type.get(), value.data()), context);
  value.resize(std::strlen(value.c_str()));
  return value;
}

std::int64_t Group::int_attribute(const std::string& name) const {
  return read_numeric_attribute<std::int64_t>(*this, name);
}

double Group::double_attribute(const std::string& name) const {
  return read_numeric_attribute<double>(*this, name);
}

std::vector<std::string> Group::attribute_names() const {
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  };
  hsize_t index = 0;
  check(H5Aiterate2(id(), H5_INDEX_NAME, H5_ITER_INC, &index, collect, &names), describe());
  return names;
}

H5T_class_t Group::attribute_type_class(const std::string& name) const {
  Handle attribute = open_attribute(*this, name);
  Handle type(check_id(H5Aget_type(attribute.get()), fmt::format("{} @{}", describe(), name)),
              H5Tclose);
  return H5Tget_class(type.get());
}

std::uint64_t Group::attribute_size(const std::string& name) const {
  Handle attribute = open_attribute(*this, name);
  Handle space(check_id(H5Aget_space(attribute.get()), fmt::format("{} @{}", describe(), name)),
               H5Sclose);
  hssize_t count = H5Sget_simple_extent_npoints(space.get());
  return count < 0 ? 0 : static_cast<std::uint64_t>(count);
}

Dims Dataset::dims() const {
  Handle space(check_id(H5Dget_space(id()), description_), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> sizes(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.get(), sizes.data(), nullptr);
  return Dims(sizes.begin(), sizes.end());
}

H5T_class_t Dataset::type_class() const {
  Handle type(check_id(H5Dget_type(id()), description_), H5Tclose);
  return H5Tget_class(type.get());
}

std::size_t Dataset::type_size() const {
  Handle type(check_id(H5Dget_type(id()), description_), H5Tclose);
  return H5Tget_size(type.get());
}

ElementType Dataset::element_type() const {
  Handle type(check_id(H5Dget_type(id()), description_), H5Tclose);
  H5T_class_t type_class = H5Tget_class(type.get());
  std::size_t size = H5Tget_size(type.get());
  bool is_signed = type_class == H5T_INTEGER && H5Tget_sign(type.get()) == H5T_SGN_2;
  if (type_class == H5T_FLOAT && size == 4) {
    return ElementType::float32;
  }
  if (type_class == H5T_FLOAT && size == 8) {
    return ElementType::float64;
  }
  if (type_class == H5T_INTEGER && !is_signed && size == 1) {
    return ElementType::uint8;
  }
  if (is_signed && size == 4) {
    return ElementType::int32;
  }
  if (is_signed && size == 8) {
    return ElementType::int64;
  }
  return ElementType::other;
}

void Dataset::select_rows(std::uint64_t first, std::uint64_t count, Handle& file_space,
                          Handle& memory_space) const {
  Dims shape = dims();
  if (shape.empty() || first + count > shape[0]) {
    throw Error(fmt::format("{}: rows {}..{} are out of range (dataset has {})", description_,
                            first, first + count, shape.empty() ? 0 : shape[0]));
  }
  file_space = Handle(check_id(H5Dget_space(id()), description_), H5Sclose);
  std::vector<hsize_t> start(shape.size(), 0);
  std::vector<hsize_t> block(shape.begin(), shape.end());
  start[0] = first;
  block[0] = count;
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, block.data(),
                            nullptr),
        description_);
  memory_space = Handle(
      check_id(H5Screate_simple(static_cast<int>(block.size()), block.data(), nullptr), description_),
      H5Sclose);
}

void Dataset::transfer_rows(std::uint64_t first, std::uint64_t count, hid_t type, void* data,
                            bool writing) const {
  if (count == 0) {
    return;
  }
  Handle file_space;
  Handle memory_space;
  select_rows(first, count, file_space, memory_space);
  if (writing) {
    check(H5Dwrite(id(), type, memory_space.get(), file_space.get(), H5P_DEFAULT, data),
          fmt::format("{}: writing rows failed", description_));
  } else {
    check(H5Dread(id(), type, memory_space.get(), file_space.get(), H5P_DEFAULT, data),
          fmt::format("{}: reading rows failed", description_));
  }
}

template <typename T>
void Dataset::write_rows(std::uint64_t first, std::uint64_t count, const T* data) const {
  transfer_rows(first, count, native_type<T>(), const_cast<T*>(data), true);
}

template <typename T>
void Dataset::read_rows(std::uint64_t first, std::uint64_t count, T* data) const {
  transfer_rows(first, count, native_type<T>(), data, false);
}

DIDICM_H5_INSTANTIATE(std::uint8_t)
DIDICM_H5_INSTANTIATE(std::int32_t)
DIDICM_H5_INSTANTIATE(std::int64_t)
DIDICM_H5_INSTANTIATE(float)
DIDICM_H5_INSTANTIATE(double)

void Dataset::write_bytes(std::uint64_t row, const std::vector<std::uint8_t>& bytes) const {
  Handle type = bytes_type();
  hvl_t value{bytes.size(), const_cast<std::uint8_t*>(bytes.data())};
  transfer_rows(row, 1, type.get(), &value, true);
}

void Dataset::write_bytes_rows(std::uint64_t first,
                               const std::vector<std::vector<std::uint8_t>>& rows) const {
  Handle type = bytes_type();
  std::vector<hvl_t> values(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    values[i] = hvl_t{rows[i].size(), const_cast<std::uint8_t*>(rows[i].data())};
  }
  transfer_rows(first, rows.size(), type.get(), values.data(), true);
}

void Dataset::resize_rows(std::uint64_t rows) const {
  Dims shape = dims();
  std::vector<hsize_t> sizes(shape.begin(), shape.end());
  if (sizes.empty()) {
    throw Error(fmt::format("{}: cannot resize a scalar dataset", description_));
  }
  sizes[0] = rows;
  check(H5Dset_extent(id(), sizes.data()), fmt::format("{}: resizing to {} rows failed", description_, rows));
}

std::vector<std::uint8_t> Dataset::read_bytes(std::uint64_t row) const {
  Handle type = bytes_type();
  hvl_t value{0, nullptr};
  transfer_rows(row, 1, type.get(), &value, false);
  const auto* begin = static_cast<const std::uint8_t*>(value.p);
  std::vector<std::uint8_t> bytes(begin, begin + value.len);
  Handle space = make_space({1});
  H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, &value);
  return bytes;
}

File File::create(const std::string& path) {
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  check_id(file, fmt::format("{}: creating HDF5 file failed", path));
  File result;
  result.handle_ = Handle(file, H5Fclose);
  result.file_ = path;
  result.path_ = "/";
  return result;
}

File File::open(const std::string& path, bool writable, const std::string& expected) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    throw Error(fmt::format("{}: file not found; check the path", path));
  }
  if (std::filesystem::is_directory(path, error)) {
    throw Error(fmt::format("{}: is a folder, expected {}", path,
                            expected.empty() ? "an HDF5 file" : expected + " (an HDF5 file)"));
  }
  htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw Error(not_hdf5_message(path, expected));
  }
  hid_t file = H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) {
    std::string reason = hdf5_reason();
    bool truncated = reason.rfind("truncated file", 0) == 0;
    throw Error(fmt::format("{}: cannot open HDF5 file: {}{}", path, reason,
                            truncated ? "; the file is incomplete (an interrupted copy?), so copy "
                                        "or write it again"
                                      : ""));
  }
  File result;
  result.handle_ = Handle(file, H5Fclose);
  result.file_ = path;
  result.path_ = "/";
  return result;
}

File File::create_in_memory(const std::string& name) {
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  check(H5Pset_fapl_core(access.get(), 1 << 20, /*backing_store=*/0), name);
  hid_t file = H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get());
  check_id(file, fmt::format("{}: creating in-memory HDF5 file failed", name));
  File result;
  result.handle_ = Handle(file, H5Fclose);
  result.file_ = name;
  result.path_ = "/";
  return result;
}

File File::open_image(const std::vector<char>& bytes, const std::string& name,
                      const std::string& expected) {
  // HDF5 1.10's core driver opens an image without checking its signature, so
  // look for it here: at offset 0, or at 512, 1024, 2048, ... after a user block.
  static const char signature[] = "\211HDF\r\n\032\n";
  bool found = false;
  for (std::size_t offset = 0; offset + 8 <= bytes.size() && !found;
       offset = offset == 0 ? 512 : offset * 2) {
    found = std::memcmp(bytes.data() + offset, signature, 8) == 0;
  }
  if (!found) {
    throw Error(not_hdf5_message(name, expected));
  }
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  check(H5Pset_fapl_core(access.get(), 1 << 20, /*backing_store=*/0), name);
  check(H5Pset_file_image(access.get(), const_cast<char*>(bytes.data()), bytes.size()), name);
  hid_t file = H5Fopen(name.c_str(), H5F_ACC_RDONLY, access.get());
  if (file < 0) {
    H5Eclear2(H5E_DEFAULT);
    throw Error(not_hdf5_message(name, expected));
  }
  File result;
  result.handle_ = Handle(file, H5Fclose);
  result.file_ = name;
  result.path_ = "/";
  return result;
}

void File::flush() const { check(H5Fflush(id(), H5F_SCOPE_GLOBAL), describe()); }

std::vector<char> File::image() const {
  flush();
  ssize_t size = H5Fget_file_image(id(), nullptr, 0);
  check(static_cast<herr_t>(size < 0 ? -1 : 0), describe());
  std::vector<char> bytes(static_cast<std::size_t>(size));
  check(static_cast<herr_t>(H5Fget_file_image(id(), bytes.data(), bytes.size()) < 0 ? -1 : 0),
        describe());
  return bytes;
}

}  // namespace h5
}  // namespace didicm
