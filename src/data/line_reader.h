// LineReader: reads a text file line by line, plain or gzip-compressed (private to data/).
//
// Compression is detected from the content (the gzip magic bytes 1f 8b), not the file name, and
// both kinds are read through zlib's gz* API, which passes plain files through unchanged. Lines
// may be of any length. Each line is returned without its "\n", a trailing "\r" (CRLF files) is
// removed, and a UTF-8 byte-order mark at the start of the file is dropped.
#pragma once

#include <cstdint>
#include <string>

namespace heed::data_internal {

// True if the file starts with the gzip magic bytes; throws if it cannot be opened.
bool is_gzip_file(const std::string& path);

class LineReader {
 public:
  explicit LineReader(const std::string& path);  // throws naming the file if it cannot be opened
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Reads the next line into `line`; returns false at the end of the file. A read error (a
  // truncated or corrupt gzip stream) throws naming the file and the line number.
  bool next(std::string& line);

  // 1-based number of the line last returned by next() (0 before the first).
  std::int64_t line_number() const { return line_number_; }
  const std::string& path() const { return path_; }
  bool compressed() const { return compressed_; }

 private:
  std::string path_;
  void* file_ = nullptr;  // gzFile (kept opaque so that this header does not need zlib.h)
  bool compressed_ = false;
  std::int64_t line_number_ = 0;
};

}  // namespace heed::data_internal
