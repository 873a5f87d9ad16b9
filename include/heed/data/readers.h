// Readers for the raw text of translation and classification data sets.
//
// They return plain C++ structures (strings and class ids); tokenization and batching come later
// (tokenizer.h, batcher.h). Every reader accepts plain or gzip-compressed files (detected from
// the content, not the name), lines of any length and CRLF line ends.
//
// Bad input is reported, never guessed at: a malformed line (wrong number of fields, empty text,
// unknown label, broken CSV quoting) throws an error naming the file and the line number, unless
// `skip_malformed` is set, in which case the line is skipped and counted in `ReadStats`. A file
// with no usable example is always an error.
//
//   ParallelText train = read_parallel_files("train.de.gz", "train.en.gz");
//   ClassificationReadOptions glue{.label_column = Column::named("label"),
//                                  .text_column = Column::named("sentence")};
//   ClassificationData sst = read_classification("train.tsv", glue);
//   glue.labels = sst.label_names;   // dev/test: the training set's classes, in its order
//   ClassificationData dev = read_classification("dev.tsv", glue);
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace heed {

struct ReadStats {
  std::int64_t lines = 0;     // physical lines read, header included
  std::int64_t examples = 0;  // examples returned
  std::int64_t skipped = 0;   // malformed lines skipped (only with skip_malformed)
  // The reasons of the first few skipped lines ("train.tsv:17: expected 2 fields, got 3").
  std::vector<std::string> skip_reasons;
};

// ---- translation

struct ParallelText {
  std::vector<std::string> source;
  std::vector<std::string> target;  // target[i] is the translation of source[i]
  ReadStats stats;
};

struct ParallelReadOptions {
  // Skip (and count) pairs where either side is empty or only whitespace, instead of failing.
  bool skip_malformed = false;
};

// Two line-aligned files. Different line counts are always an error (naming both files and
// both counts): a misaligned corpus cannot be repaired by skipping lines.
ParallelText read_parallel_files(const std::string& source_path, const std::string& target_path,
                                 const ParallelReadOptions& options = {});

struct TsvPairsOptions {
  int source_field = 0;
  int target_field = 1;
  int num_fields = 2;  // every line must have exactly this many tab-separated fields
  bool skip_malformed = false;
};

// One pair per line: "source<TAB>target" (e.g. the Tatoeba/Anki exports).
ParallelText read_tsv_pairs(const std::string& path, const TsvPairsOptions& options = {});

// ---- classification

enum class ClassificationFormat {
  kTsv,        // tab-separated fields, no quoting
  kCsv,        // RFC 4180: "quoted, fields", "" for a quote, newlines inside quotes
  kLabelText,  // "<label> <text>": the first whitespace-separated token is the label
};

// The formats by the names configs (data.format) and `heed eval --format` give them.
inline constexpr std::array<std::pair<std::string_view, ClassificationFormat>, 3>
    kClassificationFormatNames = {{{"tsv", ClassificationFormat::kTsv},
                                   {"csv", ClassificationFormat::kCsv},
                                   {"label_text", ClassificationFormat::kLabelText}}};

// A column chosen by position (0-based) or by its name in the header line.
struct Column {
  int index = -1;
  std::string name = {};

  static Column at(int index) { return {index, ""}; }
  static Column named(std::string name) { return {-1, std::move(name)}; }
};

struct ClassificationReadOptions {
  ClassificationFormat format = ClassificationFormat::kTsv;
  // The first line (first record for CSV) names the columns. Ignored for kLabelText.
  bool has_header = true;
  Column label_column = Column::at(0);  // TSV/CSV only
  Column text_column = Column::at(1);   // TSV/CSV only
  // The class names, class id = position. Empty: collect the labels of this file, sorted
  // (numerically if every label is an integer, else as strings) — do this for the training set
  // and pass the resulting `label_names` when reading dev/test, where an unknown label is then a
  // malformed line.
  std::vector<std::string> labels = {};
  bool skip_malformed = false;
};

struct ClassificationData {
  std::vector<std::string> texts;
  std::vector<std::int32_t> labels;      // class ids, indices into label_names
  std::vector<std::string> label_names;  // class id -> label as written in the file
  ReadStats stats;
};

// Every row must have as many fields as the header (or, without a header, as the first row).
ClassificationData read_classification(const std::string& path,
                                       const ClassificationReadOptions& options = {});

// ---- helpers

// All lines of a (plain or gzip) text file, without line ends.
std::vector<std::string> read_lines(const std::string& path);

// Splits one CSV record held entirely in `line` (RFC 4180 quoting). Throws on broken quoting.
std::vector<std::string> parse_csv_line(const std::string& line);

}  // namespace heed
