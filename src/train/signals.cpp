#include "heed/train/signals.h"

#include <unistd.h>

#include <atomic>
#include <cstring>

#include "heed/util/check.h"

namespace heed {
namespace {

// The signal that asked to stop, 0 for none. Lock-free, hence safe to use in a signal handler.
std::atomic<int> g_stop_signal{0};
std::atomic<bool> g_installed{false};
static_assert(std::atomic<int>::is_always_lock_free);

void write_stderr(const char* text) {
  // Nothing can be done about a failed write inside a signal handler.
  [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
}

void on_stop_signal(int signal) {
  if (g_stop_signal.exchange(signal) != 0) {
    // Second signal: die now, the default way (the exit status then tells the signal).
    std::signal(signal, SIG_DFL);
    std::raise(signal);
    return;
  }
  write_stderr(signal == SIGINT
                   ? "\nheed: SIGINT: stopping after this step and saving a checkpoint "
                     "(press Ctrl-C again to quit at once)\n"
                   : "\nheed: SIGTERM: stopping after this step and saving a checkpoint "
                     "(send it again to quit at once)\n");
}

void install(int signal, struct sigaction* previous) {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  CHECK(::sigaction(signal, &action, previous) == 0, "cannot install the handler for ",
        stop_signal_name(signal), " (", std::strerror(errno), ")");
}

}  // namespace

StopSignalHandler::StopSignalHandler() {
  CHECK(!g_installed.exchange(true), "StopSignalHandler: one is installed already");
  g_stop_signal = 0;
  try {
    install(SIGINT, &previous_interrupt_);
    install(SIGTERM, &previous_terminate_);
  } catch (...) {
    ::sigaction(SIGINT, &previous_interrupt_, nullptr);
    g_installed = false;
    throw;
  }
}

StopSignalHandler::~StopSignalHandler() {
  ::sigaction(SIGINT, &previous_interrupt_, nullptr);
  ::sigaction(SIGTERM, &previous_terminate_, nullptr);
  g_installed = false;
}

bool stop_requested() { return g_stop_signal.load() != 0; }

int stop_signal() { return g_stop_signal.load(); }

const char* stop_signal_name(int signal) {
  switch (signal) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "another signal";
  }
}

void clear_stop_request() { g_stop_signal = 0; }

}  // namespace heed
