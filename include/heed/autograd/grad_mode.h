// Grad mode: whether ops record a graph. Off inside a NoGradGuard (evaluation, decoding,
// optimizer updates): ops then build no nodes and keep no activations alive.
#pragma once

namespace heed {

class GradMode {
 public:
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

// RAII: disables recording in its scope (this thread only), restoring the previous mode after.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace heed
