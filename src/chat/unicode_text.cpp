// UTF-8 helpers for the chat-template engine (see unicode_text.h). Case mapping covers ASCII,
// Latin-1, Latin Extended-A, Greek, Cyrillic, Armenian and full-width Latin; other scripts pass
// through unchanged.
#include "chat/unicode_text.h"

#include <algorithm>

namespace semantic::chat::text {

char32_t DecodeAt(std::string_view s, size_t* pos) {
  const size_t i = *pos;
  const auto b0 = static_cast<unsigned char>(s[i]);
  auto cont = [&](size_t k) -> int {
    if (i + k >= s.size()) return -1;
    const auto b = static_cast<unsigned char>(s[i + k]);
    return (b & 0xC0) == 0x80 ? (b & 0x3F) : -1;
  };
  if (b0 < 0x80) {
    *pos = i + 1;
    return b0;
  }
  int n = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 1;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 2;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 3;
    cp = b0 & 0x07;
  } else {
    *pos = i + 1;  // stray byte: keep it as a code point of its own
    return b0;
  }
  for (int k = 1; k <= n; ++k) {
    const int c = cont(k);
    if (c < 0) {
      *pos = i + 1;
      return b0;
    }
    cp = (cp << 6) | static_cast<char32_t>(c);
  }
  *pos = i + 1 + n;
  return cp;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::vector<char32_t> ToCodePoints(std::string_view s) {
  std::vector<char32_t> cps;
  cps.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) cps.push_back(DecodeAt(s, &pos));
  return cps;
}

std::string FromCodePoints(const std::vector<char32_t>& cps, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end && i < cps.size(); ++i) AppendUtf8(cps[i], &out);
  return out;
}

size_t CodePointCount(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool IsSpace(char32_t cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x1C: case 0x1D: case 0x1E:
    case 0x1F: case 0x20: case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool IsLineBreak(char32_t cp) {
  return cp == 0x0A || cp == 0x0B || cp == 0x0C || cp == 0x0D || cp == 0x1C || cp == 0x1D ||
         cp == 0x1E || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

std::string Strip(std::string_view s, const std::string* chars, StripSide side) {
  const std::vector<char32_t> cps = ToCodePoints(s);
  std::vector<char32_t> set;
  if (chars != nullptr) set = ToCodePoints(*chars);
  auto strip_it = [&](char32_t cp) {
    return chars == nullptr ? IsSpace(cp) : std::find(set.begin(), set.end(), cp) != set.end();
  };
  size_t b = 0, e = cps.size();
  if (side != StripSide::kRight) {
    while (b < e && strip_it(cps[b])) ++b;
  }
  if (side != StripSide::kLeft) {
    while (e > b && strip_it(cps[e - 1])) --e;
  }
  return FromCodePoints(cps, b, e);
}

std::vector<std::string> Split(std::string_view s, const std::string* sep, int64_t maxsplit) {
  std::vector<std::string> parts;
  if (sep != nullptr) {
    size_t start = 0;
    while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
      const size_t at = s.find(*sep, start);
      if (at == std::string_view::npos) break;
      parts.emplace_back(s.substr(start, at - start));
      start = at + sep->size();
    }
    parts.emplace_back(s.substr(start));
    return parts;
  }
  const std::vector<char32_t> cps = ToCodePoints(s);
  size_t i = 0;
  const size_t n = cps.size();
  while (true) {
    while (i < n && IsSpace(cps[i])) ++i;
    if (i >= n) break;
    if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit) {
      size_t e = n;
      while (e > i && IsSpace(cps[e - 1])) --e;
      parts.push_back(FromCodePoints(cps, i, e));
      break;
    }
    size_t j = i;
    while (j < n && !IsSpace(cps[j])) ++j;
    parts.push_back(FromCodePoints(cps, i, j));
    i = j;
  }
  return parts;
}

std::vector<std::string> RSplit(std::string_view s, const std::string* sep, int64_t maxsplit) {
  if (maxsplit < 0) return Split(s, sep, maxsplit);
  std::vector<std::string> parts;
  if (sep != nullptr) {
    size_t end = s.size();
    while (static_cast<int64_t>(parts.size()) < maxsplit) {
      if (end < sep->size()) break;
      const size_t at = s.rfind(*sep, end - sep->size());
      if (at == std::string_view::npos) break;
      parts.emplace_back(s.substr(at + sep->size(), end - at - sep->size()));
      end = at;
    }
    parts.emplace_back(s.substr(0, end));
    std::reverse(parts.begin(), parts.end());
    return parts;
  }
  const std::vector<char32_t> cps = ToCodePoints(s);
  size_t j = cps.size();
  while (true) {
    while (j > 0 && IsSpace(cps[j - 1])) --j;
    if (j == 0) break;
    if (static_cast<int64_t>(parts.size()) >= maxsplit) {
      size_t b = 0;
      while (b < j && IsSpace(cps[b])) ++b;
      parts.push_back(FromCodePoints(cps, b, j));
      break;
    }
    size_t i = j;
    while (i > 0 && !IsSpace(cps[i - 1])) --i;
    parts.push_back(FromCodePoints(cps, i, j));
    j = i;
  }
  std::reverse(parts.begin(), parts.end());
  return parts;
}

namespace {

// Ranges where upper and lower case alternate (even = upper, odd = lower, or the reverse).
bool InEvenOddRange(char32_t cp) {
  return (cp >= 0x0100 && cp <= 0x012F) || (cp >= 0x0132 && cp <= 0x0137) ||
         (cp >= 0x014A && cp <= 0x0177) || (cp >= 0x0460 && cp <= 0x0481) ||
         (cp >= 0x048A && cp <= 0x04BF) || (cp >= 0x04D0 && cp <= 0x04FF);
}
bool InOddEvenRange(char32_t cp) {  // odd = upper, even = lower
  return (cp >= 0x0139 && cp <= 0x0148) || (cp >= 0x0179 && cp <= 0x017E) ||
         (cp >= 0x04C1 && cp <= 0x04CE);
}

}  // namespace

char32_t ToUpper(char32_t cp) {
  if (cp >= 'a' && cp <= 'z') return cp - 32;
  if (cp < 0x80) return cp;
  if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 32;
  if (cp == 0xFF) return 0x178;
  if (cp == 0xB5) return 0x39C;
  if (InEvenOddRange(cp)) return (cp % 2 == 1) ? cp - 1 : cp;
  if (InOddEvenRange(cp)) return (cp % 2 == 0) ? cp - 1 : cp;
  if (cp >= 0x3B1 && cp <= 0x3C9) return cp == 0x3C2 ? 0x3A3 : cp - 32;
  if (cp == 0x3AC) return 0x386;
  if (cp >= 0x3AD && cp <= 0x3AF) return cp - 37;
  if (cp == 0x3CC) return 0x38C;
  if (cp == 0x3CD || cp == 0x3CE) return cp - 63;
  if (cp >= 0x430 && cp <= 0x44F) return cp - 32;
  if (cp >= 0x450 && cp <= 0x45F) return cp - 80;
  if (cp >= 0x561 && cp <= 0x586) return cp - 48;
  if (cp >= 0xFF41 && cp <= 0xFF5A) return cp - 32;
  return cp;
}

char32_t ToLower(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp < 0x80) return cp;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
  if (cp == 0x178) return 0xFF;
  if (InEvenOddRange(cp)) return (cp % 2 == 0) ? cp + 1 : cp;
  if (InOddEvenRange(cp)) return (cp % 2 == 1) ? cp + 1 : cp;
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 32;
  if (cp == 0x386) return 0x3AC;
  if (cp >= 0x388 && cp <= 0x38A) return cp + 37;
  if (cp == 0x38C) return 0x3CC;
  if (cp == 0x38E || cp == 0x38F) return cp + 63;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
  if (cp >= 0x531 && cp <= 0x556) return cp + 48;
  if (cp >= 0xFF21 && cp <= 0xFF3A) return cp + 32;
  return cp;
}

bool IsUpperCased(char32_t cp) { return ToLower(cp) != cp; }
bool IsLowerCased(char32_t cp) {
  return ToUpper(cp) != cp || cp == 0xDF;
}
bool IsCased(char32_t cp) { return IsUpperCased(cp) || IsLowerCased(cp); }

bool IsAlpha(char32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  if (IsCased(cp)) return true;
  return cp == 0xAA || cp == 0xBA || (cp >= 0x5D0 && cp <= 0x5EA) ||
         (cp >= 0x620 && cp <= 0x64A) || (cp >= 0x3041 && cp <= 0x3096) ||
         (cp >= 0x30A1 && cp <= 0x30FA) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3);
}

bool IsDigit(char32_t cp) { return (cp >= '0' && cp <= '9') || (cp >= 0xFF10 && cp <= 0xFF19); }

// Python's full mapping turns U+00DF (sharp s) into "SS" (upper) or "Ss" (title).
void AppendUpper(char32_t cp, bool title, std::string* out) {
  if (cp == 0xDF) {
    *out += title ? "Ss" : "SS";
    return;
  }
  AppendUtf8(ToUpper(cp), out);
}

std::string Upper(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) AppendUpper(DecodeAt(s, &pos), false, &out);
  return out;
}

std::string Lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) AppendUtf8(ToLower(DecodeAt(s, &pos)), &out);
  return out;
}

std::string PyTitle(std::string_view s) {
  std::string out;
  bool prev_cased = false;
  for (size_t pos = 0; pos < s.size();) {
    const char32_t cp = DecodeAt(s, &pos);
    if (prev_cased) {
      AppendUtf8(ToLower(cp), &out);
    } else {
      AppendUpper(cp, true, &out);
    }
    prev_cased = IsCased(cp);
  }
  return out;
}

std::string Capitalize(std::string_view s) {
  std::string out;
  bool first = true;
  for (size_t pos = 0; pos < s.size();) {
    const char32_t cp = DecodeAt(s, &pos);
    if (first) {
      AppendUpper(cp, true, &out);
    } else {
      AppendUtf8(ToLower(cp), &out);
    }
    first = false;
  }
  return out;
}

std::string Replace(std::string_view s, std::string_view from, std::string_view to, int64_t count) {
  std::string out;
  int64_t done = 0;
  if (from.empty()) {  // Python inserts `to` before every code point and at the end
    size_t pos = 0;
    while (pos < s.size()) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      const size_t start = pos;
      DecodeAt(s, &pos);
      out += s.substr(start, pos - start);
    }
    if (count < 0 || done < count) out += to;
    return out;
  }
  size_t start = 0;
  while (count < 0 || done < count) {
    const size_t at = s.find(from, start);
    if (at == std::string_view::npos) break;
    out += s.substr(start, at - start);
    out += to;
    start = at + from.size();
    ++done;
  }
  out += s.substr(start);
  return out;
}

}  // namespace semantic::chat::text
