#include "heed/data/readers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "data/data_testing.h"
#include "data/line_reader.h"
#include "testing/gradcheck.h"  // EXPECT_THROW_MSG

namespace heed {
namespace {

using testing::TempDir;
using testing::write_file;
using testing::write_gzip;

// ---- line reader: plain and gzip, long lines, CRLF, BOM, corrupt data

TEST(LineReader, PlainAndGzipGiveTheSameLines) {
  TempDir dir;
  const std::string long_line(300000, 'x');  // several gzgets chunks
  const std::string bom = "\xEF\xBB\xBF";
  const std::string content = bom + "first\r\nsecond\n\n" + long_line + "\nlast without newline";
  const std::string plain = write_file(dir.file("a.txt"), content);
  const std::string packed = write_gzip(dir.file("a.txt.renamed"), content);  // no .gz suffix
  EXPECT_FALSE(data_internal::is_gzip_file(plain));
  EXPECT_TRUE(data_internal::is_gzip_file(packed));
  const std::vector<std::string> expected = {"first", "second", "", long_line,
                                             "last without newline"};
  EXPECT_EQ(read_lines(plain), expected);
  EXPECT_EQ(read_lines(packed), expected);
}

TEST(LineReader, LinesAcrossBlocksAndNulBytes) {
  TempDir dir;
  std::string content;
  std::vector<std::string> expected;
  for (int i = 0; i < 30000; ++i) {  // ~0.5 MB: lines straddle the 128 KiB read blocks
    expected.push_back("line " + std::to_string(i) + std::string(i % 13, '.'));
    content += expected.back() + "\n";
  }
  expected.push_back(std::string("nul\0inside", 11));
  content += expected.back() + "\n";
  EXPECT_EQ(read_lines(write_gzip(dir.file("many.gz"), content)), expected);
  EXPECT_EQ(read_lines(write_file(dir.file("many.txt"), content)), expected);
}

TEST(LineReader, CountsLines) {
  TempDir dir;
  data_internal::LineReader reader(write_gzip(dir.file("a.gz"), "a\nb\n"));
  std::string line;
  EXPECT_EQ(reader.line_number(), 0);
  ASSERT_TRUE(reader.next(line));
  ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(line, "b");
  EXPECT_EQ(reader.line_number(), 2);
  EXPECT_FALSE(reader.next(line));
  EXPECT_TRUE(reader.compressed());
}

TEST(LineReader, MissingFileNamesIt) {
  TempDir dir;
  EXPECT_THROW_MSG(read_lines(dir.file("nope.txt")), "cannot open " + dir.file("nope.txt"));
}

TEST(LineReader, TruncatedGzipIsAnError) {
  TempDir dir;
  std::string content;
  for (int i = 0; i < 2000; ++i) content += "line number " + std::to_string(i * 7919 % 1000) + "\n";
  const std::string full = write_gzip(dir.file("full.gz"), content);
  const auto size = std::filesystem::file_size(full);
  std::filesystem::copy_file(full, dir.file("cut.gz"));
  std::filesystem::resize_file(dir.file("cut.gz"), size / 2);
  EXPECT_THROW_MSG(read_lines(dir.file("cut.gz")), "cannot read " + dir.file("cut.gz"));
}

// ---- parallel text

TEST(ReadParallel, PlainSourceGzipTarget) {
  TempDir dir;
  const std::string src = write_file(dir.file("train.de"), "Ein Hund.\nZwei Katzen.\n");
  const std::string tgt = write_gzip(dir.file("train.en.gz"), "A dog.\nTwo cats.\n");
  const ParallelText text = read_parallel_files(src, tgt);
  EXPECT_EQ(text.source, (std::vector<std::string>{"Ein Hund.", "Zwei Katzen."}));
  EXPECT_EQ(text.target, (std::vector<std::string>{"A dog.", "Two cats."}));
  EXPECT_EQ(text.stats.lines, 2);
  EXPECT_EQ(text.stats.examples, 2);
  EXPECT_EQ(text.stats.skipped, 0);
}

TEST(ReadParallel, DifferentLineCountsNameBothFiles) {
  TempDir dir;
  const std::string src = write_file(dir.file("s.txt"), "a\nb\nc\n");
  const std::string tgt = write_file(dir.file("t.txt"), "x\ny\n");
  EXPECT_THROW_MSG(read_parallel_files(src, tgt),
                   "line counts differ: " + src + " has 3 lines, " + tgt + " has 2");
}

TEST(ReadParallel, EmptyLineIsAnErrorOrSkipped) {
  TempDir dir;
  const std::string src = write_file(dir.file("s.txt"), "a\nb\nc\n");
  const std::string tgt = write_file(dir.file("t.txt"), "x\n  \nz\n");
  EXPECT_THROW_MSG(read_parallel_files(src, tgt), tgt + ":2: empty target line");
  const ParallelText text = read_parallel_files(src, tgt, {.skip_malformed = true});
  EXPECT_EQ(text.source, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(text.target, (std::vector<std::string>{"x", "z"}));
  EXPECT_EQ(text.stats.skipped, 1);
  ASSERT_EQ(text.stats.skip_reasons.size(), 1u);
  EXPECT_EQ(text.stats.skip_reasons[0], tgt + ":2: empty target line");
}

TEST(ReadParallel, NothingLeftIsAnError) {
  TempDir dir;
  const std::string src = write_file(dir.file("s.txt"), "\n\n");
  const std::string tgt = write_file(dir.file("t.txt"), "x\ny\n");
  EXPECT_THROW_MSG(read_parallel_files(src, tgt, {.skip_malformed = true}),
                   "no examples in " + src + " (2 lines, 2 skipped as malformed)");
  EXPECT_THROW_MSG(
      read_parallel_files(write_file(dir.file("e1"), ""), write_file(dir.file("e2"), "")),
      "no examples in " + dir.file("e1"));
}

TEST(ReadTsvPairs, FieldsAndErrors) {
  TempDir dir;
  const std::string path =
      write_gzip(dir.file("pairs.gz"), "Go.\tVa !\nHi.\tSalut !\nbroken line\nRun!\tCours !\n");
  EXPECT_THROW_MSG(read_tsv_pairs(path), path + ":3: expected 2 tab-separated fields, got 1");
  const ParallelText text = read_tsv_pairs(path, {.skip_malformed = true});
  EXPECT_EQ(text.source, (std::vector<std::string>{"Go.", "Hi.", "Run!"}));
  EXPECT_EQ(text.target, (std::vector<std::string>{"Va !", "Salut !", "Cours !"}));
  EXPECT_EQ(text.stats.lines, 4);
  EXPECT_EQ(text.stats.skipped, 1);

  // Three fields (Anki exports with attribution), target taken from field 1.
  const std::string three = write_file(dir.file("three.tsv"), "a\tA\tcc-by\nb\t\tcc-by\n");
  EXPECT_THROW_MSG(read_tsv_pairs(three, {.num_fields = 3}), three + ":2: empty target field");
  EXPECT_THROW_MSG(read_tsv_pairs(three, {.target_field = 3, .num_fields = 3}), "bad fields");
}

// ---- classification

TEST(ReadClassification, TsvWithHeaderByColumnName) {
  TempDir dir;
  // GLUE SST-2 layout: sentence first, label second, trailing space in the sentence kept.
  const std::string path =
      write_file(dir.file("train.tsv"), "sentence\tlabel\nit 's great \t1\ndull \t0\nfine \t1\n");
  const ClassificationData data = read_classification(
      path, {.label_column = Column::named("label"), .text_column = Column::named("sentence")});
  EXPECT_EQ(data.texts, (std::vector<std::string>{"it 's great ", "dull ", "fine "}));
  EXPECT_EQ(data.labels, (std::vector<std::int32_t>{1, 0, 1}));
  EXPECT_EQ(data.label_names, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(data.stats.lines, 4);
  EXPECT_EQ(data.stats.examples, 3);
}

TEST(ReadClassification, LabelsSortNumericallyOrAsStrings) {
  TempDir dir;
  const std::string numeric = write_file(dir.file("n.tsv"), "10\ta\n2\tb\n-1\tc\n2\td\n");
  const ClassificationData n = read_classification(numeric, {.has_header = false});
  EXPECT_EQ(n.label_names, (std::vector<std::string>{"-1", "2", "10"}));
  EXPECT_EQ(n.labels, (std::vector<std::int32_t>{2, 1, 0, 1}));

  const std::string words = write_file(dir.file("w.tsv"), "pos\ta\nneg\tb\nneutral\tc\n");
  const ClassificationData w = read_classification(words, {.has_header = false});
  EXPECT_EQ(w.label_names, (std::vector<std::string>{"neg", "neutral", "pos"}));
  EXPECT_EQ(w.labels, (std::vector<std::int32_t>{2, 0, 1}));
}

TEST(ReadClassification, GivenLabelsAndUnknownLabel) {
  TempDir dir;
  const std::string path =
      write_file(dir.file("dev.tsv"), "text\tlabel\nok\tpos\nmeh\tmid\nbad\tneg\n");
  ClassificationReadOptions options{.label_column = Column::named("label"),
                                    .text_column = Column::named("text"),
                                    .labels = {"neg", "pos"}};
  EXPECT_THROW_MSG(read_classification(path, options),
                   path + ":3: unknown label 'mid' (labels: neg, pos)");
  options.skip_malformed = true;
  const ClassificationData data = read_classification(path, options);
  EXPECT_EQ(data.texts, (std::vector<std::string>{"ok", "bad"}));
  EXPECT_EQ(data.labels, (std::vector<std::int32_t>{1, 0}));
  EXPECT_EQ(data.label_names, (std::vector<std::string>{"neg", "pos"}));
  EXPECT_EQ(data.stats.skipped, 1);
}

TEST(ReadClassification, WrongFieldCountAndEmptyText) {
  TempDir dir;
  // IMDB layout: label id rating text.
  const std::string path = write_gzip(dir.file("imdb.tsv.gz"),
                                      "label\tid\trating\ttext\n0\t0_3\t3\tBad.<br />Awful.\n"
                                      "1\t1_9\t9\n1\t2_8\t8\t \n1\t3_10\t10\tGreat fun.\n");
  ClassificationReadOptions options{.label_column = Column::named("label"),
                                    .text_column = Column::named("text")};
  EXPECT_THROW_MSG(read_classification(path, options), path + ":3: expected 4 fields, got 3");
  options.skip_malformed = true;
  const ClassificationData data = read_classification(path, options);
  EXPECT_EQ(data.texts, (std::vector<std::string>{"Bad.<br />Awful.", "Great fun."}));
  EXPECT_EQ(data.labels, (std::vector<std::int32_t>{0, 1}));
  EXPECT_EQ(data.stats.skipped, 2);
  ASSERT_EQ(data.stats.skip_reasons.size(), 2u);
  EXPECT_EQ(data.stats.skip_reasons[1], path + ":4: empty text");
}

TEST(ReadClassification, ColumnErrorsNameTheFile) {
  TempDir dir;
  const std::string path = write_file(dir.file("a.tsv"), "sentence\tlabel\nx\t1\n");
  EXPECT_THROW_MSG(
      read_classification(
          path, {.label_column = Column::named("label"), .text_column = Column::named("text")}),
      "text column 'text' is not in the header of " + path + " (header: sentence, label)");
  EXPECT_THROW_MSG(
      read_classification(path, {.label_column = Column::at(0), .text_column = Column::at(2)}),
      "text column 2 is out of range for " + path + " (2 fields per row)");
  EXPECT_THROW_MSG(
      read_classification(path, {.has_header = false, .label_column = Column::named("label")}),
      "is read without a header");
  EXPECT_THROW_MSG(read_classification(path, {.label_column = Column::at(1),
                                              .text_column = Column::named("label")}),
                   "label and text are the same column (1) in " + path);
}

TEST(ReadClassification, CsvQuoting) {
  TempDir dir;
  const std::string path = write_file(dir.file("reviews.csv"),
                                      "label,text\r\n"
                                      "pos,\"Great, really great\"\r\n"
                                      "neg,\"He said \"\"no\"\".\"\r\n"
                                      "pos,\"two\nlines\"\r\n"
                                      "neg,plain text\r\n"
                                      "pos,\"\"\"quoted\"\" start\"\r\n");
  const ClassificationData data = read_classification(path, {.format = ClassificationFormat::kCsv,
                                                             .label_column = Column::named("label"),
                                                             .text_column = Column::named("text")});
  EXPECT_EQ(data.texts, (std::vector<std::string>{"Great, really great", "He said \"no\".",
                                                  "two\nlines", "plain text", "\"quoted\" start"}));
  EXPECT_EQ(data.labels, (std::vector<std::int32_t>{1, 0, 1, 0, 1}));
  EXPECT_EQ(data.stats.lines, 7);  // the quoted line break makes 7 physical lines
}

TEST(ReadClassification, CsvErrorsReportTheRecordsFirstLine) {
  TempDir dir;
  const ClassificationReadOptions csv{.format = ClassificationFormat::kCsv, .has_header = false};
  const std::string stray = write_file(dir.file("stray.csv"), "1,\"a\nb\"\n0,5\" screen\n");
  EXPECT_THROW_MSG(read_classification(stray, csv), stray + ":3: quote inside an unquoted field");
  const std::string after = write_file(dir.file("after.csv"), "1,\"a\"b\n");
  EXPECT_THROW_MSG(read_classification(after, csv),
                   after + ":1: unexpected 'b' after a closing quote");
  const std::string open = write_file(dir.file("open.csv"), "1,ok\n0,\"never closed\nmore\n");
  EXPECT_THROW_MSG(read_classification(open, csv),
                   open + ":2: quoted field opened here is never closed (end of file at line 3)");
}

TEST(ParseCsvLine, Fields) {
  EXPECT_EQ(parse_csv_line("a,\"b,c\",,\"\""), (std::vector<std::string>{"a", "b,c", "", ""}));
  EXPECT_EQ(parse_csv_line(""), (std::vector<std::string>{""}));
  EXPECT_EQ(parse_csv_line("x,"), (std::vector<std::string>{"x", ""}));
  EXPECT_THROW_MSG(parse_csv_line("a,\"b"), "parse_csv_line: unterminated quoted field");
}

TEST(ReadClassification, LabelTextLines) {
  TempDir dir;
  const std::string path =
      write_file(dir.file("stsa.binary.train"),
                 "1 a gorgeous film .\n0\tdull\n0\n 1 indented\n1  two  spaces \n");
  const ClassificationReadOptions options{.format = ClassificationFormat::kLabelText};
  EXPECT_THROW_MSG(read_classification(path, options), path + ":3: no text after the label '0'");
  const ClassificationData data = read_classification(
      path, {.format = ClassificationFormat::kLabelText, .skip_malformed = true});
  EXPECT_EQ(data.texts, (std::vector<std::string>{"a gorgeous film .", "dull", "two  spaces "}));
  EXPECT_EQ(data.labels, (std::vector<std::int32_t>{1, 0, 1}));
  EXPECT_EQ(data.stats.skipped, 2);
  EXPECT_EQ(data.stats.skip_reasons[1], path + ":4: line starts with whitespace, not a label");
}

TEST(ReadClassification, EmptyFileIsAnError) {
  TempDir dir;
  const std::string header_only = write_file(dir.file("h.tsv"), "sentence\tlabel\n");
  EXPECT_THROW_MSG(read_classification(header_only, {.label_column = Column::named("label"),
                                                      .text_column = Column::named("sentence")}),
                   "read_classification: no examples in " + header_only);
  const std::string empty = write_file(dir.file("e.tsv"), "");
  EXPECT_THROW_MSG(read_classification(empty), empty + " is empty (expected a header)");
}

// ---- the real data sets in /work/shared/data (skipped where absent)

const std::string kSharedData = "/work/shared/data";

std::int64_t count(const std::vector<std::int32_t>& labels, std::int32_t label) {
  return std::count(labels.begin(), labels.end(), label);
}

TEST(ReadRealData, Multi30kSst2Imdb) {
  if (!std::filesystem::exists(kSharedData + "/README.md")) {
    GTEST_SKIP() << kSharedData << " not found: real-data reader checks skipped";
  }
  const std::string m30k = kSharedData + "/multi30k/raw/";
  const ParallelText train = read_parallel_files(m30k + "train.de.gz", m30k + "train.en.gz");
  EXPECT_EQ(train.stats.examples, 29000);
  EXPECT_EQ(train.target[0], "Two young, White males are outside near many bushes.");
  EXPECT_EQ(read_parallel_files(m30k + "val.de.gz", m30k + "val.en.gz").stats.examples, 1014);
  EXPECT_THROW_MSG(read_parallel_files(m30k + "val.de.gz", m30k + "test_2017_mscoco.en.gz"),
                   "has 1014 lines, " + m30k + "test_2017_mscoco.en.gz has 461");

  const ClassificationData glue_train = read_classification(
      kSharedData + "/sst2/glue/train.tsv",
      {.label_column = Column::named("label"), .text_column = Column::named("sentence")});
  EXPECT_EQ(glue_train.stats.examples, 67349);
  EXPECT_EQ(count(glue_train.labels, 1), 37569);
  const ClassificationData glue_dev = read_classification(kSharedData + "/sst2/glue/dev.tsv",
                                                          {.label_column = Column::named("label"),
                                                           .text_column = Column::named("sentence"),
                                                           .labels = glue_train.label_names});
  EXPECT_EQ(glue_dev.stats.examples, 872);
  EXPECT_EQ(count(glue_dev.labels, 0), 428);

  const ClassificationData sst_test =
      read_classification(kSharedData + "/sst2/sst_sentences/stsa.binary.test",
                          {.format = ClassificationFormat::kLabelText});
  EXPECT_EQ(sst_test.stats.examples, 1821);
  EXPECT_EQ(count(sst_test.labels, 0), 912);
  EXPECT_EQ(count(sst_test.labels, 1), 909);

  const ClassificationData imdb = read_classification(
      kSharedData + "/imdb/test.tsv.gz",
      {.label_column = Column::named("label"), .text_column = Column::named("text")});
  EXPECT_EQ(imdb.stats.examples, 25000);
  EXPECT_EQ(imdb.stats.lines, 25001);
  EXPECT_EQ(count(imdb.labels, 1), 12500);
  EXPECT_EQ(imdb.label_names, (std::vector<std::string>{"0", "1"}));
}

}  // namespace
}  // namespace heed
