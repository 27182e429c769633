// UTF-8 decoding/encoding and code point classes (letter, number, punctuation, whitespace, ...)
// as llama.cpp's tokenizers see them; the class tables are generated (unicode_tables.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace semantic::tokenizer {

// One bit per class; every code point has exactly one (first letter of its general category).
enum CodepointClass : uint8_t {
  kCpUndefined = 0x01,    // Cn (unassigned), and anything above U+10FFFF
  kCpNumber = 0x02,       // \p{N}
  kCpLetter = 0x04,       // \p{L}
  kCpSeparator = 0x08,    // \p{Z}
  kCpMark = 0x10,         // \p{M}
  kCpPunctuation = 0x20,  // \p{P}
  kCpSymbol = 0x40,       // \p{S}
  kCpControl = 0x80,      // \p{C} except Cn
};

struct CodepointRange {
  uint32_t first;
  CodepointClass cls;
};

namespace unicode_data {
extern const char kUnicodeVersion[];
extern const CodepointRange kClassRanges[];
extern const size_t kNumClassRanges;
extern const uint32_t kWhitespace[];
extern const size_t kNumWhitespace;
}  // namespace unicode_data

constexpr uint32_t kReplacementChar = 0xFFFD;

CodepointClass ClassOf(uint32_t cp);
// Unicode White_Space (what llama.cpp's pre-tokenizers mean by \s).
bool IsWhitespace(uint32_t cp);

// Packed per-code-point flags for the splitters: the class in the low byte, whitespace in bit 8.
// 0 means "outside the current piece" (no class bit set).
using CpFlags = uint16_t;
constexpr CpFlags kCpWhitespaceFlag = 0x100;
inline CpFlags FlagsOf(uint32_t cp) {
  return static_cast<CpFlags>(ClassOf(cp) | (IsWhitespace(cp) ? kCpWhitespaceFlag : 0));
}

// Sequence length implied by a lead byte, by its high nibble (llama.cpp's rule; continuation and
// invalid lead bytes count as 1, 0xF8..0xFF as 4).
inline size_t Utf8LenFromLead(uint8_t b) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[b >> 4];
}

// Lenient decoding as llama.cpp does it: lead and continuation bits are checked, overlong forms
// and surrogates are accepted, and each byte that does not start a well-formed sequence becomes
// one U+FFFD.
std::vector<uint32_t> DecodeUtf8Lenient(std::string_view text);
// Appends the UTF-8 form of `cp`; code points above U+10FFFF are written as U+FFFD.
void AppendUtf8(uint32_t cp, std::string* out);

// Strict check of the sequence at the start of [s, s + n) (n > 0): returns its length when it is
// a well-formed scalar value, 0 when it is a proper prefix of one cut by the end of the input, and
// -k when its first k bytes form a maximal ill-formed subpart (to be replaced by one U+FFFD).
int CheckUtf8Sequence(const uint8_t* s, size_t n);
// Replaces every ill-formed subpart of `text` by U+FFFD.
std::string SanitizeUtf8(std::string_view text);
bool IsValidUtf8(std::string_view text);

}  // namespace semantic::tokenizer
