#pragma once

// Timing helpers that the training and sampling benchmarks share.

#include "network_score_model.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <string>

namespace didicm::bench {

// Wall-clock time in seconds from a steady clock.
inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time of every thread of the process, in seconds.
inline double cpu_seconds() {
  timespec spec{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec);
  return static_cast<double>(spec.tv_sec) + 1e-9 * static_cast<double>(spec.tv_nsec);
}

// Reads a field of /proc/self/status in MiB ("VmHWM", "VmRSS"); -1 when missing.
inline double status_mib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::stod(line.substr(field.size() + 1)) / 1024.0;  // the file gives kB
    }
  }
  return -1;
}

// A NetworkScoreModel that adds up the wall-clock seconds of its network
// calls, so that a caller's time outside the network is the rest.
class TimedScoreModel : public ScoreModel {
 public:
  TimedScoreModel(Model model, bool amp) : inner_(std::move(model), amp) {}

  torch::Tensor log_scores(const torch::Tensor& images, const torch::Tensor& labels,
                           const torch::Tensor& sigma) override {
    const double start = now_seconds();
    torch::Tensor out = inner_.log_scores(images, labels, sigma);
    seconds += now_seconds() - start;
    return out;
  }
  std::int64_t num_classes() const override { return inner_.num_classes(); }
  torch::Device device() const override { return inner_.device(); }

  double seconds = 0;

 private:
  NetworkScoreModel inner_;
};

}  // namespace didicm::bench
