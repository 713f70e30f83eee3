#include "progress.h"

#include "logging.h"

#include <fmt/format.h>

#include <cstdio>
#include <unistd.h>

namespace didicm {
namespace {

// The one progress line that log messages must step around. Tools draw one
// bar at a time, so a single pointer is enough.
std::atomic<Progress*> active_progress{nullptr};
bool line_drawn = false;

using Clock = std::chrono::steady_clock;

}  // namespace

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e8) {
    return "--";
  }
  auto total = static_cast<long long>(seconds + 0.5);
  if (total >= 3600) {
    return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
  }
  if (total >= 60) {
    return fmt::format("{}m{:02}s", total / 60, total % 60);
  }
  return fmt::format("{}s", total);
}

Progress::Progress(std::string label, std::int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total) {
  start_ = Clock::now();
  last_draw_ = start_;
  terminal_ = isatty(STDERR_FILENO) == 1;
  if (verbosity() >= Verbosity::normal) {
    active_progress.store(this);
  }
}

Progress::~Progress() { finish(); }

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

double Progress::rate() const {
  double seconds = elapsed_seconds();
  return seconds > 0 ? static_cast<double>(done_.load()) / seconds : 0.0;
}

void Progress::advance(std::int64_t count) {
  done_.fetch_add(count);
  maybe_draw(false);
}

void Progress::set_suffix(std::string suffix) {
  std::lock_guard<std::mutex> lock(mutex_);
  suffix_ = std::move(suffix);
}

std::string Progress::render() const {
  std::int64_t done = done_.load();
  double per_second = rate();
  std::string line = fmt::format("{} {}", label_, done);
  if (total_ > 0) {
    double fraction = static_cast<double>(done) / static_cast<double>(total_);
    double eta = per_second > 0 ? static_cast<double>(total_ - done) / per_second : -1;
    line += fmt::format("/{} {:5.1f}% {:8.1f} {}/s ETA {:>6}", total_, 100.0 * fraction,
                        per_second, unit_, format_duration(eta));
  } else {
    line += fmt::format(" {:8.1f} {}/s", per_second, unit_);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (!suffix_.empty()) {
    line += "  " + suffix_;
  }
  return line;
}

void Progress::maybe_draw(bool force) {
  if (verbosity() < Verbosity::normal) {
    return;
  }
  auto now = Clock::now();
  auto interval = terminal_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(15000);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_ || (!force && now - last_draw_ < interval)) {
      return;
    }
    last_draw_ = now;
  }
  std::string line = render();
  std::lock_guard<std::mutex> lock(stderr_mutex());
  if (terminal_) {
    fmt::print(stderr, "\r\033[K{}: {}", program_name(), line);
    line_drawn = true;
  } else {
    fmt::print(stderr, "{}: {}\n", program_name(), line);
  }
  std::fflush(stderr);
}

void Progress::finish() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_) {
      return;
    }
  }
  maybe_draw(true);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
  }
  std::lock_guard<std::mutex> lock(stderr_mutex());
  if (terminal_ && line_drawn && verbosity() >= Verbosity::normal) {
    fmt::print(stderr, "\n");
    line_drawn = false;
  }
  Progress* self = this;
  active_progress.compare_exchange_strong(self, nullptr);
}

void clear_progress_line() {
  if (line_drawn) {
    fmt::print(stderr, "\r\033[K");
  }
}

void redraw_progress_line() {
  Progress* progress = active_progress.load();
  if (progress != nullptr && line_drawn) {
    fmt::print(stderr, "{}: {}", program_name(), progress->render());
  }
}

}  // namespace didicm
