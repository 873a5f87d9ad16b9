#include "data/line_reader.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "heed/util/check.h"

namespace heed::data_internal {
namespace {

constexpr unsigned kGzipBufferBytes = 1u << 17;  // zlib's default (8 KiB) makes reads slow
constexpr int kChunkBytes = 1 << 16;             // one gzgets call; longer lines take several

gzFile as_gz(void* file) { return static_cast<gzFile>(file); }

}  // namespace

bool is_gzip_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  CHECK(f != nullptr, "cannot open ", path, ": ", std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  const size_t n = std::fread(magic, 1, 2, f);
  std::fclose(f);
  return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

LineReader::LineReader(const std::string& path) : path_(path) {
  compressed_ = is_gzip_file(path);
  gzFile f = gzopen(path.c_str(), "rb");
  CHECK(f != nullptr, "cannot open ", path, ": ", std::strerror(errno));
  gzbuffer(f, kGzipBufferBytes);
  file_ = f;
}

LineReader::~LineReader() {
  if (file_ != nullptr) gzclose(as_gz(file_));
}

bool LineReader::next(std::string& line) {
  line.clear();
  char chunk[kChunkBytes];
  bool got_any = false;
  // gzgets stops after a newline or when the chunk is full; a long line takes several calls.
  while (gzgets(as_gz(file_), chunk, kChunkBytes) != nullptr) {
    got_any = true;
    const size_t n = std::strlen(chunk);
    line.append(chunk, n);
    if (n > 0 && chunk[n - 1] == '\n') break;
  }
  int error = Z_OK;
  const char* message = gzerror(as_gz(file_), &error);
  CHECK(error == Z_OK, "cannot read ", path_, " after line ", line_number_, ": ", message,
        compressed_ ? " (truncated or corrupt gzip data?)" : "");
  if (!got_any) return false;

  ++line_number_;
  if (!line.empty() && line.back() == '\n') line.pop_back();
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line_number_ == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
  return true;
}

}  // namespace heed::data_internal
