#include "interrupt.h"

#include "atomic_file.h"

#include <atomic>
#include <csignal>
#include <cstring>
#include <string>
#include <unistd.h>

namespace didicm {
namespace {

std::atomic<int> received_signal{0};
std::atomic<InterruptMode> mode{InterruptMode::exit_now};

// The line printed before exiting, built before any signal can arrive,
// because the handler may not allocate.
char exit_message[256] = "interrupted\n";
std::string program_name_for_message = "didicm";

void build_exit_message(const std::string& note) {
  // The newline ends a progress bar's line.
  std::string message = "\n" + program_name_for_message + ": interrupted; " + note + "\n";
  std::strncpy(exit_message, message.c_str(), sizeof(exit_message) - 1);
  exit_message[sizeof(exit_message) - 1] = '\0';
}

// Only async-signal-safe calls here: write(), unlink() and _exit().
extern "C" void handle_interrupt(int signal) {
  bool second = received_signal.exchange(signal) != 0;
  if (mode.load() == InterruptMode::set_flag && !second) {
    return;
  }
  remove_pending_temporary_files();
  ssize_t written = write(STDERR_FILENO, exit_message, std::strlen(exit_message));
  (void)written;  // nothing else can be done about a failed write here
  _exit(interrupted_exit_status(signal));
}

}  // namespace

void install_interrupt_handlers(const std::string& program) {
  program_name_for_message = program;
  build_exit_message("unfinished output files were removed");

  struct sigaction action {};
  action.sa_handler = handle_interrupt;
  sigemptyset(&action.sa_mask);
  // A signal ignored at start stays ignored: a shell starts background jobs
  // of a script with SIGINT ignored, so that Ctrl-C reaches only the script.
  for (int signal : {SIGINT, SIGTERM}) {
    struct sigaction current {};
    if (sigaction(signal, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) {
      continue;
    }
    sigaction(signal, &action, nullptr);
  }
}

void set_interrupt_mode(InterruptMode new_mode) { mode.store(new_mode); }

void set_interrupt_note(const std::string& note) { build_exit_message(note); }

int interrupt_signal() { return received_signal.load(); }

int interrupted_exit_status(int signal) { return 128 + signal; }

}  // namespace didicm
