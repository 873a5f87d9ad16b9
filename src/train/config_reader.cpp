// ConfigReader and the document helpers: loading with positioned syntax errors, `--set`
// overrides, unknown-key suggestions and the config fingerprint. See config_reader.h.
#include "heed/train/config_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <system_error>

namespace heed {

using nlohmann::json;

ConfigError::ConfigError(std::string where, const std::string& message)
    : Error(where.empty() ? message : where + ": " + message), where_(std::move(where)) {}

// ---- messages

namespace {

// Shortest text that reads back as the same double: 1 -> "1", 0.1 -> "0.1", 1e-9 -> "1e-09".
std::string format_number(double x) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), x);
  return error == std::errc{} ? std::string(buffer, end) : std::to_string(x);
}

std::string quoted(std::string_view s) { return json(std::string(s)).dump(); }

[[noreturn]] void fail_type(const std::string& where, const char* expected, const json& value) {
  throw ConfigError(where, str("expected ", expected, " (got ", describe_value(value), ")"));
}

}  // namespace

std::string describe_value(const json& value) {
  constexpr std::size_t kMaxChars = 60;
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxChars) text = text.substr(0, kMaxChars - 3) + "...";
  return text;
}

void check_int_range(const std::string& where, std::int64_t value, const IntRange& range) {
  bool below = range.min && value < *range.min;
  bool above = range.max && value > *range.max;
  if (!below && !above) return;
  std::string rule = range.min && range.max ? str("must be in [", *range.min, ", ", *range.max, "]")
                     : range.min            ? str("must be >= ", *range.min)
                                            : str("must be <= ", *range.max);
  throw ConfigError(where, str(rule, " (got ", value, ")"));
}

void check_float_range(const std::string& where, double value, const FloatRange& range) {
  bool below = range.min && (range.min_exclusive ? value <= *range.min : value < *range.min);
  bool above = range.max && (range.max_exclusive ? value >= *range.max : value > *range.max);
  if (!below && !above && !std::isnan(value)) return;
  std::string rule;
  if (range.min && range.max) {
    rule = str("must be in ", range.min_exclusive ? "(" : "[", format_number(*range.min), ", ",
               format_number(*range.max), range.max_exclusive ? ")" : "]");
  } else if (range.min) {
    rule = str("must be ", range.min_exclusive ? "> " : ">= ", format_number(*range.min));
  } else if (range.max) {
    rule = str("must be ", range.max_exclusive ? "< " : "<= ", format_number(*range.max));
  } else {
    rule = "must be a number";  // only NaN gets here
  }
  throw ConfigError(where, str(rule, " (got ", format_number(value), ")"));
}

// ---- conversions

namespace config_detail {

bool to_bool(const json& value, const std::string& where) {
  if (!value.is_boolean()) fail_type(where, "a boolean", value);
  return value.get<bool>();
}

std::int64_t to_int(const json& value, const std::string& where) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() &&
        value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      fail_type(where, "an integer that fits in 64 bits", value);
    }
    return value.get<std::int64_t>();
  }
  // 1e4 and 3.0 are floats to a JSON parser but integers to a reader: accept exact integers.
  if (value.is_number_float()) {
    double x = value.get<double>();
    if (std::trunc(x) == x && std::abs(x) < 9.0e15) return static_cast<std::int64_t>(x);
  }
  fail_type(where, "an integer", value);
}

double to_float(const json& value, const std::string& where) {
  if (!value.is_number()) fail_type(where, "a number", value);
  return value.get<double>();
}

std::string to_string(const json& value, const std::string& where) {
  if (!value.is_string()) fail_type(where, "a string", value);
  return value.get<std::string>();
}

void expect_array(const json& value, const std::string& where) {
  if (!value.is_array()) fail_type(where, "an array", value);
}

void check_float32(double value, const std::string& where) {
  constexpr double kMax = std::numeric_limits<float>::max();
  check_float_range(where, value, FloatRange{.min = -kMax, .max = kMax});
}

}  // namespace config_detail

// ---- ConfigReader

ConfigReader::ConfigReader(const json& object, std::string path)
    : state_(std::make_shared<State>()) {
  state_->object = &object;
  state_->path = std::move(path);
  if (!object.is_object()) fail_type(state_->path, "an object", object);
}

std::string ConfigReader::key_path(std::string_view key) const {
  return state_->path.empty() ? std::string(key) : str(state_->path, ".", key);
}

bool ConfigReader::contains(std::string_view key) const {
  state_->asked.emplace(key);
  auto it = state_->object->find(key);
  return it != state_->object->end() && !it->is_null();
}

const json* ConfigReader::find(std::string_view key) {
  state_->asked.emplace(key);
  auto it = state_->object->find(key);
  if (it == state_->object->end()) return nullptr;
  state_->read.emplace(key);
  return it->is_null() ? nullptr : &*it;
}

const json& ConfigReader::require(std::string_view key) {
  state_->asked.emplace(key);
  auto it = state_->object->find(key);
  if (it != state_->object->end()) {
    state_->read.emplace(key);
    return *it;  // a null is reported by the conversion as "expected ... (got null)"
  }
  // A present key that nothing asked for and that looks like this one is probably a typo of it.
  std::vector<std::string> present;
  for (const auto& item : state_->object->items()) {
    if (!state_->asked.count(item.key())) present.push_back(item.key());
  }
  std::string message = "required key is missing";
  if (auto similar = closest_match(key, present)) {
    message += str(" (found ", quoted(*similar), ": a typo?)");
  }
  throw ConfigError(key_path(key), message);
}

double ConfigReader::get_float(std::string_view key, FloatRange range) {
  double x = get<double>(key);
  check_float_range(key_path(key), x, range);
  return x;
}

double ConfigReader::get_float_or(std::string_view key, double fallback, FloatRange range) {
  return find(key) ? get_float(key, range) : fallback;
}

std::string ConfigReader::get_enum(std::string_view key,
                                   std::initializer_list<std::string_view> choices) {
  std::string x = get<std::string>(key);
  if (std::find(choices.begin(), choices.end(), x) != choices.end()) return x;
  std::string list;
  std::vector<std::string> candidates;
  for (std::string_view choice : choices) {
    list += (list.empty() ? "" : ", ") + quoted(choice);
    candidates.emplace_back(choice);
  }
  std::string hint;
  if (auto similar = closest_match(x, candidates)) {
    hint = str("; did you mean ", quoted(*similar), "?");
  }
  fail(key, str("must be one of ", list, " (got ", quoted(x), hint, ")"));
}

std::string ConfigReader::get_enum_or(std::string_view key, std::string fallback,
                                      std::initializer_list<std::string_view> choices) {
  return find(key) ? get_enum(key, choices) : fallback;
}

std::filesystem::path ConfigReader::get_path(std::string_view key, PathRule rule) {
  namespace fs = std::filesystem;
  fs::path path = get<std::string>(key);
  if (path.empty()) fail(key, "expected a non-empty path (got \"\")");
  std::error_code error;
  fs::file_status status = fs::status(path, error);
  bool exists = fs::exists(status);
  if (rule.must_exist && !exists) {
    std::string relative_to;
    if (path.is_relative()) {
      relative_to = str(" (relative to ", fs::current_path(error).string(), ")");
    }
    fail(key, str("no such file or directory: ", path.string(), relative_to));
  }
  if (exists && rule.kind == PathKind::kFile && !fs::is_regular_file(status)) {
    fail(key, str("expected a file, but ", path.string(), " is a directory or special file"));
  }
  if (exists && rule.kind == PathKind::kDirectory && !fs::is_directory(status)) {
    fail(key, str("expected a directory, but ", path.string(), " is a file"));
  }
  return path;
}

std::filesystem::path ConfigReader::get_path_or(std::string_view key,
                                                std::filesystem::path fallback, PathRule rule) {
  return find(key) ? get_path(key, rule) : fallback;
}

ConfigReader ConfigReader::open_section(std::string_view key, const json& object) {
  // Opening the same section twice shares one record of read keys.
  auto it = state_->sections.find(key);
  if (it != state_->sections.end()) return ConfigReader(it->second);
  ConfigReader section(object, key_path(key));
  state_->sections.emplace(std::string(key), section.state_);
  return section;
}

ConfigReader ConfigReader::section(std::string_view key) { return open_section(key, require(key)); }

ConfigReader ConfigReader::optional_section(std::string_view key) {
  static const json kEmpty = json::object();
  const json* value = find(key);
  return open_section(key, value ? *value : kEmpty);
}

const json& ConfigReader::value(std::string_view key) { return require(key); }

void ConfigReader::ignore(std::string_view key) {
  state_->asked.emplace(key);
  state_->read.emplace(key);
}

void ConfigReader::fail(std::string_view key, const std::string& message) const {
  throw ConfigError(key_path(key), message);
}

void ConfigReader::collect_unknown(const State& state, std::vector<std::string>& errors) {
  std::vector<std::string> asked(state.asked.begin(), state.asked.end());
  for (const auto& item : state.object->items()) {
    if (state.read.count(item.key())) continue;
    std::string where = state.path.empty() ? item.key() : state.path + "." + item.key();
    std::string message = where + ": unknown key";
    if (auto similar = closest_match(item.key(), asked)) {
      message += str(" (did you mean ", quoted(*similar), "?)");
    }
    errors.push_back(message);
  }
  for (const auto& [key, section] : state.sections) collect_unknown(*section, errors);
}

void ConfigReader::finish() const {
  std::vector<std::string> errors;
  collect_unknown(*state_, errors);
  if (errors.empty()) return;
  std::string message;
  for (const std::string& line : errors) message += (message.empty() ? "" : "\n") + line;
  throw ConfigError("", message);
}

// ---- documents

namespace {

// 1-based line and column (in bytes) of the character at `offset`.
std::pair<std::size_t, std::size_t> line_and_column(std::string_view text, std::size_t offset) {
  std::size_t line = 1 + std::count(text.begin(), text.begin() + offset, '\n');
  std::size_t newline = offset == 0 ? std::string_view::npos : text.rfind('\n', offset - 1);
  std::size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
  return {line, offset - line_start + 1};
}

// Tracks the key path while parsing, to reject an object that has the same key twice (plain
// nlohmann keeps the last one silently, which hides copy-paste mistakes).
class DuplicateKeyCheck {
 public:
  explicit DuplicateKeyCheck(std::string source) : source_(std::move(source)) {}

  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: frames_.push_back({true}); break;
      case json::parse_event_t::array_start: frames_.push_back({false}); break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames_.pop_back();
        next_element();
        break;
      case json::parse_event_t::key: {
        Frame& frame = frames_.back();
        frame.key = parsed.get<std::string>();
        if (!frame.keys.insert(frame.key).second) {
          throw ConfigError(source_, str("duplicate key ", quoted(current_path())));
        }
        break;
      }
      case json::parse_event_t::value: next_element(); break;
    }
    return true;
  }

 private:
  struct Frame {
    bool is_object;
    std::set<std::string> keys = {};
    std::string key = {};
    std::size_t index = 0;
  };

  void next_element() {
    if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().index;
  }

  std::string current_path() const {
    std::string path;
    for (const Frame& frame : frames_) {
      path += frame.is_object ? (path.empty() ? "" : ".") + frame.key : str("[", frame.index, "]");
    }
    return path;
  }

  std::string source_;
  std::vector<Frame> frames_;
};

}  // namespace

json parse_config_text(std::string_view text, const std::string& source) {
  try {
    return json::parse(text.begin(), text.end(), DuplicateKeyCheck(source),
                       /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    // e.byte counts the characters read, so it is the 1-based offset of the character that
    // failed (or one past the end). Point at the last non-blank character up to there: for
    // `"b": tru<newline>` that is the "u" of the bad literal rather than the newline after it.
    std::size_t offset = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    while (offset > 0 &&
           (offset >= text.size() || std::isspace(static_cast<unsigned char>(text[offset])))) {
      --offset;
    }
    auto [line, column] = line_and_column(text, offset);
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line 4, column 0: ".
    std::string reason = e.what();
    std::size_t start = reason.find("parse error");
    if (start != std::string::npos) start = reason.find(": ", start);
    if (start != std::string::npos) reason = reason.substr(start + 2);
    throw ConfigError(str(source, ":", line, ":", column), "invalid JSON: " + reason);
  }
}

json load_config_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file.string(), "cannot open file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(file.string(), "cannot read file");
  return parse_config_text(text.str(), file.string());
}

ConfigOverride parse_override(std::string_view assignment) {
  ConfigOverride result;
  result.text = std::string(assignment);
  const std::string where = "--set " + result.text;
  std::size_t equals = assignment.find('=');
  if (equals == std::string_view::npos) throw ConfigError(where, "expected key.path=value");
  std::string_view key = assignment.substr(0, equals);
  std::string_view value = assignment.substr(equals + 1);
  for (std::size_t start = 0;;) {
    std::size_t dot = key.find('.', start);
    std::string_view part = key.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (part.empty()) {
      throw ConfigError(where, "empty key in key path \"" + std::string(key) + "\"");
    }
    result.key_path.emplace_back(part);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  // JSON if it is JSON (numbers, true/false/null, arrays, objects, "quoted"), else a string.
  result.value = json::parse(value.begin(), value.end(), nullptr, /*allow_exceptions=*/false);
  if (result.value.is_discarded()) result.value = std::string(value);
  return result;
}

void apply_override(json& document, const ConfigOverride& override_) {
  const std::string where = "--set " + override_.text;
  if (!document.is_object()) fail_type(where, "the document to be an object", document);
  json* node = &document;
  std::string path;
  for (std::size_t i = 0; i + 1 < override_.key_path.size(); ++i) {
    const std::string& key = override_.key_path[i];
    path += (path.empty() ? "" : ".") + key;
    json& child = (*node)[key];  // creates null when absent
    if (child.is_null()) child = json::object();
    if (!child.is_object()) {
      throw ConfigError(where, str(path, " is not an object (got ", describe_value(child), ")"));
    }
    node = &child;
  }
  (*node)[override_.key_path.back()] = override_.value;
}

void apply_overrides(json& document, const std::vector<std::string>& assignments) {
  for (const std::string& assignment : assignments) {
    apply_override(document, parse_override(assignment));
  }
}

// ---- fingerprints and suggestions

std::uint64_t config_hash(const json& value) {
  // FNV-1a 64: http://www.isthe.com/chongo/tech/comp/fnv/ . nlohmann::json keeps object keys
  // sorted and prints numbers in a fixed shortest form, so the dump is canonical.
  constexpr std::uint64_t kOffsetBasis = 14695981039346656037ull;
  constexpr std::uint64_t kPrime = 1099511628211ull;
  std::uint64_t hash = kOffsetBasis;
  for (unsigned char c : value.dump()) {
    hash ^= c;
    hash *= kPrime;
  }
  return hash;
}

std::string config_hash_hex(const json& value) {
  std::uint64_t hash = config_hash(value);
  std::string hex(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) hex[i] = "0123456789abcdef"[hash & 0xf];
  return hex;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // d[i][j] = distance between a[0, i) and b[0, j), three rows at a time.
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::size_t> before(m + 1), previous(m + 1), current(m + 1);
  for (std::size_t j = 0; j <= m; ++j) previous[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);  // adjacent transposition
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[m];
}

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    std::size_t distance = lower(candidate) == lower(word) ? 0 : edit_distance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace heed
