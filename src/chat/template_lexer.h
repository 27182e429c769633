// Chat-template lexer: splits Jinja source into text and tag tokens, applying whitespace control
// the way HF transformers configures jinja2 (trim_blocks, lstrip_blocks, `-`/`+` markers).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace semantic::chat::tmpl {

enum class TokKind {
  kText,        // literal template text (already whitespace-controlled)
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,      // text holds the unescaped value
  kInt,
  kFloat,
  kOp,          // text holds the operator: + - * / // % ** ~ == != < <= > >= = . : | , ( ) [ ] { }
  kEof,
};

struct Token {
  TokKind kind = TokKind::kEof;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
  size_t offset = 0;  // byte offset in the normalized source
};

// Python's str.splitlines + "\n".join: normalizes every line break to '\n' and drops one
// trailing newline (jinja2 keep_trailing_newline=False).
std::string NormalizeSource(std::string_view source);

// "template line L, col C" for a byte offset of the normalized source (column in code points).
std::string SourcePosition(std::string_view source, size_t offset);

// Tokenizes normalized source. Errors carry the position and what was wrong.
Expected<std::vector<Token>> Lex(std::string_view source);

}  // namespace semantic::chat::tmpl
