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

TransformerSeq2SeqOptions read_transformer(ConfigReader& r, const config_detail::ModelContext& context) {
  TransformerSeq2SeqOptions o;
  o.shared_vocab = r.get_or<bool>("shared_vocab", context.one_vocabulary);
  if (o.shared_vocab && !context.one_vocabulary) {
    r.fail("shared_vocab", "needs one vocabulary for both languages (data.tokenizer.shared, or "
                           "one data.tokenizer.model)");
  }
  o.tie_output = r.get_or<bool>("tie_output", o.tie_output);
  o.d_model = r.get_int_or<Index>("d_model", o.d_model, {.min = 1});
  o.num_heads = r.get_int_or<Index>("num_heads", o.num_heads, {.min = 1});
  if (o.d_model % o.num_heads != 0) {
    r.fail("num_heads", str("must divide d_model (", o.d_model, ") (got ", o.num_heads, ")"));
  }
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
          {"dropout", o.dropout},
          {"activation", config_detail::name_of(o.activation, kActivations)},
          {"norm_first", o.norm_first},
          {"positional", config_detail::name_of(o.positional, kPositionals)},
          {"max_len", o.max_len},
          {"scale_embedding", o.scale_embedding}};
}

}  // namespace

const char* to_string(ModelType type) { return config_detail::name_of(type, kModelTypes).data(); }

bool is_translation_model(ModelType type) {
  return type == ModelType::kTransformer || type == ModelType::kRnn;
}

bool is_hierarchical_model(ModelType type) { return type == ModelType::kHan; }

namespace config_detail {

ModelType read_model_type(ConfigReader& model) {
  if (!model.contains("type")) model.fail("type", "required key is missing");
  return get_enum_value(model, "type", ModelType::kTransformer, kModelTypes);
}

ModelConfig read_model_config(ConfigReader& model, ModelType type, const ModelContext& context) {
  const bool translation = context.task == TaskKind::kTranslation;
  if (translation != is_translation_model(type)) {
    model.fail("type", str("\"", to_string(type), "\" is a ",
                           is_translation_model(type) ? "translation" : "classification",
                           " model, but \"task\" is \"", to_string(context.task), "\""));
  }
  ModelConfig c;
  c.type = type;
  switch (type) {
    case ModelType::kTransformer:
      c.options = read_transformer(model, context);
      break;
    default:
      model.fail("type", str("\"", to_string(type), "\" is not available in this build yet"));
  }
  return c;
}

json model_config_to_json(const ModelConfig& config) {
  json j = std::visit([](const auto& options) { return to_json(options); }, config.options);
  j["type"] = to_string(config.type);
  return j;
}

}  // namespace config_detail
}  // namespace heed
