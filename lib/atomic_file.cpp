#include "atomic_file.h"

#include "errors.h"

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace didicm {
namespace {

// A fixed table so that the signal handler can walk it without allocating.
constexpr int max_pending = 64;
constexpr std::size_t max_path = 4096;
std::array<std::atomic<bool>, max_pending> slot_used{};
std::array<std::array<char, max_path>, max_pending> slot_path{};

int claim_slot(const std::string& path) {
  if (path.size() >= max_path) {
    throw Error(fmt::format("{}: path is too long", path));
  }
  for (int i = 0; i < max_pending; ++i) {
    bool expected = false;
    if (slot_used[i].compare_exchange_strong(expected, true)) {
      std::memcpy(slot_path[i].data(), path.c_str(), path.size() + 1);
      return i;
    }
  }
  return -1;  // the file is then only removed by the destructor
}

void release_slot(int slot) {
  if (slot >= 0) {
    slot_used[slot].store(false);
  }
}

std::string make_temp_path(const std::filesystem::path& final_path) {
  std::random_device device;
  auto folder = final_path.parent_path();
  auto name = fmt::format(".{}.tmp-{}-{:08x}", final_path.filename().string(), getpid(), device());
  return (folder / name).string();
}

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

void check_output_path(const std::string& path, bool force) {
  namespace fs = std::filesystem;
  if (path.empty()) {
    throw UsageError("the output path is empty; give a file name");
  }
  fs::path target(path);
  auto folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code error;
  if (!fs::is_directory(folder, error)) {
    throw Error(fmt::format("{}: output folder {} does not exist; create it first", path,
                            folder.string()));
  }
  if (fs::is_directory(target, error)) {
    throw Error(fmt::format("{}: is a folder; give a file name", path));
  }
  if (!force && fs::exists(target, error)) {
    throw Error(fmt::format("{}: file exists; pass --force to overwrite it", path));
  }
}

AtomicFile::AtomicFile(std::string final_path, bool force) : final_path_(std::move(final_path)) {
  check_output_path(final_path_, force);
  temp_path_ = make_temp_path(final_path_);
  slot_ = claim_slot(temp_path_);
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    ::unlink(temp_path_.c_str());
  }
  release_slot(slot_);
}

void AtomicFile::commit() {
  fsync_path(temp_path_);
  if (std::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    throw Error(fmt::format("{}: renaming the finished file into place failed: {}", final_path_,
                            std::strerror(errno)));
  }
  committed_ = true;
  release_slot(slot_);
  slot_ = -1;
  auto folder = std::filesystem::path(final_path_).parent_path();
  fsync_path(folder.empty() ? "." : folder.string());
}

void remove_pending_temporary_files() {
  for (int i = 0; i < max_pending; ++i) {
    if (slot_used[i].load()) {
      ::unlink(slot_path[i].data());
    }
  }
}

std::string absolute_path(const std::string& path) {
  if (path.empty()) {
    return path;
  }
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(path, error);
  return error ? path : absolute.lexically_normal().string();
}

}  // namespace didicm
