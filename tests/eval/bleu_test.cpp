#include "heed/eval/bleu.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "heed/eval/chrf.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

const std::string kFixtureDir = std::string(HEED_SOURCE_DIR) + "/tests/fixtures/sacrebleu/";

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// ---- 13a tokenizer: expected outputs worked out from the four mteval-v13a rules by hand.

TEST(Tokenize13a, Punctuation) {
  EXPECT_EQ(tokenize_13a("Hello, world!"), "Hello , world !");
  EXPECT_EQ(tokenize_13a("Mr. Smith (aged 40) -- said: yes?!"),
            "Mr . Smith ( aged 40 ) -- said : yes ? !");
  EXPECT_EQ(tokenize_13a("e.g. U.S.A."), "e . g . U . S . A .");
  EXPECT_EQ(tokenize_13a("..."), ". . .");
  EXPECT_EQ(tokenize_13a("A.,B"), "A . , B");
  EXPECT_EQ(tokenize_13a("[{x}] ^_^ ~/path\\ |pipe| @user #tag 50% a+b=c *"),
            "[ { x } ] ^ _ ^ ~ / path \\ | pipe | @ user # tag 50 % a + b = c *");
}

TEST(Tokenize13a, NumbersKeepInnerPeriodsAndCommas) {
  EXPECT_EQ(tokenize_13a("1,000.5 people came."), "1,000.5 people came .");
  EXPECT_EQ(tokenize_13a("It costs $1,000.50, I think."), "It costs $ 1,000.50 , I think .");
  EXPECT_EQ(tokenize_13a("1.2.3"), "1.2.3");
  // Only a digit on *both* sides protects the period: "3.x" and "x.3" are split, ".5" too.
  EXPECT_EQ(tokenize_13a("a.b,c 3.x x.3 .5 5."), "a . b , c 3 . x x . 3 . 5 5 .");
}

TEST(Tokenize13a, DashesSplitOnlyAfterADigit) {
  EXPECT_EQ(tokenize_13a("pre-war years 1990-1995 and -5"),
            "pre-war years 1990 - 1995 and -5");
  // "3-" matches and consumes the first dash; the second is then preceded by a dash, not a digit.
  EXPECT_EQ(tokenize_13a("a--b 3--4"), "a--b 3 - -4");
}

TEST(Tokenize13a, QuotesAndApostrophes) {
  EXPECT_EQ(tokenize_13a("He said \"hi\" and 'bye'."), "He said \" hi \" and 'bye' .");
}

TEST(Tokenize13a, HtmlEntitiesSkippedAndLineJoins) {
  // Unescaped in order &quot; &amp; &lt; &gt;, so "&amp;lt;" becomes "&lt;" and then "<".
  EXPECT_EQ(tokenize_13a("&quot;a&quot; &amp; b &lt;c&gt; &amp;lt;"), "\" a \" & b < c > <");
  EXPECT_EQ(tokenize_13a("a<skipped>b"), "ab");
  EXPECT_EQ(tokenize_13a("line-\nbreak\nnext"), "linebreak next");
}

TEST(Tokenize13a, WhitespaceIncludingUnicode) {
  EXPECT_EQ(tokenize_13a("  many   spaces\there  "), "many spaces here");
  EXPECT_EQ(tokenize_13a(""), "");
  // U+00A0 (no-break space) and U+2009 (thin space) are whitespace to Python's str.split().
  EXPECT_EQ(tokenize_13a("x\u00a0y\u2009z"), "x y z");
  EXPECT_EQ(tokenize_13a("caf\u00e9. na\u00efve,"), "caf\u00e9 . na\u00efve ,");
}

// ---- BLEU by hand

TEST(Bleu, IdenticalIs100) {
  const std::vector<std::string> text = {"The cat sat on the mat.",
                                         "A dog, 3 birds and 1,000 ants!"};
  BleuScore bleu = corpus_bleu(text, text);
  EXPECT_DOUBLE_EQ(bleu.score, 100.0);
  EXPECT_DOUBLE_EQ(bleu.bp, 1.0);
  EXPECT_EQ(bleu.sys_len, 7 + 9);
  EXPECT_EQ(bleu.ref_len, 16);
  for (double p : bleu.precisions) EXPECT_DOUBLE_EQ(p, 100.0);
}

TEST(Bleu, EmptyHypothesisIsZero) {
  BleuScore bleu = corpus_bleu({""}, {"a b c d e"});
  EXPECT_EQ(bleu.score, 0.0);
  EXPECT_EQ(bleu.bp, 0.0);
  EXPECT_EQ(bleu.sys_len, 0);
  EXPECT_EQ(bleu.ref_len, 5);
  for (double p : bleu.precisions) EXPECT_EQ(p, 0.0);
}

TEST(Bleu, BrevityPenalty) {
  // Hypothesis = the first 5 of 10 reference tokens: every n-gram matches, so BLEU = BP = e^(1-2).
  BleuScore bleu = corpus_bleu({"a b c d e"}, {"a b c d e f g h i j"});
  EXPECT_DOUBLE_EQ(bleu.bp, std::exp(-1.0));
  EXPECT_DOUBLE_EQ(bleu.score, 100.0 * std::exp(-1.0));
  EXPECT_EQ(bleu.totals, (std::array<std::int64_t, 4>{5, 4, 3, 2}));
  EXPECT_EQ(bleu.matches, (std::array<std::int64_t, 4>{5, 4, 3, 2}));
  // A longer hypothesis gets no penalty.
  EXPECT_DOUBLE_EQ(corpus_bleu({"a b c d e f"}, {"a b c d e"}).bp, 1.0);
}

TEST(Bleu, ClippedCountsAndExpSmoothing) {
  // hyp "the the the cat" vs ref "the cat sat": unigrams: "the" x3 clipped to 1, "cat" 1 -> 2/4;
  // bigrams: "the the" x2 (0), "the cat" (1) -> 1/3; trigrams 0/2 and 4-grams 0/1 are smoothed
  // by exp: 100/(2·2) and 100/(4·1). BP = 1 (4 >= 3).
  BleuScore bleu = corpus_bleu({"the the the cat"}, {"the cat sat"});
  EXPECT_EQ(bleu.matches, (std::array<std::int64_t, 4>{2, 1, 0, 0}));
  EXPECT_EQ(bleu.totals, (std::array<std::int64_t, 4>{4, 3, 2, 1}));
  EXPECT_DOUBLE_EQ(bleu.precisions[0], 50.0);
  EXPECT_DOUBLE_EQ(bleu.precisions[1], 100.0 / 3.0);
  EXPECT_DOUBLE_EQ(bleu.precisions[2], 25.0);
  EXPECT_DOUBLE_EQ(bleu.precisions[3], 25.0);
  const double expected =
      std::exp((std::log(50.0) + std::log(100.0 / 3.0) + std::log(25.0) + std::log(25.0)) / 4.0);
  EXPECT_NEAR(bleu.score, expected, 1e-12);
}

TEST(Bleu, NoFourGramsAnywhereIsZero) {
  // Without effective order, an order with no hypothesis n-grams at all zeroes the score.
  BleuScore bleu = corpus_bleu({"a b c"}, {"a b c"});
  EXPECT_EQ(bleu.score, 0.0);
  EXPECT_DOUBLE_EQ(bleu.precisions[2], 100.0);
  EXPECT_EQ(bleu.precisions[3], 0.0);
}

TEST(Bleu, CaseSensitiveAndTokenized) {
  // "Cat." tokenizes to "Cat ." : only "." matches "cat ." among the unigrams.
  BleuScore bleu = corpus_bleu({"Cat."}, {"cat."});
  EXPECT_EQ(bleu.matches[0], 1);
  EXPECT_EQ(bleu.totals[0], 2);
}

TEST(Bleu, Signature) {
  EXPECT_EQ(bleu_signature(),
            std::string("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:heed-") +
                HEED_VERSION);
  EXPECT_EQ(corpus_bleu({"a"}, {"a"}).signature, bleu_signature());
}

TEST(Bleu, BadInputNamesTheProblem) {
  EXPECT_THROW_MSG(corpus_bleu({"a", "b"}, {"a"}), "corpus_bleu: 2 hypotheses but 1 references");
  EXPECT_THROW_MSG(corpus_bleu({"a", "b"}, {"a", ""}), "corpus_bleu: reference 1 is empty");
  EXPECT_THROW_MSG(corpus_bleu({}, {}), "corpus_bleu: no sentences");
}

// ---- sacreBLEU 2.6.0's own scores on the fixture files

TEST(SacrebleuVectors, BleuAndChrfAgreeToTwoDecimals) {
  std::ifstream in(kFixtureDir + "expected.json");
  ASSERT_TRUE(in) << "missing " << kFixtureDir << "expected.json";
  const nlohmann::json expected = nlohmann::json::parse(in);
  ASSERT_GE(expected.at("cases").size(), 8u);
  for (const auto& test_case : expected.at("cases")) {
    const std::string hyp_file = test_case.at("hypothesis");
    const std::string ref_file = test_case.at("reference");
    SCOPED_TRACE(hyp_file + " vs " + ref_file);
    const auto hypotheses = read_lines(kFixtureDir + hyp_file);
    const auto references = read_lines(kFixtureDir + ref_file);
    ASSERT_EQ(hypotheses.size(), references.size());

    const BleuScore bleu = corpus_bleu(hypotheses, references);
    EXPECT_LT(std::abs(bleu.score - test_case.at("bleu").get<double>()), 0.005)
        << "BLEU " << bleu.score << " vs sacreBLEU " << test_case.at("bleu");
    const ChrfScore chrf = corpus_chrf(hypotheses, references);
    EXPECT_LT(std::abs(chrf.score - test_case.at("chrf").get<double>()), 0.005)
        << "chrF " << chrf.score << " vs sacreBLEU " << test_case.at("chrf");

    // Signatures agree up to the version field.
    auto without_version = [](const std::string& signature) {
      return signature.substr(0, signature.find("|version:"));
    };
    EXPECT_EQ(without_version(bleu.signature),
              without_version(test_case.at("bleu_signature").get<std::string>()));
    EXPECT_EQ(without_version(chrf.signature),
              without_version(test_case.at("chrf_signature").get<std::string>()));
  }
}

TEST(SacrebleuVectors, ThousandSentencesTakeMilliseconds) {
  // 1,200 sentence pairs (the 300-line files four times over); generous bound for a busy machine.
  std::vector<std::string> hypotheses, references;
  const auto hyp = read_lines(kFixtureDir + "hyp_drop20.en");
  const auto ref = read_lines(kFixtureDir + "ref.en");
  for (int copy = 0; copy < 4; ++copy) {
    hypotheses.insert(hypotheses.end(), hyp.begin(), hyp.end());
    references.insert(references.end(), ref.begin(), ref.end());
  }
  const auto start = std::chrono::steady_clock::now();
  const double bleu = corpus_bleu(hypotheses, references).score;
  const double chrf = corpus_chrf(hypotheses, references).score;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Repeating the corpus scales every count by 4 and leaves both scores unchanged.
  EXPECT_NEAR(bleu, 56.8724, 0.005);
  EXPECT_NEAR(chrf, 73.8304, 0.005);
  EXPECT_LT(seconds, 0.25);
}

}  // namespace
}  // namespace heed
