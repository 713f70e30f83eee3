#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace didicm {

// Options every tool shares: -q, -v, --threads, --help, --version.
struct CommonOptions {
  bool quiet = false;
  int verbose = 0;
  int threads = 0;  // 0: one per core. Tools that run LibTorch apply it themselves,
                    // so that tools without LibTorch do not load it.
};

// Runs one command-line tool. `define` adds the tool's own options to the
// CLI11 app; `run` does the work and returns the exit status. Exceptions
// become one line on stderr and an exit status: UsageError and CLI11 parse
// errors give 2, every other exception 1. A failed write to stdout gives 1.
int run_tool(int argc, char** argv, const std::string& name, const std::string& description,
             const std::function<void(CLI::App&)>& define, const std::function<int()>& run);

// The options the running tool was started with (valid inside `run`).
const CommonOptions& common_options();

// The command line the running tool was started with, arguments quoted for a
// POSIX shell where needed; files record it as their provenance.
const std::string& command_line();

// Number of worker threads a tool should use: --threads, or the core count.
int worker_threads();

}  // namespace didicm
