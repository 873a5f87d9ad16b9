// A rule-based sentence splitter, for models that read a document as a sequence of sentences
// (the hierarchical attention network of Yang et al., 2016).
//
// Rules, in order:
//   - Line breaks and HTML line-break tags (<br />, <br/>, <br>, any case) end a sentence.
//   - A run of . ! ? or … ("?!", "...") ends a sentence when it is followed — after optional
//     closing quotes or brackets, which stay with the sentence — by whitespace and then an
//     uppercase letter, a digit or an opening quote/bracket, or by the end of the text.
//   - A single "." does not end a sentence after a common abbreviation (Mr. Mrs. Ms. Dr. Prof.
//     St. Jr. Sr. vs. etc. cf.), a single-letter initial ("J. R. R. Tolkien") or a dotted
//     abbreviation ("e.g.", "i.e.", "U.S.").
// Sentences are returned trimmed; empty ones are dropped. Uppercase means ASCII or Latin-1
// (À-Þ); text in other scripts is split only at line breaks and at the end of the text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace heed {

std::vector<std::string> split_sentences(std::string_view text);

struct DocumentLimits {
  int max_sentences = 0;           // keep the first N sentences (0: no limit)
  int max_words_per_sentence = 0;  // keep the first N whitespace-separated words (0: no limit)
};

// What the limits cut, summed over every document split with the same stats object.
struct DocumentLimitStats {
  std::int64_t documents = 0;
  std::int64_t sentences = 0;            // sentences kept
  std::int64_t dropped_sentences = 0;    // beyond max_sentences
  std::int64_t truncated_documents = 0;  // documents that lost sentences
  std::int64_t truncated_sentences = 0;  // kept sentences that lost words
  std::int64_t dropped_words = 0;        // words cut from kept sentences
};

// split_sentences() followed by the limits; `stats` (optional) accumulates what was cut.
std::vector<std::string> split_document(std::string_view text, const DocumentLimits& limits,
                                        DocumentLimitStats* stats = nullptr);

}  // namespace heed
