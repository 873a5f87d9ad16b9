// LineReader: reads a text file line by line, plain or gzip-compressed (private to data/).
//
// Compression is detected from the content (the gzip magic bytes 1f 8b), not the file name, and
// both kinds are read in 128 KiB blocks through zlib's gzread, which passes plain files through
// unchanged; lines are cut at "\n" in those blocks, so they may be of any length (and may even
// contain NUL bytes). Each line is returned without its "\n", a trailing "\r" (CRLF files) is
// removed, and a UTF-8 byte-order mark at the start of the file is dropped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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
  // Refills buffer_ from the file; returns false at the end of the data.
  bool fill();

  std::string path_;
  void* file_ = nullptr;  // gzFile (kept opaque so that this header does not need zlib.h)
  bool compressed_ = false;
  std::int64_t line_number_ = 0;
  std::vector<char> buffer_;  // decompressed bytes; [begin_, end_) not yet returned
  size_t begin_ = 0, end_ = 0;
};

}  // namespace heed::data_internal
