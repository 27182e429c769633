// Jinja2 filters for chat templates (trim, tojson, join, selectattr, map, ...), each following
// jinja2 3.1's implementation; `tojson` is HF transformers' override (json.dumps, ensure_ascii=False).
#include <algorithm>
#include <cctype>
#include <cfenv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "chat/template_eval.h"
#include "chat/unicode_text.h"
#include "chat/value_format.h"

namespace semantic::chat::tmpl {
namespace {

using FilterFn = Expected<Value> (*)(Interpreter&, const Value&, const CallArgs&, size_t);

// str(x) as jinja2's soft_str sees it (undefined prints as "").
std::string Str(const Value& v) { return v.is_string() ? v.AsString() : PyStr(v); }

// jinja2 make_attrgetter: "a.b.0" looks up each part with getitem semantics.
Expected<Value> GetPath(Interpreter& in, const Value& item, const Value& attribute, size_t offset) {
  if (attribute.is_int()) return in.GetItem(item, attribute, offset);
  if (!attribute.is_string()) return in.Error(offset, "attribute name must be a string");
  Value cur = item;
  const std::string path = attribute.AsString();
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    Value key(part);
    if (!part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      key = Value(static_cast<int64_t>(std::strtoll(part.c_str(), nullptr, 10)));
    }
    ASSIGN_OR_RETURN(cur, in.GetItem(cur, key, offset));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

Expected<Value> SortKey(Interpreter& in, const Value& item, const Value& attribute,
                        bool case_sensitive, size_t offset) {
  Value key = item;
  if (!attribute.is_null()) {
    ASSIGN_OR_RETURN(key, GetPath(in, item, attribute, offset));
  }
  if (!case_sensitive && key.is_string()) return Value(text::Lower(key.AsString()));
  return key;
}

// Stable sort of values by precomputed keys; the first comparison error wins.
Status SortByKeys(Interpreter& in, std::vector<Value>* items, const std::vector<Value>& keys,
                  bool reverse, size_t offset) {
  std::vector<size_t> order(items->size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Status error;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (!error.ok()) return false;
    auto c = Compare(in, keys[a], keys[b], offset);
    if (!c.ok()) {
      error = c.status();
      return false;
    }
    return reverse ? *c > 0 : *c < 0;
  });
  RETURN_IF_ERROR(error);
  std::vector<Value> sorted;
  sorted.reserve(items->size());
  for (size_t i : order) sorted.push_back(std::move((*items)[i]));
  *items = std::move(sorted);
  return Status::Ok();
}

Expected<Value> Abs(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("abs", a, {}, off));
  if (v.is_double()) return Value(std::fabs(v.AsDouble()));
  if (v.is_int() || v.is_bool()) {
    if (v.AsInt() == INT64_MIN) return in.Error(off, "integer overflow");
    return Value(v.AsInt() < 0 ? -v.AsInt() : v.AsInt());
  }
  if (v.is_undefined()) return in.UndefinedError(v, off);
  return in.Error(off, "bad operand type for abs(): '" + std::string(PyTypeName(v)) + "'");
}

Expected<Value> Attr(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("attr", a, {{"name", {}}}, off));
  if (!p[0].is_string()) return in.Error(off, "attribute name must be a string");
  if (v.is_object() && !HasMethod(v, p[0].AsString())) {
    return Value::Undefined("'dict object' has no attribute '" + p[0].AsString() + "'");
  }
  return in.GetAttr(v, p[0].AsString(), off);
}

Expected<Value> Capitalize(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("capitalize", a, {}, off));
  return Value(text::Capitalize(Str(v)));
}

Expected<Value> Center(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("center", a, {{"width", Value(80)}}, off));
  if (!p[0].is_int()) return in.Error(off, "center() width must be an integer");
  const std::string s = Str(v);
  const int64_t len = static_cast<int64_t>(text::CodePointCount(s));
  const int64_t width = p[0].AsInt();
  if (width <= len) return Value(s);
  RETURN_IF_ERROR(in.CheckSize(static_cast<uint64_t>(width), 1, off));
  const int64_t marg = width - len;
  const int64_t left = marg / 2 + (marg & width & 1);
  return Value(std::string(static_cast<size_t>(left), ' ') + s +
               std::string(static_cast<size_t>(marg - left), ' '));
}

Expected<Value> Length(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("length", a, {}, off));
  switch (v.kind()) {
    case Value::Kind::kString: return Value(text::CodePointCount(v.AsString()));
    case Value::Kind::kArray: return Value(v.items().size());
    case Value::Kind::kObject: return Value(v.members().size());
    case Value::Kind::kUndefined: return Value(0);
    default:
      return in.Error(off, "object of type '" + std::string(PyTypeName(v)) + "' has no len()");
  }
}

Expected<Value> Default(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("default", a, {{"default_value", Value("")}, {"boolean", Value(false)}}, off));
  if (v.is_undefined() || (p[1].Truthy() && !v.Truthy())) return p[0];
  return v;
}

Expected<Value> DictSort(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("dictsort", a,
                                   {{"case_sensitive", Value(false)}, {"by", Value("key")},
                                    {"reverse", Value(false)}}, off));
  if (v.is_undefined()) return in.UndefinedError(v, off);
  if (!v.is_object()) return in.Error(off, "dictsort expects a mapping");
  const bool by_value = p[1].is_string() && p[1].AsString() == "value";
  if (!by_value && !(p[1].is_string() && p[1].AsString() == "key")) {
    return in.Error(off, "You can only sort by either \"key\" or \"value\"");
  }
  std::vector<Value> items, keys;
  for (const auto& [k, val] : v.members()) {
    items.push_back(Value::NewTuple({Value(k), val}));
    ASSIGN_OR_RETURN(Value key, SortKey(in, by_value ? val : Value(k), Value(), p[0].Truthy(), off));
    keys.push_back(std::move(key));
  }
  RETURN_IF_ERROR(SortByKeys(in, &items, keys, p[2].Truthy(), off));
  return Value::NewArray(std::move(items));
}

Expected<Value> Escape(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("escape", a, {}, off));
  std::string out;
  for (char c : Str(v)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return Value(std::move(out));
}

Expected<Value> First(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("first", a, {}, off));
  ASSIGN_OR_RETURN(auto items, in.Iterate(v, off));
  if (items.empty()) return Value::Undefined("No first item, sequence was empty.");
  return items.front();
}

Expected<Value> Last(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("last", a, {}, off));
  ASSIGN_OR_RETURN(auto items, in.Iterate(v, off));
  if (items.empty()) return Value::Undefined("No last item, sequence was empty.");
  return items.back();
}

// Python float(str): optional whitespace, sign, digits with single underscores, inf/nan.
bool ParsePyFloat(const std::string& s_in, double* out) {
  std::string s = text::Strip(s_in, nullptr, text::StripSide::kBoth);
  std::string clean;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 == s.size() || !std::isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
        return false;
      }
      continue;
    }
    if (s[i] == 'x' || s[i] == 'X' || s[i] == 'p' || s[i] == 'P') return false;
    clean.push_back(s[i]);
  }
  if (clean.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(clean.c_str(), &end);
  return end == clean.c_str() + clean.size();
}

Expected<Value> Float(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("float", a, {{"default", Value(0.0)}}, off));
  if (v.is_undefined()) return in.UndefinedError(v, off);
  if (v.is_number()) return Value(v.AsDouble());
  double d;
  if (v.is_string() && ParsePyFloat(v.AsString(), &d)) return Value(d);
  return p[0];
}

// jinja2 do_format: `value % args` (positional) or `value % kwargs` (named), not both.
Expected<Value> Format(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  if (!a.positional.empty() && !a.keyword.empty()) {
    return in.Error(off, "can't handle positional and keyword arguments at the same time");
  }
  Value args = Value::NewTuple(a.positional);
  if (!a.keyword.empty()) args = Value::NewObject(a.keyword);
  return PercentFormat(in, Str(v), args, off);
}

Expected<Value> Indent(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("indent", a, {{"width", Value(4)}, {"first", Value(false)}, {"blank", Value(false)}}, off));
  std::string indention;
  if (p[0].is_string()) {
    indention = p[0].AsString();
  } else if (p[0].is_int()) {
    RETURN_IF_ERROR(in.CheckSize(static_cast<uint64_t>(std::max<int64_t>(0, p[0].AsInt())), 1, off));
    indention.assign(static_cast<size_t>(std::max<int64_t>(0, p[0].AsInt())), ' ');
  } else {
    return in.Error(off, "indent width must be an integer or string");
  }
  if (v.is_undefined()) return in.UndefinedError(v, off);
  if (!v.is_string()) {  // jinja2 does `s += "\n"` and `s.splitlines()` on the value itself
    return in.Error(off, "indent expects a string, got '" + std::string(PyTypeName(v)) + "'");
  }
  const std::string s = Str(v) + "\n";
  std::vector<std::string> lines;  // str.splitlines()
  std::string cur;
  for (size_t pos = 0; pos < s.size();) {
    const size_t start = pos;
    const char32_t cp = text::DecodeAt(s, &pos);
    if (text::IsLineBreak(cp)) {
      if (cp == '\r' && pos < s.size() && s[pos] == '\n') ++pos;
      lines.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.append(s, start, pos - start);
    }
  }
  if (!cur.empty()) lines.push_back(std::move(cur));
  RETURN_IF_ERROR(in.CheckSize(lines.size(), indention.size(), off));
  std::string rv;
  if (p[2].Truthy()) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i > 0) rv += "\n" + indention;
      rv += lines[i];
    }
  } else if (!lines.empty()) {
    rv = lines[0];
    for (size_t i = 1; i < lines.size(); ++i) rv += "\n" + (lines[i].empty() ? "" : indention + lines[i]);
  }
  if (p[1].Truthy()) rv = indention + rv;
  return Value(std::move(rv));
}

// Python int(str, base): whitespace, sign, optional 0x/0o/0b prefix, single underscores.
bool ParsePyInt(const std::string& s_in, int64_t base, int64_t* out) {
  std::string s = text::Strip(s_in, nullptr, text::StripSide::kBoth);
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i + 1 < s.size() && s[i] == '0') {
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i + 1])));
    if ((c == 'x' && base == 16) || (c == 'o' && base == 8) || (c == 'b' && base == 2)) {
      i += 2;
      if (i < s.size() && s[i] == '_') ++i;
    }
  }
  if (i >= s.size()) return false;
  __int128 value = 0;
  bool prev_digit = false;
  for (; i < s.size(); ++i) {
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    if (c == '_') {
      if (!prev_digit || i + 1 >= s.size()) return false;
      prev_digit = false;
      continue;
    }
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 10;
    if (d < 0 || d >= base) return false;
    value = value * base + d;
    if (value > static_cast<__int128>(INT64_MAX) + 1) return false;
    prev_digit = true;
  }
  if (!prev_digit) return false;
  if (neg) value = -value;
  if (value > INT64_MAX || value < INT64_MIN) return false;
  *out = static_cast<int64_t>(value);
  return true;
}

Expected<Value> Int(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("int", a, {{"default", Value(0)}, {"base", Value(10)}}, off));
  if (v.is_undefined()) return in.UndefinedError(v, off);
  if (v.is_int() || v.is_bool()) return Value(v.AsInt());
  double d = 0;
  bool have_double = false;
  if (v.is_string()) {
    int64_t i;
    if (p[1].is_int() && ParsePyInt(v.AsString(), p[1].AsInt(), &i)) return Value(i);
    have_double = ParsePyFloat(v.AsString(), &d);
  } else if (v.is_double()) {
    d = v.AsDouble();
    have_double = true;
  }
  if (have_double) {
    if (std::isinf(d)) return in.Error(off, "cannot convert float infinity to integer");
    if (!std::isnan(d)) {
      if (std::fabs(d) >= 9.2e18) return in.Error(off, "integer overflow");
      return Value(static_cast<int64_t>(std::trunc(d)));
    }
  }
  return p[0];
}

Expected<Value> Items(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("items", a, {}, off));
  if (v.is_undefined()) return Value::NewArray();
  if (!v.is_object()) return in.Error(off, "Can only get item pairs from a mapping.");
  Value::Array out;
  for (const auto& [k, val] : v.members()) out.push_back(Value::NewTuple({Value(k), val}));
  return Value::NewArray(std::move(out));
}

Expected<Value> Join(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("join", a, {{"d", Value("")}, {"attribute", Value()}}, off));
  ASSIGN_OR_RETURN(auto items, in.Iterate(v, off));
  const std::string sep = Str(p[0]);
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    RETURN_IF_ERROR(in.CheckSize(out.size() + sep.size(), 1, off));
    if (i > 0) out += sep;
    if (!p[1].is_null()) {
      ASSIGN_OR_RETURN(Value x, GetPath(in, items[i], p[1], off));
      out += Str(x);
    } else {
      out += Str(items[i]);
    }
    RETURN_IF_ERROR(in.CheckSize(out.size(), 1, off));
  }
  return Value(std::move(out));
}

Expected<Value> List(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("list", a, {}, off));
  ASSIGN_OR_RETURN(auto items, in.Iterate(v, off));
  return Value::NewArray(std::move(items));
}

Expected<Value> Lower(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("lower", a, {}, off));
  return Value(text::Lower(Str(v)));
}

Expected<Value> Upper(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("upper", a, {}, off));
  return Value(text::Upper(Str(v)));
}

Expected<Value> Map(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto items, in.Iterate(v, off));
  Value::Array out;
  const Value* attribute = nullptr;
  const Value* def = nullptr;
  for (const auto& [k, val] : a.keyword) {
    if (k == "attribute") attribute = &val;
    else if (k == "default") def = &val;
  }
  if (attribute != nullptr) {
    for (const auto& [k, val] : a.keyword) {
      if (k != "attribute" && k != "default") {
        return in.Error(off, "map() got an unexpected keyword argument '" + k + "'");
      }
    }
    for (const Value& item : items) {
      ASSIGN_OR_RETURN(Value x, GetPath(in, item, *attribute, off));
      if (x.is_undefined() && def != nullptr) x = *def;
      out.push_back(std::move(x));
    }
    return Value::NewArray(std::move(out));
  }
  if (a.positional.empty() || !a.positional[0].is_string()) {
    return in.Error(off, "map requires a filter argument");
  }
  const std::string name = a.positional[0].AsString();
  if (!IsSupportedFilter(name)) {
    return Status(StatusCode::kUnimplemented,
                  in.Error(off, "unsupported filter '" + name + "'").message());
  }
  CallArgs rest;
  rest.positional.assign(a.positional.begin() + 1, a.positional.end());
  rest.keyword = a.keyword;
  for (const Value& item : items) {
    ASSIGN_OR_RETURN(Value x, in.ApplyFilter(name, item, rest, off));
    out.push_back(std::move(x));
  }
  return Value::NewArray(std::move(out));
}

Expected<Value> MinMax(Interpreter& in, const Value& v, const CallArgs& a, size_t off, bool max) {
  ASSIGN_OR_RETURN(auto p, in.Bind(max ? "max" : "min", a,
                                   {{"case_sensitive", Value(false)}, {"attribute", Value()}}, off));
  ASSIGN_OR_RETURN(auto items, in.Iterate(v, off));
  if (items.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  ASSIGN_OR_RETURN(Value best_key, SortKey(in, items[0], p[1], p[0].Truthy(), off));
  for (size_t i = 1; i < items.size(); ++i) {
    ASSIGN_OR_RETURN(Value key, SortKey(in, items[i], p[1], p[0].Truthy(), off));
    ASSIGN_OR_RETURN(int c, Compare(in, key, best_key, off));
    if (max ? c > 0 : c < 0) {
      best = i;
      best_key = std::move(key);
    }
  }
  return items[best];
}
Expected<Value> Max(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  return MinMax(in, v, a, off, true);
}
Expected<Value> Min(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  return MinMax(in, v, a, off, false);
}

// select / reject / selectattr / rejectattr (jinja2 select_or_reject).
Expected<Value> SelectOrReject(Interpreter& in, const Value& v, const CallArgs& a, size_t off,
                               bool select, bool by_attr) {
  ASSIGN_OR_RETURN(auto items, in.Iterate(v, off));
  size_t next = 0;
  Value attribute;
  if (by_attr) {
    if (a.positional.empty()) return in.Error(off, "Missing parameter for attribute name");
    attribute = a.positional[0];
    next = 1;
  }
  std::string test;
  CallArgs test_args;
  if (a.positional.size() > next) {
    if (!a.positional[next].is_string()) return in.Error(off, "test name must be a string");
    test = a.positional[next].AsString();
    if (!IsSupportedTest(test)) {
      return Status(StatusCode::kUnimplemented,
                    in.Error(off, "unsupported test '" + test + "'").message());
    }
    test_args.positional.assign(a.positional.begin() + static_cast<long>(next) + 1, a.positional.end());
    test_args.keyword = a.keyword;
  }
  Value::Array out;
  for (const Value& item : items) {
    Value x = item;
    if (by_attr) {
      ASSIGN_OR_RETURN(x, GetPath(in, item, attribute, off));
    }
    bool keep;
    if (test.empty()) {
      keep = x.Truthy();
    } else {
      ASSIGN_OR_RETURN(keep, in.ApplyTest(test, x, test_args, off));
    }
    if (keep == select) out.push_back(item);
  }
  return Value::NewArray(std::move(out));
}
Expected<Value> Select(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  return SelectOrReject(in, v, a, off, true, false);
}
Expected<Value> Reject(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  return SelectOrReject(in, v, a, off, false, false);
}
Expected<Value> SelectAttr(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  return SelectOrReject(in, v, a, off, true, true);
}
Expected<Value> RejectAttr(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  return SelectOrReject(in, v, a, off, false, true);
}

Expected<Value> Replace(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("replace", a, {{"old", {}}, {"new", {}}, {"count", Value()}}, off));
  const int64_t count = p[2].is_null() ? -1 : (p[2].is_int() ? p[2].AsInt() : -1);
  const std::string s = Str(v), from = Str(p[0]), to = Str(p[1]);
  RETURN_IF_ERROR(CheckReplaceSize(in, s, from, to, count, off));
  return Value(text::Replace(s, from, to, count));
}

Expected<Value> Reverse(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("reverse", a, {}, off));
  if (v.is_string()) {
    std::vector<char32_t> cps = text::ToCodePoints(v.AsString());
    std::reverse(cps.begin(), cps.end());
    return Value(text::FromCodePoints(cps, 0, cps.size()));
  }
  ASSIGN_OR_RETURN(auto items, in.Iterate(v, off));
  std::reverse(items.begin(), items.end());
  return Value::NewArray(std::move(items));
}

Expected<Value> Round(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("round", a, {{"precision", Value(0)}, {"method", Value("common")}}, off));
  if (!p[0].is_int() && !p[0].is_bool()) return in.Error(off, "round() precision must be an integer");
  const std::string method = Str(p[1]);
  if (method != "common" && method != "ceil" && method != "floor") {
    return in.Error(off, "method must be common, ceil or floor");
  }
  if (v.is_undefined()) return in.UndefinedError(v, off);
  if (!v.is_number()) {
    return in.Error(off, "type " + std::string(PyTypeName(v)) + " doesn't define __round__ method");
  }
  const int64_t precision = p[0].AsInt();
  if (method == "common") {
    if (!v.is_double()) return Value(v.AsInt());  // round(int, n >= 0) keeps the int
    const double x = v.AsDouble();
    if (!std::isfinite(x)) return v;
    if (precision >= 0 && precision <= 300) {
      char buf[512];
      std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(precision), x);  // exact, half-even
      return Value(std::strtod(buf, nullptr));
    }
    const double scale = std::pow(10.0, static_cast<double>(-precision));
    std::fesetround(FE_TONEAREST);
    return Value(std::nearbyint(x / scale) * scale);
  }
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double r = method == "ceil" ? std::ceil(v.AsDouble() * scale) : std::floor(v.AsDouble() * scale);
  return Value(r / scale);
}

Expected<Value> Safe(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("safe", a, {}, off));
  return v;
}

Expected<Value> Sort(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("sort", a,
                                   {{"reverse", Value(false)}, {"case_sensitive", Value(false)},
                                    {"attribute", Value()}}, off));
  ASSIGN_OR_RETURN(auto items, in.Iterate(v, off));
  std::vector<Value> keys;
  for (const Value& item : items) {
    ASSIGN_OR_RETURN(Value k, SortKey(in, item, p[2], p[1].Truthy(), off));
    keys.push_back(std::move(k));
  }
  RETURN_IF_ERROR(SortByKeys(in, &items, keys, p[0].Truthy(), off));
  return Value::NewArray(std::move(items));
}

Expected<Value> String(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("string", a, {}, off));
  return Value(Str(v));
}

Expected<Value> Sum(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("sum", a, {{"attribute", Value()}, {"start", Value(0)}}, off));
  ASSIGN_OR_RETURN(auto items, in.Iterate(v, off));
  Value total = p[1];
  for (const Value& item : items) {
    Value x = item;
    if (!p[0].is_null()) {
      ASSIGN_OR_RETURN(x, GetPath(in, item, p[0], off));
    }
    ASSIGN_OR_RETURN(total, BinaryOp(in, "+", total, x, off));
  }
  return total;
}

// jinja2 do_title: words start after '-', whitespace, '(', '{', '[' or '<'.
Expected<Value> Title(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("title", a, {}, off));
  const std::string s = Str(v);
  std::string out;
  bool word_start = true;
  for (size_t pos = 0; pos < s.size();) {
    const char32_t cp = text::DecodeAt(s, &pos);
    const bool delim = cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || text::IsSpace(cp);
    if (word_start) {
      text::AppendUpper(cp, false, &out);
    } else {
      text::AppendUtf8(text::ToLower(cp), &out);
    }
    word_start = delim;
  }
  return Value(std::move(out));
}

Expected<Value> ToJsonFilter(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("tojson", a,
                                   {{"ensure_ascii", Value(false)}, {"indent", Value()},
                                    {"separators", Value()}, {"sort_keys", Value(false)}}, off));
  JsonOptions o;
  o.ensure_ascii = p[0].Truthy();
  o.sort_keys = p[3].Truthy();
  if (p[1].is_int() || p[1].is_bool()) {
    o.has_indent = true;
    o.indent.assign(static_cast<size_t>(std::max<int64_t>(0, p[1].AsInt())), ' ');
  } else if (p[1].is_string()) {
    o.has_indent = true;
    o.indent = p[1].AsString();
  } else if (!p[1].is_null()) {
    return in.Error(off, "tojson indent must be an integer or string");
  }
  if (o.has_indent) o.item_separator = ",";
  if (!p[2].is_null()) {
    if (!p[2].is_array() || p[2].items().size() != 2 || !p[2].items()[0].is_string() ||
        !p[2].items()[1].is_string()) {
      return in.Error(off, "tojson separators must be a pair of strings");
    }
    o.item_separator = p[2].items()[0].AsString();
    o.key_separator = p[2].items()[1].AsString();
  }
  auto json = ToJson(v, o);
  if (!json.ok()) return in.Error(off, json.status().message());
  return Value(std::move(*json));
}

Expected<Value> Trim(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("trim", a, {{"chars", Value()}}, off));
  std::string chars;
  if (!p[0].is_null()) chars = Str(p[0]);
  return Value(text::Strip(Str(v), p[0].is_null() ? nullptr : &chars, text::StripSide::kBoth));
}

Expected<Value> Truncate(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("truncate", a,
                                   {{"length", Value(255)}, {"killwords", Value(false)},
                                    {"end", Value("...")}, {"leeway", Value()}}, off));
  if (!p[0].is_int()) return in.Error(off, "truncate length must be an integer");
  if (v.is_undefined()) return in.UndefinedError(v, off);
  if (!v.is_string()) {
    return in.Error(off, "object of type '" + std::string(PyTypeName(v)) + "' has no len()");
  }
  const std::vector<char32_t> cps = text::ToCodePoints(Str(v));
  const std::string end = Str(p[2]);
  const int64_t length = p[0].AsInt();
  const int64_t end_len = static_cast<int64_t>(text::CodePointCount(end));
  const int64_t leeway = p[3].is_int() ? p[3].AsInt() : 5;
  if (length < end_len) return in.Error(off, "expected length >= " + std::to_string(end_len));
  if (leeway < 0) return in.Error(off, "expected leeway >= 0");
  if (static_cast<int64_t>(cps.size()) <= length + leeway) return Value(Str(v));
  std::string head = text::FromCodePoints(cps, 0, static_cast<size_t>(length - end_len));
  if (p[1].Truthy()) return Value(head + end);
  const std::string sep = " ";
  return Value(text::RSplit(head, &sep, 1)[0] + end);
}

Expected<Value> Unique(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("unique", a, {{"case_sensitive", Value(false)}, {"attribute", Value()}}, off));
  ASSIGN_OR_RETURN(auto items, in.Iterate(v, off));
  Value::Array out;
  std::vector<Value> seen;
  for (const Value& item : items) {
    ASSIGN_OR_RETURN(Value key, SortKey(in, item, p[1], p[0].Truthy(), off));
    bool dup = false;
    for (const Value& s : seen) {
      if (PyEquals(s, key)) dup = true;
    }
    if (dup) continue;
    seen.push_back(std::move(key));
    out.push_back(item);
  }
  return Value::NewArray(std::move(out));
}

Expected<Value> WordCount(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("wordcount", a, {}, off));
  const std::string s = Str(v);
  int64_t n = 0;
  bool in_word = false;
  for (size_t pos = 0; pos < s.size();) {
    const char32_t cp = text::DecodeAt(s, &pos);
    const bool w = cp == '_' || text::IsAlpha(cp) || text::IsDigit(cp);
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value(n);
}

struct FilterEntry {
  std::string_view name;
  FilterFn fn;
};

constexpr FilterEntry kFilters[] = {
    {"abs", Abs},         {"attr", Attr},          {"capitalize", Capitalize},
    {"center", Center},   {"count", Length},       {"d", Default},
    {"default", Default}, {"dictsort", DictSort},  {"e", Escape},
    {"escape", Escape},   {"first", First},        {"float", Float},
    {"forceescape", Escape}, {"format", Format},   {"indent", Indent},
    {"int", Int},
    {"items", Items},     {"join", Join},          {"last", Last},
    {"length", Length},   {"list", List},          {"lower", Lower},
    {"map", Map},         {"max", Max},            {"min", Min},
    {"reject", Reject},   {"rejectattr", RejectAttr}, {"replace", Replace},
    {"reverse", Reverse}, {"round", Round},        {"safe", Safe},
    {"select", Select},   {"selectattr", SelectAttr}, {"sort", Sort},
    {"string", String},   {"sum", Sum},            {"title", Title},
    {"tojson", ToJsonFilter}, {"trim", Trim},      {"truncate", Truncate},
    {"unique", Unique},   {"upper", Upper},        {"wordcount", WordCount},
};

}  // namespace

bool IsSupportedFilter(std::string_view name) {
  for (const FilterEntry& f : kFilters) {
    if (f.name == name) return true;
  }
  return false;
}

Expected<Value> RunFilter(Interpreter& in, std::string_view name, const Value& input,
                          const CallArgs& args, size_t offset) {
  for (const FilterEntry& f : kFilters) {
    if (f.name == name) return f.fn(in, input, args, offset);
  }
  return Status(StatusCode::kUnimplemented,
                in.Error(offset, "unsupported filter '" + std::string(name) + "'").message());
}

}  // namespace semantic::chat::tmpl
