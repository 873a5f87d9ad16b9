// The metrics log: one flushed JSON line per record; resume drops what came after the checkpoint.
#include "heed/train/metrics_log.h"

#include <gtest/gtest.h>

#include <cmath>

#include "heed/train/atomic_file.h"
#include "testing/gradcheck.h"
#include "testing/temp_dir.h"

namespace heed {
namespace {

using nlohmann::json;
using testing::TempDir;

TEST(MetricsLog, WritesOneFlushedLinePerRecord) {
  TempDir dir;
  const auto path = dir / "metrics.jsonl";
  MetricsLog log = MetricsLog::start(path);
  log.write({{"step", 100}, {"split", "train"}, {"loss", 4.25}});
  // Flushed: visible to another reader before the log is closed.
  EXPECT_EQ(read_file(path), "{\"loss\":4.25,\"split\":\"train\",\"step\":100}\n");
  log.write({{"step", 200}, {"loss", NAN}});
  EXPECT_EQ(read_file(path),
            "{\"loss\":4.25,\"split\":\"train\",\"step\":100}\n{\"loss\":null,\"step\":200}\n");
  const std::vector<json> records = read_metrics(path);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1]["step"], 200);
}

TEST(MetricsLog, RejectsRecordsWithoutAStep) {
  TempDir dir;
  MetricsLog log = MetricsLog::start(dir / "m.jsonl");
  EXPECT_THROW_MSG(log.write({{"loss", 1}}), "needs an integer \"step\" >= 0");
  EXPECT_THROW_MSG(log.write({{"step", -1}}), "needs an integer \"step\" >= 0");
  EXPECT_THROW_MSG(log.write({{"step", "3"}}), "needs an integer \"step\"");
  EXPECT_THROW_MSG(log.write(json::array({1})), "must be a JSON object");
  EXPECT_EQ(read_file(dir / "m.jsonl"), "");
}

TEST(MetricsLog, StartEmptiesAnOldFile) {
  TempDir dir;
  const auto path = dir / "m.jsonl";
  write_file_atomically(path, "{\"step\":5}\n");
  MetricsLog log = MetricsLog::start(path);
  EXPECT_EQ(read_file(path), "");
}

TEST(MetricsLog, ResumeDropsLinesAfterTheCheckpointThenAppends) {
  TempDir dir;
  const auto path = dir / "m.jsonl";
  // A crashed session: checkpoint at 200, then it logged 300 and died writing 400.
  write_file_atomically(path,
                        "{\"step\":100,\"loss\":5}\n"
                        "{\"step\":200,\"loss\":4}\n"
                        "{\"step\":200,\"split\":\"valid\",\"bleu\":3.5}\n"
                        "{\"step\":300,\"loss\":3}\n"
                        "not json\n"
                        "\n"
                        "{\"step\":400,\"lo");
  MetricsLog log = MetricsLog::resume(path, 200);
  EXPECT_EQ(log.removed_lines(), 3);
  log.write({{"step", 300}, {"loss", 2.5}});
  EXPECT_EQ(read_file(path),
            "{\"step\":100,\"loss\":5}\n"
            "{\"step\":200,\"loss\":4}\n"
            "{\"step\":200,\"split\":\"valid\",\"bleu\":3.5}\n"
            "{\"loss\":2.5,\"step\":300}\n");
  EXPECT_FALSE(std::filesystem::exists(temporary_path_for(path)));
}

TEST(MetricsLog, ResumeKeepsAnIntactFileAsIs) {
  TempDir dir;
  const auto path = dir / "m.jsonl";
  const std::string text = "{\"step\": 1}\n{\"step\": 2}\n";
  write_file_atomically(path, text);
  EXPECT_EQ(truncate_metrics_after(path, 2), 0);
  EXPECT_EQ(read_file(path), text);
  EXPECT_EQ(truncate_metrics_after(dir / "missing.jsonl", 2), 0);
  EXPECT_FALSE(std::filesystem::exists(dir / "missing.jsonl"));
  MetricsLog created = MetricsLog::resume(dir / "missing.jsonl", 0);  // created on resume
  EXPECT_TRUE(std::filesystem::exists(dir / "missing.jsonl"));
}

TEST(MetricsLog, ReadMetricsNamesTheBadLine) {
  TempDir dir;
  const auto path = dir / "m.jsonl";
  write_file_atomically(path, "{\"step\":1}\n[2]\n");
  EXPECT_THROW_MSG(read_metrics(path), path.string() + ":2: not a JSON object: [2]");
}

}  // namespace
}  // namespace heed
