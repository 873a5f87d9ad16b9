// Crash-safe file replacement: write everything to "<path>.tmp", flush and fsync it, rename it
// over <path>, then fsync the directory.
//
// rename(2) within one directory is atomic, so at every instant <path> is either its complete old
// version or its complete new one: a run killed in the middle of a save leaves at worst a stray
// "<path>.tmp", which readers ignore (run_dir.h removes it). The fsync of the file before the
// rename makes sure the new name never points at data still in the page cache only (after a power
// loss, ext4 and xfs could otherwise show a renamed but empty file); the fsync of the directory
// makes the rename itself durable.
//
//   AtomicFileWriter out(path);          // opens path + ".tmp"
//   out.write(header.data(), header.size());
//   out.commit();                        // flush, fsync, rename, fsync dir
//   // no commit() (an exception unwound past it): the destructor removes the .tmp
//
// Errors throw heed::Error naming the file and the system's reason (strerror).
#pragma once

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace heed {

// The temporary file an atomic write of `path` goes through: "<path>.tmp".
std::filesystem::path temporary_path_for(const std::filesystem::path& path);

class AtomicFileWriter {
 public:
  // Creates (truncates) "<path>.tmp". The directory of `path` must exist.
  explicit AtomicFileWriter(std::filesystem::path path);
  ~AtomicFileWriter();  // removes the .tmp unless commit() succeeded
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, std::size_t bytes);
  void write(std::string_view text) { write(text.data(), text.size()); }
  // Bytes written so far.
  std::size_t size() const { return size_; }

  // Flushes and fsyncs the .tmp, renames it over the target and fsyncs the directory. After
  // commit() the writer is closed; commit() twice is an error.
  void commit();

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::filesystem::path temporary_path_;
  std::FILE* file_ = nullptr;
  std::size_t size_ = 0;
};

// Writes `contents` to `path` atomically (AtomicFileWriter in one call).
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

// fsync(2) of a directory, making renames and unlinks inside it durable.
void fsync_directory(const std::filesystem::path& directory);

// The whole file as a string; throws "<path>: cannot open file (<reason>)".
std::string read_file(const std::filesystem::path& path);

}  // namespace heed
