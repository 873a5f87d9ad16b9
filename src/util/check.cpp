#include "heed/util/check.h"

#include <cstring>

namespace heed::detail {

void throw_check_failure(const char* file, int line, const std::string& message) {
  // Keep only the path below the project root ("src/ops/matmul.cpp"), not the build machine's.
  const char* shown = file;
  for (const char* marker : {"/src/", "/include/", "/tests/"}) {
    if (const char* p = std::strstr(file, marker)) {
      shown = p + 1;
      break;
    }
  }
  throw Error(str_cat(message, " [", shown, ":", line, "]"));
}

}  // namespace heed::detail
