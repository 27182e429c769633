// Python-compatible str/repr/json.dumps for chat::Value (see value_format.h).
#include "chat/value_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "chat/unicode_text.h"

namespace semantic::chat {
namespace {

// Code points Python's str.isprintable() rejects, approximated without full Unicode tables:
// controls, separators other than space, common format characters and private use.
bool IsPyUnprintable(char32_t cp) {
  if (cp < 0x20 || cp == 0x7F) return true;
  if (cp >= 0x80 && cp <= 0xA0) return true;
  if (cp == 0xAD || cp == 0x1680 || cp == 0x202F || cp == 0x205F || cp == 0x3000) return true;
  if (cp >= 0x2000 && cp <= 0x200F) return true;
  if (cp >= 0x2028 && cp <= 0x202E) return true;
  if (cp >= 0x2060 && cp <= 0x206F) return true;
  if (cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB)) return true;
  if (cp >= 0xD800 && cp <= 0xF8FF) return true;  // surrogates and private use
  return cp >= 0xF0000;
}

void AppendHex(uint32_t v, int digits, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out->push_back(kHex[(v >> (4 * i)) & 0xF]);
}

constexpr int kMaxNesting = 256;  // namespaces can contain themselves

void ReprInto(const Value& v, std::string* out, int depth);

void ReprSequence(const Value& v, std::string* out, int depth) {
  out->push_back(v.is_tuple() ? '(' : '[');
  bool first = true;
  for (const Value& item : v.items()) {
    if (!first) *out += ", ";
    first = false;
    ReprInto(item, out, depth + 1);
  }
  if (v.is_tuple() && v.items().size() == 1) out->push_back(',');
  out->push_back(v.is_tuple() ? ')' : ']');
}

void ReprMapping(const Value& v, std::string* out, int depth) {
  out->push_back('{');
  bool first = true;
  for (const auto& [k, item] : v.members()) {
    if (!first) *out += ", ";
    first = false;
    *out += PyStringRepr(k);
    *out += ": ";
    ReprInto(item, out, depth + 1);
  }
  out->push_back('}');
}

void ReprInto(const Value& v, std::string* out, int depth) {
  if (depth > kMaxNesting) {
    *out += "...";
    return;
  }
  switch (v.kind()) {
    case Value::Kind::kString:
      *out += PyStringRepr(v.AsString());
      return;
    case Value::Kind::kArray:
      ReprSequence(v, out, depth);
      return;
    case Value::Kind::kObject:
      ReprMapping(v, out, depth);
      return;
    case Value::Kind::kNamespace:
      *out += "<Namespace ";
      ReprMapping(v, out, depth);
      *out += ">";
      return;
    case Value::Kind::kUndefined:
      *out += "Undefined";
      return;
    default:
      *out += PyStr(v);
  }
}

void JsonString(const std::string& s, bool ensure_ascii, std::string* out) {
  out->push_back('"');
  for (size_t pos = 0; pos < s.size();) {
    const size_t start = pos;
    const char32_t cp = text::DecodeAt(s, &pos);
    switch (cp) {
      case '"': *out += "\\\""; continue;
      case '\\': *out += "\\\\"; continue;
      case '\n': *out += "\\n"; continue;
      case '\r': *out += "\\r"; continue;
      case '\t': *out += "\\t"; continue;
      case '\b': *out += "\\b"; continue;
      case '\f': *out += "\\f"; continue;
      default: break;
    }
    if (cp < 0x20 || (ensure_ascii && cp >= 0x7F)) {
      if (cp >= 0x10000) {
        const uint32_t v = cp - 0x10000;
        *out += "\\u";
        AppendHex(0xD800 + (v >> 10), 4, out);
        *out += "\\u";
        AppendHex(0xDC00 + (v & 0x3FF), 4, out);
      } else {
        *out += "\\u";
        AppendHex(cp, 4, out);
      }
      continue;
    }
    out->append(s, start, pos - start);
  }
  out->push_back('"');
}

Status JsonInto(const Value& v, const JsonOptions& o, int level, std::string* out) {
  if (level > kMaxNesting) return InvalidArgument("Circular reference detected");
  switch (v.kind()) {
    case Value::Kind::kNull: *out += "null"; return Status::Ok();
    case Value::Kind::kBool: *out += v.AsBool() ? "true" : "false"; return Status::Ok();
    case Value::Kind::kInt: *out += std::to_string(v.AsInt()); return Status::Ok();
    case Value::Kind::kDouble: {
      const double d = v.AsDouble();
      if (std::isnan(d)) *out += "NaN";
      else if (std::isinf(d)) *out += d > 0 ? "Infinity" : "-Infinity";
      else *out += PyFloatRepr(d);
      return Status::Ok();
    }
    case Value::Kind::kString: JsonString(v.AsString(), o.ensure_ascii, out); return Status::Ok();
    case Value::Kind::kArray:
    case Value::Kind::kObject: {
      const bool is_array = v.is_array();
      const size_t n = is_array ? v.items().size() : v.members().size();
      if (n == 0) {
        *out += is_array ? "[]" : "{}";
        return Status::Ok();
      }
      out->push_back(is_array ? '[' : '{');
      std::string newline_indent;
      if (o.has_indent) {
        newline_indent = "\n";
        for (int i = 0; i <= level; ++i) newline_indent += o.indent;
        *out += newline_indent;
      }
      std::vector<const Value::Member*> members;
      if (!is_array) {
        for (const auto& m : v.members()) members.push_back(&m);
        if (o.sort_keys) {
          std::stable_sort(members.begin(), members.end(),
                           [](const auto* a, const auto* b) { return a->first < b->first; });
        }
      }
      for (size_t i = 0; i < n; ++i) {
        if (i > 0) {
          *out += o.item_separator;
          *out += newline_indent;
        }
        if (is_array) {
          RETURN_IF_ERROR(JsonInto(v.items()[i], o, level + 1, out));
        } else {
          JsonString(members[i]->first, o.ensure_ascii, out);
          *out += o.key_separator;
          RETURN_IF_ERROR(JsonInto(members[i]->second, o, level + 1, out));
        }
      }
      if (o.has_indent) {
        out->push_back('\n');
        for (int i = 0; i < level; ++i) *out += o.indent;
      }
      out->push_back(is_array ? ']' : '}');
      return Status::Ok();
    }
    default:
      return InvalidArgument("Object of type " + std::string(PyTypeName(v)) +
                             " is not JSON serializable");
  }
}

}  // namespace

std::string PyFloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // "-d.ddde+XX"
  std::string out;
  size_t i = 0;
  if (sci[0] == '-') {
    out.push_back('-');
    i = 1;
  }
  const size_t e_pos = sci.find('e');
  std::string digits;
  for (size_t k = i; k < e_pos; ++k) {
    if (sci[k] != '.') digits.push_back(sci[k]);
  }
  const int exp = std::atoi(sci.c_str() + e_pos + 1);
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out += "0.";
      out.append(static_cast<size_t>(-exp - 1), '0');
      out += digits;
    } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
      out += digits;
      out.append(static_cast<size_t>(exp) + 1 - digits.size(), '0');
      out += ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(exp) + 1);
      out += '.';
      out += digits.substr(static_cast<size_t>(exp) + 1);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) {
    out += '.';
    out += digits.substr(1);
  }
  char ebuf[16];
  std::snprintf(ebuf, sizeof(ebuf), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  out += ebuf;
  return out;
}

std::string PyStringRepr(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (size_t pos = 0; pos < s.size();) {
    const size_t start = pos;
    const char32_t cp = text::DecodeAt(s, &pos);
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(cp));
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (IsPyUnprintable(cp)) {
      if (cp < 0x100) {
        out += "\\x";
        AppendHex(cp, 2, &out);
      } else if (cp < 0x10000) {
        out += "\\u";
        AppendHex(cp, 4, &out);
      } else {
        out += "\\U";
        AppendHex(cp, 8, &out);
      }
    } else {
      out.append(s, start, pos - start);
    }
  }
  out.push_back(quote);
  return out;
}

std::string PyStr(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: return "None";
    case Value::Kind::kBool: return v.AsBool() ? "True" : "False";
    case Value::Kind::kInt: return std::to_string(v.AsInt());
    case Value::Kind::kDouble: return PyFloatRepr(v.AsDouble());
    case Value::Kind::kString: return v.AsString();
    case Value::Kind::kUndefined: return "";
    case Value::Kind::kNamespace: {
      std::string out;
      ReprInto(v, &out, 0);
      return out;
    }
    case Value::Kind::kCallable: return "<function>";
    default: {
      std::string out;
      ReprInto(v, &out, 0);
      return out;
    }
  }
}

std::string PyRepr(const Value& v) {
  std::string out;
  ReprInto(v, &out, 0);
  return out;
}

Expected<std::string> ToJson(const Value& v, const JsonOptions& options) {
  std::string out;
  RETURN_IF_ERROR(JsonInto(v, options, 0, &out));
  return out;
}

}  // namespace semantic::chat
