// Readers: text files -> strings and class ids. See readers.h for the formats and the policy on
// malformed lines. All reading goes through LineReader (plain or gzip, any line length).
#include "heed/data/readers.h"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "data/line_reader.h"
#include "heed/util/check.h"

namespace heed {
namespace {

using data_internal::LineReader;

constexpr size_t kMaxSkipReasons = 5;

bool is_blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

// A malformed line either stops the read with an error naming file and line, or (skip_malformed)
// is counted and skipped.
void malformed(const char* reader, bool skip, ReadStats& stats, const std::string& path,
               std::int64_t line, const std::string& what) {
  CHECK(skip, reader, ": ", path, ":", line, ": ", what,
        " (set skip_malformed to skip such lines)");
  ++stats.skipped;
  if (stats.skip_reasons.size() < kMaxSkipReasons) {
    stats.skip_reasons.push_back(str(path, ":", line, ": ", what));
  }
}

void check_not_empty(const char* reader, std::int64_t examples, const ReadStats& stats,
                     const std::string& path) {
  CHECK(examples > 0, reader, ": no examples in ", path, " (", stats.lines, " lines",
        stats.skipped > 0 ? str(", ", stats.skipped, " skipped as malformed") : std::string(), ")");
}

std::string join_names(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += items[i];
  }
  return out;
}

std::vector<std::string> split_on(const std::string& line, char separator) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t end = line.find(separator, start);
    if (end == std::string::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, end - start));
    start = end + 1;
  }
}

// ---- CSV (RFC 4180)
//
// A record is a line, unless a quoted field contains a line break: then the record continues on
// the following lines. parse_csv() is a small state machine that reports whether the record is
// complete, so the caller can append the next line and parse again.

enum class CsvStatus { kComplete, kOpenQuote, kError };

struct CsvParse {
  CsvStatus status;
  std::string error;  // for kError
};

CsvParse parse_csv(const std::string& record, std::vector<std::string>& fields) {
  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };
  fields.clear();
  std::string field;
  State state = State::kFieldStart;
  for (size_t i = 0; i < record.size(); ++i) {
    const char c = record[i];
    switch (state) {
      case State::kFieldStart:
        if (c == '"') {
          state = State::kQuoted;
        } else if (c == ',') {
          fields.push_back(std::move(field));
          field.clear();
        } else {
          field += c;
          state = State::kUnquoted;
        }
        break;
      case State::kUnquoted:
        if (c == ',') {
          fields.push_back(std::move(field));
          field.clear();
          state = State::kFieldStart;
        } else if (c == '"') {
          return {CsvStatus::kError, str("quote inside an unquoted field (column ", fields.size(),
                                         ", character ", i + 1, ")")};
        } else {
          field += c;
        }
        break;
      case State::kQuoted:
        if (c == '"') {
          state = State::kQuoteInQuoted;
        } else {
          field += c;
        }
        break;
      case State::kQuoteInQuoted:
        if (c == '"') {  // "" inside quotes is one quote
          field += '"';
          state = State::kQuoted;
        } else if (c == ',') {
          fields.push_back(std::move(field));
          field.clear();
          state = State::kFieldStart;
        } else {
          return {CsvStatus::kError, str("unexpected '", c, "' after a closing quote (column ",
                                         fields.size(), ", character ", i + 1, ")")};
        }
        break;
    }
  }
  if (state == State::kQuoted) return {CsvStatus::kOpenQuote, ""};
  fields.push_back(std::move(field));
  return {CsvStatus::kComplete, ""};
}

// Reads one record into `fields`, joining lines while a quoted field is open. Returns false at
// the end of the file. `first_line` is set to the line the record starts on; `error` is set for
// a malformed record (the record is consumed either way).
bool next_csv_record(LineReader& reader, std::vector<std::string>& fields, std::int64_t& first_line,
                     std::string& error) {
  std::string record;
  if (!reader.next(record)) return false;
  first_line = reader.line_number();
  error.clear();
  std::string more;
  while (true) {
    const CsvParse parse = parse_csv(record, fields);
    if (parse.status == CsvStatus::kComplete) return true;
    if (parse.status == CsvStatus::kError) {
      error = parse.error;
      return true;
    }
    if (!reader.next(more)) {
      error = str("quoted field opened here is never closed (end of file at line ",
                  reader.line_number(), ")");
      return true;
    }
    record += '\n';
    record += more;
  }
}

// ---- rows of a TSV/CSV file, and "label text" lines

// One field-separated row: its fields, the line it starts on, or why it is malformed.
class RowReader {
 public:
  RowReader(const std::string& path, ClassificationFormat format)
      : reader_(path), format_(format) {}

  bool next(std::vector<std::string>& fields, std::int64_t& line, std::string& error) {
    if (format_ == ClassificationFormat::kCsv) return next_csv_record(reader_, fields, line, error);
    std::string text;
    if (!reader_.next(text)) return false;
    line = reader_.line_number();
    error.clear();
    fields = split_on(text, '\t');
    return true;
  }
  std::int64_t lines_read() const { return reader_.line_number(); }

 private:
  LineReader reader_;
  ClassificationFormat format_;
};

int resolve_column(const Column& column, const char* role, const std::vector<std::string>& header,
                   bool has_header, int num_fields, const std::string& path) {
  if (!column.name.empty()) {
    CHECK(has_header, "read_classification: ", role, " column '", column.name, "' is chosen by ",
          "name but ", path, " is read without a header (has_header=false)");
    const auto it = std::find(header.begin(), header.end(), column.name);
    CHECK(it != header.end(), "read_classification: ", role, " column '", column.name,
          "' is not in the header of ", path, " (header: ", join_names(header), ")");
    return static_cast<int>(it - header.begin());
  }
  CHECK(column.index >= 0 && column.index < num_fields, "read_classification: ", role, " column ",
        column.index, " is out of range for ", path, " (", num_fields, " fields per row)");
  return column.index;
}

bool parse_integer(const std::string& s, long long& value) {
  const char* end = s.data() + s.size();
  const auto result = std::from_chars(s.data(), end, value);
  return result.ec == std::errc() && result.ptr == end;
}

// Sorted label names: numerically if every label is an integer ("2" < "10"), else as strings.
std::vector<std::string> sorted_label_names(const std::vector<std::string>& labels) {
  std::vector<std::string> names = labels;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  long long unused;
  const bool numeric = std::all_of(names.begin(), names.end(),
                                   [&](const std::string& s) { return parse_integer(s, unused); });
  if (numeric) {
    std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
      long long x = 0, y = 0;
      parse_integer(a, x);
      parse_integer(b, y);
      return x < y;
    });
  }
  return names;
}

// A well-formed row before labels are mapped to ids.
struct LabeledRow {
  std::string text;
  std::string label;
  std::int64_t line;
};

}  // namespace

std::vector<std::string> read_lines(const std::string& path) {
  LineReader reader(path);
  std::vector<std::string> lines;
  std::string line;
  while (reader.next(line)) lines.push_back(line);
  return lines;
}

std::vector<std::string> parse_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  const CsvParse parse = parse_csv(line, fields);
  CHECK(parse.status != CsvStatus::kOpenQuote, "parse_csv_line: unterminated quoted field in '",
        line, "'");
  CHECK(parse.status != CsvStatus::kError, "parse_csv_line: ", parse.error, " in '", line, "'");
  return fields;
}

ParallelText read_parallel_files(const std::string& source_path, const std::string& target_path,
                                 const ParallelReadOptions& options) {
  constexpr const char* kReader = "read_parallel_files";
  std::vector<std::string> source = read_lines(source_path);
  std::vector<std::string> target = read_lines(target_path);
  CHECK(source.size() == target.size(), kReader, ": line counts differ: ", source_path, " has ",
        source.size(), " lines, ", target_path, " has ", target.size());
  ParallelText out;
  out.stats.lines = static_cast<std::int64_t>(source.size());
  out.source.reserve(source.size());
  out.target.reserve(target.size());
  for (size_t i = 0; i < source.size(); ++i) {
    const auto line = static_cast<std::int64_t>(i) + 1;
    if (is_blank(source[i])) {
      malformed(kReader, options.skip_malformed, out.stats, source_path, line, "empty source line");
    } else if (is_blank(target[i])) {
      malformed(kReader, options.skip_malformed, out.stats, target_path, line, "empty target line");
    } else {
      out.source.push_back(std::move(source[i]));
      out.target.push_back(std::move(target[i]));
    }
  }
  out.stats.examples = static_cast<std::int64_t>(out.source.size());
  check_not_empty(kReader, out.stats.examples, out.stats, source_path);
  return out;
}

ParallelText read_tsv_pairs(const std::string& path, const TsvPairsOptions& options) {
  constexpr const char* kReader = "read_tsv_pairs";
  CHECK(options.num_fields >= 2 && options.source_field >= 0 && options.target_field >= 0 &&
            options.source_field < options.num_fields &&
            options.target_field < options.num_fields &&
            options.source_field != options.target_field,
        kReader, ": bad fields for ", path, " (source_field=", options.source_field,
        ", target_field=", options.target_field, ", num_fields=", options.num_fields, ")");
  ParallelText out;
  LineReader reader(path);
  std::string line;
  while (reader.next(line)) {
    std::vector<std::string> fields = split_on(line, '\t');
    if (static_cast<int>(fields.size()) != options.num_fields) {
      malformed(kReader, options.skip_malformed, out.stats, path, reader.line_number(),
                str("expected ", options.num_fields, " tab-separated fields, got ", fields.size()));
    } else if (is_blank(fields[options.source_field])) {
      malformed(kReader, options.skip_malformed, out.stats, path, reader.line_number(),
                "empty source field");
    } else if (is_blank(fields[options.target_field])) {
      malformed(kReader, options.skip_malformed, out.stats, path, reader.line_number(),
                "empty target field");
    } else {
      out.source.push_back(std::move(fields[options.source_field]));
      out.target.push_back(std::move(fields[options.target_field]));
    }
  }
  out.stats.lines = reader.line_number();
  out.stats.examples = static_cast<std::int64_t>(out.source.size());
  check_not_empty(kReader, out.stats.examples, out.stats, path);
  return out;
}

namespace {

// "label text" lines: the label is the first whitespace-separated token.
std::vector<LabeledRow> read_label_text_rows(const std::string& path,
                                             const ClassificationReadOptions& options,
                                             ReadStats& stats) {
  constexpr const char* kReader = "read_classification";
  std::vector<LabeledRow> rows;
  LineReader reader(path);
  std::string line;
  while (reader.next(line)) {
    const size_t label_end = line.find_first_of(" \t");
    const size_t text_start = label_end == std::string::npos
                                  ? std::string::npos
                                  : line.find_first_not_of(" \t", label_end);
    if (label_end == 0) {
      malformed(kReader, options.skip_malformed, stats, path, reader.line_number(),
                is_blank(line) ? "empty line" : "line starts with whitespace, not a label");
    } else if (is_blank(line)) {
      malformed(kReader, options.skip_malformed, stats, path, reader.line_number(), "empty line");
    } else if (text_start == std::string::npos) {
      malformed(kReader, options.skip_malformed, stats, path, reader.line_number(),
                str("no text after the label '", line.substr(0, label_end), "'"));
    } else {
      rows.push_back({line.substr(text_start), line.substr(0, label_end), reader.line_number()});
    }
  }
  stats.lines = reader.line_number();
  return rows;
}

// TSV/CSV rows: label and text columns by index or header name; fixed field count.
std::vector<LabeledRow> read_field_rows(const std::string& path,
                                        const ClassificationReadOptions& options,
                                        ReadStats& stats) {
  constexpr const char* kReader = "read_classification";
  std::vector<LabeledRow> rows;
  RowReader reader(path, options.format);
  std::vector<std::string> fields, header;
  std::int64_t line = 0;
  std::string error;
  // The header (without one: the first well-formed row) fixes the field count and the columns.
  int num_fields = -1, label_index = -1, text_index = -1;
  const auto fix_columns = [&](size_t count) {
    num_fields = static_cast<int>(count);
    label_index = resolve_column(options.label_column, "label", header, options.has_header,
                                 num_fields, path);
    text_index =
        resolve_column(options.text_column, "text", header, options.has_header, num_fields, path);
    CHECK(label_index != text_index, kReader, ": label and text are the same column (",
          label_index, ") in ", path);
  };

  if (options.has_header) {
    CHECK(reader.next(header, line, error), kReader, ": ", path, " is empty (expected a header)");
    CHECK(error.empty(), kReader, ": ", path, ":", line, ": bad header: ", error);
    fix_columns(header.size());
  }
  while (reader.next(fields, line, error)) {
    if (num_fields < 0 && error.empty()) fix_columns(fields.size());
    if (!error.empty()) {
      malformed(kReader, options.skip_malformed, stats, path, line, error);
    } else if (static_cast<int>(fields.size()) != num_fields) {
      malformed(kReader, options.skip_malformed, stats, path, line,
                str("expected ", num_fields, " fields, got ", fields.size()));
    } else if (is_blank(fields[label_index])) {
      malformed(kReader, options.skip_malformed, stats, path, line, "empty label");
    } else if (is_blank(fields[text_index])) {
      malformed(kReader, options.skip_malformed, stats, path, line, "empty text");
    } else {
      rows.push_back({std::move(fields[text_index]), std::move(fields[label_index]), line});
    }
  }
  stats.lines = reader.lines_read();
  return rows;
}

}  // namespace

ClassificationData read_classification(const std::string& path,
                                       const ClassificationReadOptions& options) {
  constexpr const char* kReader = "read_classification";
  ClassificationData out;
  std::vector<LabeledRow> rows = options.format == ClassificationFormat::kLabelText
                                     ? read_label_text_rows(path, options, out.stats)
                                     : read_field_rows(path, options, out.stats);

  if (options.labels.empty()) {
    std::vector<std::string> seen;
    seen.reserve(rows.size());
    for (const LabeledRow& row : rows) seen.push_back(row.label);
    out.label_names = sorted_label_names(seen);
  } else {
    out.label_names = options.labels;
  }
  std::unordered_map<std::string, std::int32_t> class_id;
  for (size_t i = 0; i < out.label_names.size(); ++i) {
    const bool fresh = class_id.emplace(out.label_names[i], static_cast<std::int32_t>(i)).second;
    CHECK(fresh, kReader, ": label '", out.label_names[i], "' is listed twice in the labels for ",
          path);
  }

  out.texts.reserve(rows.size());
  out.labels.reserve(rows.size());
  for (LabeledRow& row : rows) {
    const auto it = class_id.find(row.label);
    if (it == class_id.end()) {
      malformed(kReader, options.skip_malformed, out.stats, path, row.line,
                str("unknown label '", row.label, "' (labels: ", join_names(out.label_names), ")"));
      continue;
    }
    out.texts.push_back(std::move(row.text));
    out.labels.push_back(it->second);
  }
  out.stats.examples = static_cast<std::int64_t>(out.texts.size());
  check_not_empty(kReader, out.stats.examples, out.stats, path);
  return out;
}

}  // namespace heed
