#pragma once

#include <fmt/format.h>

#include <mutex>
#include <string>
#include <string_view>

namespace didicm {

// Messages below the current verbosity are dropped. Every message goes to
// stderr as "<program>: <message>" (warnings and errors say so).
enum class Verbosity { quiet = 0, normal = 1, verbose = 2 };

void set_program_name(std::string name);
const std::string& program_name();

void set_verbosity(Verbosity level);
Verbosity verbosity();

// Serializes everything written to stderr (log lines and the progress bar).
std::mutex& stderr_mutex();

// Writes one finished line to stderr, clearing a progress bar drawn there first.
void write_log_line(std::string_view prefix, std::string_view message);

template <typename... Args>
void log_info(fmt::format_string<Args...> format, Args&&... args) {
  if (verbosity() >= Verbosity::normal) {
    write_log_line("", fmt::format(format, std::forward<Args>(args)...));
  }
}

template <typename... Args>
void log_debug(fmt::format_string<Args...> format, Args&&... args) {
  if (verbosity() >= Verbosity::verbose) {
    write_log_line("", fmt::format(format, std::forward<Args>(args)...));
  }
}

// Warnings are shown even with -q: they report something the user must know.
template <typename... Args>
void log_warning(fmt::format_string<Args...> format, Args&&... args) {
  write_log_line("warning: ", fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
void log_error(fmt::format_string<Args...> format, Args&&... args) {
  write_log_line("", fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace didicm
