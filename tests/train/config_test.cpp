// The training configuration: defaults, the resolved config round trip, path resolution, every
// kind of error (naming the key, the rule, the value or the file), and docs/config.md agreeing
// with the code.
#include "heed/train/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

#include "testing/gradcheck.h"
#include "testing/temp_dir.h"

namespace heed {
namespace {

using nlohmann::json;
using testing::TempDir;
namespace fs = std::filesystem;

// A directory with tiny data files and a config writer.
class ConfigFiles {
 public:
  ConfigFiles() {
    for (const char* name : {"a.src", "a.tgt", "b.src", "b.tgt"}) write(name, "x\n");
    write("pairs.tsv", "x\ty\n");
    write("train.tsv", "label\ttext\npos\tgood\nneg\tbad\n");
    write("dev.tsv", "label\ttext\npos\tfine\n");
    write("more.csv", "text,label\nnice,pos\n");
  }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  fs::path path(const std::string& name) const { return dir_ / name; }
  const fs::path& dir() const { return dir_.path(); }

  // Loads `config` written to the directory, with overrides.
  LoadedConfig load(const json& config, const std::vector<std::string>& overrides = {}) {
    std::ofstream(dir_ / "config.json") << config.dump(2);
    return load_config(dir_ / "config.json", overrides);
  }
  // The message of the error loading `config` throws.
  std::string error(const json& config, const std::vector<std::string>& overrides = {}) {
    try {
      load(config, overrides);
    } catch (const Error& e) {
      return e.what();
    }
    return "<no error>";
  }

 private:
  TempDir dir_;
};

json minimal_translation() {
  return json::parse(R"({
    "task": "translation", "run_dir": "run",
    "data": {"train": {"src": "a.src", "tgt": "a.tgt"}, "valid": {"src": "b.src", "tgt": "b.tgt"}},
    "model": {"type": "transformer"},
    "train": {"max_steps": 10, "optimizer": {"lr": 0.001}}
  })");
}

json minimal_classification(const std::string& model_type) {
  json c = json::parse(R"({
    "task": "classification", "run_dir": "run",
    "data": {"train": "train.tsv", "valid": "dev.tsv"},
    "train": {"max_epochs": 1, "optimizer": {"lr": 0.001}}
  })");
  c["model"] = {{"type", model_type}};
  return c;
}

// Every variant the readers have, for the round trip and the docs check.
std::map<std::string, json> all_variants() {
  std::map<std::string, json> v;
  v["translation"] = minimal_translation();
  json tsv = minimal_translation();
  tsv["data"]["train"] = {{"tsv", "pairs.tsv"}};
  tsv["data"]["tokenizer"] = {{"shared", false}, {"type", "bpe"}};
  tsv["train"]["optimizer"] = {{"type", "sgd"}, {"lr", 0.1}, {"momentum", 0.9}};
  tsv["train"]["schedule"] = {{"type", "cosine"}, {"warmup_steps", 2}};
  tsv["train"]["bucketing"] = "global";
  v["translation_variants"] = tsv;
  json rnn = minimal_translation();
  rnn["model"] = {{"type", "rnn"}};
  v["rnn"] = rnn;
  json luong = minimal_translation();
  luong["model"] = {
      {"type", "rnn"}, {"attention", "luong"}, {"local_p", true}, {"hard_attention", true}};
  v["rnn_luong"] = luong;
  v["classification"] = minimal_classification("bigru_attention");
  v["transformer_classifier"] = minimal_classification("transformer_classifier");
  v["han"] = minimal_classification("han");
  json csv = minimal_classification("bigru_attention");
  csv["data"]["format"] = "label_text";
  v["label_text"] = csv;
  json extra = minimal_classification("bigru_attention");
  extra["data"]["label_column"] = "label";
  extra["data"]["text_column"] = "text";
  extra["data"]["extra_train"] = {{{"path", "train.tsv"}},
                                  {{"path", "more.csv"}, {"format", "csv"}, {"label_column", 1}}};
  v["extra_train"] = extra;
  return v;
}

// ---- defaults and the resolved config

TEST(Config, MinimalTranslationGetsTheDocumentedDefaults) {
  ConfigFiles files;
  const LoadedConfig loaded = files.load(minimal_translation());
  const Config& c = loaded.config;
  EXPECT_EQ(c.task, TaskKind::kTranslation);
  EXPECT_EQ(c.run_dir, files.path("run"));  // relative to the config file's directory
  EXPECT_EQ(c.data.translation.train.src, files.path("a.src"));
  EXPECT_EQ(c.data.max_length, 100);
  EXPECT_EQ(c.data.overlong, Overlong::kDrop);
  EXPECT_TRUE(c.data.tokenizer.trained());
  EXPECT_TRUE(c.data.tokenizer.shared);
  EXPECT_EQ(c.train.batch_tokens, 4096);
  EXPECT_EQ(c.train.checkpoint_every, c.train.valid_every);
  EXPECT_EQ(c.train.early_stopping.metric, "bleu");
  EXPECT_EQ(c.train.early_stopping.mode, MetricMode::kMax);
  const auto& t = std::get<TransformerSeq2SeqOptions>(c.model.options);
  EXPECT_TRUE(t.shared_vocab);  // follows the shared tokenizer
  EXPECT_EQ(t.d_model, 512);
  EXPECT_EQ(loaded.resolved["model"]["dropout"], json(0.1));  // shortest float form
  EXPECT_EQ(loaded.resolved["train"]["early_stopping"]["mode"], "max");
}

TEST(Config, ResolvedConfigReadsBackTheSameForEveryVariant) {
  ConfigFiles files;
  for (const auto& [name, config] : all_variants()) {
    const LoadedConfig loaded = files.load(config);
    const Config again = config_from_resolved(loaded.resolved, name);
    EXPECT_EQ(again.to_json(), loaded.resolved) << name;
  }
}

TEST(Config, OverridesSetKeysWithTheSameChecks) {
  ConfigFiles files;
  const LoadedConfig loaded = files.load(
      minimal_translation(),
      {"train.max_steps=77", "model.d_model=64", "model.num_heads=4", "data.tokenizer.type=bpe"});
  EXPECT_EQ(*loaded.config.train.max_steps, 77);
  EXPECT_EQ(std::get<TransformerSeq2SeqOptions>(loaded.config.model.options).d_model, 64);
  EXPECT_EQ(loaded.config.data.tokenizer.type, SubwordModel::kBpe);
  EXPECT_EQ(files.error(minimal_translation(), {"train.optimizer.lr=-1"}),
            "train.optimizer.lr: must be > 0 (got -1)");
  EXPECT_EQ(files.error(minimal_translation(), {"model.num_heads=7"}),
            "model.num_heads: must divide d_model (512) (got 7)");
}

TEST(Config, CommandLinePathsAreRelativeToTheCurrentDirectory) {
  ConfigFiles files;
  const LoadedConfig loaded = files.load(minimal_translation(), {"run_dir=elsewhere"});
  EXPECT_EQ(loaded.config.run_dir, (fs::current_path() / "elsewhere").lexically_normal());
  // A data file given on the command line is looked for from the current directory.
  const std::string message = files.error(minimal_translation(), {"data.train.src=a.src"});
  EXPECT_NE(
      message.find("data.train.src: no such file: " + (fs::current_path() / "a.src").string()),
      std::string::npos)
      << message;
  EXPECT_NE(message.find("relative to the current directory"), std::string::npos) << message;
}

// ---- errors name the key, the rule and the value

TEST(Config, UnknownKeysSuggestTheClosestKnownOne) {
  ConfigFiles files;
  json c = minimal_translation();
  c["train"]["max_step"] = 5;
  EXPECT_EQ(files.error(c), "train.max_step: unknown key (did you mean \"max_steps\"?)");
  c = minimal_translation();
  c["model"]["d_modle"] = 5;
  EXPECT_EQ(files.error(c), "model.d_modle: unknown key (did you mean \"d_model\"?)");
}

TEST(Config, WrongTypesAndRangesNameTheKeyRuleAndValue) {
  ConfigFiles files;
  json c = minimal_translation();
  c["train"]["label_smoothing"] = 1.5;
  EXPECT_EQ(files.error(c), "train.label_smoothing: must be in [0, 1) (got 1.5)");
  c = minimal_classification("bigru_attention");
  c["model"]["embedding_dropout"] = 1.0;
  EXPECT_EQ(files.error(c), "model.embedding_dropout: must be in [0, 1) (got 1)");
  c["model"]["embedding_dropout"] = 0.25;
  EXPECT_EQ(std::get<BiGruAttentionOptions>(files.load(c).config.model.options).embedding_dropout,
            0.25f);
  c["model"]["word_dropout"] = -0.1;
  EXPECT_EQ(files.error(c), "model.word_dropout: must be in [0, 1) (got -0.1)");
  c["model"]["word_dropout"] = 0.1;
  EXPECT_EQ(std::get<BiGruAttentionOptions>(files.load(c).config.model.options).word_dropout, 0.1f);
  c = minimal_classification("han");
  c["model"]["word_dropout"] = 0.2;
  EXPECT_EQ(std::get<HierarchicalAttentionOptions>(files.load(c).config.model.options).word_dropout,
            0.2f);
  c = minimal_classification("transformer_classifier");
  c["model"]["word_dropout"] = 0.3;
  EXPECT_EQ(std::get<TransformerClassifierOptions>(files.load(c).config.model.options).word_dropout,
            0.3f);
  c = minimal_translation();
  c["model"]["word_dropout"] = 0.1;
  EXPECT_NE(files.error(c).find("model.word_dropout"), std::string::npos);
  c = minimal_translation();
  c["train"]["batch_tokens"] = "many";
  EXPECT_EQ(files.error(c), "train.batch_tokens: expected an integer (got \"many\")");
  c = minimal_translation();
  c["train"]["optimizer"]["type"] = "adamm";
  EXPECT_EQ(files.error(c),
            "train.optimizer.type: must be one of \"adam\", \"adamw\", \"sgd\" "
            "(got \"adamm\"; did you mean \"adam\"?)");
  c = minimal_translation();
  c["train"].erase("max_steps");
  EXPECT_EQ(files.error(c),
            "train.max_steps: required key is missing (give max_steps, max_epochs or max_minutes)");
  c = minimal_translation();
  c["train"]["early_stopping"] = {{"metric", "accuracy"}};
  EXPECT_NE(files.error(c).find("train.early_stopping.metric: must be one of \"bleu\", \"chrf\", "
                                "\"exact_match\", \"loss\" for translation"),
            std::string::npos);
}

TEST(Config, KeysOfAnotherVariantAreRejectedWithTheReason) {
  ConfigFiles files;
  json c = minimal_translation();
  c["train"]["optimizer"]["momentum"] = 0.9;
  EXPECT_EQ(files.error(c), "train.optimizer.momentum: only used by \"sgd\"");
  c = minimal_translation();
  c["train"]["optimizer"] = {{"type", "sgd"}, {"lr", 0.1}, {"lazy_embeddings", true}};
  EXPECT_EQ(files.error(c),
            "train.optimizer.lazy_embeddings: only used by \"adam\" and \"adamw\"");
  c = minimal_translation();
  c["model"] = {{"type", "rnn"}, {"attention", "bahdanau"}, {"input_feeding", false}};
  EXPECT_EQ(files.error(c), "model.input_feeding: only used with \"attention\": \"luong\"");
  c["model"] = {
      {"type", "rnn"}, {"attention", "luong"}, {"luong_score", "dot"}, {"encoder_hidden", 128}};
  EXPECT_EQ(files.error(c),
            "model.luong_score: \"dot\" needs decoder_hidden == 2 · "
            "encoder_hidden (the bidirectional annotations) (got 512 and 128)");
  c = minimal_classification("bigru_attention");
  c["data"]["max_sentences"] = 10;
  EXPECT_EQ(files.error(c),
            "data.max_sentences: only used by the hierarchical model (\"model.type\": \"han\")");
  c = minimal_translation();
  c["model"]["type"] = "bigru_attention";
  EXPECT_EQ(files.error(c),
            "model.type: \"bigru_attention\" is a classification model, but "
            "\"task\" is \"translation\"");
  c = minimal_translation();
  c["data"]["tokenizer"] = {{"shared", false}};
  c["model"]["shared_vocab"] = true;
  EXPECT_NE(files.error(c).find("model.shared_vocab: needs one vocabulary"), std::string::npos);
}

TEST(Config, TokenizerNormalizationIsSentencePiecesRuleAndRoundTrips) {
  ConfigFiles files;
  json c = minimal_classification("bigru_attention");
  EXPECT_EQ(files.load(c).config.data.tokenizer.normalization, TextNormalization::kNmtNfkc);
  EXPECT_EQ(files.load(c).resolved["data"]["tokenizer"]["normalization"], "nmt_nfkc");
  c["data"]["tokenizer"]["normalization"] = "nmt_nfkc_cf";
  const LoadedConfig folded = files.load(c);
  EXPECT_EQ(folded.config.data.tokenizer.normalization, TextNormalization::kNmtNfkcCaseFold);
  EXPECT_EQ(config_from_resolved(folded.resolved, "folded").data.tokenizer.normalization,
            TextNormalization::kNmtNfkcCaseFold);
  c["data"]["tokenizer"]["normalization"] = "lowercase";
  EXPECT_EQ(files.error(c).rfind("data.tokenizer.normalization: must be one of \"nmt_nfkc\", "
                                 "\"nfkc\", \"nmt_nfkc_cf\", \"nfkc_cf\", \"identity\" (got "
                                 "\"lowercase\"",
                                 0),
            0u)
      << files.error(c);
}

TEST(Config, MissingFilesNameTheKeyAndThePath) {
  ConfigFiles files;
  json c = minimal_translation();
  c["data"]["valid"]["tgt"] = "missing.tgt";
  const std::string message = files.error(c);
  EXPECT_NE(message.find("data.valid.tgt: no such file: " + files.path("missing.tgt").string() +
                         " (written \"missing.tgt\", relative to the config file's directory"),
            std::string::npos)
      << message;
  c = minimal_translation();
  c["data"]["train"] = {{"prefix", "a"}};
  EXPECT_EQ(files.error(c),
            "data.train.prefix: needs data.src_lang and data.tgt_lang (the files are "
            "<prefix>.<lang>)");
  c["data"]["src_lang"] = "src";
  c["data"]["tgt_lang"] = "xx";
  EXPECT_EQ(files.error(c), "data.train.prefix: no such file: " + files.path("a.xx").string() +
                                " (prefix + \".xx\")");
}

TEST(Config, SyntaxErrorsGiveFileLineAndColumn) {
  ConfigFiles files;
  files.write("broken.json", "{\n  \"task\": \"translation\",\n  \"run_dir\": ,\n}\n");
  EXPECT_THROW_MSG(load_config(files.path("broken.json"), {}),
                   files.path("broken.json").string() + ":3:");
}

TEST(Config, ValidationDataIsRequiredInSomeForm) {
  ConfigFiles files;
  json c = minimal_translation();
  c["data"].erase("valid");
  EXPECT_EQ(files.error(c),
            "data.valid: required key is missing (or set \"valid_holdout\" to "
            "hold out training examples for validation, or train.valid_every to 0 to train "
            "without validation)");
  c["data"]["valid_holdout"] = 1;
  EXPECT_NO_THROW(files.load(c));
}

TEST(Config, LazyEmbeddingsIsOffUnlessAskedAndRoundTrips) {
  ConfigFiles files;
  json c = minimal_classification("bigru_attention");
  const LoadedConfig plain = files.load(c);
  EXPECT_FALSE(plain.config.train.optimizer.lazy_embeddings);
  EXPECT_EQ(plain.resolved["train"]["optimizer"]["lazy_embeddings"], false);
  c["train"]["optimizer"]["lazy_embeddings"] = true;
  const LoadedConfig lazy = files.load(c);
  EXPECT_TRUE(lazy.config.train.optimizer.lazy_embeddings);
  EXPECT_EQ(lazy.resolved["train"]["optimizer"]["lazy_embeddings"], true);
  EXPECT_TRUE(files.load(lazy.resolved).config.train.optimizer.lazy_embeddings);  // round trip
}

TEST(Config, ValidEveryZeroTrainsWithoutValidation) {
  ConfigFiles files;
  json c = minimal_classification("bigru_attention");
  c["data"].erase("valid");
  c["train"]["valid_every"] = 0;
  const Config loaded = files.load(c).config;
  EXPECT_FALSE(loaded.train.validates());
  EXPECT_EQ(loaded.train.checkpoint_every, 1000);  // not valid_every's 0
  const Config resolved = files.load(loaded.to_json()).config;  // round trip
  EXPECT_EQ(resolved.train.valid_every, 0);
  EXPECT_EQ(resolved.train.checkpoint_every, 1000);
  c["train"]["checkpoint_every"] = 50;
  EXPECT_EQ(files.load(c).config.train.checkpoint_every, 50);
  // A holdout and early stopping are allowed (the recipe's config with one override), and
  // neither happens (the trainer test).
  c["data"]["valid_holdout"] = 100;
  c["data"]["valid_holdout_block"] = 10;
  c["train"]["early_stopping"] = {{"patience", 3}};
  EXPECT_NO_THROW(files.load(c));
  c["train"]["valid_every"] = -1;
  EXPECT_NE(files.error(c).find("train.valid_every"), std::string::npos);
}

TEST(Config, HoldoutBlockNeedsAHoldoutAndIsPositive) {
  ConfigFiles files;
  json c = minimal_translation();
  c["data"]["valid_holdout_block"] = 10;
  EXPECT_EQ(files.error(c), "data.valid_holdout_block: only used with \"valid_holdout\" > 0");
  c["data"].erase("valid");
  c["data"]["valid_holdout"] = 100;
  EXPECT_EQ(files.load(c).config.data.valid_holdout_block, 10);
  c["data"]["valid_holdout_block"] = 0;
  EXPECT_NE(files.error(c).find("data.valid_holdout_block"), std::string::npos);
}

TEST(Config, HoldoutSeedDefaultsToTheTrainingSeedAndNeedsAHoldout) {
  ConfigFiles files;
  json c = minimal_classification("bigru_attention");
  c["data"]["valid_holdout_seed"] = 3;
  EXPECT_EQ(files.error(c), "data.valid_holdout_seed: only used with \"valid_holdout\" > 0");
  c["data"].erase("valid");
  c["data"]["valid_holdout"] = 1;
  c["train"]["seed"] = 7;
  EXPECT_EQ(files.load(c).config.holdout_seed(), 3u);
  // Round trip: the resolved config keeps the holdout seed apart from train.seed.
  const Config resolved = files.load(files.load(c).config.to_json()).config;
  EXPECT_EQ(resolved.holdout_seed(), 3u);
  EXPECT_EQ(resolved.train.seed, 7u);
  c["data"].erase("valid_holdout_seed");
  EXPECT_EQ(files.load(c).config.holdout_seed(), 7u);
  EXPECT_TRUE(files.load(c).config.to_json()["data"]["valid_holdout_seed"].is_null());
  c["data"]["valid_holdout_seed"] = -1;
  EXPECT_NE(files.error(c).find("data.valid_holdout_seed"), std::string::npos);
}

TEST(Config, TrainWindowIsForFlatClassifiers) {
  ConfigFiles files;
  json c = minimal_classification("bigru_attention");
  EXPECT_EQ(files.load(c).config.data.classification.train_window, 0);
  c["data"]["train_window"] = 256;
  const Config loaded = files.load(c).config;
  EXPECT_EQ(loaded.data.classification.train_window, 256);
  EXPECT_EQ(loaded.to_json()["data"]["train_window"], 256);  // kept in the resolved config
  c["data"]["train_window"] = -1;
  EXPECT_NE(files.error(c).find("data.train_window"), std::string::npos);
  c = minimal_classification("han");
  c["data"]["train_window"] = 256;
  EXPECT_EQ(files.error(c),
            "data.train_window: only used by flat classifiers (a document's sentences are not "
            "cut)");
  c = minimal_translation();
  c["data"]["train_window"] = 256;
  EXPECT_NE(files.error(c).find("data.train_window"), std::string::npos);
}

TEST(Config, ExtraTrainFilesTakeDataLayoutOrTheirFormatsDefaults) {
  ConfigFiles files;
  json c = minimal_classification("bigru_attention");
  EXPECT_TRUE(files.load(c).config.data.classification.extra_train.empty());
  EXPECT_EQ(files.load(c).resolved["data"]["extra_train"], json::array());
  c["data"]["label_column"] = "label";
  c["data"]["text_column"] = "text";
  c["data"]["extra_train"] = {{{"path", "train.tsv"}},
                              {{"path", "more.csv"}, {"format", "csv"}, {"label_column", 1}}};
  const std::vector<ExtraTrainFile> extra = files.load(c).config.data.classification.extra_train;
  ASSERT_EQ(extra.size(), 2u);
  // The same format as data: data's layout (its column names).
  EXPECT_EQ(extra[0].path, files.path("train.tsv"));
  EXPECT_EQ(extra[0].format, ClassificationFormat::kTsv);
  EXPECT_EQ(extra[0].label_column.name, "label");
  EXPECT_EQ(extra[0].text_column.name, "text");
  // Another format: that format's defaults (a header; label, then text), then its own keys.
  EXPECT_EQ(extra[1].format, ClassificationFormat::kCsv);
  EXPECT_TRUE(extra[1].header);
  EXPECT_EQ(extra[1].label_column.index, 1);
  EXPECT_EQ(extra[1].text_column.index, 1);

  json bad = c;
  bad["data"]["extra_train"] = {{{"format", "csv"}}};
  EXPECT_EQ(files.error(bad), "data.extra_train[0].path: required key is missing");
  bad["data"]["extra_train"] = {{{"path", "more.csv"}, {"paht", "x"}}};
  EXPECT_EQ(files.error(bad), "data.extra_train[0].paht: unknown key (did you mean \"path\"?)");
  bad["data"]["extra_train"] = {{{"path", "more.csv"}}, {{"path", "missing.tsv"}}};
  EXPECT_NE(files.error(bad).find("data.extra_train[1].path: no such file: " +
                                  files.path("missing.tsv").string()),
            std::string::npos);
  bad["data"]["extra_train"] = {{{"path", "more.csv"}, {"format", "label_text"}, {"header", true}}};
  EXPECT_NE(files.error(bad).find("data.extra_train[0].header: only used with \"format\""),
            std::string::npos)
      << files.error(bad);
  bad["data"]["extra_train"] = "more.csv";
  EXPECT_NE(files.error(bad).find("data.extra_train: expected an array"), std::string::npos)
      << files.error(bad);
  // On the command line, its paths are relative to the current directory like any other.
  const std::string message =
      files.error(minimal_classification("bigru_attention"),
                  {R"(data.extra_train=[{"path": "more.csv"}])"});
  EXPECT_NE(message.find("data.extra_train[0].path: no such file: " +
                         (fs::current_path() / "more.csv").string()),
            std::string::npos)
      << message;
  c = minimal_translation();
  c["data"]["extra_train"] = json::array();
  EXPECT_NE(files.error(c).find("data.extra_train"), std::string::npos);
}

TEST(Config, AdversarialEpsilonIsForClassification) {
  ConfigFiles files;
  json c = minimal_classification("bigru_attention");
  const Config off = files.load(c).config;
  EXPECT_EQ(off.train.adversarial_epsilon, 0);
  EXPECT_TRUE(off.to_json()["train"]["adversarial_epsilon"].is_null());  // off reads back as off
  EXPECT_EQ(config_from_resolved(off.to_json(), "resolved").train.adversarial_epsilon, 0);
  c["train"]["adversarial_epsilon"] = 0.05;
  const Config on = files.load(c).config;
  EXPECT_EQ(on.train.adversarial_epsilon, 0.05);
  EXPECT_EQ(config_from_resolved(on.to_json(), "resolved").train.adversarial_epsilon, 0.05);
  c["train"]["adversarial_epsilon"] = -1;
  EXPECT_EQ(files.error(c), "train.adversarial_epsilon: must be >= 0 (got -1)");
  c = minimal_translation();
  EXPECT_NO_THROW(config_from_resolved(files.load(c).config.to_json(), "resolved"));
  c["train"]["adversarial_epsilon"] = 0.05;
  EXPECT_EQ(files.error(c),
            "train.adversarial_epsilon: only used by classification (\"task\": "
            "\"classification\")");
}

TEST(Config, NgramEmbeddingsForTheRecurrentClassifiers) {
  ConfigFiles files;
  for (const char* type : {"bigru_attention", "han"}) {
    json c = minimal_classification(type);
    const Config off = files.load(c).config;
    EXPECT_EQ(off.to_json()["model"]["ngram_buckets"], 0) << type;
    c["model"]["ngram_buckets"] = 5000;
    c["model"]["ngram_order"] = 3;
    c["model"]["ngram_dim"] = 8;
    c["model"]["ngram_dropout"] = 0.25;
    const Config on = config_from_resolved(files.load(c).config.to_json(), "resolved");
    const auto [buckets, order, dim, dropout] = std::visit(
        [](const auto& o) -> std::tuple<Index, int, Index, float> {
          if constexpr (requires { o.ngram_buckets; })
            return {o.ngram_buckets, o.ngram_order, o.ngram_dim, o.ngram_dropout};
          return {-1, -1, -1, -1.f};
        },
        on.model.options);
    EXPECT_EQ(buckets, 5000) << type;
    EXPECT_EQ(order, 3) << type;
    EXPECT_EQ(dim, 8) << type;
    EXPECT_EQ(dropout, 0.25f) << type;
    EXPECT_EQ(off.to_json()["model"]["ngram_dropout"], 0.0) << type;
    c["model"]["ngram_dropout"] = 1.0;
    EXPECT_NE(files.error(c).find("model.ngram_dropout: must be in [0, 1)"), std::string::npos)
        << files.error(c);
    c["model"]["ngram_dropout"] = 0.25;
    c["model"]["ngram_dim"] = 100000;
    EXPECT_NE(files.error(c).find("model.ngram_dim: must be in [0, "), std::string::npos);
    c["model"]["ngram_dim"] = 8;
    c["model"]["ngram_buckets"] = 1;
    EXPECT_EQ(files.error(c), "model.ngram_buckets: must be 0 (no n-gram embeddings) or >= 2 (got 1)");
    c["model"]["ngram_buckets"] = 100;
    c["model"]["ngram_order"] = 1;
    EXPECT_EQ(files.error(c), "model.ngram_order: must be in [2, 8] (got 1)");
  }
  json c = minimal_classification("transformer_classifier");
  c["model"]["ngram_buckets"] = 100;
  EXPECT_NE(files.error(c).find("model.ngram_buckets: unknown key"), std::string::npos);
}

TEST(Config, ValidateChecksConfigsBuiltInCode) {
  ConfigFiles files;
  const Config good = files.load(minimal_translation()).config;
  EXPECT_NO_THROW(good.validate());
  Config c = good;
  c.train.max_steps.reset();
  EXPECT_THROW_MSG(c.validate(), "train.max_steps: required key is missing");
  c = good;
  c.data.max_length = 2000;  // beyond the Transformer's 1024 positions
  EXPECT_THROW_MSG(c.validate(), "data.max_length: must be in [1, model.max_len = 1024]");
  c = good;
  c.train.early_stopping.metric = "accuracy";
  EXPECT_THROW_MSG(c.validate(), "train.early_stopping.metric: must be one of");
  c = good;
  c.task = TaskKind::kClassification;
  EXPECT_THROW_MSG(c.validate(), "data.train: required key is missing");
}

// ---- docs/config.md

// A documented key path with the splits folded: data.valid.src -> data.<split>.src.
std::string fold_split(const std::string& key) {
  static const std::regex split(R"(^data\.(train|valid|test)(\.|$))");
  return std::regex_replace(key, split, "data.<split>$2");
}

void leaf_keys(const json& j, const std::string& path, std::set<std::string>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [key, value] : j.items()) {
      leaf_keys(value, path.empty() ? key : path + "." + key, out);
    }
  } else {
    out.insert(fold_split(path));
  }
}

// The value at a dotted key path, or nullptr if there is none.
const json* at_path(const json& j, const std::string& path) {
  const json* node = &j;
  std::stringstream parts(path);
  for (std::string part; std::getline(parts, part, '.');) {
    if (!node->is_object() || !node->contains(part)) return nullptr;
    node = &(*node)[part];
  }
  return node;
}

TEST(ConfigDocs, EveryKeyIsDocumentedAndEveryLiteralDefaultIsTrue) {
  ConfigFiles files;
  std::map<std::string, json> resolved;
  std::set<std::string> code_keys;
  const std::map<std::string, json> inputs = all_variants();
  for (const auto& [name, config] : inputs) {
    resolved[name] = files.load(config).resolved;
    leaf_keys(resolved[name], "", code_keys);
  }

  std::ifstream in(std::string(HEED_SOURCE_DIR) + "/docs/config.md");
  ASSERT_TRUE(in.good());
  static const std::regex defaults_marker(R"(<!-- defaults: (\w+) -->)");
  static const std::regex row(R"(^\| `([^`]+)` \|[^|]+\|([^|]*)\|)");
  static const std::regex literal(R"(^`([^`]+)`$)");
  std::set<std::string> documented;
  std::string context;
  int checked_defaults = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, defaults_marker)) {
      context = m[1];
      ASSERT_TRUE(resolved.count(context)) << "unknown defaults context " << context;
      continue;
    }
    if (!std::regex_search(line, m, row)) continue;
    const std::string key = m[1];
    documented.insert(key);
    std::string cell = m[2];
    cell.erase(cell.find_last_not_of(' ') + 1);
    cell.erase(0, cell.find_first_not_of(' '));
    std::smatch value;
    if (key.find("<split>") != std::string::npos || !std::regex_match(cell, value, literal)) {
      continue;
    }
    const json* actual = at_path(resolved.at(context), key);
    if (!actual) continue;  // a variant key absent from this section's context (e.g. sgd's)
    if (at_path(inputs.at(context), key)) continue;  // set by the test's config, not a default
    EXPECT_EQ(*actual, json::parse(value[1].str())) << key << " in context " << context;
    ++checked_defaults;
  }
  EXPECT_GT(checked_defaults, 60);

  for (const std::string& key : code_keys) {
    EXPECT_TRUE(documented.count(key)) << key << " is not in docs/config.md";
  }
  // Keys that only exist in the input (the resolved config shows the src/tgt form instead).
  const std::set<std::string> input_only = {"data.<split>.prefix", "data.<split>.suffix"};
  for (const std::string& key : documented) {
    EXPECT_TRUE(code_keys.count(key) || input_only.count(key))
        << key << " is documented but no config resolves it";
  }
}

}  // namespace
}  // namespace heed
