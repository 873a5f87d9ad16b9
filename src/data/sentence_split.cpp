// Rule-based sentence splitting (see sentence_split.h for the rules).
#include "heed/data/sentence_split.h"

#include <algorithm>
#include <array>

#include "heed/util/check.h"

namespace heed {
namespace {

constexpr std::array<std::string_view, 11> kAbbreviations = {
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "cf"};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_ascii_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_ascii_alpha(char c) { return is_ascii_upper(c) || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
char to_lower(char c) { return is_ascii_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_at(std::string_view s, size_t i, std::string_view prefix) {
  return s.substr(i, prefix.size()) == prefix;
}

// Length in bytes of a sentence-final mark at s[i] (. ! ? or the ellipsis "…"), else 0.
size_t final_mark_length(std::string_view s, size_t i) {
  if (s[i] == '.' || s[i] == '!' || s[i] == '?') return 1;
  if (starts_with_at(s, i, "\u2026")) return 3;
  return 0;
}

// Length of a closing quote or bracket at s[i] (stays with the sentence before it), else 0.
size_t closer_length(std::string_view s, size_t i) {
  if (s[i] == '"' || s[i] == '\'' || s[i] == ')' || s[i] == ']') return 1;
  for (std::string_view closer : {"\u201D", "\u2019", "\u00BB"}) {  // ” ’ »
    if (starts_with_at(s, i, closer)) return closer.size();
  }
  return 0;
}

// Can a sentence start at s[i]: an uppercase letter, a digit or an opening quote/bracket.
bool can_start_sentence(std::string_view s, size_t i) {
  const char c = s[i];
  if (is_ascii_upper(c) || is_digit(c) || c == '"' || c == '\'' || c == '(' || c == '[') {
    return true;
  }
  for (std::string_view opener : {"\u201C", "\u2018", "\u00AB"}) {  // “ ‘ «
    if (starts_with_at(s, i, opener)) return true;
  }
  // Latin-1 uppercase U+00C0..U+00DE (À..Þ) except U+00D7 (×): UTF-8 C3 80..C3 9E.
  if (i + 1 < s.size() && static_cast<unsigned char>(c) == 0xC3) {
    const auto next = static_cast<unsigned char>(s[i + 1]);
    return next >= 0x80 && next <= 0x9E && next != 0x97;
  }
  return false;
}

// Is the word ending at s[end) (before a single ".") an abbreviation that a period does not end
// a sentence after: a listed abbreviation, one letter (an initial), or letters joined by dots.
bool is_abbreviation(std::string_view s, size_t end) {
  size_t begin = end;
  while (begin > 0 && !is_space(s[begin - 1])) --begin;
  std::string_view word = s.substr(begin, end - begin);
  while (!word.empty() && (word.front() == '(' || word.front() == '"' || word.front() == '\'')) {
    word.remove_prefix(1);
  }
  if (word.empty()) return false;
  if (word.size() == 1) return is_ascii_upper(word[0]);
  std::string lower;
  for (char c : word) lower += to_lower(c);
  if (std::find(kAbbreviations.begin(), kAbbreviations.end(), lower) != kAbbreviations.end()) {
    return true;
  }
  // "e.g", "i.e", "U.S": single letters separated by dots.
  for (size_t i = 0; i < word.size(); ++i) {
    if (i % 2 == 0 ? !is_ascii_alpha(word[i]) : word[i] != '.') return false;
  }
  return word.size() % 2 == 1;
}

// Length of an HTML line-break tag at s[i] ("<br>", "<br/>", "<br />", any case), else 0.
size_t line_break_tag_length(std::string_view s, size_t i) {
  if (s[i] != '<' || i + 3 > s.size() || to_lower(s[i + 1]) != 'b' || to_lower(s[i + 2]) != 'r') {
    return 0;
  }
  size_t j = i + 3;
  while (j < s.size() && s[j] == ' ') ++j;
  if (j < s.size() && s[j] == '/') ++j;
  while (j < s.size() && s[j] == ' ') ++j;
  return j < s.size() && s[j] == '>' ? j + 1 - i : 0;
}

void add_trimmed(std::string_view sentence, std::vector<std::string>& out) {
  size_t begin = 0, end = sentence.size();
  while (begin < end && is_space(sentence[begin])) ++begin;
  while (end > begin && is_space(sentence[end - 1])) --end;
  if (end > begin) out.emplace_back(sentence.substr(begin, end - begin));
}

// Splits one line (no line breaks inside) at sentence-final punctuation.
void split_line(std::string_view s, std::vector<std::string>& out) {
  size_t start = 0, i = 0;
  while (i < s.size()) {
    const size_t mark = final_mark_length(s, i);
    if (mark == 0) {
      ++i;
      continue;
    }
    const size_t run_begin = i;
    while (i < s.size() && final_mark_length(s, i) > 0) i += final_mark_length(s, i);
    const bool single_period = i == run_begin + 1 && s[run_begin] == '.';
    while (i < s.size() && closer_length(s, i) > 0) i += closer_length(s, i);
    const size_t sentence_end = i;

    size_t next = i;
    while (next < s.size() && is_space(s[next])) ++next;
    bool boundary = false;
    if (next == s.size()) {
      boundary = true;
    } else if (next > i && can_start_sentence(s, next)) {
      boundary = !(single_period && is_abbreviation(s, run_begin));
    }
    if (boundary) {
      add_trimmed(s.substr(start, sentence_end - start), out);
      start = sentence_end;
    }
  }
  add_trimmed(s.substr(start), out);
}

// Keeps the first `max_words` whitespace-separated words of `sentence` (original spacing);
// returns the number of words removed.
std::int64_t truncate_words(std::string& sentence, int max_words) {
  std::int64_t words = 0;
  size_t i = 0, cut = std::string::npos;
  while (i < sentence.size()) {
    while (i < sentence.size() && is_space(sentence[i])) ++i;
    if (i == sentence.size()) break;
    if (words == max_words) cut = i;
    ++words;
    while (i < sentence.size() && !is_space(sentence[i])) ++i;
  }
  if (cut == std::string::npos) return 0;
  size_t end = cut;
  while (end > 0 && is_space(sentence[end - 1])) --end;
  sentence.resize(end);
  return words - max_words;
}

}  // namespace

std::vector<std::string> split_sentences(std::string_view text) {
  std::vector<std::string> out;
  size_t line_start = 0, i = 0;
  while (i <= text.size()) {
    size_t tag = 0;
    if (i == text.size() || text[i] == '\n' || text[i] == '\r' ||
        (tag = line_break_tag_length(text, i)) > 0) {
      split_line(text.substr(line_start, i - line_start), out);
      i += std::max<size_t>(tag, 1);
      line_start = i;
    } else {
      ++i;
    }
  }
  return out;
}

std::vector<std::string> split_document(std::string_view text, const DocumentLimits& limits,
                                        DocumentLimitStats* stats) {
  CHECK(limits.max_sentences >= 0 && limits.max_words_per_sentence >= 0,
        "split_document: limits must be >= 0 (max_sentences=", limits.max_sentences,
        ", max_words_per_sentence=", limits.max_words_per_sentence, ")");
  std::vector<std::string> sentences = split_sentences(text);
  std::int64_t dropped_sentences = 0, truncated_sentences = 0, dropped_words = 0;
  if (limits.max_sentences > 0 && sentences.size() > static_cast<size_t>(limits.max_sentences)) {
    dropped_sentences = static_cast<std::int64_t>(sentences.size()) - limits.max_sentences;
    sentences.resize(limits.max_sentences);
  }
  if (limits.max_words_per_sentence > 0) {
    for (std::string& sentence : sentences) {
      const std::int64_t cut = truncate_words(sentence, limits.max_words_per_sentence);
      truncated_sentences += cut > 0;
      dropped_words += cut;
    }
  }
  if (stats != nullptr) {
    stats->documents += 1;
    stats->sentences += static_cast<std::int64_t>(sentences.size());
    stats->dropped_sentences += dropped_sentences;
    stats->truncated_documents += dropped_sentences > 0;
    stats->truncated_sentences += truncated_sentences;
    stats->dropped_words += dropped_words;
  }
  return sentences;
}

}  // namespace heed
