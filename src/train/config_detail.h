// Pieces shared by the files that read configurations (config.cpp, config_model.cpp): enum
// tables and the model section's reader.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heed/train/config.h"
#include "heed/train/config_reader.h"

namespace heed::config_detail {

// An enum's names in the config, in the order error messages list them.
template <typename E>
using EnumNames = std::vector<std::pair<std::string_view, E>>;

template <typename E>
std::string_view name_of(E value, const EnumNames<E>& names) {
  for (const auto& [name, v] : names) {
    if (v == value) return name;
  }
  return "?";
}

// The enum named by `key` (or `fallback` when absent): "must be one of "a", "b" (got "c"; did
// you mean ...?)" otherwise, as ConfigReader::get_enum.
template <typename E>
E get_enum_value(ConfigReader& r, std::string_view key, E fallback, const EnumNames<E>& names) {
  std::optional<std::string> text = r.get_optional<std::string>(key);
  if (!text) return fallback;
  std::vector<std::string> candidates;
  std::string list;
  for (const auto& [name, value] : names) {
    if (name == *text) return value;
    candidates.emplace_back(name);
    list += (list.empty() ? "\"" : ", \"") + std::string(name) + "\"";
  }
  std::string hint;
  if (auto similar = closest_match(*text, candidates))
    hint = "; did you mean \"" + *similar + "\"?";
  r.fail(key, "must be one of " + list + " (got \"" + *text + "\"" + hint + ")");
}

// A float as the shortest decimal that reads back as the same float (0.1f -> 0.1, not
// 0.10000000149011612), for JSON that people read.
double float_for_json(float value);

// Fails if `key` is present: for keys that only apply to another task, model type or variant.
// `why` completes "only used ...", e.g. "with \"attention\": \"luong\"".
void reject_key(ConfigReader& r, std::string_view key, const std::string& why);

}  // namespace heed::config_detail
