// Python printf-style string formatting ("%s: %d" % (a, b), "%(name)s" % d) for chat templates,
// used by the `%` operator on strings and by the `format` filter.
#include <cmath>
#include <cstdio>
#include <string>

#include "chat/template_eval.h"
#include "chat/unicode_text.h"
#include "chat/value_format.h"

namespace semantic::chat::tmpl {
namespace {

struct Spec {
  bool left = false, plus = false, space = false, alt = false, zero = false;
  int width = -1;
  int precision = -1;
  char conv = 's';
};

// Pads `body` (already signed) to the spec's width; zero padding goes after the sign.
std::string Pad(const Spec& sp, std::string body, bool numeric) {
  const auto len = static_cast<int>(text::CodePointCount(body));
  if (sp.width <= len) return body;
  const auto fill = static_cast<size_t>(sp.width - len);
  if (sp.left) return body + std::string(fill, ' ');
  if (sp.zero && numeric) {
    size_t at = (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
    if (body.compare(at, 2, "0x") == 0 || body.compare(at, 2, "0X") == 0 ||
        body.compare(at, 2, "0o") == 0) {
      at += 2;
    }
    return body.insert(at, fill, '0');
  }
  return std::string(fill, ' ') + body;
}

std::string Signed(const Spec& sp, bool negative, const std::string& digits) {
  if (negative) return "-" + digits;
  if (sp.plus) return "+" + digits;
  if (sp.space) return " " + digits;
  return digits;
}

Expected<std::string> FormatOne(const Interpreter& in, const Spec& sp, const Value& v, size_t off) {
  if (v.is_undefined() && sp.conv != 's') return in.UndefinedError(v, off);
  switch (sp.conv) {
    case 's':
    case 'r':
    case 'a': {
      std::string s = sp.conv == 's' ? (v.is_string() ? v.AsString() : PyStr(v)) : PyRepr(v);
      if (sp.precision >= 0) {
        const std::vector<char32_t> cps = text::ToCodePoints(s);
        s = text::FromCodePoints(cps, 0, static_cast<size_t>(sp.precision));
      }
      return Pad(sp, std::move(s), false);
    }
    case 'd':
    case 'i':
    case 'u':
    case 'x':
    case 'X':
    case 'o': {
      const bool decimal = sp.conv == 'd' || sp.conv == 'i' || sp.conv == 'u';
      if (!v.is_number() || (!decimal && v.is_double())) {
        return in.Error(off, std::string("%") + sp.conv + " format: " +
                                 (decimal ? "a real number" : "an integer") + " is required, not " +
                                 std::string(PyTypeName(v)));
      }
      if (v.is_double() && !std::isfinite(v.AsDouble())) {
        return in.Error(off, "cannot convert float infinity or NaN to integer");
      }
      const int64_t x = v.is_double() ? static_cast<int64_t>(std::trunc(v.AsDouble())) : v.AsInt();
      const unsigned long long mag = x < 0 ? 0ull - static_cast<unsigned long long>(x)
                                           : static_cast<unsigned long long>(x);
      char buf[80];
      const char* f = decimal ? "%llu" : sp.conv == 'x' ? "%llx" : sp.conv == 'X' ? "%llX" : "%llo";
      std::snprintf(buf, sizeof(buf), f, mag);
      std::string digits = buf;
      if (sp.precision > static_cast<int>(digits.size())) {
        digits.insert(0, static_cast<size_t>(sp.precision) - digits.size(), '0');
      }
      if (sp.alt && !decimal) digits = (sp.conv == 'o' ? "0o" : sp.conv == 'x' ? "0x" : "0X") + digits;
      return Pad(sp, Signed(sp, x < 0, digits), true);
    }
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': {
      if (!v.is_number()) {
        return in.Error(off, "must be real number, not " + std::string(PyTypeName(v)));
      }
      const double d = v.AsDouble();
      std::string f = "%";
      if (sp.alt) f += '#';
      f += ".*";
      f += sp.conv;
      char buf[512];
      std::snprintf(buf, sizeof(buf), f.c_str(), sp.precision < 0 ? 6 : std::min(sp.precision, 300),
                    std::fabs(d));
      return Pad(sp, Signed(sp, std::signbit(d) && !std::isnan(d), buf), std::isfinite(d));
    }
    case 'c': {
      std::string s;
      if (v.is_string() && text::CodePointCount(v.AsString()) == 1) {
        s = v.AsString();
      } else if (v.is_int() && v.AsInt() >= 0 && v.AsInt() <= 0x10FFFF) {
        text::AppendUtf8(static_cast<char32_t>(v.AsInt()), &s);
      } else {
        return in.Error(off, "%c requires an int or a unicode character");
      }
      return Pad(sp, std::move(s), false);
    }
    default:
      return in.Error(off, std::string("unsupported format character '") + sp.conv + "'");
  }
}

}  // namespace

Expected<Value> PercentFormat(const Interpreter& in, const std::string& fmt, const Value& args,
                              size_t offset) {
  // A tuple supplies positional values; anything else is one value. Lists and dicts also act as
  // a mapping for %(name)s, and then unused arguments are not an error (Python's rules).
  std::vector<Value> positional = args.is_tuple() ? args.items() : std::vector<Value>{args};
  const bool mapping =
      args.is_object() || args.is_undefined() || (args.is_array() && !args.is_tuple());
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out.push_back(fmt[i]);
      continue;
    }
    if (++i >= fmt.size()) return in.Error(offset, "incomplete format");
    if (fmt[i] == '%') {
      out.push_back('%');
      continue;
    }
    const Value* value = nullptr;
    Value keyed;
    if (fmt[i] == '(') {
      if (!args.is_object()) return in.Error(offset, "format requires a mapping");
      int depth = 1;
      const size_t start = ++i;
      while (i < fmt.size() && depth > 0) {
        if (fmt[i] == '(') ++depth;
        if (fmt[i] == ')') --depth;
        ++i;
      }
      if (depth > 0) return in.Error(offset, "incomplete format key");
      const std::string key = fmt.substr(start, i - 1 - start);
      const Value* found = args.Find(key);
      if (found == nullptr) return in.Error(offset, "KeyError: " + PyStringRepr(key));
      keyed = *found;
      value = &keyed;
    }
    Spec sp;
    for (; i < fmt.size(); ++i) {
      const char c = fmt[i];
      if (c == '-') sp.left = true;
      else if (c == '+') sp.plus = true;
      else if (c == ' ') sp.space = true;
      else if (c == '#') sp.alt = true;
      else if (c == '0') sp.zero = true;
      else break;
    }
    auto number = [&](int* target) -> Status {
      if (i < fmt.size() && fmt[i] == '*') {
        ++i;
        if (next >= positional.size() || !positional[next].is_int()) {
          return in.Error(offset, "* wants int");
        }
        *target = static_cast<int>(std::min<int64_t>(positional[next++].AsInt(), 1 << 20));
        return Status::Ok();
      }
      if (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') {
        *target = 0;
        while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') {
          *target = std::min(*target * 10 + (fmt[i++] - '0'), 1 << 20);
        }
      }
      return Status::Ok();
    };
    RETURN_IF_ERROR(number(&sp.width));
    if (sp.width < -1) {
      sp.left = true;
      sp.width = -sp.width;
    }
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      sp.precision = 0;
      RETURN_IF_ERROR(number(&sp.precision));
    }
    while (i < fmt.size() && (fmt[i] == 'h' || fmt[i] == 'l' || fmt[i] == 'L')) ++i;
    if (i >= fmt.size()) return in.Error(offset, "incomplete format");
    sp.conv = fmt[i];
    if (value == nullptr) {
      if (next >= positional.size()) return in.Error(offset, "not enough arguments for format string");
      value = &positional[next++];
    }
    ASSIGN_OR_RETURN(std::string piece, FormatOne(in, sp, *value, offset));
    out += piece;
  }
  if (next < positional.size() && !mapping && !(args.is_tuple() && positional.empty())) {
    return in.Error(offset, "not all arguments converted during string formatting");
  }
  return Value(std::move(out));
}

}  // namespace semantic::chat::tmpl
