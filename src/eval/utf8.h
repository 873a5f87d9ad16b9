// Private UTF-8 helpers shared by the BLEU and chrF implementations.
//
// sacreBLEU runs on Python `str`, so "whitespace" means `str.isspace()` and "a character" means a
// Unicode code point. heed keeps text as UTF-8 bytes and reproduces both notions here by looking at
// the encoded bytes directly. Invalid UTF-8 is tolerated: a byte that does not start a well-formed
// sequence counts as one character of its own.
#pragma once

#include <cstddef>
#include <string_view>

namespace heed::utf8 {

// Invalid bytes decode to kInvalidBase + byte: distinct from every code point (<= U+10FFFF).
inline constexpr char32_t kInvalidBase = 0x110000;

// Decodes the code point that starts at s[i] and stores its byte length (1..4) in `length`. An
// invalid or truncated sequence yields kInvalidBase + s[i] with length 1.
inline char32_t decode(std::string_view s, std::size_t i, std::size_t& length) {
  const auto lead = static_cast<unsigned char>(s[i]);
  length = 1;
  if (lead < 0x80) return lead;
  const std::size_t expected =  // 0: a continuation byte or 0xF8..0xFF, which cannot lead
      lead >= 0xF8 ? 0 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  if (expected == 0 || i + expected > s.size()) return kInvalidBase + lead;
  char32_t code = lead & (0x7F >> expected);
  for (std::size_t k = 1; k < expected; ++k) {
    const auto next = static_cast<unsigned char>(s[i + k]);
    if ((next & 0xC0) != 0x80) return kInvalidBase + lead;
    code = (code << 6) | (next & 0x3F);
  }
  length = expected;
  return code;
}

// Byte length of the whitespace character that starts at s[i], or 0 if there is none. The set is
// exactly Python's str.isspace(): \t \n \v \f \r, \x1c-\x1f, space, U+0085, U+00A0, U+1680,
// U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
inline std::size_t whitespace_length(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    return (b0 == ' ' || (b0 >= 0x09 && b0 <= 0x0D) || (b0 >= 0x1C && b0 <= 0x1F)) ? 1 : 0;
  }
  if (i + 1 >= s.size()) return 0;
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  if (b0 == 0xC2) return (b1 == 0x85 || b1 == 0xA0) ? 2 : 0;
  if (i + 2 >= s.size()) return 0;
  const auto b2 = static_cast<unsigned char>(s[i + 2]);
  if (b0 == 0xE1) return (b1 == 0x9A && b2 == 0x80) ? 3 : 0;
  if (b0 == 0xE2 && b1 == 0x80) {
    return ((b2 >= 0x80 && b2 <= 0x8A) || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF) ? 3 : 0;
  }
  if (b0 == 0xE2 && b1 == 0x81) return b2 == 0x9F ? 3 : 0;
  if (b0 == 0xE3) return (b1 == 0x80 && b2 == 0x80) ? 3 : 0;
  return 0;
}

// Byte length of the run of whitespace characters at the end of s (Python's str.rstrip()).
inline std::size_t trailing_whitespace_length(std::string_view s) {
  std::size_t end = s.size();
  while (end > 0) {
    // A whitespace character is 1, 2 or 3 bytes long: try each length that fits.
    std::size_t found = 0;
    for (std::size_t length = 1; length <= 3 && length <= end && !found; ++length) {
      if (whitespace_length(s, end - length) == length) found = length;
    }
    if (!found) break;
    end -= found;
  }
  return s.size() - end;
}

}  // namespace heed::utf8
