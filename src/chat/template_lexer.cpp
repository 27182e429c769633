// Chat-template lexer (see template_lexer.h). Mirrors jinja2's lexer: text, {{ }}, {% %}, {# #},
// {% raw %}, whitespace control, string escapes as Python's unicode-escape decodes them.
#include "chat/template_lexer.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "chat/unicode_text.h"

namespace semantic::chat::tmpl {
namespace {

// Python str.rstrip() (Unicode whitespace).
std::string RStripSpace(std::string_view s) {
  return text::Strip(s, nullptr, text::StripSide::kRight);
}

// Length of the run of Unicode whitespace at s[pos...] (Python regex \s*).
size_t SpaceRun(std::string_view s, size_t pos) {
  size_t p = pos;
  while (p < s.size()) {
    size_t next = p;
    if (!text::IsSpace(text::DecodeAt(s, &next))) break;
    p = next;
  }
  return p - pos;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Expected<std::vector<Token>> Run() {
    while (pos_ < src_.size()) {
      const size_t open = FindTagStart(pos_);
      if (open == std::string_view::npos) {
        EmitText(std::string(src_.substr(pos_)), pos_);
        break;
      }
      RETURN_IF_ERROR(LexTag(open));
    }
    Token eof;
    eof.kind = TokKind::kEof;
    eof.offset = src_.size();
    toks_.push_back(eof);
    return std::move(toks_);
  }

 private:
  size_t FindTagStart(size_t from) const {
    for (size_t p = src_.find('{', from); p != std::string_view::npos; p = src_.find('{', p + 1)) {
      if (p + 1 < src_.size() && (src_[p + 1] == '{' || src_[p + 1] == '%' || src_[p + 1] == '#')) {
        return p;
      }
    }
    return std::string_view::npos;
  }

  Status Error(size_t offset, const std::string& msg) const {
    return InvalidArgument(SourcePosition(src_, offset) + ": " + msg);
  }

  void EmitText(std::string text, size_t offset) {
    if (text.empty()) return;
    Token t;
    t.kind = TokKind::kText;
    t.text = std::move(text);
    t.offset = offset;
    toks_.push_back(std::move(t));
  }

  void Emit(TokKind kind, std::string text, size_t offset) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.offset = offset;
    toks_.push_back(std::move(t));
  }

  // Whitespace control for text before a tag: `-` strips all trailing whitespace; otherwise
  // lstrip_blocks (blocks and comments only) drops a whitespace-only tail after the last newline,
  // or at a line start. `line_starting` says whether the text begins a line.
  static void ControlLeadingText(std::string* text, bool is_var, char sign, bool line_starting) {
    if (sign == '-') {
      *text = RStripSpace(*text);
    } else if (sign != '+' && !is_var) {
      const size_t nl = text->rfind('\n');
      const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting) && l_pos < text->size() &&
          SpaceRun(*text, l_pos) == text->size() - l_pos) {  // jinja2: \s+ fullmatch
        text->resize(l_pos);
      }
    }
  }

  void EmitLeadingText(size_t open, char kind, char sign) {
    std::string text(src_.substr(pos_, open - pos_));
    ControlLeadingText(&text, kind == '{', sign, line_starting_);
    EmitText(std::move(text), pos_);
  }

  // Position after a block/comment end marker at `at` ("%}" or "#}" preceded by sign).
  size_t AfterBlockEnd(size_t at, char sign) const {
    size_t after = at + 2;
    if (sign == '-') {
      after += SpaceRun(src_, after);
    } else if (sign != '+' && after < src_.size() && src_[after] == '\n') {
      ++after;  // trim_blocks
    }
    return after;
  }

  Status LexTag(size_t open) {
    const char kind = src_[open + 1];
    char sign = 0;
    if (open + 2 < src_.size() && (src_[open + 2] == '-' || src_[open + 2] == '+')) {
      sign = src_[open + 2];
    }
    if (kind == '%' && TryRaw(open, sign)) return raw_status_;
    EmitLeadingText(open, kind, sign);
    size_t p = open + 2 + (sign != 0 ? 1 : 0);
    if (kind == '#') {
      const size_t end = src_.find("#}", p);
      if (end == std::string_view::npos) return Error(open, "missing end of comment tag");
      const char end_sign = (end > p && (src_[end - 1] == '-' || src_[end - 1] == '+'))
                                ? src_[end - 1]
                                : 0;
      pos_ = AfterBlockEnd(end, end_sign);
      line_starting_ = src_[pos_ - 1] == '\n';
      return Status::Ok();
    }
    const bool is_block = kind == '%';
    Emit(is_block ? TokKind::kBlockBegin : TokKind::kVarBegin, "", open);
    return LexInside(p, is_block);
  }

  // {% raw %}...{% endraw %}: the body is text, untouched. As in jinja2, the opening tag takes
  // `-%}` or `%}` only (no trim_blocks newline removal); `{% raw +%}` is an ordinary (unknown) tag.
  bool TryRaw(size_t open, char sign) {
    size_t p = open + 2 + (sign != 0 ? 1 : 0);
    p += SpaceRun(src_, p);
    if (src_.compare(p, 3, "raw") != 0) return false;
    p += 3;
    p += SpaceRun(src_, p);
    char open_end_sign = 0;
    if (p < src_.size() && src_[p] == '-') open_end_sign = src_[p++];
    if (src_.compare(p, 2, "%}") != 0) return false;
    EmitLeadingText(open, '%', sign);
    size_t body = p + 2;
    if (open_end_sign == '-') body += SpaceRun(src_, body);
    const bool body_line_starting = src_[body - 1] == '\n';
    // Find {%[-+]? endraw [-+]?%}
    for (size_t q = src_.find("{%", body); q != std::string_view::npos; q = src_.find("{%", q + 2)) {
      size_t r = q + 2;
      char end_open_sign = 0;
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) end_open_sign = src_[r++];
      r += SpaceRun(src_, r);
      if (src_.compare(r, 6, "endraw") != 0) continue;
      r += 6;
      r += SpaceRun(src_, r);
      char end_sign = 0;
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) end_sign = src_[r++];
      if (src_.compare(r, 2, "%}") != 0) continue;
      std::string raw(src_.substr(body, q - body));
      ControlLeadingText(&raw, false, end_open_sign, body_line_starting);
      EmitText(std::move(raw), body);
      pos_ = AfterBlockEnd(r, end_sign);
      line_starting_ = src_[pos_ - 1] == '\n';
      raw_status_ = Status::Ok();
      return true;
    }
    raw_status_ = Error(open, "missing end of raw directive");
    return true;
  }

  Status LexInside(size_t p, bool is_block) {
    std::vector<char> brackets;
    while (true) {
      p += SpaceRun(src_, p);
      if (p >= src_.size()) {
        return Error(p, std::string("unexpected end of template, expected '") +
                            (is_block ? "%}" : "}}") + "'");
      }
      if (brackets.empty()) {
        const std::string_view end = is_block ? "%}" : "}}";
        char sign = 0;
        size_t at = p;
        if ((src_[p] == '-' || (is_block && src_[p] == '+')) && src_.compare(p + 1, 2, end) == 0) {
          sign = src_[p];
          at = p + 1;
        }
        if (src_.compare(at, 2, end) == 0) {
          Emit(is_block ? TokKind::kBlockEnd : TokKind::kVarEnd, "", p);
          if (is_block) {
            pos_ = AfterBlockEnd(at, sign);
          } else {
            pos_ = at + 2;
            if (sign == '-') pos_ += SpaceRun(src_, pos_);
          }
          line_starting_ = src_[pos_ - 1] == '\n';
          return Status::Ok();
        }
      }
      const char c = src_[p];
      if (c == '\'' || c == '"') {
        RETURN_IF_ERROR(LexString(&p));
      } else if (c >= '0' && c <= '9') {
        RETURN_IF_ERROR(LexNumber(&p));
      } else if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        const size_t start = p;
        while (p < src_.size() && (src_[p] == '_' || std::isalnum(static_cast<unsigned char>(src_[p])))) {
          ++p;
        }
        Emit(TokKind::kName, std::string(src_.substr(start, p - start)), start);
      } else {
        static const char* kOps2[] = {"//", "**", "==", "!=", ">=", "<="};
        std::string op;
        for (const char* o : kOps2) {
          if (src_.compare(p, 2, o) == 0) op = o;
        }
        if (op.empty()) {
          if (std::string_view("+-/*%~[](){}<>=.:|,;").find(c) == std::string_view::npos) {
            size_t q = p;
            std::string ch;
            text::AppendUtf8(text::DecodeAt(src_, &q), &ch);
            return Error(p, "unexpected character '" + ch + "'");
          }
          op = std::string(1, c);
        }
        if (op == "(" || op == "[" || op == "{") {
          brackets.push_back(op[0]);
        } else if (op == ")" || op == "]" || op == "}") {
          const char want = op == ")" ? '(' : op == "]" ? '[' : '{';
          if (brackets.empty() || brackets.back() != want) return Error(p, "unexpected '" + op + "'");
          brackets.pop_back();
        }
        Emit(TokKind::kOp, op, p);
        p += op.size();
      }
    }
  }

  Status LexString(size_t* pp) {
    const size_t start = *pp;
    const char quote = src_[start];
    std::string value;
    size_t p = start + 1;
    while (true) {
      if (p >= src_.size()) return Error(start, "unterminated string literal");
      const char c = src_[p];
      if (c == quote) break;
      if (c != '\\') {
        value.push_back(c);
        ++p;
        continue;
      }
      if (p + 1 >= src_.size()) return Error(start, "unterminated string literal");
      const char e = src_[p + 1];
      p += 2;
      switch (e) {
        case '\n': break;  // line continuation
        case '\\': value.push_back('\\'); break;
        case '\'': value.push_back('\''); break;
        case '"': value.push_back('"'); break;
        case 'a': value.push_back('\a'); break;
        case 'b': value.push_back('\b'); break;
        case 'f': value.push_back('\f'); break;
        case 'n': value.push_back('\n'); break;
        case 'r': value.push_back('\r'); break;
        case 't': value.push_back('\t'); break;
        case 'v': value.push_back('\v'); break;
        case 'x': case 'u': case 'U': {
          const int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int i = 0; i < digits; ++i) {
            const int h = p < src_.size() ? HexValue(src_[p]) : -1;
            if (h < 0) return Error(start, std::string("truncated \\") + e + " escape in string");
            cp = cp * 16 + static_cast<uint32_t>(h);
            ++p;
          }
          if (cp > 0x10FFFF) return Error(start, "illegal Unicode character in string escape");
          text::AppendUtf8(cp, &value);
          break;
        }
        case 'N':
          return Error(start, "unsupported string escape '\\N{...}'");
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int i = 0; i < 2 && p < src_.size() && src_[p] >= '0' && src_[p] <= '7'; ++i) {
              cp = cp * 8 + static_cast<uint32_t>(src_[p++] - '0');
            }
            text::AppendUtf8(cp, &value);
          } else if (static_cast<unsigned char>(e) >= 0x80) {
            // jinja2 first turns non-ASCII into \x/\u escapes, so "\é" decodes to "\xe9".
            size_t q = p - 1;
            const char32_t cp = text::DecodeAt(src_, &q);
            p = q;
            char buf[16];
            if (cp < 0x100) std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(cp));
            else if (cp < 0x10000) std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(cp));
            else std::snprintf(buf, sizeof(buf), "\\U%08x", static_cast<unsigned>(cp));
            value += buf;
          } else {
            value.push_back('\\');
            value.push_back(e);
          }
      }
    }
    Emit(TokKind::kString, std::move(value), start);
    *pp = p + 1;
    return Status::Ok();
  }

  // Digits with optional single underscores between them; returns the digits without '_'.
  std::string ReadDigits(size_t* pp, bool (*is_digit)(char)) const {
    std::string out;
    size_t p = *pp;
    while (p < src_.size()) {
      if (is_digit(src_[p])) {
        out.push_back(src_[p++]);
      } else if (src_[p] == '_' && !out.empty() && p + 1 < src_.size() && is_digit(src_[p + 1])) {
        ++p;
      } else {
        break;
      }
    }
    *pp = p;
    return out;
  }

  Status LexNumber(size_t* pp) {
    const size_t start = *pp;
    size_t p = start;
    auto dec = [](char c) { return c >= '0' && c <= '9'; };
    if (src_[p] == '0' && p + 1 < src_.size() && std::strchr("xXoObB", src_[p + 1]) != nullptr &&
        src_[p + 1] != 0) {
      const char base_ch = static_cast<char>(std::tolower(static_cast<unsigned char>(src_[p + 1])));
      const int base = base_ch == 'x' ? 16 : base_ch == 'o' ? 8 : 2;
      size_t q = p + 2;
      if (q < src_.size() && src_[q] == '_') ++q;
      std::string digits;
      while (q < src_.size() && (HexValue(src_[q]) >= 0 || src_[q] == '_') &&
             (src_[q] == '_' || HexValue(src_[q]) < base)) {
        if (src_[q] != '_') digits.push_back(src_[q]);
        ++q;
      }
      if (!digits.empty()) {
        Token t;
        t.kind = TokKind::kInt;
        t.offset = start;
        auto res = std::from_chars(digits.data(), digits.data() + digits.size(), t.int_value, base);
        if (res.ec != std::errc()) return Error(start, "integer literal too large");
        toks_.push_back(t);
        *pp = q;
        return Status::Ok();
      }
    }
    std::string number = ReadDigits(&p, dec);
    bool is_float = false;
    if (p + 1 < src_.size() && src_[p] == '.' && dec(src_[p + 1])) {
      ++p;
      number += "." + ReadDigits(&p, dec);
      is_float = true;
    }
    if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
      size_t q = p + 1;
      std::string exp = "e";
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) exp.push_back(src_[q++]);
      if (q < src_.size() && dec(src_[q])) {
        exp += ReadDigits(&q, dec);
        number += exp;
        p = q;
        is_float = true;
      }
    }
    Token t;
    t.offset = start;
    if (is_float) {
      t.kind = TokKind::kFloat;
      t.float_value = std::strtod(number.c_str(), nullptr);
    } else {
      t.kind = TokKind::kInt;
      auto res = std::from_chars(number.data(), number.data() + number.size(), t.int_value);
      if (res.ec != std::errc()) return Error(start, "integer literal too large");
    }
    toks_.push_back(t);
    *pp = p;
    return Status::Ok();
  }

  std::string_view src_;
  size_t pos_ = 0;
  bool line_starting_ = true;
  Status raw_status_;
  std::vector<Token> toks_;
};

}  // namespace

std::string NormalizeSource(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
      out.push_back('\n');
    } else {
      out.push_back(source[i]);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string SourcePosition(std::string_view source, size_t offset) {
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset && i < source.size(); ++i) {
    if (source[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  const size_t col =
      text::CodePointCount(source.substr(line_start, std::min(offset, source.size()) - line_start)) + 1;
  return "template line " + std::to_string(line) + ", col " + std::to_string(col);
}

Expected<std::vector<Token>> Lex(std::string_view source) { return Lexer(source).Run(); }

}  // namespace semantic::chat::tmpl
