// The "model" section: model.type, then the keys of that model's options struct (same names).
// Vocabulary sizes and class counts are not config keys: they come from the tokenizer and the
// data when the model is built (model_factory.cpp).
#include <string>

#include "train/config_detail.h"

namespace heed {

using nlohmann::json;

namespace {

const config_detail::EnumNames<ModelType> kModelTypes = {
    {"transformer", ModelType::kTransformer},
    {"rnn", ModelType::kRnn},
    {"transformer_classifier", ModelType::kTransformerClassifier},
    {"bigru_attention", ModelType::kBiGruAttention},
    {"han", ModelType::kHan}};

const config_detail::EnumNames<Activation> kActivations = {{"relu", Activation::kRelu},
                                                           {"gelu", Activation::kGelu}};
const config_detail::EnumNames<PositionalKind> kPositionals = {
    {"sinusoidal", PositionalKind::kSinusoidal}, {"learned", PositionalKind::kLearned}};

// ---- transformer (models/transformer.h)

TransformerSeq2SeqOptions read_transformer(ConfigReader& r, bool one_vocabulary) {
  TransformerSeq2SeqOptions o;
  o.shared_vocab = r.get_or<bool>("shared_vocab", one_vocabulary);
  o.tie_output = r.get_or<bool>("tie_output", o.tie_output);
  o.d_model = r.get_int_or<Index>("d_model", o.d_model, {.min = 1});
  o.num_heads = r.get_int_or<Index>("num_heads", o.num_heads, {.min = 1});
  o.encoder_layers = r.get_int_or<int>("encoder_layers", o.encoder_layers, {.min = 1});
  o.decoder_layers = r.get_int_or<int>("decoder_layers", o.decoder_layers, {.min = 1});
  o.dim_feedforward = r.get_int_or<Index>("dim_feedforward", o.dim_feedforward, {.min = 1});
  o.dropout = static_cast<float>(
      r.get_float_or("dropout", o.dropout, {.min = 0, .max = 1, .max_exclusive = true}));
  o.activation = config_detail::get_enum_value(r, "activation", o.activation, kActivations);
  o.norm_first = r.get_or<bool>("norm_first", o.norm_first);
  o.positional = config_detail::get_enum_value(r, "positional", o.positional, kPositionals);
  o.max_len = r.get_int_or<Index>("max_len", o.max_len, {.min = 2});
  o.scale_embedding = r.get_or<bool>("scale_embedding", o.scale_embedding);
  return o;
}

json to_json(const TransformerSeq2SeqOptions& o) {
  return {{"shared_vocab", o.shared_vocab},
          {"tie_output", o.tie_output},
          {"d_model", o.d_model},
          {"num_heads", o.num_heads},
          {"encoder_layers", o.encoder_layers},
          {"decoder_layers", o.decoder_layers},
          {"dim_feedforward", o.dim_feedforward},
          {"dropout", config_detail::float_for_json(o.dropout)},
          {"activation", config_detail::name_of(o.activation, kActivations)},
          {"norm_first", o.norm_first},
          {"positional", config_detail::name_of(o.positional, kPositionals)},
          {"max_len", o.max_len},
          {"scale_embedding", o.scale_embedding}};
}

float read_dropout(ConfigReader& r, float fallback, const char* key = "dropout") {
  return static_cast<float>(
      r.get_float_or(key, fallback, {.min = 0, .max = 1, .max_exclusive = true}));
}

// ---- rnn (models/rnn_seq2seq.h)

const config_detail::EnumNames<RnnAttentionKind> kRnnAttentions = {
    {"bahdanau", RnnAttentionKind::kBahdanau}, {"luong", RnnAttentionKind::kLuong}};
const config_detail::EnumNames<LuongScore> kLuongScores = {
    {"dot", LuongScore::kDot}, {"general", LuongScore::kGeneral}, {"concat", LuongScore::kConcat}};

RnnSeq2SeqOptions read_rnn(ConfigReader& r) {
  using config_detail::reject_key;
  RnnSeq2SeqOptions o;
  o.embedding_dim = r.get_int_or<Index>("embedding_dim", o.embedding_dim, {.min = 1});
  o.encoder_hidden = r.get_int_or<Index>("encoder_hidden", o.encoder_hidden, {.min = 1});
  o.encoder_layers = r.get_int_or<int>("encoder_layers", o.encoder_layers, {.min = 1});
  o.decoder_hidden = r.get_int_or<Index>("decoder_hidden", o.decoder_hidden, {.min = 1});
  o.attention = config_detail::get_enum_value(r, "attention", o.attention, kRnnAttentions);
  const bool luong = o.attention == RnnAttentionKind::kLuong;
  if (luong) {
    o.luong_score = config_detail::get_enum_value(r, "luong_score", o.luong_score, kLuongScores);
    o.input_feeding = r.get_or<bool>("input_feeding", o.input_feeding);
    o.local_p = r.get_or<bool>("local_p", o.local_p);
    if (o.local_p) {
      o.window = r.get_int_or<Index>("window", o.window, {.min = 1});
    } else {
      reject_key(r, "window", "with \"local_p\": true");
    }
  } else {
    for (const char* key : {"luong_score", "input_feeding", "local_p", "window"}) {
      reject_key(r, key, "with \"attention\": \"luong\"");
    }
  }
  // attention_dim: Bahdanau's A, and the hidden size of Luong's concat score and local-p.
  const bool uses_attention_dim = !luong || o.luong_score == LuongScore::kConcat || o.local_p;
  if (uses_attention_dim) {
    o.attention_dim = r.get_int_or<Index>("attention_dim", o.decoder_hidden, {.min = 1});
  } else {
    reject_key(r, "attention_dim", "by Bahdanau attention and Luong's concat score or local-p");
  }
  o.hard_attention = r.get_or<bool>("hard_attention", o.hard_attention);
  if (o.hard_attention) {
    o.temperature = static_cast<float>(
        r.get_float_or("temperature", o.temperature, {.min = 0, .min_exclusive = true}));
  } else {
    reject_key(r, "temperature", "with \"hard_attention\": true");
  }
  o.dropout = read_dropout(r, o.dropout);
  o.tie_output_embedding = r.get_or<bool>("tie_output_embedding", o.tie_output_embedding);
  return o;
}

json to_json(const RnnSeq2SeqOptions& o) {
  json j = {{"embedding_dim", o.embedding_dim},
            {"encoder_hidden", o.encoder_hidden},
            {"encoder_layers", o.encoder_layers},
            {"decoder_hidden", o.decoder_hidden},
            {"attention", config_detail::name_of(o.attention, kRnnAttentions)},
            {"hard_attention", o.hard_attention},
            {"dropout", config_detail::float_for_json(o.dropout)},
            {"tie_output_embedding", o.tie_output_embedding}};
  const bool luong = o.attention == RnnAttentionKind::kLuong;
  if (luong) {
    j["luong_score"] = config_detail::name_of(o.luong_score, kLuongScores);
    j["input_feeding"] = o.input_feeding;
    j["local_p"] = o.local_p;
    if (o.local_p) j["window"] = o.window;
  }
  if (!luong || o.luong_score == LuongScore::kConcat || o.local_p) {
    j["attention_dim"] = o.attention_dim;
  }
  if (o.hard_attention) j["temperature"] = config_detail::float_for_json(o.temperature);
  return j;
}

// ---- classifiers (models/classifiers.h)

const config_detail::EnumNames<ClassifierPooling> kPoolings = {
    {"mean", ClassifierPooling::kMean},
    {"first", ClassifierPooling::kFirst},
    {"max", ClassifierPooling::kMax},
    {"attention", ClassifierPooling::kAttention},
    {"attention_max", ClassifierPooling::kAttentionMax}};

// The BiGRU classifier keeps its self-attention pooling; max pooling may join it.
const config_detail::EnumNames<ClassifierPooling> kBiGruPoolings = {
    {"attention", ClassifierPooling::kAttention},
    {"attention_max", ClassifierPooling::kAttentionMax}};

TransformerClassifierOptions read_transformer_classifier(ConfigReader& r) {
  TransformerClassifierOptions o;
  o.d_model = r.get_int_or<Index>("d_model", 256, {.min = 1});
  o.num_heads = r.get_int_or<Index>("num_heads", 4, {.min = 1});
  o.num_layers = r.get_int_or<int>("num_layers", 2, {.min = 1});
  o.dim_feedforward = r.get_int_or<Index>("dim_feedforward", 512, {.min = 1});
  o.dropout = read_dropout(r, o.dropout);
  o.word_dropout = read_dropout(r, 0.f, "word_dropout");
  o.activation = config_detail::get_enum_value(r, "activation", o.activation, kActivations);
  o.norm_first = r.get_or<bool>("norm_first", o.norm_first);
  o.pooling = config_detail::get_enum_value(r, "pooling", o.pooling, kPoolings);
  o.max_len = r.get_int_or<Index>("max_len", o.max_len, {.min = 1});
  return o;
}

json to_json(const TransformerClassifierOptions& o) {
  return {{"d_model", o.d_model},
          {"num_heads", o.num_heads},
          {"num_layers", o.num_layers},
          {"dim_feedforward", o.dim_feedforward},
          {"dropout", config_detail::float_for_json(o.dropout)},
          {"word_dropout", config_detail::float_for_json(o.word_dropout)},
          {"activation", config_detail::name_of(o.activation, kActivations)},
          {"norm_first", o.norm_first},
          {"pooling", config_detail::name_of(o.pooling, kPoolings)},
          {"max_len", o.max_len}};
}

// The token-input keys the recurrent classifiers share (models/classifiers.h names them alike in
// BiGruAttentionOptions and HierarchicalAttentionOptions). Hashed n-gram embeddings
// (nn/ngram_embedding.h): ngram_buckets 0 = none. embedding_dim is read by each model, whose
// defaults differ, before these (ngram_dim is bounded by it), and written with them.
template <typename Options>
void read_token_inputs(ConfigReader& r, Options& o) {
  o.embedding_dropout = read_dropout(r, 0.f, "embedding_dropout");
  o.word_dropout = read_dropout(r, 0.f, "word_dropout");
  o.ngram_buckets = r.get_int_or<Index>("ngram_buckets", 0, {.min = 0});
  if (o.ngram_buckets == 1) {
    r.fail("ngram_buckets", "must be 0 (no n-gram embeddings) or >= 2 (got 1)");
  }
  o.ngram_order = r.get_int_or<int>("ngram_order", 2, {.min = 2, .max = 8});
  o.ngram_dim = r.get_int_or<Index>("ngram_dim", 0, {.min = 0, .max = o.embedding_dim});
  o.ngram_dropout = read_dropout(r, 0.f, "ngram_dropout");
}

template <typename Options>
json token_inputs_json(const Options& o) {
  return {{"embedding_dim", o.embedding_dim},
          {"embedding_dropout", config_detail::float_for_json(o.embedding_dropout)},
          {"word_dropout", config_detail::float_for_json(o.word_dropout)},
          {"ngram_buckets", o.ngram_buckets},
          {"ngram_order", o.ngram_order},
          {"ngram_dim", o.ngram_dim},
          {"ngram_dropout", config_detail::float_for_json(o.ngram_dropout)}};
}

BiGruAttentionOptions read_bigru_attention(ConfigReader& r) {
  BiGruAttentionOptions o;
  o.embedding_dim = r.get_int_or<Index>("embedding_dim", 128, {.min = 1});
  o.hidden = r.get_int_or<Index>("hidden", 128, {.min = 1});
  o.num_layers = r.get_int_or<int>("num_layers", 1, {.min = 1});
  o.attention_dim = r.get_int_or<Index>("attention_dim", 128, {.min = 1});
  o.dropout = read_dropout(r, 0.3f);
  read_token_inputs(r, o);
  o.pooling = config_detail::get_enum_value(r, "pooling", o.pooling, kBiGruPoolings);
  return o;
}

json to_json(const BiGruAttentionOptions& o) {
  json j = token_inputs_json(o);
  j.update({{"hidden", o.hidden},
            {"num_layers", o.num_layers},
            {"attention_dim", o.attention_dim},
            {"dropout", config_detail::float_for_json(o.dropout)},
            {"pooling", config_detail::name_of(o.pooling, kBiGruPoolings)}});
  return j;
}

// Defaults: the sizes of Yang et al. 2016, §3.3.
HierarchicalAttentionOptions read_han(ConfigReader& r) {
  HierarchicalAttentionOptions o;
  o.embedding_dim = r.get_int_or<Index>("embedding_dim", 200, {.min = 1});
  o.word_hidden = r.get_int_or<Index>("word_hidden", 50, {.min = 1});
  o.sentence_hidden = r.get_int_or<Index>("sentence_hidden", 50, {.min = 1});
  o.word_attention_dim = r.get_int_or<Index>("word_attention_dim", 100, {.min = 1});
  o.sentence_attention_dim = r.get_int_or<Index>("sentence_attention_dim", 100, {.min = 1});
  o.dropout = read_dropout(r, 0.1f);
  read_token_inputs(r, o);
  return o;
}

json to_json(const HierarchicalAttentionOptions& o) {
  json j = token_inputs_json(o);
  j.update({{"word_hidden", o.word_hidden},
            {"sentence_hidden", o.sentence_hidden},
            {"word_attention_dim", o.word_attention_dim},
            {"sentence_attention_dim", o.sentence_attention_dim},
            {"dropout", config_detail::float_for_json(o.dropout)}});
  return j;
}

}  // namespace

const char* to_string(ModelType type) { return config_detail::name_of(type, kModelTypes).data(); }

bool is_translation_model(ModelType type) {
  return type == ModelType::kTransformer || type == ModelType::kRnn;
}

bool is_hierarchical_model(ModelType type) { return type == ModelType::kHan; }

ModelType ModelConfig::read_type(ConfigReader& model) {
  if (!model.contains("type")) model.fail("type", "required key is missing");
  return config_detail::get_enum_value(model, "type", ModelType::kTransformer, kModelTypes);
}

ModelConfig ModelConfig::from_json(ConfigReader& model, ModelType type, bool one_vocabulary) {
  ModelConfig c;
  c.type = type;
  switch (type) {
    case ModelType::kTransformer:
      c.options = read_transformer(model, one_vocabulary);
      break;
    case ModelType::kRnn:
      c.options = read_rnn(model);
      break;
    case ModelType::kTransformerClassifier:
      c.options = read_transformer_classifier(model);
      break;
    case ModelType::kBiGruAttention:
      c.options = read_bigru_attention(model);
      break;
    case ModelType::kHan:
      c.options = read_han(model);
      break;
  }
  return c;
}

json ModelConfig::to_json() const {
  json j = std::visit([](const auto& o) { return heed::to_json(o); }, options);
  j["type"] = to_string(type);
  return j;
}

void ModelConfig::validate(TaskKind task, bool one_vocabulary) const {
  if ((task == TaskKind::kTranslation) != is_translation_model(type)) {
    throw ConfigError("model.type",
                      str("\"", to_string(type), "\" is a ",
                          is_translation_model(type) ? "translation" : "classification",
                          " model, but \"task\" is \"", to_string(task), "\""));
  }
  auto check_heads = [](Index d_model, Index heads) {
    if (d_model % heads != 0) {
      throw ConfigError("model.num_heads",
                        str("must divide d_model (", d_model, ") (got ", heads, ")"));
    }
  };
  if (const auto* t = std::get_if<TransformerSeq2SeqOptions>(&options)) {
    check_heads(t->d_model, t->num_heads);
    if (t->shared_vocab && !one_vocabulary) {
      throw ConfigError("model.shared_vocab",
                        "needs one vocabulary for both languages (data.tokenizer.shared, or one "
                        "data.tokenizer.model)");
    }
  }
  if (const auto* k = std::get_if<TransformerClassifierOptions>(&options)) {
    check_heads(k->d_model, k->num_heads);
  }
  if (const auto* r = std::get_if<RnnSeq2SeqOptions>(&options)) {
    if (r->attention == RnnAttentionKind::kLuong && r->luong_score == LuongScore::kDot &&
        r->decoder_hidden != 2 * r->encoder_hidden) {
      throw ConfigError("model.luong_score",
                        str("\"dot\" needs decoder_hidden == 2 · encoder_hidden (the "
                            "bidirectional annotations) (got ",
                            r->decoder_hidden, " and ", r->encoder_hidden, ")"));
    }
  }
}

}  // namespace heed
