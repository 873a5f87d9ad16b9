// Stopping a training run cleanly on Ctrl-C (SIGINT) or `kill` (SIGTERM).
//
// While a StopSignalHandler is alive, the first SIGINT or SIGTERM only sets a flag (and prints one
// line to stderr): the training loop checks stop_requested() after each step, writes a checkpoint
// and returns, so no work since the last checkpoint is lost. A second signal means "now": the
// handler restores the default action and re-raises it, and the process dies at once with the
// usual status (130 for SIGINT in a shell).
//
//   StopSignalHandler stop_on_signals;
//   for (...) {
//     train_step();
//     if (stop_requested()) { save_checkpoint(...); break; }
//   }
//
// The handler only touches a lock-free std::atomic<int> and calls write(2), signal(2) and
// raise(3), which are async-signal-safe. It is installed with SA_RESTART, so system calls the
// signal interrupts (reads of the data) resume instead of failing with EINTR. Signals are
// process-wide: at most one StopSignalHandler may exist at a time.
#pragma once

#include <csignal>

namespace heed {

class StopSignalHandler {
 public:
  // Clears the flag and installs the handler for SIGINT and SIGTERM.
  StopSignalHandler();
  // Restores the handlers that were there before.
  ~StopSignalHandler();
  StopSignalHandler(const StopSignalHandler&) = delete;
  StopSignalHandler& operator=(const StopSignalHandler&) = delete;

 private:
  struct sigaction previous_interrupt_ {};
  struct sigaction previous_terminate_ {};
};

// Whether a stop signal arrived since the handler was installed (or the flag was cleared).
bool stop_requested();
// The signal that requested the stop (SIGINT or SIGTERM), 0 if none.
int stop_signal();
// "SIGINT", "SIGTERM", or "another signal".
const char* stop_signal_name(int signal);
// Forgets a stop request (e.g. a trainer that handled it and runs another phase).
void clear_stop_request();

}  // namespace heed
