// UTF-8 helpers for the chat-template engine: code-point indexing, Python's str.isspace set,
// strip/split, and simple case mapping (ASCII, Latin-1, Greek, Cyrillic).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace semantic::chat::text {

// Decodes the code point at s[*pos] and advances *pos; invalid bytes decode as themselves.
char32_t DecodeAt(std::string_view s, size_t* pos);
void AppendUtf8(char32_t cp, std::string* out);

std::vector<char32_t> ToCodePoints(std::string_view s);
std::string FromCodePoints(const std::vector<char32_t>& cps, size_t begin, size_t end);
size_t CodePointCount(std::string_view s);

// Python str.isspace() for one code point.
bool IsSpace(char32_t cp);
// Python's line boundaries for str.splitlines (\n \r \v \f \x1c-\x1e \x85 \u2028 \u2029).
bool IsLineBreak(char32_t cp);

// Python str.strip/lstrip/rstrip; `chars` null means whitespace.
enum class StripSide { kBoth, kLeft, kRight };
std::string Strip(std::string_view s, const std::string* chars, StripSide side);

// Python str.split(sep, maxsplit) and str.rsplit; `sep` null means runs of whitespace.
std::vector<std::string> Split(std::string_view s, const std::string* sep, int64_t maxsplit);
std::vector<std::string> RSplit(std::string_view s, const std::string* sep, int64_t maxsplit);

char32_t ToUpper(char32_t cp);
char32_t ToLower(char32_t cp);
bool IsUpperCased(char32_t cp);
bool IsLowerCased(char32_t cp);
bool IsCased(char32_t cp);
bool IsAlpha(char32_t cp);
bool IsDigit(char32_t cp);
// Appends the upper (or title) case of one code point; U+00DF becomes "SS" ("Ss").
void AppendUpper(char32_t cp, bool title, std::string* out);
std::string Upper(std::string_view s);
std::string Lower(std::string_view s);
// Python str.title(): a cased letter after an uncased character starts a word.
std::string PyTitle(std::string_view s);
// Python str.capitalize(): first character upper, the rest lower.
std::string Capitalize(std::string_view s);

// Python str.replace(old, new, count) (count < 0: all).
std::string Replace(std::string_view s, std::string_view from, std::string_view to, int64_t count);

}  // namespace semantic::chat::text
