// Helpers for the data tests: writers for plain and gzip files (and the scratch directory).
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <string>

#include "testing/temp_dir.h"

namespace heed::testing {

inline std::string write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  return path;
}

inline std::string write_gzip(const std::string& path, const std::string& content) {
  gzFile f = gzopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr) << path;
  EXPECT_EQ(gzwrite(f, content.data(), static_cast<unsigned>(content.size())),
            static_cast<int>(content.size()));
  gzclose(f);
  return path;
}

}  // namespace heed::testing
