#include "interrupt.h"

#include "atomic_file.h"

#include <atomic>
#include <csignal>
#include <unistd.h>

namespace didicm {
namespace {

std::atomic<int> received_signal{0};
std::atomic<InterruptMode> mode{InterruptMode::exit_now};

// Only async-signal-safe calls here: unlink() and _exit().
extern "C" void handle_interrupt(int signal) {
  bool second = received_signal.exchange(signal) != 0;
  if (mode.load() == InterruptMode::set_flag && !second) {
    return;
  }
  remove_pending_temporary_files();
  _exit(interrupted_exit_status(signal));
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = handle_interrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void set_interrupt_mode(InterruptMode new_mode) { mode.store(new_mode); }

int interrupt_signal() { return received_signal.load(); }

int interrupted_exit_status(int signal) { return 128 + signal; }

}  // namespace didicm
