#pragma once

// didicm-prep: turn an image folder or IDX files into one dataset file.

#include <cstdint>
#include <string>

namespace didicm {

struct PrepOptions {
  std::string input;        // class-folder tree, flat folder, or IDX folder
  std::string output;
  bool force = false;
  std::string labels;       // CSV for a flat folder
  std::string idx_images;
  std::string idx_labels;
  std::string idx_names = "auto";  // auto, fashion-mnist or digits
  int size = 0;             // 0: IDX keeps its native size; required otherwise
  int store_size = 0;       // 0: store `size`
  double crop_pct = 0.875;
  std::string filter = "bilinear";
  std::string store = "raw";
  int jpeg_quality = 90;
  int gzip_level = 0;
  std::string class_list;
  std::string classes;      // "K" or a file of class ids
  double ratio = 1.0;
  std::int64_t seed = 0;
  std::int64_t max_per_class = 0;
  bool skip_bad = false;
  bool exif_orientation = false;
  bool scaled_decode = true;
  std::string split;
  int threads = 1;
  std::string command_line;
};

struct PrepSummary {
  std::string output;
  std::int64_t images = 0;
  std::int64_t classes = 0;
  std::int64_t skipped = 0;
  std::int64_t bytes = 0;
  double seconds = 0.0;
  double cpu_seconds = 0.0;  // user + system time of all threads

  // One line of JSON: output, images, classes, skipped, bytes, seconds,
  // cpu_seconds, images_per_second.
  std::string to_json() const;
};

// Checks the option combination; throws UsageError naming the option.
void validate_prep_options(const PrepOptions& options);

// Validates, reads the input, writes the dataset atomically and returns the
// summary. A bad image stops the run with Error("<path>: <reason>") unless
// skip_bad is set.
PrepSummary run_prep(const PrepOptions& options);

}  // namespace didicm
