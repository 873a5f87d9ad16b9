// Reading the JSON configuration into typed structs, with errors that name the key.
//
// heed's trainer is driven by one JSON file. Each section of it is parsed into a typed struct
// (ModelConfig, DataConfig, TrainConfig, EvalConfig) by a `from_json(j, path)` that reads its keys
// through a ConfigReader, followed by a `validate()` for rules that involve several keys:
//
//   ModelConfig ModelConfig::from_json(const nlohmann::json& j, const std::string& path) {
//     ConfigReader r(j, path);                                 // path == "model"
//     ModelConfig c;
//     c.type = r.get_enum("type", {"transformer", "rnn"});
//     c.d_model = r.get_int<int>("d_model", {.min = 1});
//     c.dropout = r.get_float_or("dropout", 0.1, {.min = 0, .max = 1, .max_exclusive = true});
//     ConfigReader encoder = r.section("encoder");             // path "model.encoder"
//     c.encoder_layers = encoder.get_int<int>("n_layers", {.min = 1});
//     r.finish();              // keys nobody asked for, here or in "encoder", are errors
//     return c;
//   }
//
// Every error is a ConfigError whose message starts with the full key path, then the rule, then
// the offending value:
//   train.batch_tokens: required key is missing
//   train.batch_tokens: expected an integer (got "abc")
//   train.label_smoothing: must be in [0, 1) (got 1.5)
//   model.encoder.n_layer: unknown key (did you mean "n_layers"?)
//
// Unknown keys: the reader records which keys were read. `finish()` reports every key of the
// object (and of the sections opened from it) that nothing read, with the closest key that was
// asked for as a suggestion. There is no check in a destructor: call finish() explicitly.
//
// A missing optional key and a key set to `null` both mean "use the default" (so `--set
// train.max_steps=null` restores a default); a required key set to null is a type error.
//
// The document itself comes from load_config_file() (JSON with // and /* */ comments allowed;
// syntax errors report file:line:column; duplicate keys are errors), then apply_overrides() for
// the command line's `--set key.path=value`, before any from_json, so overrides pass the same
// checks as the file. config_hash() fingerprints the resolved document for resume checks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "heed/util/check.h"

namespace heed {

// A configuration error. what() is "<where>: <message>", where `where` is a key path
// ("train.lr"), a file position ("config.json:3:7") or an override ("--set train.lr=x").
class ConfigError : public Error {
 public:
  ConfigError(std::string where, const std::string& message);

  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

// Bounds for an integer key; an unset bound is unchecked. {.min = 1} reads as "must be >= 1".
struct IntRange {
  std::optional<std::int64_t> min = std::nullopt;
  std::optional<std::int64_t> max = std::nullopt;
};

// Bounds for a real-valued key. {.min = 0, .max = 1, .max_exclusive = true} is [0, 1).
struct FloatRange {
  std::optional<double> min = std::nullopt;
  std::optional<double> max = std::nullopt;
  bool min_exclusive = false;
  bool max_exclusive = false;
};

enum class PathKind { kAny, kFile, kDirectory };

// Rules for a file-system path. Relative paths are kept as written (relative to the working
// directory); `kind` is only checked for a path that exists.
struct PathRule {
  bool must_exist = false;
  PathKind kind = PathKind::kAny;
};

// The same range checks the reader applies, for validate() functions that check computed or
// cross-key values: throws ConfigError("<where>: must be >= 1 (got 0)").
void check_int_range(const std::string& where, std::int64_t value, const IntRange& range);
void check_float_range(const std::string& where, double value, const FloatRange& range);

namespace config_detail {

// Value -> C++ conversions with "<where>: expected ... (got ...)" errors.
bool to_bool(const nlohmann::json& value, const std::string& where);
std::int64_t to_int(const nlohmann::json& value, const std::string& where);
double to_float(const nlohmann::json& value, const std::string& where);
std::string to_string(const nlohmann::json& value, const std::string& where);
void expect_array(const nlohmann::json& value, const std::string& where);
void check_float32(double value, const std::string& where);

template <typename T>
struct IsVector : std::false_type {};
template <typename T, typename A>
struct IsVector<std::vector<T, A>> : std::true_type {};

template <typename T>
T convert(const nlohmann::json& value, const std::string& where) {
  if constexpr (std::is_same_v<T, bool>) {
    return to_bool(value, where);
  } else if constexpr (std::is_integral_v<T>) {
    std::int64_t x = to_int(value, where);
    // The target type's own limits (uint64 beyond int64 cannot be written in a config anyway).
    constexpr auto lo = static_cast<std::int64_t>(std::numeric_limits<T>::min());
    constexpr std::int64_t hi =
        std::numeric_limits<T>::max() >
                static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
            ? std::numeric_limits<std::int64_t>::max()
            : static_cast<std::int64_t>(std::numeric_limits<T>::max());
    check_int_range(where, x, IntRange{lo, hi});
    return static_cast<T>(x);
  } else if constexpr (std::is_floating_point_v<T>) {
    double x = to_float(value, where);
    if constexpr (std::is_same_v<T, float>) check_float32(x, where);
    return static_cast<T>(x);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return to_string(value, where);
  } else if constexpr (std::is_same_v<T, nlohmann::json>) {
    return value;
  } else if constexpr (IsVector<T>::value) {
    expect_array(value, where);
    T out;
    out.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) {
      out.push_back(
          convert<typename T::value_type>(value[i], where + "[" + std::to_string(i) + "]"));
    }
    return out;
  } else {
    static_assert(!sizeof(T),
                  "ConfigReader: unsupported type (bool, integers, float, double, "
                  "std::string, nlohmann::json or std::vector of those)");
  }
}

}  // namespace config_detail

// Typed, checked access to one JSON object at a key path. Copies of a reader share its record of
// which keys were read. The JSON document must outlive the reader.
class ConfigReader {
 public:
  // `path` is where `object` sits in the document: "" for the whole document, "train",
  // "model.encoder". Throws ConfigError if `object` is not a JSON object.
  ConfigReader(const nlohmann::json& object, std::string path);
  ConfigReader(const nlohmann::json&& object, std::string path) = delete;  // would dangle

  const std::string& path() const { return state_->path; }
  // "train" + "lr" -> "train.lr" (just "lr" at the top level).
  std::string key_path(std::string_view key) const;

  // Whether the key is present and not null. Does not count as reading it.
  bool contains(std::string_view key) const;

  // Required key: throws "<path>.<key>: required key is missing" when absent, and
  // "expected <type> (got <value>)" for a wrong type (null included). T: bool, any integer type,
  // float, double, std::string, nlohmann::json, or a std::vector of those.
  template <typename T>
  T get(std::string_view key) {
    const nlohmann::json& value = require(key);
    return config_detail::convert<T>(value, key_path(key));
  }
  // Optional key: `fallback` when absent or null.
  template <typename T>
  T get_or(std::string_view key, T fallback) {
    const nlohmann::json* value = find(key);
    return value ? config_detail::convert<T>(*value, key_path(key)) : fallback;
  }
  std::string get_or(std::string_view key, const char* fallback) {
    return get_or<std::string>(key, std::string(fallback));
  }
  template <typename T>
  std::optional<T> get_optional(std::string_view key) {
    const nlohmann::json* value = find(key);
    if (!value) return std::nullopt;
    return config_detail::convert<T>(*value, key_path(key));
  }

  // Integers with bounds; T's own limits are checked too. r.get_int<int>("n_layers", {.min = 1}).
  template <typename T = std::int64_t>
  T get_int(std::string_view key, IntRange range = {}) {
    static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>,
                  "get_int: T must be an integer type");
    const nlohmann::json& value = require(key);
    const std::string where = key_path(key);
    check_int_range(where, config_detail::to_int(value, where), range);  // the rule first,
    return config_detail::convert<T>(value, where);                      // then T's limits
  }
  template <typename T = std::int64_t>
  T get_int_or(std::string_view key, T fallback, IntRange range = {}) {
    if (!find(key)) return fallback;
    return get_int<T>(key, range);
  }

  // Reals (JSON integers are accepted) with bounds.
  double get_float(std::string_view key, FloatRange range = {});
  double get_float_or(std::string_view key, double fallback, FloatRange range = {});

  // A string that must be one of `choices`; the error lists them and suggests the closest.
  std::string get_enum(std::string_view key, std::initializer_list<std::string_view> choices);
  std::string get_enum_or(std::string_view key, std::string fallback,
                          std::initializer_list<std::string_view> choices);

  // A non-empty path string, checked against `rule`.
  std::filesystem::path get_path(std::string_view key, PathRule rule = {});
  std::filesystem::path get_path_or(std::string_view key, std::filesystem::path fallback,
                                    PathRule rule = {});

  // A nested object as a reader at "<path>.<key>"; its unread keys are reported by this
  // reader's finish() as well as its own. Required: throws when absent.
  ConfigReader section(std::string_view key);
  // Same, but an absent (or null) key gives an empty section, so its get_or defaults apply.
  ConfigReader optional_section(std::string_view key);

  // The raw value of a required key, counted as read: for handing a sub-object to another
  // struct's from_json(reader.value("encoder"), reader.key_path("encoder")).
  const nlohmann::json& value(std::string_view key);

  // Accepts a key without reading it (e.g. one that is read elsewhere, or documentation).
  void ignore(std::string_view key);

  // Throws ConfigError("<path>.<key>: <message>"), for validate()-style rules on one key.
  [[noreturn]] void fail(std::string_view key, const std::string& message) const;

  // Throws one ConfigError listing every key of this object and of the sections opened from it
  // that was not read: "<path>.<key>: unknown key (did you mean "<closest>"?)", one per line.
  void finish() const;

 private:
  struct State {
    const nlohmann::json* object = nullptr;
    std::string path;
    std::set<std::string, std::less<>> asked;  // every key a getter looked for (suggestions)
    std::set<std::string, std::less<>> read;   // keys present and read
    std::map<std::string, std::shared_ptr<State>, std::less<>> sections;
  };
  explicit ConfigReader(std::shared_ptr<State> state) : state_(std::move(state)) {}

  // The value at `key`, or nullptr if absent or null; records the key as asked for and read.
  const nlohmann::json* find(std::string_view key);
  const nlohmann::json& require(std::string_view key);
  ConfigReader open_section(std::string_view key, const nlohmann::json& object);
  static void collect_unknown(const State& state, std::vector<std::string>& errors);

  std::shared_ptr<State> state_;
};

// ---- documents

// Parses `text` as JSON (// and /* */ comments allowed). `source` names it in errors:
// "<source>:<line>:<column>: invalid JSON: <reason>", "<source>: duplicate key "train.lr"".
nlohmann::json parse_config_text(std::string_view text, const std::string& source);
// Reads and parses a file; "<file>: cannot open file" when it cannot be read.
nlohmann::json load_config_file(const std::filesystem::path& file);

// One command-line override: `--set model.encoder.n_layers=6`.
struct ConfigOverride {
  std::string text;                   // as given, for messages
  std::vector<std::string> key_path;  // {"model", "encoder", "n_layers"}
  nlohmann::json value;               // parsed as JSON if it parses, else the raw string
};

// "a.b.c=value". The value is JSON when it parses as JSON (3, 1e-4, true, null, [1, 2],
// "\"quoted\"", {"k": 1}), otherwise the text itself as a string (transformer, data/x.txt).
ConfigOverride parse_override(std::string_view assignment);
// Sets the value, creating missing intermediate objects; throws if the path goes through a value
// that is not an object. A key unknown to the schema is caught later by finish().
void apply_override(nlohmann::json& document, const ConfigOverride& override_);
void apply_overrides(nlohmann::json& document, const std::vector<std::string>& assignments);

// ---- fingerprints and suggestions

// FNV-1a (64-bit) of the canonical dump of `value` (keys sorted, no whitespace): equal documents
// hash equally whatever their formatting or key order. Note 1 and 1.0 are different values.
std::uint64_t config_hash(const nlohmann::json& value);
// The same, as 16 lower-case hex digits.
std::string config_hash_hex(const nlohmann::json& value);

// Optimal-string-alignment Damerau-Levenshtein distance: insertions, deletions, substitutions
// and transpositions of adjacent characters each cost 1.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word`, if one is close enough to be a plausible typo (distance at
// most max(1, |word| / 3), or equal ignoring case). Ties go to the first candidate.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

// A JSON value as shown in messages: its compact dump, cut to 60 characters.
std::string describe_value(const nlohmann::json& value);

}  // namespace heed
