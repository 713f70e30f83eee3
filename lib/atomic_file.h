#pragma once

#include <string>

namespace didicm {

// Checks, before any work starts, that `path` may be written: its folder
// exists and, unless `force`, no file of that name exists. Throws Error with
// the path and what to do.
void check_output_path(const std::string& path, bool force);

// Returns `path` made absolute against the current folder and normalized
// (no "." or ".." parts), or an empty string for an empty path.
std::string absolute_path(const std::string& path);

// A file written under a temporary name in the destination folder and renamed
// over the final name by commit(). A reader never sees a half-written file
// under the final name, and an existing file is replaced only by a complete one.
// The temporary file is removed by the destructor, and by SIGINT or SIGTERM,
// unless commit() ran. SIGKILL leaves only a hidden ".NAME.tmp-*" file behind.
class AtomicFile {
 public:
  AtomicFile(std::string final_path, bool force);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::string& temp_path() const { return temp_path_; }
  const std::string& final_path() const { return final_path_; }

  // Flushes the temporary file to disk and renames it to the final name.
  void commit();

 private:
  std::string final_path_;
  std::string temp_path_;
  int slot_ = -1;
  bool committed_ = false;
};

// Removes the temporary files of every live AtomicFile. Async-signal-safe.
void remove_pending_temporary_files();

}  // namespace didicm
