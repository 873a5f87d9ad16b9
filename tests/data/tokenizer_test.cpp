#include "heed/data/tokenizer.h"

#include <gtest/gtest.h>
#include <sentencepiece_trainer.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "data/data_testing.h"
#include "testing/gradcheck.h"  // EXPECT_THROW_MSG

namespace heed {
namespace {

using testing::TempDir;
using testing::write_file;
using testing::write_gzip;

// `n` sentences of 4–9 words (a fixed LCG, not Rng, so that the text does not change if Rng
// does). Half the words are common English ones, half are made of two or three random syllables,
// so that the corpus has enough distinct substrings for a 100-piece unigram vocabulary.
std::vector<std::string> make_sentences(int n, std::uint32_t seed) {
  static const char* kWords[] = {
      "the",   "a",      "dog",    "cat",   "man",     "woman", "child",  "runs",
      "walks", "sits",   "plays",  "with",  "ball",    "in",    "park",   "near",
      "river", "under",  "tree",   "house", "blue",    "red",   "green",  "small",
      "big",   "street", "water",  "jumps", "over",    "fence", "smiles", "while",
      "two",   "three",  "people", "crowd", "watches", "bike",  "rides",  "down",
      "hill",  "snow",   "beach",  "sunny", "young",   "old",   "shirt",  "wearing"};
  static const char* kSyllables[] = {"ka", "lo", "mi", "ne", "su", "ta", "ri", "po",
                                     "ve", "du", "ho", "ja", "bi", "ze", "fu", "go"};
  std::uint32_t state = seed;
  auto next = [&state](std::uint32_t range) {
    state = state * 1664525u + 1013904223u;
    return (state >> 8) % range;
  };
  std::vector<std::string> sentences;
  for (int i = 0; i < n; ++i) {
    std::string s;
    const std::uint32_t words = 4 + next(6);
    for (std::uint32_t w = 0; w < words; ++w) {
      if (w > 0) s.append(" ");
      if (next(2) == 0) {
        s.append(kWords[next(48)]);
      } else {
        const std::uint32_t syllables = 2 + next(2);
        for (std::uint32_t k = 0; k < syllables; ++k) s.append(kSyllables[next(16)]);
      }
    }
    s.append(" .");
    sentences.push_back(s);
  }
  return sentences;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TokenizerTrainOptions tiny_options(const TempDir& dir, const std::vector<std::string>& inputs) {
  TokenizerTrainOptions options;
  options.input_files = inputs;
  options.model_dir = dir.path().string();
  options.model_name = "tiny";
  options.vocab_size = 100;
  return options;
}

void expect_round_trip(const Tokenizer& tok, const std::vector<std::string>& sentences) {
  for (const std::string& s : sentences) {
    const std::vector<std::int32_t> ids = tok.encode(s);
    ASSERT_FALSE(ids.empty()) << s;
    for (std::int32_t id : ids) {
      EXPECT_GT(id, kEosId) << s;  // seen characters only: no <unk>, no specials
      EXPECT_LT(id, tok.vocab_size()) << s;
    }
    EXPECT_EQ(tok.decode(ids), s);
    const std::vector<std::string> pieces = tok.encode_pieces(s);
    ASSERT_EQ(pieces.size(), ids.size()) << s;
    std::string joined;
    for (size_t i = 0; i < pieces.size(); ++i) {
      EXPECT_EQ(pieces[i], tok.id_to_piece(ids[i]));
      EXPECT_EQ(tok.piece_to_id(pieces[i]), ids[i]);
      joined += pieces[i];
    }
    // Pieces spell the text with "▁" (U+2581) marking each word start.
    std::string spaced;
    for (char c : s) spaced += c == ' ' ? std::string("\u2581") : std::string(1, c);
    EXPECT_EQ(joined, "\u2581" + spaced);
  }
}

TEST(Tokenizer, UnigramTrainEncodeDecode) {
  TempDir dir;
  const std::vector<std::string> train = make_sentences(400, 1);
  const std::string input = write_file(dir.file("train.txt"), join_lines(train));
  const std::string model_path = Tokenizer::train(tiny_options(dir, {input}));
  EXPECT_EQ(model_path, dir.file("tiny.model"));
  EXPECT_TRUE(std::filesystem::exists(dir.file("tiny.vocab")));

  const Tokenizer tok = Tokenizer::load(model_path);
  EXPECT_TRUE(tok.loaded());
  EXPECT_EQ(tok.model_path(), model_path);
  EXPECT_EQ(tok.vocab_size(), 100);
  EXPECT_EQ(tok.id_to_piece(kPadId), "<pad>");
  EXPECT_EQ(tok.id_to_piece(kUnkId), "<unk>");
  EXPECT_EQ(tok.id_to_piece(kBosId), "<s>");
  EXPECT_EQ(tok.id_to_piece(kEosId), "</s>");
  EXPECT_EQ(tok.piece_to_id("</s>"), kEosId);
  EXPECT_EQ(tok.piece_to_id("no-such-piece"), kUnkId);

  expect_round_trip(tok, {train[0], train[1], train[399]});
  expect_round_trip(tok, make_sentences(20, 777));  // unseen word combinations

  // Pieces are longer than characters: the corpus takes fewer pieces than bytes.
  size_t pieces = 0, bytes = 0;
  for (const std::string& s : train) {
    pieces += tok.encode(s).size();
    bytes += s.size();
  }
  EXPECT_LT(pieces, bytes * 2 / 3);
  // A character never seen in training becomes <unk>.
  const std::vector<std::int32_t> unknown = tok.encode("the \xC3\xA9");  // é
  EXPECT_EQ(unknown.back(), kUnkId);
  // Specials are dropped by decode.
  std::vector<std::int32_t> with_specials = {kBosId};
  for (std::int32_t id : tok.encode("a dog .")) with_specials.push_back(id);
  with_specials.push_back(kEosId);
  with_specials.push_back(kPadId);
  EXPECT_EQ(tok.decode(with_specials), "a dog .");
}

TEST(Tokenizer, BpeFromGzipAndPlainFiles) {
  TempDir dir;
  const std::vector<std::string> a = make_sentences(200, 2), b = make_sentences(200, 3);
  const std::string plain = write_file(dir.file("a.txt"), join_lines(a));
  const std::string packed = write_gzip(dir.file("b.txt.gz"), join_lines(b));
  TokenizerTrainOptions options = tiny_options(dir, {plain, packed});
  options.model_type = SubwordModel::kBpe;
  const Tokenizer tok = Tokenizer::load(Tokenizer::train(options));
  EXPECT_EQ(tok.vocab_size(), 100);
  expect_round_trip(tok, {a[0], b[0], b[199]});
}

TEST(Tokenizer, WordModelKeepsTheMostFrequentWordsWhole) {
  TempDir dir;
  const std::vector<std::string> train = make_sentences(400, 5);
  const std::string input = write_file(dir.file("train.txt"), join_lines(train));
  TokenizerTrainOptions options = tiny_options(dir, {input});
  options.model_type = SubwordModel::kWord;
  options.vocab_size = 60;
  const Tokenizer tok = Tokenizer::load(Tokenizer::train(options));
  EXPECT_EQ(tok.vocab_size(), 60);
  // A word is one piece or <unk>, never split: as many ids as words.
  const std::string sentence = "the dog runs kalomi near the tree .";
  const std::vector<std::int32_t> ids = tok.encode(sentence);
  ASSERT_EQ(ids.size(), 8u);
  EXPECT_NE(tok.piece_to_id("\u2581the"), kUnkId);  // "▁the": the most frequent words are kept
  EXPECT_EQ(ids[0], tok.piece_to_id("\u2581the"));
  EXPECT_EQ(ids[3], kUnkId);  // a made-up word seen nowhere in training
  EXPECT_EQ(std::string(subword_model_name(SubwordModel::kWord)), "word");
}

TEST(Tokenizer, CaseFoldingNormalizationLowerCasesBeforeEncoding) {
  TempDir dir;
  const std::vector<std::string> train = make_sentences(300, 6);  // all lower case
  const std::string input = write_file(dir.file("train.txt"), join_lines(train));
  TokenizerTrainOptions options = tiny_options(dir, {input});
  const Tokenizer plain = Tokenizer::load(Tokenizer::train(options));
  options.model_name = "folded";
  options.normalization = TextNormalization::kNmtNfkcCaseFold;
  const Tokenizer folded = Tokenizer::load(Tokenizer::train(options));
  // The rule is stored in the model: encode folds the case, decode returns the folded text.
  EXPECT_EQ(folded.encode("The DOG runs near the River ."),
            folded.encode("the dog runs near the river ."));
  EXPECT_EQ(folded.decode(folded.encode("The DOG runs .")), "the dog runs .");
  // SentencePiece's default keeps case: the capitals it never saw are unknown.
  EXPECT_NE(plain.encode("The DOG runs ."), plain.encode("the dog runs ."));
  EXPECT_EQ(std::string(normalization_rule_name(TextNormalization::kNmtNfkcCaseFold)),
            "nmt_nfkc_cf");
  EXPECT_EQ(std::string(normalization_rule_name(TextNormalization::kIdentity)), "identity");
}

TEST(Tokenizer, TrainingIsDeterministicForASeed) {
  TempDir dir;
  const std::string input = write_file(dir.file("train.txt"), join_lines(make_sentences(400, 4)));
  TokenizerTrainOptions options = tiny_options(dir, {input});
  options.input_sentence_size = 150;  // a seeded random sample of the 400 lines
  options.num_threads = 2;
  options.model_name = "first";
  Tokenizer::train(options);
  options.model_name = "second";
  Tokenizer::train(options);
  options.model_name = "other_seed";
  options.seed = 2;
  Tokenizer::train(options);
  // The .vocab files list every piece with its score. (The .model files also record the
  // model_prefix, so they differ by name.)
  const std::string first = slurp(dir.file("first.vocab"));
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, slurp(dir.file("second.vocab")));
  EXPECT_NE(first, slurp(dir.file("other_seed.vocab")));  // the sample really depends on the seed
}

TEST(Tokenizer, EncodesFromSeveralThreads) {
  TempDir dir;
  const std::vector<std::string> text = make_sentences(400, 8);
  const std::string input = write_file(dir.file("train.txt"), join_lines(text));
  const Tokenizer tok = Tokenizer::load(Tokenizer::train(tiny_options(dir, {input})));
  std::vector<std::vector<std::int32_t>> sequential, threaded(text.size());
  for (const std::string& s : text) sequential.push_back(tok.encode(s));
  auto encode_every_other = [&](size_t first) {
    for (int repeat = 0; repeat < 5; ++repeat) {
      for (size_t i = first; i < text.size(); i += 2) threaded[i] = tok.encode(text[i]);
    }
  };
  std::thread even(encode_every_other, 0), odd(encode_every_other, 1);
  even.join();
  odd.join();
  EXPECT_EQ(threaded, sequential);
}

TEST(Tokenizer, TrainErrorsNameTheFiles) {
  TempDir dir;
  const std::string input = write_file(dir.file("train.txt"), join_lines(make_sentences(50, 5)));
  EXPECT_THROW_MSG(Tokenizer::train(tiny_options(dir, {input, dir.file("missing.txt")})),
                   "Tokenizer::train: input file " + dir.file("missing.txt") + " does not exist");
  TokenizerTrainOptions options = tiny_options(dir, {input});
  options.model_dir = dir.file("no_such_dir");
  EXPECT_THROW_MSG(Tokenizer::train(options), "model_dir '" + dir.file("no_such_dir") + "'");
  options = tiny_options(dir, {input});
  options.vocab_size = 5000;  // far more pieces than 50 short sentences can give
  EXPECT_THROW_MSG(Tokenizer::train(options), "Tokenizer::train: training " + dir.file("tiny") +
                                                  ".model from " + input + " failed");
}

TEST(Tokenizer, LoadErrorsNameTheFile) {
  TempDir dir;
  EXPECT_THROW_MSG(Tokenizer::load(dir.file("none.model")),
                   "Tokenizer::load: cannot load " + dir.file("none.model"));
  const std::string garbage = write_file(dir.file("garbage.model"), "not a model");
  EXPECT_THROW_MSG(Tokenizer::load(garbage), "Tokenizer::load: cannot load " + garbage);

  // A model trained with SentencePiece's default ids (unk 0, bos 1, eos 2, no pad).
  const std::string input = write_file(dir.file("train.txt"), join_lines(make_sentences(200, 6)));
  const auto status = sentencepiece::SentencePieceTrainer::Train(
      "--input=" + input + " --model_prefix=" + dir.file("default_ids") +
      " --vocab_size=60 --minloglevel=1");
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_THROW_MSG(Tokenizer::load(dir.file("default_ids.model")),
                   dir.file("default_ids.model") + " has special ids pad=-1 unk=0 bos=1 eos=2");
}

TEST(Tokenizer, BadIdsAndUnloadedModel) {
  TempDir dir;
  const std::string input = write_file(dir.file("train.txt"), join_lines(make_sentences(300, 7)));
  const Tokenizer tok = Tokenizer::load(Tokenizer::train(tiny_options(dir, {input})));
  EXPECT_THROW_MSG(tok.decode({5, 100}),
                   "Tokenizer::decode: id 100 at position 1 is outside the "
                   "vocabulary [0, 100) of " +
                       dir.file("tiny.model"));
  EXPECT_THROW_MSG(tok.id_to_piece(-1), "Tokenizer::id_to_piece: id -1 is outside");
  const Tokenizer empty;
  EXPECT_FALSE(empty.loaded());
  EXPECT_THROW_MSG(empty.encode("x"), "Tokenizer::encode: no model loaded");
}

}  // namespace
}  // namespace heed
