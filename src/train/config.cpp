// Reading and writing the training configuration (see config.h; every key is in docs/config.md).
//
// Each section has a reader (JSON -> struct, every rule checked where the key is read, so the
// error names that key) and a writer (struct -> JSON, every key written, defaults included). The
// writer's output read back gives the same struct: that is the resolved config.json of a run.
#include "heed/train/config.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <system_error>

#include "train/config_detail.h"

namespace heed {

using nlohmann::json;
namespace fs = std::filesystem;
using config_detail::EnumNames;
using config_detail::get_enum_value;
using config_detail::name_of;
using config_detail::reject_key;

namespace {

// ------------------------------------------------------------------------------- enum names

const EnumNames<TaskKind> kTasks = {{"translation", TaskKind::kTranslation},
                                    {"classification", TaskKind::kClassification}};
const EnumNames<SubwordModel> kSubwordModels = {{"unigram", SubwordModel::kUnigram},
                                                {"bpe", SubwordModel::kBpe},
                                                {"word", SubwordModel::kWord}};
const EnumNames<TextNormalization> kNormalizations = {
    {"nmt_nfkc", TextNormalization::kNmtNfkc},
    {"nfkc", TextNormalization::kNfkc},
    {"nmt_nfkc_cf", TextNormalization::kNmtNfkcCaseFold},
    {"nfkc_cf", TextNormalization::kNfkcCaseFold},
    {"identity", TextNormalization::kIdentity}};
const EnumNames<ClassificationFormat> kFormats(kClassificationFormatNames.begin(),
                                               kClassificationFormatNames.end());
const EnumNames<Overlong> kOverlong = {{"crop", Overlong::kCrop}, {"drop", Overlong::kDrop}};
const EnumNames<Bucketing> kBucketing = {
    {"chunks", Bucketing::kChunks}, {"global", Bucketing::kGlobal}, {"none", Bucketing::kNone}};
const EnumNames<OptimizerKind> kOptimizers = {
    {"adam", OptimizerKind::kAdam}, {"adamw", OptimizerKind::kAdamW}, {"sgd", OptimizerKind::kSgd}};
const EnumNames<LrScheduleKind> kSchedules = {{"constant", LrScheduleKind::kConstant},
                                              {"inverse_sqrt", LrScheduleKind::kInverseSqrt},
                                              {"cosine", LrScheduleKind::kCosine}};
const EnumNames<MetricMode> kModes = {{"max", MetricMode::kMax}, {"min", MetricMode::kMin}};
const EnumNames<PrecisionKind> kPrecisions = {{"fp32", PrecisionKind::kFp32},
                                              {"bf16", PrecisionKind::kBf16}};

std::string in_quotes(std::string_view s) {
  std::string out(1, '"');
  out.append(s);
  out += '"';
  return out;
}

// ------------------------------------------------------------------------------- paths

// Reads a path key, resolves it against the config file's directory (or the current one for a
// --set value) and, with `must_exist`, checks that it exists. Returns an absolute, normalized
// path; an empty one when the key is absent.
fs::path read_path(ConfigReader& r, std::string_view key, const PathContext& paths,
                   bool must_exist) {
  std::optional<std::string> written = r.get_optional<std::string>(key);
  if (!written) return {};
  if (written->empty()) r.fail(key, "expected a non-empty path (got \"\")");
  const std::string where = r.key_path(key);
  bool from_command_line = false;
  for (const std::string& prefix : paths.overridden) {
    if (where == prefix || where.rfind(prefix + ".", 0) == 0 || where.rfind(prefix + "[", 0) == 0) {
      from_command_line = true;  // the key, or one inside the object or list it set
    }
  }
  const fs::path& base = from_command_line ? paths.command_dir : paths.config_dir;
  fs::path path = fs::path(*written);
  if (path.is_relative()) path = base / path;
  path = path.lexically_normal();
  if (must_exist && paths.require_files) {
    std::error_code error;
    if (!fs::exists(path, error)) {
      std::string written_as;
      if (fs::path(*written).is_relative()) {
        written_as =
            str(" (written ", in_quotes(*written), ", relative to ",
                from_command_line ? "the current directory " : "the config file's directory ",
                base.string(), ")");
      }
      r.fail(key, str("no such file: ", path.string(), written_as));
    }
    if (fs::is_directory(path, error)) {
      r.fail(key, str("expected a file, but ", path.string(), " is a directory"));
    }
  }
  return path;
}

json path_json(const fs::path& path) { return path.empty() ? json(nullptr) : json(path.string()); }

// ------------------------------------------------------------------------------- data

TokenizerConfig read_tokenizer(ConfigReader& r, TaskKind task, const PathContext& paths) {
  TokenizerConfig c;
  c.model = read_path(r, "model", paths, true);
  if (task == TaskKind::kTranslation) {
    c.src_model = read_path(r, "src_model", paths, true);
    c.tgt_model = read_path(r, "tgt_model", paths, true);
  } else {
    reject_key(r, "src_model", "for translation (a classifier has one tokenizer: \"model\")");
    reject_key(r, "tgt_model", "for translation (a classifier has one tokenizer: \"model\")");
  }
  if (!c.model.empty() || !c.src_model.empty() || !c.tgt_model.empty()) {
    // An existing model: the training settings would be ignored, which would be a lie.
    for (const char* key : {"type", "normalization", "vocab_size", "shared", "character_coverage",
                            "input_sentence_size", "max_sentence_length", "threads"}) {
      reject_key(r, key, "when training a tokenizer (an existing model file is named)");
    }
    c.shared = !c.model.empty();
    return c;
  }
  c.type = get_enum_value(r, "type", c.type, kSubwordModels);
  c.normalization = get_enum_value(r, "normalization", c.normalization, kNormalizations);
  c.vocab_size = r.get_int_or<int>("vocab_size", c.vocab_size, {.min = 8});
  if (task == TaskKind::kTranslation) {
    c.shared = r.get_or<bool>("shared", c.shared);
  } else {
    reject_key(r, "shared", "for translation (source and target vocabularies)");
    c.shared = true;
  }
  c.character_coverage = r.get_float_or("character_coverage", c.character_coverage,
                                        {.min = 0, .max = 1, .min_exclusive = true});
  c.input_sentence_size = r.get_int_or("input_sentence_size", c.input_sentence_size, {.min = 0});
  c.max_sentence_length =
      r.get_int_or<int>("max_sentence_length", c.max_sentence_length, {.min = 1});
  c.threads = r.get_int_or<int>("threads", c.threads, {.min = 1});
  return c;
}

json tokenizer_to_json(const TokenizerConfig& c, TaskKind task) {
  json j;
  j["model"] = path_json(c.model);
  if (task == TaskKind::kTranslation) {
    j["src_model"] = path_json(c.src_model);
    j["tgt_model"] = path_json(c.tgt_model);
  }
  if (!c.trained()) return j;
  j["type"] = name_of(c.type, kSubwordModels);
  j["normalization"] = name_of(c.normalization, kNormalizations);
  j["vocab_size"] = c.vocab_size;
  if (task == TaskKind::kTranslation) j["shared"] = c.shared;
  j["character_coverage"] = c.character_coverage;
  j["input_sentence_size"] = c.input_sentence_size;
  j["max_sentence_length"] = c.max_sentence_length;
  j["threads"] = c.threads;
  return j;
}

// One split of a parallel corpus, in one of three forms:
//   {"src": F, "tgt": F}   {"prefix": P, "suffix": ".gz"} (P.<src_lang><suffix>)   {"tsv": F, ...}
ParallelSplit read_parallel_split(ConfigReader& data, std::string_view key,
                                  const TranslationDataConfig& langs, const PathContext& paths) {
  ParallelSplit s;
  if (!data.contains(key)) {
    data.ignore(key);  // absent, or null in a resolved config
    return s;
  }
  ConfigReader r = data.section(key);
  const int forms = r.contains("src") + r.contains("tsv") + r.contains("prefix");
  if (forms != 1) {
    r.fail(forms == 0 ? "src" : "tsv",
           forms == 0 ? "required key is missing (give \"src\" and \"tgt\", \"prefix\", or \"tsv\")"
                      : "give only one of \"src\"/\"tgt\", \"prefix\" and \"tsv\"");
  }
  if (r.contains("tsv")) {
    s.tsv = read_path(r, "tsv", paths, true);
    s.num_fields = r.get_int_or<int>("num_fields", s.num_fields, {.min = 2});
    s.src_field = r.get_int_or<int>("src_field", s.src_field, {.min = 0, .max = s.num_fields - 1});
    s.tgt_field = r.get_int_or<int>("tgt_field", s.tgt_field, {.min = 0, .max = s.num_fields - 1});
    return s;
  }
  if (r.contains("prefix")) {
    const std::string suffix = r.get_or("suffix", "");
    if (langs.src_lang.empty() || langs.tgt_lang.empty()) {
      r.fail("prefix",
             "needs data.src_lang and data.tgt_lang (the files are <prefix>.<lang>" + suffix + ")");
    }
    const fs::path prefix = read_path(r, "prefix", paths, false);
    for (const auto& [lang, out] :
         {std::pair{&langs.src_lang, &s.src}, std::pair{&langs.tgt_lang, &s.tgt}}) {
      *out = prefix.string() + "." + *lang + suffix;
      std::error_code error;
      if (paths.require_files && !fs::is_regular_file(*out, error)) {
        r.fail("prefix",
               str("no such file: ", out->string(), " (prefix + \".", *lang, suffix, "\")"));
      }
    }
    return s;
  }
  s.src = read_path(r, "src", paths, true);
  if (!r.contains("tgt")) r.fail("tgt", "required key is missing (\"src\" needs \"tgt\")");
  s.tgt = read_path(r, "tgt", paths, true);
  return s;
}

json parallel_split_to_json(const ParallelSplit& s) {
  if (!s.defined()) return nullptr;
  if (!s.tsv.empty()) {
    return {{"tsv", s.tsv.string()},
            {"num_fields", s.num_fields},
            {"src_field", s.src_field},
            {"tgt_field", s.tgt_field}};
  }
  return {{"src", s.src.string()}, {"tgt", s.tgt.string()}};
}

Column read_column(ConfigReader& r, std::string_view key, Column fallback) {
  if (!r.contains(key)) {
    r.ignore(key);
    return fallback;
  }
  const json& value = r.value(key);
  if (value.is_number_integer()) return Column::at(r.get_int<int>(key, {.min = 0}));
  if (value.is_string() && !value.get<std::string>().empty()) {
    return Column::named(value.get<std::string>());
  }
  r.fail(key, "expected a column index (0, 1, ...) or a header name (got " + describe_value(value) +
                  ")");
}

json column_to_json(const Column& c) { return c.name.empty() ? json(c.index) : json(c.name); }

// The layout keys (format, header, label and text columns), of data itself or of a
// data.extra_train file; `layout` holds the defaults on entry.
void read_layout(ConfigReader& r, ClassificationLayout& layout) {
  layout.format = get_enum_value(r, "format", layout.format, kFormats);
  if (layout.format == ClassificationFormat::kLabelText) {
    for (const char* key : {"header", "label_column", "text_column"}) {
      reject_key(r, key,
                 "with \"format\": \"tsv\" or \"csv\" (label_text lines are "
                 "\"<label> <text>\")");
    }
    layout.header = false;
  } else {
    layout.header = r.get_or<bool>("header", layout.header);
    layout.label_column = read_column(r, "label_column", layout.label_column);
    layout.text_column = read_column(r, "text_column", layout.text_column);
  }
}

void layout_to_json(const ClassificationLayout& layout, json& j) {
  j["format"] = name_of(layout.format, kFormats);
  if (layout.format != ClassificationFormat::kLabelText) {
    j["header"] = layout.header;
    j["label_column"] = column_to_json(layout.label_column);
    j["text_column"] = column_to_json(layout.text_column);
  }
}

// data.extra_train: a list of {"path", and optionally "format", "header", "label_column",
// "text_column"}; a layout key left out is data's own when the format is data's, else the
// format's default.
std::vector<ExtraTrainFile> read_extra_train(ConfigReader& r, const ClassificationDataConfig& data,
                                             const PathContext& paths) {
  std::vector<ExtraTrainFile> files;
  if (!r.contains("extra_train")) {
    r.ignore("extra_train");
    return files;
  }
  const std::string where = r.key_path("extra_train");
  const json& list = r.value("extra_train");
  config_detail::expect_array(list, where);
  for (std::size_t i = 0; i < list.size(); ++i) {
    ConfigReader entry(list[i], str(where, "[", i, "]"));
    ExtraTrainFile file;
    file.path = read_path(entry, "path", paths, true);
    if (file.path.empty()) entry.fail("path", "required key is missing");
    if (get_enum_value(entry, "format", data.format, kFormats) == data.format) {
      static_cast<ClassificationLayout&>(file) = data;
    }
    read_layout(entry, file);  // reads "format" again, into the defaults chosen above
    entry.finish();
    files.push_back(std::move(file));
  }
  return files;
}

json extra_train_to_json(const std::vector<ExtraTrainFile>& files) {
  json list = json::array();
  for (const ExtraTrainFile& file : files) {
    json j = {{"path", file.path.string()}};
    layout_to_json(file, j);
    list.push_back(std::move(j));
  }
  return list;
}

}  // namespace

DataConfig DataConfig::from_json(ConfigReader& r, TaskKind task, ModelType model_type,
                                 const PathContext& paths) {
  DataConfig c;
  const bool translation = task == TaskKind::kTranslation;
  const bool hierarchical = is_hierarchical_model(model_type);
  if (translation) {
    TranslationDataConfig& t = c.translation;
    t.src_lang = r.get_or("src_lang", "");
    t.tgt_lang = r.get_or("tgt_lang", "");
    t.train = read_parallel_split(r, "train", t, paths);
    t.valid = read_parallel_split(r, "valid", t, paths);
    t.test = read_parallel_split(r, "test", t, paths);
  } else {
    for (const char* key : {"src_lang", "tgt_lang"}) reject_key(r, key, "for translation");
    ClassificationDataConfig& k = c.classification;
    k.train = read_path(r, "train", paths, true);
    k.valid = read_path(r, "valid", paths, true);
    k.test = read_path(r, "test", paths, true);
    read_layout(r, k);
    k.extra_train = read_extra_train(r, k, paths);
    k.labels = r.get_or<std::vector<std::string>>("labels", {});
    if (hierarchical) {
      k.max_sentences = r.get_int_or<int>("max_sentences", 0, {.min = 0});
      k.max_words = r.get_int_or<int>("max_words", 0, {.min = 0});
      reject_key(r, "train_window", "by flat classifiers (a document's sentences are not cut)");
    } else {
      for (const char* key : {"max_sentences", "max_words"}) {
        reject_key(r, key, "by the hierarchical model (\"model.type\": \"han\")");
      }
      k.train_window = r.get_int_or<int>("train_window", 0, {.min = 0});
    }
  }
  c.valid_holdout = r.get_int_or("valid_holdout", c.valid_holdout, {.min = 0});
  c.valid_holdout_block =
      r.get_int_or("valid_holdout_block", c.valid_holdout_block, {.min = 1});
  if (r.contains("valid_holdout_seed")) {
    c.valid_holdout_seed = r.get_int<std::uint64_t>("valid_holdout_seed", {.min = 0});
  } else {
    r.ignore("valid_holdout_seed");  // null in a resolved config: train.seed
  }
  const int default_max_length = translation ? 100 : hierarchical ? 64 : 256;
  c.max_length = r.get_int_or<int>("max_length", default_max_length, {.min = 0});
  c.overlong =
      get_enum_value(r, "overlong", translation ? Overlong::kDrop : Overlong::kCrop, kOverlong);
  c.skip_malformed = r.get_or<bool>("skip_malformed", c.skip_malformed);
  ConfigReader tokenizer = r.optional_section("tokenizer");
  c.tokenizer = read_tokenizer(tokenizer, task, paths);
  return c;
}

json DataConfig::to_json(TaskKind task, ModelType model_type) const {
  const DataConfig& c = *this;
  json j;
  if (task == TaskKind::kTranslation) {
    const TranslationDataConfig& t = c.translation;
    j["src_lang"] = t.src_lang;
    j["tgt_lang"] = t.tgt_lang;
    j["train"] = parallel_split_to_json(t.train);
    j["valid"] = parallel_split_to_json(t.valid);
    j["test"] = parallel_split_to_json(t.test);
  } else {
    const ClassificationDataConfig& k = c.classification;
    j["train"] = path_json(k.train);
    j["valid"] = path_json(k.valid);
    j["test"] = path_json(k.test);
    layout_to_json(k, j);
    j["extra_train"] = extra_train_to_json(k.extra_train);
    j["labels"] = k.labels.empty() ? json(nullptr) : json(k.labels);
    if (is_hierarchical_model(model_type)) {
      j["max_sentences"] = k.max_sentences;
      j["max_words"] = k.max_words;
    } else {
      j["train_window"] = k.train_window;
    }
  }
  j["valid_holdout"] = c.valid_holdout;
  j["valid_holdout_block"] = c.valid_holdout_block;
  j["valid_holdout_seed"] = c.valid_holdout_seed ? json(*c.valid_holdout_seed) : json(nullptr);
  j["max_length"] = c.max_length;
  j["overlong"] = name_of(c.overlong, kOverlong);
  j["skip_malformed"] = c.skip_malformed;
  j["tokenizer"] = tokenizer_to_json(c.tokenizer, task);
  return j;
}

bool DataConfig::has_valid_file(TaskKind task) const {
  return task == TaskKind::kTranslation ? translation.valid.defined()
                                        : !classification.valid.empty();
}

void DataConfig::validate(TaskKind task) const {
  const bool is_translation = task == TaskKind::kTranslation;
  if (is_translation) {
    const TranslationDataConfig& t = translation;
    if (!t.train.defined()) throw ConfigError("data.train", "required key is missing");
    for (const auto& [name, split] :
         {std::pair{"train", &t.train}, std::pair{"valid", &t.valid}, std::pair{"test", &t.test}}) {
      if (!split->tsv.empty() && split->src_field == split->tgt_field) {
        throw ConfigError(str("data.", name, ".tgt_field"),
                          str("must differ from src_field (both ", split->src_field, ")"));
      }
    }
    if (tokenizer.src_model.empty() != tokenizer.tgt_model.empty()) {
      throw ConfigError(
          tokenizer.src_model.empty() ? "data.tokenizer.src_model" : "data.tokenizer.tgt_model",
          "src_model and tgt_model go together (separate vocabularies need both)");
    }
    if (!tokenizer.model.empty() && !tokenizer.src_model.empty()) {
      throw ConfigError("data.tokenizer.src_model",
                        "give either \"model\" (one shared model) or src_model and tgt_model");
    }
  } else {
    const ClassificationDataConfig& k = classification;
    if (k.train.empty()) throw ConfigError("data.train", "required key is missing");
    if (!k.header && (!k.label_column.name.empty() || !k.text_column.name.empty())) {
      throw ConfigError(k.label_column.name.empty() ? "data.text_column" : "data.label_column",
                        "a column name needs \"header\": true (or give the column index)");
    }
    if (k.labels.size() == 1) {
      throw ConfigError("data.labels", "needs at least 2 classes (got 1)");
    }
  }
  if (has_valid_file(task) && valid_holdout > 0) {
    throw ConfigError("data.valid_holdout", "give either \"valid\" or \"valid_holdout\", not both");
  }
  if (valid_holdout == 0 && valid_holdout_block != 1) {
    throw ConfigError("data.valid_holdout_block", "only used with \"valid_holdout\" > 0");
  }
  if (valid_holdout == 0 && valid_holdout_seed) {
    throw ConfigError("data.valid_holdout_seed", "only used with \"valid_holdout\" > 0");
  }
}

// ------------------------------------------------------------------------------- train

namespace {

OptimizerConfig read_optimizer(ConfigReader& r) {
  OptimizerConfig c;
  c.type = get_enum_value(r, "type", c.type, kOptimizers);
  c.lr = r.get_float("lr", {.min = 0, .min_exclusive = true});
  if (c.type == OptimizerKind::kSgd) {
    for (const char* key : {"betas", "eps", "lazy_embeddings"})
      reject_key(r, key, "by \"adam\" and \"adamw\"");
    c.momentum = r.get_float_or("momentum", 0, {.min = 0, .max = 1, .max_exclusive = true});
    c.nesterov = r.get_or<bool>("nesterov", false);
  } else {
    for (const char* key : {"momentum", "nesterov"}) reject_key(r, key, "by \"sgd\"");
    std::vector<double> betas = r.get_or<std::vector<double>>("betas", {c.beta1, c.beta2});
    if (betas.size() != 2) {
      r.fail("betas", str("expected two numbers [beta1, beta2] (got ", betas.size(), ")"));
    }
    for (int i = 0; i < 2; ++i) {
      check_float_range(r.key_path("betas") + "[" + std::to_string(i) + "]", betas[i],
                        {.min = 0, .max = 1, .max_exclusive = true});
    }
    c.beta1 = betas[0];
    c.beta2 = betas[1];
    c.eps = r.get_float_or("eps", c.eps, {.min = 0, .min_exclusive = true});
    c.lazy_embeddings = r.get_or<bool>("lazy_embeddings", false);
  }
  c.weight_decay =
      r.get_float_or("weight_decay", c.type == OptimizerKind::kAdamW ? 0.01 : 0.0, {.min = 0});
  return c;
}

json optimizer_to_json(const OptimizerConfig& c) {
  json j = {{"type", name_of(c.type, kOptimizers)}, {"lr", c.lr}, {"weight_decay", c.weight_decay}};
  if (c.type == OptimizerKind::kSgd) {
    j["momentum"] = c.momentum;
    j["nesterov"] = c.nesterov;
  } else {
    j["betas"] = {c.beta1, c.beta2};
    j["eps"] = c.eps;
    j["lazy_embeddings"] = c.lazy_embeddings;
  }
  return j;
}

ScheduleConfig read_schedule(ConfigReader& r) {
  ScheduleConfig c;
  c.type = get_enum_value(r, "type", c.type, kSchedules);
  c.warmup_steps = r.get_int_or("warmup_steps", c.warmup_steps, {.min = 0});
  if (c.type == LrScheduleKind::kCosine) {
    c.total_steps = r.get_optional<std::int64_t>("total_steps");
    c.min_lr = r.get_float_or("min_lr", c.min_lr, {.min = 0});
  } else {
    for (const char* key : {"total_steps", "min_lr"}) reject_key(r, key, "by \"cosine\"");
  }
  return c;
}

json schedule_to_json(const ScheduleConfig& c) {
  json j = {{"type", name_of(c.type, kSchedules)}, {"warmup_steps", c.warmup_steps}};
  if (c.type == LrScheduleKind::kCosine) {
    j["total_steps"] = c.total_steps ? json(*c.total_steps) : json(nullptr);
    j["min_lr"] = c.min_lr;
  }
  return j;
}

}  // namespace

TrainConfig TrainConfig::from_json(ConfigReader& r, TaskKind task) {
  TrainConfig c;
  c.batch_tokens = r.get_int_or("batch_tokens", c.batch_tokens, {.min = 1});
  c.max_batch_size = r.get_int_or("max_batch_size", c.max_batch_size, {.min = 0});
  c.bucketing = get_enum_value(r, "bucketing", c.bucketing, kBucketing);
  if (c.bucketing == Bucketing::kChunks) {
    c.chunk_size = r.get_int_or("chunk_size", c.chunk_size, {.min = 1});
  } else {
    reject_key(r, "chunk_size", "with \"bucketing\": \"chunks\"");
  }
  if (r.contains("max_steps")) c.max_steps = r.get_int("max_steps", {.min = 1});
  if (r.contains("max_epochs")) c.max_epochs = r.get_int("max_epochs", {.min = 1});
  r.ignore("max_steps");
  r.ignore("max_epochs");
  if (r.contains("max_minutes")) {
    c.max_minutes = r.get_float("max_minutes", {.min = 0, .min_exclusive = true});
  }
  r.ignore("max_minutes");
  ConfigReader optimizer = r.section("optimizer");
  c.optimizer = read_optimizer(optimizer);
  ConfigReader schedule = r.optional_section("schedule");
  c.schedule = read_schedule(schedule);
  c.label_smoothing = r.get_float_or("label_smoothing", c.label_smoothing,
                                     {.min = 0, .max = 1, .max_exclusive = true});
  if (task == TaskKind::kClassification) {
    c.adversarial_epsilon = r.get_float_or("adversarial_epsilon", c.adversarial_epsilon, {.min = 0});
  } else {
    reject_key(r, "adversarial_epsilon", "by classification (\"task\": \"classification\")");
  }
  c.clip_norm = r.get_float_or("clip_norm", c.clip_norm, {.min = 0});
  c.seed = r.get_int_or<std::uint64_t>("seed", c.seed, {.min = 0});
  c.log_every = r.get_int_or("log_every", c.log_every, {.min = 1});
  c.valid_every = r.get_int_or("valid_every", c.valid_every, {.min = 0});
  c.checkpoint_every = r.get_int_or(
      "checkpoint_every", c.validates() ? c.valid_every : c.checkpoint_every, {.min = 1});
  c.keep_checkpoints = r.get_int_or<int>("keep_checkpoints", c.keep_checkpoints, {.min = 1});

  ConfigReader stopping = r.optional_section("early_stopping");
  EarlyStoppingConfig& e = c.early_stopping;
  e.metric = stopping.get_or("metric", default_metric(task));
  e.mode = get_enum_value(stopping, "mode", default_mode(e.metric), kModes);
  e.patience = stopping.get_int_or<int>("patience", e.patience, {.min = 0});

  c.precision = get_enum_value(r, "precision", c.precision, kPrecisions);
  c.threads = r.get_int_or<int>("threads", c.threads, {.min = 0, .max = 1024});
  return c;
}

json TrainConfig::to_json() const {
  const TrainConfig& c = *this;
  json j;
  j["batch_tokens"] = c.batch_tokens;
  j["max_batch_size"] = c.max_batch_size;
  j["bucketing"] = name_of(c.bucketing, kBucketing);
  if (c.bucketing == Bucketing::kChunks) j["chunk_size"] = c.chunk_size;
  j["max_steps"] = c.max_steps ? json(*c.max_steps) : json(nullptr);
  j["max_epochs"] = c.max_epochs ? json(*c.max_epochs) : json(nullptr);
  j["max_minutes"] = c.max_minutes ? json(*c.max_minutes) : json(nullptr);
  j["optimizer"] = optimizer_to_json(c.optimizer);
  j["schedule"] = schedule_to_json(c.schedule);
  j["label_smoothing"] = c.label_smoothing;
  // null when off: translation configs reject the key, and a resolved config is read back
  j["adversarial_epsilon"] = c.adversarial_epsilon > 0 ? json(c.adversarial_epsilon) : json(nullptr);
  j["clip_norm"] = c.clip_norm;
  j["seed"] = c.seed;
  j["log_every"] = c.log_every;
  j["valid_every"] = c.valid_every;
  j["checkpoint_every"] = c.checkpoint_every;
  j["keep_checkpoints"] = c.keep_checkpoints;
  j["early_stopping"] = {{"metric", c.early_stopping.metric},
                         {"mode", name_of(c.early_stopping.mode, kModes)},
                         {"patience", c.early_stopping.patience}};
  j["precision"] = name_of(c.precision, kPrecisions);
  j["threads"] = c.threads;
  return j;
}

void TrainConfig::validate(TaskKind task) const {
  if (!max_steps && !max_epochs && !max_minutes) {
    throw ConfigError("train.max_steps",
                      "required key is missing (give max_steps, max_epochs or max_minutes)");
  }
  if (optimizer.nesterov && optimizer.momentum == 0) {
    throw ConfigError("train.optimizer.nesterov", "needs momentum > 0");
  }
  if (schedule.type == LrScheduleKind::kInverseSqrt && schedule.warmup_steps == 0) {
    throw ConfigError("train.schedule.warmup_steps",
                      "must be >= 1 for \"inverse_sqrt\" (the lr peaks at step warmup_steps)");
  }
  if (schedule.type == LrScheduleKind::kCosine) {
    if (schedule.total_steps && *schedule.total_steps <= schedule.warmup_steps) {
      throw ConfigError("train.schedule.total_steps",
                        str("must be > warmup_steps (", schedule.warmup_steps, ") (got ",
                            *schedule.total_steps, ")"));
    }
    if (!schedule.total_steps && max_steps && *max_steps <= schedule.warmup_steps) {
      throw ConfigError("train.max_steps",
                        str("must be > schedule.warmup_steps (", schedule.warmup_steps,
                            ") for the cosine schedule (got ", *max_steps, ")"));
    }
  }
  const std::vector<std::string>& metrics = task_metrics(task);
  if (std::find(metrics.begin(), metrics.end(), early_stopping.metric) == metrics.end()) {
    std::string list;
    for (const std::string& m : metrics) list += (list.empty() ? "" : ", ") + in_quotes(m);
    std::string hint;
    if (auto similar = closest_match(early_stopping.metric, metrics)) {
      hint = "; did you mean " + in_quotes(*similar) + "?";
    }
    throw ConfigError("train.early_stopping.metric",
                      str("must be one of ", list, " for ", to_string(task), " (got ",
                          in_quotes(early_stopping.metric), hint, ")"));
  }
}

// ------------------------------------------------------------------------------- eval

EvalConfig EvalConfig::from_json(ConfigReader& r, TaskKind task) {
  EvalConfig c;
  if (task == TaskKind::kTranslation) {
    c.beam = r.get_int_or<int>("beam", c.beam, {.min = 1, .max = 256});
    c.length_penalty = r.get_float_or("length_penalty", c.length_penalty, {.min = 0});
    c.max_len_a = r.get_float_or("max_len_a", c.max_len_a, {.min = 0});
    c.max_len_b = r.get_int_or<int>("max_len_b", c.max_len_b, {.min = 0});
    c.max_len = r.get_int_or<int>("max_len", c.max_len, {.min = 1});
  } else {
    for (const char* key : {"beam", "length_penalty", "max_len_a", "max_len_b", "max_len"}) {
      reject_key(r, key, "for translation (decoding)");
    }
  }
  c.batch_tokens = r.get_int_or("batch_tokens", c.batch_tokens, {.min = 1});
  return c;
}

json EvalConfig::to_json(TaskKind task) const {
  const EvalConfig& c = *this;
  json j = {{"batch_tokens", c.batch_tokens}};
  if (task == TaskKind::kTranslation) {
    j["beam"] = c.beam;
    j["length_penalty"] = c.length_penalty;
    j["max_len_a"] = c.max_len_a;
    j["max_len_b"] = c.max_len_b;
    j["max_len"] = c.max_len;
  }
  return j;
}

void EvalConfig::validate() const {
  if (max_len_a == 0 && max_len_b == 0) {
    throw ConfigError("eval.max_len_b",
                      "must be >= 1 when max_len_a is 0 (outputs could have no token)");
  }
}

namespace config_detail {

double float_for_json(float value) {
  char buffer[32];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (error != std::errc{}) return value;
  return std::strtod(std::string(buffer, end).c_str(), nullptr);
}

void reject_key(ConfigReader& r, std::string_view key, const std::string& why) {
  if (r.contains(key)) r.fail(key, "only used " + why);
  r.ignore(key);  // present as null: harmless
}

}  // namespace config_detail

// ------------------------------------------------------------------------------- public

const char* to_string(TaskKind task) { return name_of(task, kTasks).data(); }

const std::vector<std::string>& task_metrics(TaskKind task) {
  static const std::vector<std::string> translation = {"bleu", "chrf", "exact_match", "loss"};
  static const std::vector<std::string> classification = {"accuracy", "macro_f1", "loss"};
  return task == TaskKind::kTranslation ? translation : classification;
}

const char* default_metric(TaskKind task) {
  return task == TaskKind::kTranslation ? "bleu" : "accuracy";
}

MetricMode default_mode(const std::string& metric) {
  return metric == "loss" ? MetricMode::kMin : MetricMode::kMax;
}

// ------------------------------------------------------------------------------- all

Config Config::from_json(const json& document, const PathContext& paths) {
  ConfigReader root(document, "");
  Config c;
  if (!root.contains("task")) {
    root.fail("task", "required key is missing (\"translation\" or \"classification\")");
  }
  c.task = get_enum_value(root, "task", TaskKind::kTranslation, kTasks);
  c.run_dir = read_path(root, "run_dir", paths, false);
  if (c.run_dir.empty()) root.fail("run_dir", "required key is missing");

  ConfigReader model = root.section("model");
  const ModelType model_type = ModelConfig::read_type(model);
  ConfigReader data = root.section("data");
  c.data = DataConfig::from_json(data, c.task, model_type, paths);
  c.model = ModelConfig::from_json(model, model_type, c.data.tokenizer.one_vocabulary());
  ConfigReader train = root.section("train");
  c.train = TrainConfig::from_json(train, c.task);
  ConfigReader eval = root.optional_section("eval");
  c.eval = EvalConfig::from_json(eval, c.task);
  root.finish();  // unknown keys first: a misspelled key may be why a rule fails
  c.validate();
  return c;
}

void Config::validate() const {
  data.validate(task);
  // Here, not in DataConfig::validate: whether validation data is needed is train's to say.
  if (train.validates() && !data.has_valid_file(task) && data.valid_holdout == 0) {
    throw ConfigError("data.valid",
                      "required key is missing (or set \"valid_holdout\" to hold out training "
                      "examples for validation, or train.valid_every to 0 to train without "
                      "validation)");
  }

  model.validate(task, data.tokenizer.one_vocabulary());
  train.validate(task);
  if (task == TaskKind::kTranslation) eval.validate();
  // A Transformer has positions up to model.max_len: training examples and outputs must fit.
  if (const auto* k = std::get_if<TransformerClassifierOptions>(&model.options)) {
    if (data.max_length == 0 || data.max_length > k->max_len) {
      throw ConfigError(
          "data.max_length",
          str("must be in [1, model.max_len = ", k->max_len,
              "] for a Transformer classifier (its positions) (got ", data.max_length, ")"));
    }
  }
  if (const auto* t = std::get_if<TransformerSeq2SeqOptions>(&model.options)) {
    if (data.max_length == 0 || data.max_length > t->max_len) {
      throw ConfigError("data.max_length",
                        str("must be in [1, model.max_len = ", t->max_len,
                            "] for a Transformer (its positions) (got ", data.max_length, ")"));
    }
    if (eval.max_len + 1 > t->max_len) {
      throw ConfigError("eval.max_len",
                        str("must be < model.max_len = ", t->max_len,
                            " for a Transformer (output + EOS) (got ", eval.max_len, ")"));
    }
  }
}

json Config::to_json() const {
  json j;
  j["task"] = to_string(task);
  j["run_dir"] = run_dir.string();
  j["data"] = data.to_json(task, model.type);
  j["model"] = model.to_json();
  j["train"] = train.to_json();
  j["eval"] = eval.to_json(task);
  return j;
}

LoadedConfig load_config(const fs::path& file, const std::vector<std::string>& overrides) {
  json document = load_config_file(file);
  PathContext paths;
  paths.command_dir = fs::current_path();
  paths.config_dir = fs::absolute(file).parent_path().lexically_normal();
  for (const std::string& assignment : overrides) {
    ConfigOverride o = parse_override(assignment);
    std::string key;
    for (const std::string& part : o.key_path) key += (key.empty() ? "" : ".") + part;
    paths.overridden.insert(key);
    apply_override(document, o);
  }
  LoadedConfig loaded;
  loaded.config = Config::from_json(document, paths);
  loaded.resolved = loaded.config.to_json();
  return loaded;
}

Config config_from_resolved(const json& resolved, const std::string& source) {
  PathContext paths;
  paths.config_dir = paths.command_dir = fs::current_path();
  paths.require_files = false;
  try {
    return Config::from_json(resolved, paths);
  } catch (const ConfigError& e) {
    throw ConfigError(source, e.what());
  }
}

}  // namespace heed
