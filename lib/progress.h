#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace didicm {

// A progress line on stderr: label, count, percent, rate, ETA and a free
// suffix (loss, learning rate). On a terminal it is redrawn in place at most
// ten times a second; otherwise a plain line is written every 15 seconds.
// Nothing is drawn with -q. advance() may be called from several threads.
class Progress {
 public:
  Progress(std::string label, std::int64_t total, std::string unit = "images");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(std::int64_t count = 1);
  void set_suffix(std::string suffix);

  // Draws the final state and ends the line; further calls do nothing.
  void finish();

  std::int64_t done() const { return done_.load(); }
  double elapsed_seconds() const;
  double rate() const;  // items per second since construction

  // Used by the logger so that log lines do not mix with the bar.
  std::string render() const;

 private:
  void maybe_draw(bool force);

  std::string label_;
  std::string unit_;
  std::int64_t total_;
  std::atomic<std::int64_t> done_{0};
  std::string suffix_;
  mutable std::mutex mutex_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool finished_ = false;
  bool terminal_ = false;
};

// Erase and redraw the active progress line around a log message. Callers
// hold the logger's stderr lock.
void clear_progress_line();
void redraw_progress_line();

// Format a duration as "1h02m", "3m05s" or "12s".
std::string format_duration(double seconds);

}  // namespace didicm
