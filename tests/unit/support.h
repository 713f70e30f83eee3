#pragma once

// Shared helpers for the unit tests: the golden folder and temporary folders.

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

namespace didicm::testing {

// DIDICM_GOLDEN_DIR, or the copy in tests/data/golden.
inline std::filesystem::path golden_dir() {
  if (const char* from_environment = std::getenv("DIDICM_GOLDEN_DIR")) {
    return from_environment;
  }
  return DIDICM_DEFAULT_GOLDEN_DIR;
}

inline std::filesystem::path golden_file(const std::string& name) { return golden_dir() / name; }

// A fresh folder under the system temporary folder, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::random_device device;
    path_ = std::filesystem::temp_directory_path() /
            ("didicm-test-" + std::to_string(device()) + std::to_string(device()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace didicm::testing
