// Checkpoint files: model + optimizer tensors and the typed training state in one safetensors
// file (layout in include/heed/train/checkpoint.h).
#include "heed/train/checkpoint.h"

#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <unordered_map>

#include "heed/train/safetensors.h"
#include "heed/util/check.h"

namespace heed {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "heed-checkpoint-1";
const std::string kModelPrefix = "model.";
const std::string kOptimPrefix = "optim.";
constexpr const char* kChecksumKey = "checksum";

// The metadata keys a checkpoint has, all required.
const std::set<std::string>& metadata_keys() {
  static const std::set<std::string> keys = {
      "format", "heed_version",   "counters", "optimizer",   "lr_scheduler", "data",
      "rngs",   "early_stopping", "config",   "config_hash", kChecksumKey};
  return keys;
}

// Metadata keys a checkpoint may have (older checkpoints lack them).
const std::set<std::string>& optional_metadata_keys() {
  static const std::set<std::string> keys = {"trainer", "averaged_from"};
  return keys;
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// ---- strict reading of one JSON object

// Reads the keys of one JSON object with typed getters; finish() rejects keys nobody read.
class Fields {
 public:
  Fields(const json& j, std::string where) : j_(j), where_(std::move(where)) {
    CHECK(j_.is_object(), where_, ": expected a JSON object (got ", j_.dump(), ")");
  }

  std::int64_t get_int(const std::string& key) {
    const json& v = at(key);
    CHECK(v.is_number_integer(), where_, ": \"", key, "\" must be an integer (got ", v.dump(), ")");
    CHECK(!v.is_number_unsigned() || v.get<std::uint64_t>() <= INT64_MAX, where_, ": \"", key,
          "\" is out of range (got ", v.dump(), ")");
    return v.get<std::int64_t>();
  }
  std::int64_t get_count(const std::string& key) {  // an integer >= 0
    const std::int64_t value = get_int(key);
    CHECK(value >= 0, where_, ": \"", key, "\" must be >= 0 (got ", value, ")");
    return value;
  }
  std::uint64_t get_uint64(const std::string& key) {
    const json& v = at(key);
    CHECK(v.is_number_unsigned(), where_, ": \"", key, "\" must be an unsigned integer (got ",
          v.dump(), ")");
    return v.get<std::uint64_t>();
  }
  double get_double(const std::string& key) {
    const json& v = at(key);
    CHECK(v.is_number(), where_, ": \"", key, "\" must be a number (got ", v.dump(), ")");
    return v.get<double>();
  }
  std::optional<double> get_optional_double(const std::string& key) {
    if (at(key).is_null()) return std::nullopt;
    return get_double(key);
  }
  std::string get_string(const std::string& key) {
    const json& v = at(key);
    CHECK(v.is_string(), where_, ": \"", key, "\" must be a string (got ", v.dump(), ")");
    return v.get<std::string>();
  }
  const json& get_object(const std::string& key) {
    const json& v = at(key);
    CHECK(v.is_object(), where_, ": \"", key, "\" must be an object (got ", v.dump(), ")");
    return v;
  }
  std::string where(const std::string& key) const { return where_ + "." + key; }

  void finish() const {
    for (const auto& [key, value] : j_.items()) {
      CHECK(read_.count(key), where_, ": unknown key \"", key, "\"");
    }
  }

 private:
  const json& at(const std::string& key) {
    auto it = j_.find(key);
    CHECK(it != j_.end(), where_, ": missing key \"", key, "\"");
    read_.insert(key);
    return *it;
  }

  const json& j_;
  std::string where_;
  std::set<std::string> read_;
};

json parse_metadata_json(const std::map<std::string, std::string>& metadata, const std::string& key,
                         const std::string& where) {
  try {
    return json::parse(metadata.at(key));
  } catch (const json::exception& e) {
    CHECK(false, where, ": metadata \"", key, "\" is not valid JSON (", e.what(), ")");
  }
  return {};
}

// ---- the checksum

std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t bytes) {
  if (bytes == 0) return crc;  // zlib returns the initial value for a null buffer
  return static_cast<std::uint32_t>(::crc32_z(crc, static_cast<const Bytef*>(data), bytes));
}

// CRC-32 of the data section (given), continued over every metadata entry but the checksum.
std::string checksum(std::uint32_t data_crc32, const std::map<std::string, std::string>& metadata) {
  std::uint32_t crc = data_crc32;
  for (const auto& [key, value] : metadata) {
    if (key == kChecksumKey) continue;
    crc = crc32_update(crc, key.c_str(), key.size() + 1);  // with the NUL: "ab"+"c" != "a"+"bc"
    crc = crc32_update(crc, value.c_str(), value.size() + 1);
  }
  char text[16];
  std::snprintf(text, sizeof text, "%08x", crc);
  return std::string("crc32:") + text;
}

// ---- metadata <-> state

std::map<std::string, std::string> metadata_for(const Optimizer& optimizer,
                                                const TrainingState& state) {
  json rngs = json::object();
  for (const auto& [role, rng] : state.rngs) {
    CHECK(!role.empty(), "save_checkpoint: an Rng state has an empty role name");
    rngs[role] = to_json(rng);
  }
  std::map<std::string, std::string> metadata;
  metadata["format"] = kFormat;
  metadata["heed_version"] = HEED_VERSION;
  metadata["counters"] = to_json(state.counters).dump();
  metadata["optimizer"] = json{{"name", optimizer.name()}, {"step", optimizer.step_count()}}.dump();
  metadata["lr_scheduler"] = json{{"step", state.lr_scheduler.step}}.dump();
  metadata["data"] = to_json(state.data).dump();
  metadata["rngs"] = rngs.dump();
  metadata["early_stopping"] = to_json(state.early_stopping).dump();
  metadata["trainer"] = state.trainer.dump();
  metadata["config"] = state.config.dump();
  metadata["config_hash"] = state.config_hash;
  return metadata;
}

// Checks the format marker and the set of keys, then parses every value.
CheckpointInfo info_from_metadata(const std::map<std::string, std::string>& metadata,
                                  const std::string& where) {
  auto format = metadata.find("format");
  CHECK(format != metadata.end(), where, ": not a heed checkpoint (no \"format\" in its metadata)");
  CHECK(format->second == kFormat, where, ": unsupported checkpoint format \"", format->second,
        "\" (this heed reads \"", kFormat, "\")");
  for (const std::string& key : metadata_keys()) {
    CHECK(metadata.count(key), where, ": metadata \"", key, "\" is missing");
  }
  for (const auto& [key, value] : metadata) {
    CHECK(metadata_keys().count(key) || optional_metadata_keys().count(key), where,
          ": unknown metadata \"", key, "\"");
  }

  CheckpointInfo info;
  info.heed_version = metadata.at("heed_version");
  TrainingState& state = info.state;
  auto parsed = [&](const char* key) { return parse_metadata_json(metadata, key, where); };
  const std::string in = where + ": metadata ";

  state.counters = training_counters_from_json(parsed("counters"), in + "\"counters\"");
  {
    const json j = parsed("optimizer");
    Fields f(j, in + "\"optimizer\"");
    info.optimizer_name = f.get_string("name");
    info.optimizer_step = f.get_count("step");
    f.finish();
  }
  {
    const json j = parsed("lr_scheduler");
    Fields f(j, in + "\"lr_scheduler\"");
    state.lr_scheduler.step = f.get_count("step");
    f.finish();
  }
  state.data = batcher_state_from_json(parsed("data"), in + "\"data\"");
  {
    const json j = parsed("rngs");
    CHECK(j.is_object(), in, "\"rngs\": expected a JSON object (got ", j.dump(), ")");
    for (const auto& [role, value] : j.items()) {
      state.rngs[role] = rng_state_from_json(value, in + "\"rngs\"." + role);
    }
  }
  state.early_stopping =
      early_stopping_from_json(parsed("early_stopping"), in + "\"early_stopping\"");
  if (metadata.count("trainer")) {
    state.trainer = parsed("trainer");
    CHECK(state.trainer.is_object(), in, "\"trainer\": expected a JSON object (got ",
          state.trainer.dump(), ")");
  }
  state.config = parsed("config");
  state.config_hash = metadata.at("config_hash");
  return info;
}

// The model's parameters, checked against the file's "model.*" tensors: same names (none missing,
// none left over), same shapes. Returns the source tensor of each parameter, in model order.
std::vector<const Tensor*> match_parameters(const NamedParameters& parameters,
                                            const SafetensorsContent& content,
                                            const std::string& where) {
  std::unordered_map<std::string, const Tensor*> stored;
  for (const auto& [name, tensor] : content.f32) {
    if (starts_with(name, kModelPrefix)) stored.emplace(name.substr(kModelPrefix.size()), &tensor);
  }
  for (const auto& [name, tensor] : content.i32) {
    CHECK(!starts_with(name, kModelPrefix), where, ": tensor \"", name,
          "\" is I32; model parameters are F32");
  }
  std::vector<const Tensor*> sources;
  for (const auto& [name, parameter] : parameters) {
    auto it = stored.find(name);
    CHECK(it != stored.end(), where, ": parameter \"", name, "\" is missing (the model has ",
          parameters.size(), " parameters, the checkpoint ", stored.size(),
          "; was it written for another model configuration?)");
    CHECK(it->second->shape() == parameter.shape(), where, ": parameter \"", name, "\" has shape ",
          it->second->shape(), " in the checkpoint but ", parameter.shape(), " in the model");
    sources.push_back(it->second);
    stored.erase(it);
  }
  if (!stored.empty()) {
    std::set<std::string> extra;
    for (const auto& [name, tensor] : stored) extra.insert(name);
    CHECK(false, where, ": the model has no parameter \"", *extra.begin(), "\"",
          extra.size() > 1 ? str(" (and ", extra.size() - 1, " more unknown parameters)") : "",
          "; was it written for another model configuration?");
  }
  return sources;
}

// Reads the file, checks the checksum and parses the metadata.
SafetensorsFile read_verified(const std::filesystem::path& path, CheckpointInfo* info) {
  const std::string where = "checkpoint " + path.string();
  SafetensorsFile file = read_safetensors(path);
  const auto& metadata = file.content.metadata;
  auto format = metadata.find("format");
  CHECK(format != metadata.end(), where, ": not a heed checkpoint (no \"format\" in its metadata)");
  auto stored = metadata.find(kChecksumKey);
  CHECK(stored != metadata.end(), where, ": metadata \"", kChecksumKey, "\" is missing");
  const std::string computed = checksum(file.data_crc32, metadata);
  CHECK(stored->second == computed, where, " is corrupt: checksum mismatch (stored ",
        stored->second, ", computed ", computed, ")");
  *info = info_from_metadata(metadata, where);
  for (const auto& [name, tensor] : file.content.f32) {
    CHECK(starts_with(name, kModelPrefix) || starts_with(name, kOptimPrefix), where,
          ": unexpected tensor \"", name, "\" (names start with \"model.\" or \"optim.\")");
  }
  for (const auto& [name, tensor] : file.content.i32) {
    CHECK(false, where, ": unexpected I32 tensor \"", name, "\"");
  }
  return file;
}

void copy_parameters(const NamedParameters& parameters, const std::vector<const Tensor*>& sources) {
  for (size_t i = 0; i < parameters.size(); ++i) {
    Tensor parameter = parameters[i].second;
    parameter.copy_from_(*sources[i]);
  }
}

}  // namespace

// ---- typed JSON helpers

json to_json(const TrainingCounters& counters) {
  return {{"step", counters.step},
          {"epoch", counters.epoch},
          {"tokens_seen", counters.tokens_seen},
          {"elapsed_seconds", counters.elapsed_seconds}};
}

json to_json(const EarlyStoppingState& state) {
  return {{"best_score", state.best_score ? json(*state.best_score) : json(nullptr)},
          {"best_step", state.best_step},
          {"evals_without_improvement", state.evals_without_improvement}};
}

json to_json(const Rng::State& state) { return {{"seed", state.seed}, {"counter", state.counter}}; }

json to_json(const BatcherState& state) {
  return {{"epoch", state.epoch}, {"position", state.position}, {"rng", to_json(state.rng)}};
}

TrainingCounters training_counters_from_json(const json& j, const std::string& where) {
  Fields f(j, where);
  TrainingCounters counters;
  counters.step = f.get_count("step");
  counters.epoch = f.get_count("epoch");
  counters.tokens_seen = f.get_count("tokens_seen");
  counters.elapsed_seconds = f.get_double("elapsed_seconds");
  CHECK(counters.elapsed_seconds >= 0, where, ": \"elapsed_seconds\" must be >= 0 (got ",
        counters.elapsed_seconds, ")");
  f.finish();
  return counters;
}

EarlyStoppingState early_stopping_from_json(const json& j, const std::string& where) {
  Fields f(j, where);
  EarlyStoppingState state;
  state.best_score = f.get_optional_double("best_score");
  state.best_step = f.get_count("best_step");
  state.evals_without_improvement = f.get_count("evals_without_improvement");
  f.finish();
  return state;
}

Rng::State rng_state_from_json(const json& j, const std::string& where) {
  Fields f(j, where);
  Rng::State state;
  state.seed = f.get_uint64("seed");
  state.counter = f.get_uint64("counter");
  f.finish();
  return state;
}

BatcherState batcher_state_from_json(const json& j, const std::string& where) {
  Fields f(j, where);
  BatcherState state;
  state.epoch = f.get_count("epoch");
  state.position = f.get_count("position");
  state.rng = rng_state_from_json(f.get_object("rng"), f.where("rng"));
  f.finish();
  return state;
}

// ---- save / load

void save_checkpoint(const std::filesystem::path& path, const Module& model,
                     const Optimizer& optimizer, const TrainingState& state) {
  CHECK(!state.early_stopping.best_score || std::isfinite(*state.early_stopping.best_score),
        "save_checkpoint ", path.string(), ": early_stopping.best_score is not finite (",
        *state.early_stopping.best_score, ")");
  CHECK(std::isfinite(state.counters.elapsed_seconds), "save_checkpoint ", path.string(),
        ": counters.elapsed_seconds is not finite");
  SafetensorsContent content;
  for (const auto& [name, parameter] : model.named_parameters()) {
    content.f32.emplace_back(kModelPrefix + name, parameter);
  }
  OptimizerState optimizer_state = optimizer.state();
  for (auto& [name, tensor] : optimizer_state.tensors) {
    content.f32.emplace_back(kOptimPrefix + name, std::move(tensor));
  }
  content.metadata = metadata_for(optimizer, state);
  content.metadata[kChecksumKey] = checksum(safetensors_data_crc32(content), content.metadata);
  write_safetensors(path, content);
}

TrainingState load_checkpoint(const std::filesystem::path& path, Module& model,
                              Optimizer& optimizer) {
  const std::string where = "checkpoint " + path.string();
  CheckpointInfo info;
  SafetensorsFile file = read_verified(path, &info);
  CHECK(!file.content.metadata.contains("averaged_from"), where,
        ": an average of checkpoints (heed average) holds no optimizer state; training "
        "continues from the run's step_<N> checkpoints");
  CHECK(info.optimizer_name == optimizer.name(), where, ": optimizer state is for \"",
        info.optimizer_name, "\" but this run uses \"", optimizer.name(), "\"");

  const NamedParameters parameters = model.named_parameters();
  const std::vector<const Tensor*> sources = match_parameters(parameters, file.content, where);
  OptimizerState optimizer_state;
  optimizer_state.step = info.optimizer_step;
  for (const auto& [name, tensor] : file.content.f32) {
    if (starts_with(name, kOptimPrefix)) {
      optimizer_state.tensors.emplace_back(name.substr(kOptimPrefix.size()), tensor);
    }
  }
  try {
    optimizer.load_state(optimizer_state);  // checks everything before writing anything
  } catch (const Error& e) {
    CHECK(false, where, ": ", e.what());
  }
  copy_parameters(parameters, sources);
  return info.state;
}

TrainingState load_model_weights(const std::filesystem::path& path, Module& model) {
  CheckpointInfo info;
  SafetensorsFile file = read_verified(path, &info);
  const NamedParameters parameters = model.named_parameters();
  copy_parameters(parameters,
                  match_parameters(parameters, file.content, "checkpoint " + path.string()));
  return info.state;
}

CheckpointInfo read_checkpoint_info(const std::filesystem::path& path) {
  const SafetensorsHeader header = read_safetensors_header(path);
  CheckpointInfo info = info_from_metadata(header.metadata, "checkpoint " + path.string());
  for (const SafetensorsEntry& entry : header.entries) {
    if (starts_with(entry.name, kModelPrefix)) ++info.parameter_count;
  }
  return info;
}

// ---- averaging

void average_checkpoints(const std::vector<std::filesystem::path>& inputs,
                         const std::filesystem::path& output) {
  CHECK(!inputs.empty(), "average_checkpoints: no checkpoints given");
  std::vector<std::int64_t> steps;
  SafetensorsContent average;
  std::vector<std::vector<double>> sums;  // double: the mean of N floats without drift
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const std::string where = "checkpoint " + inputs[k].string();
    CheckpointInfo info;
    SafetensorsFile file = read_verified(inputs[k], &info);
    steps.push_back(info.state.counters.step);
    std::vector<std::pair<std::string, Tensor>> model;
    for (auto& [name, tensor] : file.content.f32) {
      if (starts_with(name, kModelPrefix)) model.emplace_back(name, tensor);
    }
    if (k == 0) {
      CHECK(!file.content.metadata.contains("averaged_from"), where,
            " is itself an average; give step_<N> checkpoints");
      average.metadata = file.content.metadata;
      for (const auto& [name, tensor] : model) {
        sums.emplace_back(tensor.data(), tensor.data() + tensor.numel());
        average.f32.emplace_back(name, Tensor::zeros(tensor.shape()));
      }
      continue;
    }
    CHECK(file.content.metadata.at("config_hash") == average.metadata.at("config_hash"), where,
          ": from another run or configuration than ", inputs[0].string(),
          " (config_hash differs); average checkpoints of one run");
    CHECK(model.size() == average.f32.size(), where, ": has ", model.size(),
          " model tensors, ", inputs[0].string(), " has ", average.f32.size());
    for (std::size_t i = 0; i < model.size(); ++i) {
      const auto& [name, tensor] = model[i];
      CHECK(name == average.f32[i].first && tensor.shape() == average.f32[i].second.shape(), where,
            ": tensor ", name, " ", tensor.shape(), " does not match ", average.f32[i].first, " ",
            average.f32[i].second.shape(), " of ", inputs[0].string());
      const float* x = tensor.data();
      std::vector<double>& sum = sums[i];
      for (std::size_t j = 0; j < sum.size(); ++j) sum[j] += x[j];
    }
    // The newest input's counters describe the average (its step, its training time).
    if (info.state.counters.step >= steps.front()) {
      for (const char* key : {"counters", "early_stopping"}) {
        average.metadata[key] = file.content.metadata.at(key);
      }
    }
  }
  const double n = static_cast<double>(inputs.size());
  for (std::size_t i = 0; i < average.f32.size(); ++i) {
    float* out = average.f32[i].second.data();
    for (std::size_t j = 0; j < sums[i].size(); ++j) out[j] = static_cast<float>(sums[i][j] / n);
  }
  average.metadata["averaged_from"] = json(steps).dump();
  average.metadata.erase(kChecksumKey);
  average.metadata[kChecksumKey] = checksum(safetensors_data_crc32(average), average.metadata);
  write_safetensors(output, average);
}

}  // namespace heed
