#include "logging.h"

#include "progress.h"

#include <cstdio>
#include <mutex>

namespace didicm {
namespace {

std::string program = "didicm";
Verbosity current_verbosity = Verbosity::normal;
std::mutex stderr_lock;

}  // namespace

std::mutex& stderr_mutex() { return stderr_lock; }

void set_program_name(std::string name) { program = std::move(name); }

const std::string& program_name() { return program; }

void set_verbosity(Verbosity level) { current_verbosity = level; }

Verbosity verbosity() { return current_verbosity; }

void write_log_line(std::string_view prefix, std::string_view message) {
  std::lock_guard<std::mutex> lock(stderr_lock);
  clear_progress_line();
  fmt::print(stderr, "{}: {}{}\n", program, prefix, message);
  redraw_progress_line();
  std::fflush(stderr);
}

}  // namespace didicm
