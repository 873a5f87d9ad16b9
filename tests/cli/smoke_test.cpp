// Smoke runs of the shipped configs on slices of the real corpora (Multi30k de-en, SST-2), shrunk
// with --set to seconds of training: they parse, read the real files (gzip, German text, the
// label_text format), train and validate. Skipped where /work/shared/data is absent.
#include <gtest/gtest.h>

#include "heed/train/metrics_log.h"
#include "heed/train/run_dir.h"
#include "testing/heed_process.h"
#include "testing/temp_dir.h"
#include "testing/train_fixtures.h"

namespace heed {
namespace {

using nlohmann::json;
using testing::ProcessResult;
using testing::run_heed;
using testing::TempDir;
namespace fs = std::filesystem;

const fs::path kSharedData = "/work/shared/data";

std::string config_path(const std::string& name) {
  return (testing::source_dir() / "configs" / (name + ".json")).string();
}

std::vector<json> records(const fs::path& run, const std::string& split) {
  std::vector<json> out;
  for (const json& r : read_metrics(run / "metrics.jsonl")) {
    if (r["split"] == split) out.push_back(r);
  }
  return out;
}

TEST(Smoke, Multi30kTransformerConfigTrainsAndValidates) {
  if (!fs::is_directory(kSharedData / "multi30k")) {
    GTEST_SKIP() << kSharedData << "/multi30k is absent: no smoke run on the real corpus";
  }
  TempDir dir;
  const fs::path raw = kSharedData / "multi30k" / "raw";
  testing::write_head(raw / "train.de.gz", dir / "train.de", 3000);
  testing::write_head(raw / "train.en.gz", dir / "train.en", 3000);
  testing::write_head(raw / "val.de.gz", dir / "val.de", 100);
  testing::write_head(raw / "val.en.gz", dir / "val.en", 100);
  const std::string d = dir.path().string();
  const ProcessResult r =
      run_heed({"train",
                config_path("multi30k_de_en_transformer"),
                "--threads",
                "1",
                "--set",
                "run_dir=" + d + "/run",
                "--set",
                "data.train={\"prefix\": \"" + d + "/train\"}",
                "--set",
                "data.valid={\"prefix\": \"" + d + "/val\"}",
                "--set",
                "data.test=null",
                "--set",
                "data.tokenizer.vocab_size=1000",
                "--set",
                "model={\"type\": \"transformer\", \"d_model\": 64, \"num_heads\": 4, "
                "\"encoder_layers\": 1, \"decoder_layers\": 1, \"dim_feedforward\": 128, "
                "\"max_len\": 256}",
                "--set",
                "train.max_steps=150",
                "--set",
                "train.log_every=25",
                "--set",
                "train.valid_every=150",
                "--set",
                "train.schedule.warmup_steps=50",
                "--set",
                "train.optimizer.lr=0.002",
                "--set",
                "eval.max_len=60"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<json> train = records(dir / "run", "train");
  ASSERT_EQ(train.size(), 6u);
  EXPECT_LT(train.back()["loss"].get<double>(), train.front()["loss"].get<double>() - 1.0);
  const std::vector<json> valid = records(dir / "run", "valid");
  ASSERT_EQ(valid.size(), 1u);
  EXPECT_GE(valid[0]["bleu"].get<double>(), 0.0);
  EXPECT_GT(valid[0]["chrf"].get<double>(), 5.0);  // some English words already
}

TEST(Smoke, Sst2BiGruConfigTrainsAndValidates) {
  if (!fs::is_directory(kSharedData / "sst2")) {
    GTEST_SKIP() << kSharedData << "/sst2 is absent: no smoke run on the real corpus";
  }
  TempDir dir;
  const fs::path glue = kSharedData / "sst2" / "glue";
  testing::write_head(glue / "train.tsv", dir / "train.tsv", 3001);  // + the header line
  testing::write_head(glue / "dev.tsv", dir / "dev.tsv", 301);
  const std::string d = dir.path().string();
  const ProcessResult r = run_heed({"train",     config_path("sst2_bigru"),
                                    "--threads", "1",
                                    "--set",     "run_dir=" + d + "/run",
                                    "--set",     "data.train=" + d + "/train.tsv",
                                    "--set",     "data.valid=" + d + "/dev.tsv",
                                    "--set",     "data.tokenizer.vocab_size=1000",
                                    "--set",     "model.embedding_dim=32",
                                    "--set",     "model.hidden=32",
                                    "--set",     "model.attention_dim=32",
                                    "--set",     "train.max_steps=150",
                                    "--set",     "train.log_every=25",
                                    "--set",     "train.valid_every=150"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<json> valid = records(dir / "run", "valid");
  ASSERT_EQ(valid.size(), 1u);
  EXPECT_GT(valid[0]["accuracy"].get<double>(), 0.5);  // better than chance after 150 steps
  // Integer labels sort numerically and are kept as written.
  EXPECT_EQ(RunDir(dir / "run").read_config()["data"]["labels"], json({"0", "1"}));
}

}  // namespace
}  // namespace heed
