// Option value parsing and formatting (sizes, durations, booleans, enums, lists) and the checks
// every source goes through: defaults, TOML files, environment variables and flags alike.
#include "config/value_parse.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace semantic::config {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Whole-string integer.
bool ParseInt(std::string_view s, int64_t* out) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Whole-string finite decimal number (no hex, no inf/nan).
bool ParseDouble(std::string_view s, double* out) {
  s = Trim(s);
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+' &&
        c != 'e' && c != 'E') {
      return false;
    }
  }
  std::string z(s);
  char* end = nullptr;
  *out = std::strtod(z.c_str(), &end);
  return end == z.c_str() + z.size() && std::isfinite(*out);
}

// Leading unsigned decimal number ("1.5" of "1.5GiB"); returns its length, 0 if none.
size_t NumberPrefix(std::string_view s) {
  size_t i = 0;
  bool digits = false, dot = false;
  for (; i < s.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(s[i]))) {
      digits = true;
    } else if (s[i] == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  return digits ? i : 0;
}

std::string FormatDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  // Prefer the shortest spelling that reads back exactly.
  for (int prec = 1; prec <= 17; ++prec) {
    char tmp[64];
    std::snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
    if (std::strtod(tmp, nullptr) == v) {
      std::snprintf(buf, sizeof(buf), "%s", tmp);
      break;
    }
  }
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string JoinChoices(const std::vector<std::string>& choices) {
  std::string out;
  for (size_t i = 0; i < choices.size(); ++i) out += (i ? ", " : "") + choices[i];
  return out;
}

std::string FormatBound(const OptionDecl& d, double v) {
  switch (d.type) {
    case OptionType::kSize:
      return FormatSize(static_cast<int64_t>(v));
    case OptionType::kDuration:
      return FormatDuration(static_cast<int64_t>(v));
    case OptionType::kFloat:
      return FormatDouble(v);
    default:
      return std::to_string(static_cast<int64_t>(v));
  }
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = Trim(text.substr(start, comma - start));
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

std::string ExpandHome(std::string s, const std::string& home) {
  if (!home.empty() && (s == "~" || s.rfind("~/", 0) == 0)) s = home + s.substr(1);
  return s;
}

}  // namespace

Expected<int64_t> ParseSize(std::string_view text) {
  std::string_view s = Trim(text);
  size_t n = NumberPrefix(s);
  if (n == 0)
    return InvalidArgument("'" + std::string(text) + "' is not a size (e.g. 512MiB, 2GiB)");
  double number = 0;
  ParseDouble(s.substr(0, n), &number);
  const std::string unit = Lower(Trim(s.substr(n)));
  static const struct {
    const char* name;
    double mult;
  } kUnits[] = {{"", 1},
                {"b", 1},
                {"k", 1024.0},
                {"kib", 1024.0},
                {"kb", 1e3},
                {"m", 1048576.0},
                {"mib", 1048576.0},
                {"mb", 1e6},
                {"g", 1073741824.0},
                {"gib", 1073741824.0},
                {"gb", 1e9},
                {"t", 1099511627776.0},
                {"tib", 1099511627776.0},
                {"tb", 1e12}};
  for (const auto& u : kUnits) {
    if (unit != u.name) continue;
    const double bytes = std::round(number * u.mult);
    if (bytes > 9.2e18) return OutOfRange("'" + std::string(text) + "' is too large");
    return static_cast<int64_t>(bytes);
  }
  return InvalidArgument("'" + std::string(text) + "' has an unknown size unit '" +
                         std::string(Trim(s.substr(n))) +
                         "' (use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)");
}

Expected<int64_t> ParseDurationMs(std::string_view text) {
  std::string_view s = Trim(text);
  const std::string bad =
      "'" + std::string(text) + "' is not a duration (e.g. 500ms, 30s, 10m, 1h)";
  if (s.empty()) return InvalidArgument(bad);
  double plain = 0;
  if (ParseDouble(s, &plain)) {
    if (plain < 0) return InvalidArgument(bad);
    return static_cast<int64_t>(std::llround(plain * 1000.0));
  }
  double total_ms = 0;
  while (!s.empty()) {
    size_t n = NumberPrefix(s);
    if (n == 0) return InvalidArgument(bad);
    double number = 0;
    ParseDouble(s.substr(0, n), &number);
    s.remove_prefix(n);
    size_t u = 0;
    while (u < s.size() && std::isalpha(static_cast<unsigned char>(s[u]))) ++u;
    const std::string unit = Lower(s.substr(0, u));
    s = Trim(s.substr(u));
    double mult = 0;
    if (unit == "ms")
      mult = 1;
    else if (unit == "s")
      mult = 1e3;
    else if (unit == "m" || unit == "min")
      mult = 60e3;
    else if (unit == "h")
      mult = 3600e3;
    else if (unit == "d")
      mult = 86400e3;
    else
      return InvalidArgument("'" + std::string(text) + "' has an unknown duration unit '" + unit +
                             "' (use ms, s, m, h, d)");
    total_ms += number * mult;
  }
  if (total_ms > 9.2e18) return OutOfRange("'" + std::string(text) + "' is too long");
  return static_cast<int64_t>(std::llround(total_ms));
}

std::string FormatSize(int64_t bytes) {
  if (bytes == 0) return "0B";
  static const struct {
    const char* name;
    int64_t mult;
  } kUnits[] = {{"TiB", 1ll << 40}, {"GiB", 1ll << 30}, {"MiB", 1ll << 20}, {"KiB", 1ll << 10}};
  for (const auto& u : kUnits) {
    if (bytes % u.mult == 0) return std::to_string(bytes / u.mult) + u.name;
  }
  return std::to_string(bytes) + "B";
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  static const struct {
    const char* name;
    int64_t mult;
  } kUnits[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
  std::string out;
  for (const auto& u : kUnits) {
    if (ms >= u.mult) {
      out += std::to_string(ms / u.mult) + u.name;
      ms %= u.mult;
    }
  }
  return out;
}

Status Validate(const OptionDecl& d, Value& v) {
  if (d.type == OptionType::kEnum) {
    const std::string text = Lower(std::get<std::string>(v));
    bool found = false;
    for (const auto& c : d.choices) {
      if (Lower(c) == text) {
        v = c;
        found = true;
      }
    }
    if (!found) {
      return InvalidArgument("'" + std::get<std::string>(v) + "' is not one of " +
                             JoinChoices(d.choices));
    }
  }
  if (d.has_range) {
    double x = 0;
    std::string shown;
    if (const auto* i = std::get_if<int64_t>(&v)) {
      x = static_cast<double>(*i);
    } else if (const auto* f = std::get_if<double>(&v)) {
      x = *f;
    }
    if (x < d.min || x > d.max) {
      return OutOfRange(FormatText(d, v) + " is out of range [" + FormatBound(d, d.min) + ", " +
                        FormatBound(d, d.max) + "]");
    }
  }
  if (d.check) return d.check(v);
  return Status::Ok();
}

Expected<Value> ParseText(const OptionDecl& d, std::string_view text, const std::string& home) {
  Value v;
  const std::string t(text);
  switch (d.type) {
    case OptionType::kString:
    case OptionType::kEnum:
    case OptionType::kIgnored:
      v = t;
      break;
    case OptionType::kPath:
      v = ExpandHome(std::string(Trim(t)), home);
      break;
    case OptionType::kInt: {
      int64_t i = 0;
      if (!ParseInt(t, &i)) return InvalidArgument("'" + t + "' is not an integer");
      v = i;
      break;
    }
    case OptionType::kFloat: {
      double f = 0;
      if (!ParseDouble(t, &f)) return InvalidArgument("'" + t + "' is not a number");
      v = f;
      break;
    }
    case OptionType::kBool: {
      const std::string l = Lower(Trim(t));
      if (l == "true" || l == "1" || l == "yes" || l == "on") {
        v = true;
      } else if (l == "false" || l == "0" || l == "no" || l == "off") {
        v = false;
      } else {
        return InvalidArgument("'" + t + "' is not a boolean (true/false, 1/0, yes/no, on/off)");
      }
      break;
    }
    case OptionType::kSize: {
      auto s = ParseSize(t);
      if (!s.ok()) return s.status();
      v = *s;
      break;
    }
    case OptionType::kDuration: {
      auto s = ParseDurationMs(t);
      if (!s.ok()) return s.status();
      v = *s;
      break;
    }
    case OptionType::kList:
      v = SplitList(t);
      break;
  }
  Status st = Validate(d, v);
  if (!st.ok()) return st;
  return v;
}

const char* RawTypeName(const Value& raw) {
  switch (raw.index()) {
    case 0:
      return "a boolean";
    case 1:
      return "an integer";
    case 2:
      return "a float";
    case 3:
      return "a string";
    default:
      return "an array";
  }
}

Expected<Value> ParseToml(const OptionDecl& d, const Value& raw, const std::string& home) {
  auto wrong = [&](const char* want) {
    return InvalidArgument(std::string("expected ") + want + ", got " + RawTypeName(raw));
  };
  const auto* str = std::get_if<std::string>(&raw);
  Value v;
  switch (d.type) {
    case OptionType::kIgnored:
      return raw;
    case OptionType::kString:
    case OptionType::kEnum:
      if (!str) return wrong("a string");
      v = *str;
      break;
    case OptionType::kPath:
      if (!str) return wrong("a string");
      v = ExpandHome(*str, home);
      break;
    case OptionType::kInt:
      if (!std::holds_alternative<int64_t>(raw)) return wrong("an integer");
      v = raw;
      break;
    case OptionType::kFloat:
      if (const auto* i = std::get_if<int64_t>(&raw)) {
        v = static_cast<double>(*i);
      } else if (std::holds_alternative<double>(raw)) {
        v = raw;
      } else {
        return wrong("a number");
      }
      break;
    case OptionType::kBool:
      if (!std::holds_alternative<bool>(raw)) return wrong("a boolean");
      v = raw;
      break;
    case OptionType::kSize:
      if (const auto* i = std::get_if<int64_t>(&raw)) {
        if (*i < 0) return InvalidArgument(std::to_string(*i) + " is negative");
        v = *i;
      } else if (str) {
        return ParseText(d, *str, home);
      } else {
        return wrong("a size (a string such as \"2GiB\", or an integer number of bytes)");
      }
      break;
    case OptionType::kDuration:
      if (const auto* i = std::get_if<int64_t>(&raw)) {
        if (*i < 0) return InvalidArgument(std::to_string(*i) + " is negative");
        v = *i * 1000;
      } else if (const auto* f = std::get_if<double>(&raw)) {
        if (*f < 0) return InvalidArgument(FormatDouble(*f) + " is negative");
        v = static_cast<int64_t>(std::llround(*f * 1000.0));
      } else if (str) {
        return ParseText(d, *str, home);
      } else {
        return wrong("a duration (a string such as \"30s\", or a number of seconds)");
      }
      break;
    case OptionType::kList:
      if (str) {
        v = SplitList(*str);
      } else if (std::holds_alternative<std::vector<std::string>>(raw)) {
        v = raw;
      } else {
        return wrong("an array of strings");
      }
      break;
  }
  Status st = Validate(d, v);
  if (!st.ok()) return st;
  return v;
}

Expected<std::string> TranslateAlias(AliasValue kind, std::string_view text) {
  switch (kind) {
    case AliasValue::kSame:
      return std::string(text);
    case AliasValue::kMebibytes: {
      double x = 0;
      if (ParseDouble(text, &x)) return std::string(Trim(text)) + "MiB";
      return std::string(text);
    }
    case AliasValue::kKvBits: {
      const std::string l = Lower(Trim(text));
      if (l == "4") return std::string("q4_0");
      if (l == "8") return std::string("q8_0");
      if (l == "16" || l == "none" || l == "null" || l.empty()) return std::string("f16");
      return InvalidArgument("'" + std::string(text) +
                             "' is not a kv_bits value (4, 8, 16 or none)");
    }
  }
  return std::string(text);
}

std::string FormatText(const OptionDecl& d, const Value& v) {
  switch (d.type) {
    case OptionType::kSize:
      return FormatSize(std::get<int64_t>(v));
    case OptionType::kDuration:
      return FormatDuration(std::get<int64_t>(v));
    default:
      break;
  }
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* f = std::get_if<double>(&v)) return FormatDouble(*f);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  std::string out;
  for (const auto& item : std::get<std::vector<std::string>>(v))
    out += (out.empty() ? "" : ",") + item;
  return out;
}

std::string QuoteToml(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string FormatToml(const OptionDecl& d, const Value& v) {
  switch (d.type) {
    case OptionType::kSize:
    case OptionType::kDuration:
    case OptionType::kString:
    case OptionType::kPath:
    case OptionType::kEnum:
      return QuoteToml(FormatText(d, v));
    default:
      break;
  }
  if (const auto* list = std::get_if<std::vector<std::string>>(&v)) {
    std::string out = "[";
    for (size_t i = 0; i < list->size(); ++i) out += (i ? ", " : "") + QuoteToml((*list)[i]);
    return out + "]";
  }
  if (const auto* s = std::get_if<std::string>(&v)) return QuoteToml(*s);
  return FormatText(d, v);
}

}  // namespace semantic::config
