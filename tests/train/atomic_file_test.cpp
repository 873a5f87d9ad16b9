// Atomic file replacement, including a writer process killed (SIGKILL) at random moments while
// it rewrites a safetensors file: the file must always read back whole, old or new.
#include "heed/train/atomic_file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "heed/train/safetensors.h"
#include "testing/gradcheck.h"
#include "testing/temp_dir.h"

namespace heed {
namespace {

using testing::TempDir;

TEST(AtomicFile, CommitReplacesTheFileAndLeavesNoTemporary) {
  TempDir dir;
  const auto path = dir / "f.txt";
  write_file_atomically(path, "old");
  AtomicFileWriter out(path);
  out.write("new ");
  out.write("contents");
  EXPECT_EQ(out.size(), 12u);
  EXPECT_TRUE(std::filesystem::exists(temporary_path_for(path)));
  EXPECT_EQ(read_file(path), "old");  // untouched until commit
  out.commit();
  EXPECT_EQ(read_file(path), "new contents");
  EXPECT_FALSE(std::filesystem::exists(temporary_path_for(path)));
  EXPECT_THROW_MSG(out.commit(), "commit called twice");
}

TEST(AtomicFile, AbandonedWriteKeepsTheOldFileAndRemovesTheTemporary) {
  TempDir dir;
  const auto path = dir / "f.txt";
  write_file_atomically(path, "old");
  {
    AtomicFileWriter out(path);
    out.write("half a new fi");
  }  // e.g. an exception while serializing
  EXPECT_EQ(read_file(path), "old");
  EXPECT_FALSE(std::filesystem::exists(temporary_path_for(path)));
}

TEST(AtomicFile, ErrorsNameTheFile) {
  TempDir dir;
  EXPECT_THROW_MSG(AtomicFileWriter(dir / "no_such_dir" / "f"), "no_such_dir/f.tmp: cannot create");
  EXPECT_THROW_MSG(read_file(dir / "missing.txt"), "missing.txt: cannot open file");
  EXPECT_EQ(temporary_path_for("a/b.safetensors"), std::filesystem::path("a/b.safetensors.tmp"));
}

SafetensorsContent filled(float value) {
  SafetensorsContent content;
  content.f32.emplace_back("w", Tensor::full(Shape{1 << 20}, value));  // 4 MiB
  content.metadata["value"] = std::to_string(value);
  return content;
}

TEST(AtomicFile, WriterKilledAtRandomMomentsNeverLeavesABrokenFile) {
  TempDir dir;
  const auto path = dir / "w.safetensors";
  const SafetensorsContent a = filled(1.f), b = filled(2.f);
  write_safetensors(path, a);
  int interrupted = 0;
  for (int round = 0; round < 8; ++round) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {  // the writer: rewrites the file until it is killed
      ::close(ready[0]);
      try {
        for (long i = 0;; ++i) {
          write_safetensors(path, i % 2 ? a : b);
          if (i == 0 && ::write(ready[1], "x", 1) != 1) ::_exit(1);
        }
      } catch (...) {
        ::_exit(2);  // never return into the test runner from the child
      }
    }
    ::close(ready[1]);
    char byte;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);
    ::close(ready[0]);
    std::this_thread::sleep_for(std::chrono::microseconds(1500 * round + 300));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    interrupted += std::filesystem::exists(temporary_path_for(path));

    const SafetensorsFile file = read_safetensors(path);  // must not throw
    const float value = file.content.f32.at(0).second.data()[0];
    ASSERT_TRUE(value == 1.f || value == 2.f);
    EXPECT_EQ(file.data_crc32, safetensors_data_crc32(value == 1.f ? a : b));
    EXPECT_EQ(file.content.metadata.at("value"), std::to_string(value));
  }
  // Not asserted (timing), but reported: how many kills landed in the middle of a write.
  RecordProperty("kills_during_write", interrupted);
}

}  // namespace
}  // namespace heed
