// Error handling for heed.
//
// Library code never prints and exits: it throws. `heed::Error` carries a message that names what
// went wrong with the values involved (an op and its shapes, a config key and its value, a file and
// its line); `main` catches, prints and returns non-zero. `assert` is only for internal invariants.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace heed {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

template <typename... Args>
std::string str_cat(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}

[[noreturn]] void throw_check_failure(const char* file, int line, const std::string& message);

}  // namespace detail

// Concatenate any streamable values into a string: str("x=", 3) == "x=3".
template <typename... Args>
std::string str(Args&&... args) {
  return detail::str_cat(std::forward<Args>(args)...);
}

// A list of values for a message: list_string({2, -1, 3}) == "[2, -1, 3]".
template <typename T>
std::string list_string(const std::vector<T>& values) {
  std::ostringstream os;
  os << '[';
  for (std::size_t i = 0; i < values.size(); ++i) os << (i ? ", " : "") << values[i];
  os << ']';
  return os.str();
}

}  // namespace heed

// CHECK(cond, "matmul: inner dims differ (a=", a.shape(), ", b=", b.shape(), ")") throws
// heed::Error("<message> [src/ops/matmul.cpp:42]") when cond is false. The message comes first
// because that is what a user needs; the location helps whoever fixes it.
#define HEED_CHECK(cond, ...)                                                           \
  do {                                                                                 \
    if (!(cond)) [[unlikely]] {                                                        \
      ::heed::detail::throw_check_failure(__FILE__, __LINE__,                          \
                                          ::heed::detail::str_cat(__VA_ARGS__));       \
    }                                                                                  \
  } while (0)

#ifndef CHECK
#define CHECK(cond, ...) HEED_CHECK(cond, __VA_ARGS__)
#endif
