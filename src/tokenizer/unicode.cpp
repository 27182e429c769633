// UTF-8 decoding (lenient, llama.cpp-compatible; and strict, for streaming output) and code point
// class lookup over the generated range tables.
#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>

namespace semantic::tokenizer {
namespace {

CodepointClass LookupClass(uint32_t cp) {
  using unicode_data::kClassRanges;
  using unicode_data::kNumClassRanges;
  const CodepointRange* end = kClassRanges + kNumClassRanges;
  const CodepointRange* it = std::upper_bound(
      kClassRanges, end, cp, [](uint32_t v, const CodepointRange& r) { return v < r.first; });
  return (it - 1)->cls;  // kClassRanges[0].first == 0
}

// Classes of U+0000..U+00FF, the hot path for mostly-Latin text.
const std::array<CodepointClass, 256>& Latin1Classes() {
  static const std::array<CodepointClass, 256> table = [] {
    std::array<CodepointClass, 256> t{};
    for (uint32_t cp = 0; cp < 256; ++cp) t[cp] = LookupClass(cp);
    return t;
  }();
  return table;
}

}  // namespace

CodepointClass ClassOf(uint32_t cp) {
  if (cp < 256) return Latin1Classes()[cp];
  if (cp >= 0x110000) return kCpUndefined;
  return LookupClass(cp);
}

bool IsWhitespace(uint32_t cp) {
  if (cp < 0x80) return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20;
  const uint32_t* begin = unicode_data::kWhitespace;
  const uint32_t* end = begin + unicode_data::kNumWhitespace;
  return std::binary_search(begin, end, cp);
}

std::vector<uint32_t> DecodeUtf8Lenient(std::string_view text) {
  std::vector<uint32_t> out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  auto cont = [&](size_t i) { return i < n && (s[i] & 0xC0) == 0x80; };
  size_t i = 0;
  while (i < n) {
    const uint8_t b = s[i];
    if (b < 0x80) {
      out.push_back(b);
      i += 1;
    } else if ((b & 0xE0) == 0xC0 && cont(i + 1)) {
      out.push_back(((b & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu));
      i += 2;
    } else if ((b & 0xF0) == 0xE0 && cont(i + 1) && cont(i + 2)) {
      out.push_back(((b & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu));
      i += 3;
    } else if ((b & 0xF8) == 0xF0 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
      out.push_back(((b & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) |
                    (s[i + 3] & 0x3Fu));
      i += 4;
    } else {
      out.push_back(kReplacementChar);  // stray continuation, bad lead, or truncated sequence
      i += 1;
    }
  }
  return out;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x110000) {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    AppendUtf8(kReplacementChar, out);
  }
}

int CheckUtf8Sequence(const uint8_t* s, size_t n) {
  const uint8_t b = s[0];
  if (b < 0x80) return 1;
  size_t len = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte (Unicode Table 3-7)
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    len = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return -1;
  }
  for (size_t k = 1; k < len; ++k) {
    if (k >= n) return 0;  // a valid prefix so far, cut by the end of the input
    const uint8_t lo_k = k == 1 ? lo : 0x80, hi_k = k == 1 ? hi : 0xBF;
    if (s[k] < lo_k || s[k] > hi_k) return -static_cast<int>(k);
  }
  return static_cast<int>(len);
}

std::string SanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  size_t i = 0;
  while (i < text.size()) {
    const int r = CheckUtf8Sequence(s + i, text.size() - i);
    if (r > 0) {
      out.append(text.data() + i, r);
      i += r;
    } else {
      AppendUtf8(kReplacementChar, &out);
      i += r < 0 ? -r : text.size() - i;  // a cut sequence at the very end is one subpart
    }
  }
  return out;
}

bool IsValidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  size_t i = 0;
  while (i < text.size()) {
    const int r = CheckUtf8Sequence(s + i, text.size() - i);
    if (r <= 0) return false;
    i += r;
  }
  return true;
}

}  // namespace semantic::tokenizer
