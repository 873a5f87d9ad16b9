#include "heed/train/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "heed/util/check.h"

namespace heed {
namespace {

// Large writes (checkpoints of hundreds of MB) go through a 1 MiB stdio buffer.
constexpr std::size_t kBufferBytes = std::size_t{1} << 20;

std::string reason() { return std::strerror(errno); }

}  // namespace

std::filesystem::path temporary_path_for(const std::filesystem::path& path) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  return tmp;
}

AtomicFileWriter::AtomicFileWriter(std::filesystem::path path)
    : path_(std::move(path)), temporary_path_(temporary_path_for(path_)) {
  file_ = std::fopen(temporary_path_.c_str(), "wb");
  CHECK(file_ != nullptr, temporary_path_.string(), ": cannot create file (", reason(), ")");
  std::setvbuf(file_, nullptr, _IOFBF, kBufferBytes);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (file_ != nullptr) {  // not committed: drop the partial file
    std::fclose(file_);
    std::error_code ignored;
    std::filesystem::remove(temporary_path_, ignored);
  }
}

void AtomicFileWriter::write(const void* data, std::size_t bytes) {
  CHECK(file_ != nullptr, path_.string(), ": write after commit");
  if (bytes == 0) return;
  CHECK(std::fwrite(data, 1, bytes, file_) == bytes, temporary_path_.string(),
        ": write failed after ", size_, " bytes (", reason(), ")");
  size_ += bytes;
}

void AtomicFileWriter::commit() {
  CHECK(file_ != nullptr, path_.string(), ": commit called twice");
  std::FILE* file = file_;
  file_ = nullptr;  // from here on the destructor must not touch it
  const bool flushed = std::fflush(file) == 0 && ::fsync(::fileno(file)) == 0;
  const std::string flush_error = flushed ? "" : reason();
  const bool closed = std::fclose(file) == 0;
  if (!flushed || !closed) {
    const std::string why = !flushed ? flush_error : reason();
    std::error_code ignored;
    std::filesystem::remove(temporary_path_, ignored);
    CHECK(false, temporary_path_.string(), ": cannot flush to disk (", why, ")");
  }
  if (std::rename(temporary_path_.c_str(), path_.c_str()) != 0) {
    const std::string why = reason();
    std::error_code ignored;
    std::filesystem::remove(temporary_path_, ignored);
    CHECK(false, "cannot rename ", temporary_path_.string(), " to ", path_.string(), " (", why,
          ")");
  }
  std::filesystem::path directory = path_.parent_path();
  fsync_directory(directory.empty() ? std::filesystem::path(".") : directory);
}

void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  AtomicFileWriter out(path);
  out.write(contents);
  out.commit();
}

void fsync_directory(const std::filesystem::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK(fd >= 0, directory.string(), ": cannot open directory (", reason(), ")");
  const bool synced = ::fsync(fd) == 0;
  const std::string why = synced ? "" : reason();
  ::close(fd);
  CHECK(synced, directory.string(), ": cannot fsync directory (", why, ")");
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  CHECK(in.good(), path.string(), ": cannot open file (", reason(), ")");
  std::ostringstream contents;
  contents << in.rdbuf();
  CHECK(!in.bad(), path.string(), ": read failed (", reason(), ")");
  return contents.str();
}

}  // namespace heed
