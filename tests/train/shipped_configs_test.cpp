// Every config in configs/ parses, passes the config checks and builds its model, without its
// data files (a fresh clone has none): a typo or a rule broken by a later change fails here, not
// an hour into a training run. The parameter counts are the ones docs/results.md reports (with
// the vocabulary size the config asks for, which SentencePiece reaches on the real corpora).
#include <gtest/gtest.h>

#include <map>

#include "heed/train/config.h"
#include "heed/train/config_reader.h"
#include "heed/train/model_factory.h"
#include "testing/train_fixtures.h"

namespace heed {
namespace {

namespace fs = std::filesystem;

std::map<std::string, Index> parameter_counts_of_shipped_configs() {
  std::map<std::string, Index> counts;
  for (const auto& entry : fs::directory_iterator(testing::source_dir() / "configs")) {
    if (entry.path().extension() != ".json") continue;
    const std::string name = entry.path().stem().string();
    SCOPED_TRACE(entry.path().string());
    const Config config =
        config_from_resolved(load_config_file(entry.path()), entry.path().string());
    const Index vocab = config.data.tokenizer.vocab_size;
    if (config.task == TaskKind::kTranslation) {
      counts[name] = build_seq2seq_model(config.model, vocab, vocab, 1).model->parameter_count();
    } else {
      counts[name] = build_classifier_model(config.model, vocab, 2, 1).model->parameter_count();
    }
  }
  return counts;
}

TEST(ShippedConfigs, EveryConfigParsesAndBuildsTheModelTheResultsReport) {
  std::map<std::string, Index> counts;
  ASSERT_NO_THROW(counts = parameter_counts_of_shipped_configs());
  const std::map<std::string, Index> reported = {
      {"multi30k_de_en_transformer", 6'001'664},
      {"multi30k_en_de_transformer", 6'001'664},
      {"multi30k_de_en_bahdanau", 17'890'624},
      {"multi30k_de_en_luong", 12'007'744},
      {"sst2_bigru", 2'455'058},
      {"imdb_han", 3'341'802},
      {"imdb_bigru", 30'265'346},
  };
  for (const auto& [name, count] : reported) {
    ASSERT_TRUE(counts.count(name)) << "configs/" << name << ".json is missing";
    EXPECT_EQ(counts.at(name), count) << "configs/" << name << ".json";
  }
  // The quickstart and SST-2 Transformer configs are checked for parsing only.
  EXPECT_GE(counts.size(), reported.size() + 2);
}

}  // namespace
}  // namespace heed
