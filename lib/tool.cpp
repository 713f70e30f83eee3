#include "tool.h"

#include "errors.h"
#include "h5.h"
#include "interrupt.h"
#include "logging.h"
#include "version.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <limits>
#include <thread>

namespace didicm {
namespace {

CommonOptions options;
std::string invocation;

// Makes every integer option read its value as a decimal number. CLI11 would
// read 010 as octal 8 and 0x10 as 16, and zero-padded numbers are common in
// scripts (printf %03d).
void read_integers_as_decimal(CLI::App& app) {
  CLI::Validator decimal(
      [](std::string& text) -> std::string {
        std::size_t sign = !text.empty() && (text[0] == '+' || text[0] == '-') ? 1 : 0;
        bool digits = text.size() > sign &&
                      text.find_first_not_of("0123456789", sign) == std::string::npos;
        if (!digits) {
          return fmt::format("'{}' is not a whole number", text);
        }
        std::size_t first = text.find_first_not_of('0', sign);
        text = text.substr(0, sign) + (first == std::string::npos ? "0" : text.substr(first));
        return "";
      },
      "");
  for (CLI::Option* option : app.get_options()) {
    const std::string type = option->get_type_name();
    if (type.rfind("INT", 0) == 0 || type.rfind("UINT", 0) == 0) {
      option->transform(decimal);
    }
  }
}

// Accepts a whole number from 0 to INT_MAX. CLI11's NonNegativeNumber would name
// the largest double in its message.
CLI::Validator thread_count_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::size_t end = 0;
        long value = -1;
        try {
          value = std::stol(text, &end);
        } catch (const std::exception&) {
          end = 0;
        }
        if (end != text.size() || value < 0 || value > std::numeric_limits<int>::max()) {
          return fmt::format("'{}' is not a thread count; give 0 (one per core) or more", text);
        }
        return "";
      },
      "NONNEGATIVE");
}

std::string shell_quote(const std::string& argument) {
  bool plain = !argument.empty() &&
               argument.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789-_./=:,+@%") == std::string::npos;
  if (plain) {
    return argument;
  }
  std::string quoted = "'";
  for (char c : argument) {
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return quoted + "'";
}

void apply_common_options() {
  if (options.quiet) {
    set_verbosity(Verbosity::quiet);
  } else if (options.verbose > 0) {
    set_verbosity(Verbosity::verbose);
  }
}

// LibTorch errors append a C++ backtrace after this marker; a user of a tool
// needs only the message before it.
std::string without_backtrace(const std::string& message) {
  auto marker = message.find("\nException raised from");
  return marker == std::string::npos ? message : message.substr(0, marker);
}

// Runs `body`, turning every exception into a message and an exit status.
int guarded(const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    log_error("{}", e.what());
    log_error("Run '{} --help' for usage.", program_name());
    return 2;
  } catch (const Error& e) {
    log_error("{}", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    log_error("out of memory");
    return 1;
  } catch (const std::exception& e) {
    log_error("{}", without_backtrace(e.what()));
    return 1;
  }
}

}  // namespace

const CommonOptions& common_options() { return options; }

const std::string& command_line() { return invocation; }

int worker_threads() {
  if (options.threads > 0) {
    return options.threads;
  }
  return std::max(1U, std::thread::hardware_concurrency());
}

int run_tool(int argc, char** argv, const std::string& name, const std::string& description,
             const std::function<void(CLI::App&)>& define, const std::function<int()>& run) {
  set_program_name(name);
  for (int i = 0; i < argc; ++i) {
    invocation += (i == 0 ? "" : " ") + shell_quote(i == 0 ? name : argv[i]);
  }
  silence_hdf5_errors();
  install_interrupt_handlers(name);

  CLI::App app(description, name);
  // A repeated option takes its last value, so that a script can append an
  // override to a shared list of options.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_version_flag("--version", fmt::format("{} (didicm) {}", name, version_string));
  app.add_flag("-q,--quiet", options.quiet, "Print only errors and warnings on stderr");
  app.add_flag("-v,--verbose", options.verbose, "Print debug messages on stderr");
  app.add_option("--threads", options.threads,
                 "Number of CPU threads (default: 0, one per core)")
      ->check(thread_count_validator());
  app.get_formatter()->column_width(34);

  int status = guarded([&] {
    define(app);
    read_integers_as_decimal(app);
    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
      return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
      return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
      return app.exit(e);
    } catch (const CLI::ParseError& e) {
      throw UsageError(e.what());
    }
    apply_common_options();
    return run();
  });

  // Results go to stdout, so a failed write there (a full disk) is a failure.
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    log_error("writing to standard output failed");
    return status == 0 ? 1 : status;
  }
  return status;
}

}  // namespace didicm
