// Corpus BLEU as sacreBLEU 2.x computes it (metrics/bleu.py, tokenizers/tokenizer_13a.py); the
// formula is in include/heed/eval/bleu.h.
//
// The 13a tokenizer is a handful of regex substitutions in sacreBLEU. std::regex is far too slow
// for that, so each substitution below is a hand-written scan with the same semantics as Python's
// re.sub: left to right, non-overlapping, each pass over the output of the previous one. The
// patterns are all two characters wide (or one), which makes a scan that tries a match at i, and
// on success emits the replacement and continues at i + 2, exactly equivalent. The scans work on
// UTF-8 bytes: every pattern character is ASCII, and a multi-byte character can only take part in
// a match through `[^0-9]`, where matching its last (or first) byte gives the same output as
// matching the whole code point.
//
// N-gram counting, per sentence pair: the tokens of hypothesis and reference are sorted once to
// give equal tokens the same small id; each n-gram of ids becomes a 128-bit key, and per order the
// clipped matches are counted with a reused hash table (ngram_key.h). Once the buffers have grown,
// the only allocations per sentence are the tokenizer's strings.
#include "heed/eval/bleu.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "eval/ngram_key.h"
#include "eval/utf8.h"
#include "heed/util/check.h"

namespace heed {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_period_or_comma(char c) { return c == '.' || c == ','; }

// The characters of 13a's first rule, [\{-\~\[-\` -\&\(-\+\:-\@\/]: every printable ASCII symbol
// except the apostrophe, comma, hyphen and period, plus the space.
bool is_split_symbol(char c) {
  return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
         (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}

// Python's s.replace(from, to): all non-overlapping occurrences, left to right.
void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::size_t hit = s.find(from);
  if (hit == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  for (; hit != std::string::npos; hit = s.find(from, pos)) {
    out.append(s, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s, pos);
  s.swap(out);
}

// re.sub(r'(c)', r' \1 ') for the characters of is_split_symbol.
void pad_symbols(std::string_view in, std::string& out) {
  out.clear();
  for (char c : in) {
    if (is_split_symbol(c)) {
      out += ' ';
      out += c;
      out += ' ';
    } else {
      out += c;
    }
  }
}

// re.sub(r'(A)(B)', replacement) where A and B are single-character classes; the replacement is
// r'\1 \2 ' or, with space_first, r' \1 \2'.
template <typename FirstClass, typename SecondClass>
void split_pairs(std::string_view in, std::string& out, FirstClass first, SecondClass second,
                 bool space_first) {
  out.clear();
  std::size_t i = 0;
  while (i < in.size()) {
    if (i + 1 < in.size() && first(in[i]) && second(in[i + 1])) {
      if (space_first) out += ' ';
      out += in[i];
      out += ' ';
      out += in[i + 1];
      if (!space_first) out += ' ';
      i += 2;
    } else {
      out += in[i];
      i += 1;
    }
  }
}

// ' '.join(s.split()): tokens separated by single spaces, splitting on Unicode whitespace.
std::string join_tokens(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (std::size_t ws = utf8::whitespace_length(s, i)) {
      i += ws;
      continue;
    }
    const std::size_t begin = i;
    while (i < s.size() && utf8::whitespace_length(s, i) == 0) ++i;
    if (!out.empty()) out += ' ';
    out.append(s, begin, i - begin);
  }
  return out;
}

// Splits a tokenized line (tokens separated by single spaces) into its tokens.
void split_tokens(std::string_view line, std::vector<std::string_view>& tokens) {
  tokens.clear();
  std::size_t begin = 0;
  while (begin < line.size()) {
    std::size_t end = line.find(' ', begin);
    if (end == std::string_view::npos) end = line.size();
    tokens.push_back(line.substr(begin, end - begin));
    begin = end + 1;
  }
}

// Reusable per-sentence buffers for counting n-gram matches.
struct SentenceCounter {
  std::vector<std::string_view> hyp_tokens, ref_tokens;
  std::vector<std::pair<std::string_view, std::uint32_t>> by_text;  // token, position
  std::vector<std::uint32_t> ids;  // hypothesis ids, then reference ids
  std::vector<NgramKey> hyp_keys, ref_keys;
  ClippedMatchCounter match_counter;

  // Gives equal tokens of the hypothesis and reference the same id (ids[position]).
  void assign_ids() {
    by_text.clear();
    for (auto tokens : {&hyp_tokens, &ref_tokens}) {
      for (std::string_view token : *tokens) {
        by_text.emplace_back(token, static_cast<std::uint32_t>(by_text.size()));
      }
    }
    std::sort(by_text.begin(), by_text.end());
    ids.resize(by_text.size());
    std::uint32_t id = 0;
    for (std::size_t k = 0; k < by_text.size(); ++k) {
      if (k > 0 && by_text[k].first != by_text[k - 1].first) ++id;
      ids[by_text[k].second] = id;
    }
  }

  // Clipped matches of order n between the hypothesis and reference tokens; call with
  // n = 1, 2, ... in turn (each order's keys are extended from the previous ones).
  std::int64_t matches(int n) {
    extend_ngrams(hyp_keys, ids.data(), hyp_tokens.size(), n, 32);
    extend_ngrams(ref_keys, ids.data() + hyp_tokens.size(), ref_tokens.size(), n, 32);
    return match_counter.count(hyp_keys, ref_keys);
  }
};

// sacreBLEU's my_log: log(0) is a large negative number instead of -inf.
double log_or_floor(double x) { return x == 0.0 ? -9999999999.0 : std::log(x); }

}  // namespace

std::string tokenize_13a(std::string line) {
  // Language-independent part.
  replace_all(line, "<skipped>", "");
  replace_all(line, "-\n", "");
  replace_all(line, "\n", " ");
  if (line.find('&') != std::string::npos) {
    replace_all(line, "&quot;", "\"");
    replace_all(line, "&amp;", "&");
    replace_all(line, "&lt;", "<");
    replace_all(line, "&gt;", ">");
  }
  std::string a = " " + line + " ";
  std::string b;
  b.reserve(a.size() * 2);
  // Symbols become separate tokens.
  pad_symbols(a, b);
  // Period and comma are split off unless preceded by a digit ...
  split_pairs(b, a, [](char c) { return !is_digit(c); }, is_period_or_comma, false);
  // ... and unless followed by a digit.
  split_pairs(a, b, is_period_or_comma, [](char c) { return !is_digit(c); }, true);
  // A dash preceded by a digit is split off.
  split_pairs(b, a, is_digit, [](char c) { return c == '-'; }, false);
  return join_tokens(a);
}

std::string bleu_signature() {
  return std::string("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:heed-") + HEED_VERSION;
}

BleuScore corpus_bleu(const std::vector<std::string>& hypotheses,
                      const std::vector<std::string>& references) {
  CHECK(hypotheses.size() == references.size(), "corpus_bleu: ", hypotheses.size(),
        " hypotheses but ", references.size(), " references");
  CHECK(!hypotheses.empty(), "corpus_bleu: no sentences");

  BleuScore result;
  SentenceCounter counter;
  for (std::size_t s = 0; s < hypotheses.size(); ++s) {
    CHECK(!references[s].empty(), "corpus_bleu: reference ", s,
          " is empty (sacreBLEU rejects empty references)");
    // sacreBLEU's BLEU._preprocess_segment: rstrip, then tokenize.
    const std::string& hyp_raw = hypotheses[s];
    const std::string& ref_raw = references[s];
    const std::string hyp = tokenize_13a(
        hyp_raw.substr(0, hyp_raw.size() - utf8::trailing_whitespace_length(hyp_raw)));
    const std::string ref = tokenize_13a(
        ref_raw.substr(0, ref_raw.size() - utf8::trailing_whitespace_length(ref_raw)));
    split_tokens(hyp, counter.hyp_tokens);
    split_tokens(ref, counter.ref_tokens);
    counter.assign_ids();
    const auto hyp_len = static_cast<std::int64_t>(counter.hyp_tokens.size());
    result.sys_len += hyp_len;
    result.ref_len += static_cast<std::int64_t>(counter.ref_tokens.size());
    for (int n = 1; n <= kBleuMaxOrder; ++n) {
      result.totals[n - 1] += std::max<std::int64_t>(0, hyp_len - n + 1);
      result.matches[n - 1] += counter.matches(n);
    }
  }

  // BLEU.compute_bleu with smooth_method="exp" and effective_order=False.
  const auto sys_len = static_cast<double>(result.sys_len);
  const auto ref_len = static_cast<double>(result.ref_len);
  if (result.sys_len < result.ref_len) {
    result.bp = result.sys_len > 0 ? std::exp(1.0 - ref_len / sys_len) : 0.0;
  } else {
    result.bp = 1.0;
  }
  result.signature = bleu_signature();
  if (std::all_of(result.matches.begin(), result.matches.end(), [](auto m) { return m == 0; })) {
    return result;  // no match at any order: BLEU 0, all precisions 0
  }
  double smooth = 1.0;
  for (int n = 0; n < kBleuMaxOrder; ++n) {
    const auto total = static_cast<double>(result.totals[n]);
    if (result.totals[n] == 0) break;  // this and higher orders keep precision 0
    if (result.matches[n] == 0) {
      smooth *= 2.0;
      result.precisions[n] = 100.0 / (smooth * total);
    } else {
      result.precisions[n] = 100.0 * static_cast<double>(result.matches[n]) / total;
    }
  }
  double log_sum = 0.0;
  for (double p : result.precisions) log_sum += log_or_floor(p);
  result.score = result.bp * std::exp(log_sum / kBleuMaxOrder);
  return result;
}

}  // namespace heed
