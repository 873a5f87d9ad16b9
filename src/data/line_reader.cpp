#include "data/line_reader.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "heed/util/check.h"

namespace heed::data_internal {
namespace {

constexpr unsigned kGzipBufferBytes = 1u << 17;  // zlib's input buffer (default 8 KiB is slow)
constexpr size_t kReadBytes = 1u << 17;          // decompressed bytes per gzread

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

LineReader::LineReader(const std::string& path) : path_(path), buffer_(kReadBytes) {
  compressed_ = is_gzip_file(path);
  gzFile f = gzopen(path.c_str(), "rb");
  CHECK(f != nullptr, "cannot open ", path, ": ", std::strerror(errno));
  gzbuffer(f, kGzipBufferBytes);
  file_ = f;
}

LineReader::~LineReader() {
  if (file_ != nullptr) gzclose(as_gz(file_));
}

bool LineReader::fill() {
  const int n = gzread(as_gz(file_), buffer_.data(), static_cast<unsigned>(buffer_.size()));
  int error = Z_OK;
  const char* message = gzerror(as_gz(file_), &error);
  CHECK(n >= 0 && error == Z_OK, "cannot read ", path_, " after line ", line_number_, ": ",
        message, compressed_ ? " (truncated or corrupt gzip data?)" : "");
  begin_ = 0;
  end_ = static_cast<size_t>(n);
  return n > 0;
}

bool LineReader::next(std::string& line) {
  line.clear();
  bool found = false;  // a line exists once any byte of it (or its newline) has been read
  while (begin_ < end_ || fill()) {
    found = true;
    const char* start = buffer_.data() + begin_;
    const char* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
    if (newline != nullptr) {
      line.append(start, newline);
      begin_ += static_cast<size_t>(newline - start) + 1;
      break;
    }
    line.append(start, end_ - begin_);  // the line continues in the next block
    begin_ = end_;
  }
  if (!found) return false;

  ++line_number_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line_number_ == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
  return true;
}

}  // namespace heed::data_internal
