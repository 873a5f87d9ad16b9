#include "heed/data/sentence_split.h"

#include <gtest/gtest.h>

#include "testing/gradcheck.h"  // EXPECT_THROW_MSG

namespace heed {
namespace {

using Sentences = std::vector<std::string>;

TEST(SentenceSplit, TerminalPunctuation) {
  EXPECT_EQ(split_sentences("I loved it. The end!"), (Sentences{"I loved it.", "The end!"}));
  EXPECT_EQ(split_sentences("Really?! Yes... It was 2 hours. 10 of them boring."),
            (Sentences{"Really?!", "Yes...", "It was 2 hours.", "10 of them boring."}));
  EXPECT_EQ(split_sentences("  Trailing   spaces.   "), (Sentences{"Trailing   spaces."}));
  EXPECT_EQ(split_sentences("Ends without punctuation"), (Sentences{"Ends without punctuation"}));
  EXPECT_EQ(split_sentences("Unicode ellipsis\u2026 Then more."),
            (Sentences{"Unicode ellipsis\u2026", "Then more."}));
}

TEST(SentenceSplit, NoSplitBeforeLowercaseOrWithoutSpace) {
  EXPECT_EQ(split_sentences("It was... well, fine. ok then"),
            (Sentences{"It was... well, fine. ok then"}));
  EXPECT_EQ(split_sentences("It costs 3.50 dollars.Really"),
            (Sentences{"It costs 3.50 dollars.Really"}));
  EXPECT_EQ(split_sentences("See www.imdb.com for more."),
            (Sentences{"See www.imdb.com for more."}));
}

TEST(SentenceSplit, Abbreviations) {
  EXPECT_EQ(split_sentences("Mr. Smith met Dr. Jones. They talked."),
            (Sentences{"Mr. Smith met Dr. Jones.", "They talked."}));
  EXPECT_EQ(split_sentences("Fruit, e.g. Apples, i.e. Good ones. Next."),
            (Sentences{"Fruit, e.g. Apples, i.e. Good ones.", "Next."}));
  EXPECT_EQ(split_sentences("He lives on Main St. Boston vs. Chicago etc. Fine."),
            (Sentences{"He lives on Main St. Boston vs. Chicago etc. Fine."}));
  EXPECT_EQ(split_sentences("J. R. R. Tolkien wrote it. In the U.S. People loved it."),
            (Sentences{"J. R. R. Tolkien wrote it.", "In the U.S. People loved it."}));
  // Case does not matter for listed abbreviations, and an opening bracket is skipped.
  EXPECT_EQ(split_sentences("(MRS. Brown) arrived."), (Sentences{"(MRS. Brown) arrived."}));
  // An abbreviation only protects a single period.
  EXPECT_EQ(split_sentences("Ask Dr.? No."), (Sentences{"Ask Dr.?", "No."}));
  // A lowercase one-letter word is not an initial.
  EXPECT_EQ(split_sentences("I got an a. Then a b."), (Sentences{"I got an a.", "Then a b."}));
}

TEST(SentenceSplit, QuotesAndBrackets) {
  EXPECT_EQ(split_sentences("He said \"Stop.\" Then he left."),
            (Sentences{"He said \"Stop.\"", "Then he left."}));
  EXPECT_EQ(split_sentences("Great film (really!) Watch it."),
            (Sentences{"Great film (really!)", "Watch it."}));
  EXPECT_EQ(split_sentences("It ended. \"Why?\" she asked."),
            (Sentences{"It ended.", "\"Why?\" she asked."}));
  EXPECT_EQ(split_sentences("Wow. \u201CAmazing.\u201D \u00C9mile agreed."),
            (Sentences{"Wow.", "\u201CAmazing.\u201D", "\u00C9mile agreed."}));
}

TEST(SentenceSplit, LineBreaksAndBrTags) {
  EXPECT_EQ(split_sentences("First part<br /><br />second part<br/>third<BR>fourth"),
            (Sentences{"First part", "second part", "third", "fourth"}));
  EXPECT_EQ(split_sentences("one\ntwo\r\nthree. Four"),
            (Sentences{"one", "two", "three.", "Four"}));
  EXPECT_EQ(split_sentences("a <b>bold</b> <brand> word"),
            (Sentences{"a <b>bold</b> <brand> word"}));  // not line breaks
  EXPECT_EQ(split_sentences("<br /> <br />"), (Sentences{}));
  EXPECT_EQ(split_sentences(""), (Sentences{}));
}

TEST(SentenceSplit, ImdbStyleReview) {
  const std::string review =
      "This movie was awful. I mean it!<br /><br />Mr. Bean would have done better... "
      "Don't watch it.<br /><br />1/10";
  EXPECT_EQ(split_sentences(review),
            (Sentences{"This movie was awful.", "I mean it!", "Mr. Bean would have done better...",
                       "Don't watch it.", "1/10"}));
}

TEST(SplitDocument, LimitsTruncateAndCount) {
  DocumentLimitStats stats;
  const DocumentLimits limits{.max_sentences = 2, .max_words_per_sentence = 3};
  EXPECT_EQ(
      split_document("One two three four five. Short one. Dropped here. And here.", limits, &stats),
      (Sentences{"One two three", "Short one."}));
  EXPECT_EQ(split_document("A  b\tc d.", limits, &stats), (Sentences{"A  b\tc"}));
  EXPECT_EQ(stats.documents, 2);
  EXPECT_EQ(stats.sentences, 3);
  EXPECT_EQ(stats.dropped_sentences, 2);
  EXPECT_EQ(stats.truncated_documents, 1);
  EXPECT_EQ(stats.truncated_sentences, 2);
  EXPECT_EQ(stats.dropped_words, 3);  // "four five." and "d."

  // No limits: same as split_sentences, nothing counted as cut.
  DocumentLimitStats none;
  EXPECT_EQ(split_document("One. Two.", {}, &none), (Sentences{"One.", "Two."}));
  EXPECT_EQ(none.sentences, 2);
  EXPECT_EQ(none.dropped_words + none.dropped_sentences, 0);
  EXPECT_EQ(split_document("One. Two.", {}), (Sentences{"One.", "Two."}));  // stats optional
  EXPECT_THROW_MSG(split_document("x", {.max_sentences = -1}),
                   "split_document: limits must be >= 0");
}

}  // namespace
}  // namespace heed
