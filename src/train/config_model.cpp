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
  return c;
}

json model_config_to_json(const ModelConfig& config) {
  json j;
  j["type"] = to_string(config.type);
  return j;
}

}  // namespace config_detail
}  // namespace heed
