#pragma once

// The didicm-sample command: options and entry point.

#include "sampling.h"

#include <string>

namespace didicm {

struct SampleOptions {
  std::string checkpoint;
  std::string data;
  std::string output;  // a file, or "-" for stdout
  bool force = false;
  SamplerSettings settings;
  std::int64_t batch_size = 128;
  std::int64_t limit = 0;
  std::string device = "auto";
  int workers = 2;
  bool amp = false;
};

// Validates `options`, samples the dataset and writes the posterior file.
// With a file output, prints one JSON summary line on stdout.
int run_sample(const SampleOptions& options);

}  // namespace didicm
