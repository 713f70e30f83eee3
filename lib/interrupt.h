#pragma once

#include <string>

namespace didicm {

// What SIGINT and SIGTERM do. exit_now: remove pending temporary files and
// exit with 128 + signal. set_flag: record the signal so that a loop can stop
// at a safe point (training finishes its step); a second signal exits at once.
enum class InterruptMode { exit_now, set_flag };

// Installs the SIGINT and SIGTERM handler. On exit it prints
// "<program>: interrupted; ..." on stderr.
void install_interrupt_handlers(const std::string& program);
void set_interrupt_mode(InterruptMode mode);

// Replaces the text after "<program>: interrupted; " in the line printed on
// an exit by signal. Call it before the work it describes, because the
// handler only reads a prepared buffer.
void set_interrupt_note(const std::string& note);

// 0 when no signal arrived, else the signal number (SIGINT or SIGTERM).
int interrupt_signal();

// The exit status for a run stopped by `signal`: 130 for SIGINT, 143 for SIGTERM.
int interrupted_exit_status(int signal);

}  // namespace didicm
