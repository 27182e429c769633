// Python methods templates may call on values (str.split, str.startswith, dict.get, dict.items,
// ...) and the global functions HF transformers provides (raise_exception, strftime_now, range,
// namespace, dict). Mutating methods are refused, as jinja2's ImmutableSandboxedEnvironment does.
#include <algorithm>
#include <cstring>
#include <ctime>

#include "chat/template_eval.h"
#include "chat/unicode_text.h"
#include "chat/value_format.h"

namespace semantic::chat::tmpl {
namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2 sandbox MAX_RANGE

constexpr std::string_view kStrMethods[] = {
    "capitalize", "center", "count", "endswith", "find", "format", "index", "isalnum",
    "isalpha", "isdigit", "islower", "isspace", "isupper", "join", "ljust", "lower",
    "lstrip", "removeprefix", "removesuffix", "replace", "rfind", "rjust", "rsplit",
    "rstrip", "split", "splitlines", "startswith", "strip", "title", "upper", "zfill"};
constexpr std::string_view kDictMethods[] = {"copy", "get", "items", "keys", "values"};
constexpr std::string_view kListMethods[] = {"copy", "count", "index"};
constexpr std::string_view kUnsafeDict[] = {"clear", "pop", "popitem", "setdefault", "update"};
constexpr std::string_view kUnsafeList[] = {"append", "clear", "extend", "insert",
                                             "pop",    "remove", "reverse", "sort"};

template <size_t N>
bool In(const std::string_view (&list)[N], std::string_view name) {
  return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

std::string Str(const Value& v) { return v.is_string() ? v.AsString() : PyStr(v); }

Expected<std::string> StringArg(Interpreter& in, const Value& v, std::string_view method,
                                size_t off) {
  if (v.is_string()) return v.AsString();
  return in.Error(off, std::string(method) + "() argument must be str, not " +
                           std::string(PyTypeName(v)));
}

// Code-point index of a byte offset within s.
int64_t CodePointIndex(const std::string& s, size_t byte_offset) {
  return static_cast<int64_t>(text::CodePointCount(std::string_view(s).substr(0, byte_offset)));
}

// Optional start/end arguments of startswith/find/count, as a code-point slice of s.
Expected<std::string> Window(Interpreter& in, const std::string& s, const Value& start,
                             const Value& end, size_t* cp_base, size_t off) {
  *cp_base = 0;
  if (start.is_null() && end.is_null()) return s;
  const std::vector<char32_t> cps = text::ToCodePoints(s);
  const auto n = static_cast<int64_t>(cps.size());
  auto norm = [&](const Value& v, int64_t def) -> Expected<int64_t> {
    if (v.is_null()) return def;
    if (!v.is_int()) return in.Error(off, "slice indices must be integers or None");
    int64_t x = v.AsInt();
    if (x < 0) x += n;
    return std::clamp<int64_t>(x, 0, n);
  };
  ASSIGN_OR_RETURN(int64_t b, norm(start, 0));
  ASSIGN_OR_RETURN(int64_t e, norm(end, n));
  if (e < b) e = b;
  *cp_base = static_cast<size_t>(b);
  return text::FromCodePoints(cps, static_cast<size_t>(b), static_cast<size_t>(e));
}

Expected<Value> Pad(Interpreter& in, const std::string& s, const CallArgs& a, std::string_view m,
                    size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind(m, a, {{"width", {}}, {"fillchar", Value(" ")}}, off));
  if (!p[0].is_int()) return in.Error(off, std::string(m) + "() width must be an integer");
  const std::string fill = Str(p[1]);
  if (text::CodePointCount(fill) != 1) {
    return in.Error(off, "The fill character must be exactly one character long");
  }
  const int64_t len = static_cast<int64_t>(text::CodePointCount(s));
  const int64_t width = p[0].AsInt();
  if (width <= len) return Value(s);
  RETURN_IF_ERROR(in.CheckSize(static_cast<uint64_t>(width), fill.size(), off));
  const int64_t marg = width - len;
  int64_t left = 0;
  if (m == "rjust") left = marg;
  if (m == "center") left = marg / 2 + (marg & width & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (int64_t i = left; i < marg; ++i) out += fill;
  return Value(std::move(out));
}

Expected<Value> StrMethod(Interpreter& in, const std::string& s, std::string_view m,
                          const CallArgs& a, size_t off) {
  if (m == "startswith" || m == "endswith") {
    ASSIGN_OR_RETURN(auto p, in.Bind(m, a, {{"prefix", {}}, {"start", Value()}, {"end", Value()}}, off));
    size_t base;
    ASSIGN_OR_RETURN(std::string w, Window(in, s, p[1], p[2], &base, off));
    std::vector<Value> options = p[0].is_array() ? p[0].items() : std::vector<Value>{p[0]};
    for (const Value& o : options) {
      ASSIGN_OR_RETURN(std::string x, StringArg(in, o, m, off));
      const bool hit = m == "startswith" ? w.compare(0, x.size(), x) == 0 && w.size() >= x.size()
                                         : w.size() >= x.size() && w.compare(w.size() - x.size(), x.size(), x) == 0;
      if (hit) return Value(true);
    }
    return Value(false);
  }
  if (m == "split" || m == "rsplit") {
    ASSIGN_OR_RETURN(auto p, in.Bind(m, a, {{"sep", Value()}, {"maxsplit", Value(-1)}}, off));
    std::string sep;
    if (!p[0].is_null()) {
      ASSIGN_OR_RETURN(sep, StringArg(in, p[0], m, off));
      if (sep.empty()) return in.Error(off, "empty separator");
    }
    if (!p[1].is_int()) return in.Error(off, "maxsplit must be an integer");
    const std::string* sep_ptr = p[0].is_null() ? nullptr : &sep;
    auto parts = m == "split" ? text::Split(s, sep_ptr, p[1].AsInt()) : text::RSplit(s, sep_ptr, p[1].AsInt());
    Value::Array out(parts.begin(), parts.end());
    return Value::NewArray(std::move(out));
  }
  if (m == "strip" || m == "lstrip" || m == "rstrip") {
    ASSIGN_OR_RETURN(auto p, in.Bind(m, a, {{"chars", Value()}}, off));
    std::string chars;
    if (!p[0].is_null()) {
      ASSIGN_OR_RETURN(chars, StringArg(in, p[0], m, off));
    }
    const auto side = m == "strip" ? text::StripSide::kBoth
                                   : (m == "lstrip" ? text::StripSide::kLeft : text::StripSide::kRight);
    return Value(text::Strip(s, p[0].is_null() ? nullptr : &chars, side));
  }
  if (m == "upper" || m == "lower" || m == "title" || m == "capitalize" || m == "isalnum" ||
      m == "isalpha" || m == "isdigit" || m == "isspace" || m == "islower" || m == "isupper") {
    ASSIGN_OR_RETURN(auto p, in.Bind(m, a, {}, off));
    if (m == "upper") return Value(text::Upper(s));
    if (m == "lower") return Value(text::Lower(s));
    if (m == "title") return Value(text::PyTitle(s));
    if (m == "capitalize") return Value(text::Capitalize(s));
    if (m == "islower" || m == "isupper") {
      bool cased = false;
      for (size_t pos = 0; pos < s.size();) {
        const char32_t cp = text::DecodeAt(s, &pos);
        if (m == "islower" ? text::IsUpperCased(cp) : (text::IsLowerCased(cp) && !text::IsUpperCased(cp))) {
          return Value(false);
        }
        cased = cased || text::IsCased(cp);
      }
      return Value(cased);
    }
    if (s.empty()) return Value(false);
    for (size_t pos = 0; pos < s.size();) {
      const char32_t cp = text::DecodeAt(s, &pos);
      bool ok = m == "isspace"   ? text::IsSpace(cp)
                : m == "isdigit" ? text::IsDigit(cp)
                : m == "isalpha" ? text::IsAlpha(cp)
                                 : (text::IsAlpha(cp) || text::IsDigit(cp));
      if (!ok) return Value(false);
    }
    return Value(true);
  }
  if (m == "replace") {
    ASSIGN_OR_RETURN(auto p, in.Bind(m, a, {{"old", {}}, {"new", {}}, {"count", Value(-1)}}, off));
    ASSIGN_OR_RETURN(std::string from, StringArg(in, p[0], m, off));
    ASSIGN_OR_RETURN(std::string to, StringArg(in, p[1], m, off));
    if (!p[2].is_int()) return in.Error(off, "replace() count must be an integer");
    RETURN_IF_ERROR(CheckReplaceSize(in, s, from, to, p[2].AsInt(), off));
    return Value(text::Replace(s, from, to, p[2].AsInt()));
  }
  if (m == "find" || m == "rfind" || m == "index" || m == "count") {
    ASSIGN_OR_RETURN(auto p, in.Bind(m, a, {{"sub", {}}, {"start", Value()}, {"end", Value()}}, off));
    ASSIGN_OR_RETURN(std::string sub, StringArg(in, p[0], m, off));
    size_t base;
    ASSIGN_OR_RETURN(std::string w, Window(in, s, p[1], p[2], &base, off));
    if (m == "count") {
      if (sub.empty()) return Value(static_cast<int64_t>(text::CodePointCount(w)) + 1);
      int64_t n = 0;
      for (size_t at = w.find(sub); at != std::string::npos; at = w.find(sub, at + sub.size())) ++n;
      return Value(n);
    }
    const size_t at = m == "rfind" ? w.rfind(sub) : w.find(sub);
    if (at == std::string::npos) {
      if (m == "index") return in.Error(off, "substring not found");
      return Value(-1);
    }
    return Value(static_cast<int64_t>(base) + CodePointIndex(w, at));
  }
  if (m == "join") {
    ASSIGN_OR_RETURN(auto p, in.Bind(m, a, {{"iterable", {}}}, off));
    ASSIGN_OR_RETURN(auto items, in.Iterate(p[0], off));
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string()) {
        return in.Error(off, "sequence item " + std::to_string(i) + ": expected str instance, " +
                                 std::string(PyTypeName(items[i])) + " found");
      }
      RETURN_IF_ERROR(in.CheckSize(out.size() + s.size() + items[i].AsString().size(), 1, off));
      if (i > 0) out += s;
      out += items[i].AsString();
    }
    return Value(std::move(out));
  }
  if (m == "splitlines") {
    ASSIGN_OR_RETURN(auto p, in.Bind(m, a, {{"keepends", Value(false)}}, off));
    Value::Array out;
    std::string cur;
    for (size_t pos = 0; pos < s.size();) {
      const size_t start = pos;
      const char32_t cp = text::DecodeAt(s, &pos);
      if (text::IsLineBreak(cp)) {
        if (cp == '\r' && pos < s.size() && s[pos] == '\n') ++pos;
        if (p[0].Truthy()) cur.append(s, start, pos - start);
        out.emplace_back(std::move(cur));
        cur.clear();
      } else {
        cur.append(s, start, pos - start);
      }
    }
    if (!cur.empty()) out.emplace_back(std::move(cur));
    return Value::NewArray(std::move(out));
  }
  if (m == "removeprefix" || m == "removesuffix") {
    ASSIGN_OR_RETURN(auto p, in.Bind(m, a, {{"affix", {}}}, off));
    ASSIGN_OR_RETURN(std::string x, StringArg(in, p[0], m, off));
    if (m == "removeprefix" && s.compare(0, x.size(), x) == 0) return Value(s.substr(x.size()));
    if (m == "removesuffix" && !x.empty() && s.size() >= x.size() &&
        s.compare(s.size() - x.size(), x.size(), x) == 0) {
      return Value(s.substr(0, s.size() - x.size()));
    }
    return Value(s);
  }
  if (m == "center" || m == "ljust" || m == "rjust") return Pad(in, s, a, m, off);
  if (m == "zfill") {
    ASSIGN_OR_RETURN(auto p, in.Bind(m, a, {{"width", {}}}, off));
    if (!p[0].is_int()) return in.Error(off, "zfill() width must be an integer");
    const int64_t len = static_cast<int64_t>(text::CodePointCount(s));
    if (p[0].AsInt() <= len) return Value(s);
    const std::string zeros(static_cast<size_t>(p[0].AsInt() - len), '0');
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) return Value(s.substr(0, 1) + zeros + s.substr(1));
    return Value(zeros + s);
  }
  return Status(StatusCode::kUnimplemented,
                in.Error(off, "unsupported method 'str." + std::string(m) + "'").message());
}

Expected<Value> DictMethod(Interpreter& in, const Value& d, std::string_view m, const CallArgs& a,
                           size_t off) {
  if (m == "get") {
    ASSIGN_OR_RETURN(auto p, in.Bind(m, a, {{"key", {}}, {"default", Value()}}, off));
    if (p[0].is_string()) {
      if (const Value* v = d.Find(p[0].AsString())) return *v;
    }
    return p[1];
  }
  ASSIGN_OR_RETURN(auto p, in.Bind(m, a, {}, off));
  if (m == "copy") return Value::NewObject(d.members());
  Value::Array out;
  for (const auto& [k, v] : d.members()) {
    if (m == "items") out.push_back(Value::NewTuple({Value(k), v}));
    else if (m == "keys") out.emplace_back(k);
    else out.push_back(v);
  }
  return Value::NewArray(std::move(out));
}

Expected<Value> ListMethod(Interpreter& in, const Value& l, std::string_view m, const CallArgs& a,
                           size_t off) {
  if (m == "copy") {
    ASSIGN_OR_RETURN(auto p, in.Bind(m, a, {}, off));
    return Value::NewArray(l.items());
  }
  ASSIGN_OR_RETURN(auto p, in.Bind(m, a, {{"value", {}}}, off));
  int64_t count = 0;
  for (size_t i = 0; i < l.items().size(); ++i) {
    if (!PyEquals(l.items()[i], p[0])) continue;
    if (m == "index") return Value(i);
    ++count;
  }
  if (m == "index") return in.Error(off, PyRepr(p[0]) + " is not in list");
  return Value(count);
}

// Members for namespace()/dict(): an optional mapping, then keyword arguments.
Expected<Value> MakeMapping(Interpreter& in, const CallArgs& a, bool ns, size_t off) {
  if (a.positional.size() > 1) return in.Error(off, "expected at most 1 positional argument");
  Value::Object members;
  if (!a.positional.empty()) {
    if (!a.positional[0].is_object()) {
      return in.Error(off, "cannot convert '" + std::string(PyTypeName(a.positional[0])) +
                               "' to a mapping");
    }
    members = a.positional[0].members();
  }
  for (const auto& [k, v] : a.keyword) members.emplace_back(k, v);
  return ns ? Value::NewNamespace(std::move(members)) : Value::NewObject(std::move(members));
}

Expected<Value> Range(Interpreter& in, const CallArgs& a, size_t off) {
  if (!a.keyword.empty()) return in.Error(off, "range() takes no keyword arguments");
  if (a.positional.empty() || a.positional.size() > 3) {
    return in.Error(off, "range expected 1 to 3 arguments, got " + std::to_string(a.positional.size()));
  }
  int64_t v[3] = {0, 0, 1};
  for (size_t i = 0; i < a.positional.size(); ++i) {
    if (!a.positional[i].is_int() && !a.positional[i].is_bool()) {
      return in.Error(off, "'" + std::string(PyTypeName(a.positional[i])) +
                               "' object cannot be interpreted as an integer");
    }
  }
  if (a.positional.size() == 1) {
    v[1] = a.positional[0].AsInt();
  } else {
    v[0] = a.positional[0].AsInt();
    v[1] = a.positional[1].AsInt();
    if (a.positional.size() == 3) v[2] = a.positional[2].AsInt();
  }
  if (v[2] == 0) return in.Error(off, "range() arg 3 must not be zero");
  const __int128 span = static_cast<__int128>(v[1]) - v[0];
  __int128 count = 0;
  if (v[2] > 0 && span > 0) count = (span + v[2] - 1) / v[2];
  if (v[2] < 0 && span < 0) count = (-span + (-static_cast<__int128>(v[2])) - 1) / -static_cast<__int128>(v[2]);
  if (count > kMaxRange) {
    return in.Error(off, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  }
  Value::Array out;
  out.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < static_cast<int64_t>(count); ++i) out.emplace_back(v[0] + i * v[2]);
  return Value::NewArray(std::move(out));
}

Expected<Value> StrftimeNow(Interpreter& in, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("strftime_now", a, {{"format", {}}}, off));
  if (!p[0].is_string()) return in.Error(off, "strftime() argument 1 must be str");
  const std::string& fmt = p[0].AsString();
  if (fmt.empty()) return Value("");
  const std::tm tm = in.Now();
  std::vector<char> buf(fmt.size() * 8 + 64);
  for (int attempt = 0; attempt < 4; ++attempt) {
    const size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
    if (n > 0) return Value(std::string(buf.data(), n));
    buf.resize(buf.size() * 8);
  }
  return Value("");
}

}  // namespace

bool HasMethod(const Value& receiver, std::string_view name) {
  if (receiver.is_string()) return In(kStrMethods, name);
  if (receiver.is_object()) return In(kDictMethods, name);
  if (receiver.is_array()) return In(kListMethods, name);
  return false;
}

bool IsUnsafeMethod(const Value& receiver, std::string_view name) {
  if (receiver.is_object()) return In(kUnsafeDict, name);
  if (receiver.is_array()) return In(kUnsafeList, name);
  return false;
}

Expected<Value> CallMethod(Interpreter& in, const Value& receiver, std::string_view name,
                           const CallArgs& args, size_t offset) {
  if (receiver.is_string()) {
    if (name == "format") {
      return Status(StatusCode::kUnimplemented,
                    in.Error(offset, "unsupported method 'str.format'").message());
    }
    return StrMethod(in, receiver.AsString(), name, args, offset);
  }
  if (receiver.is_object()) return DictMethod(in, receiver, name, args, offset);
  if (receiver.is_array()) return ListMethod(in, receiver, name, args, offset);
  return in.Error(offset, "'" + std::string(PyTypeName(receiver)) + "' object has no method '" +
                              std::string(name) + "'");
}

const std::vector<std::string_view>& BuiltinGlobals() {
  static const std::vector<std::string_view> kNames = {"range", "namespace", "dict",
                                                       "raise_exception", "strftime_now"};
  return kNames;
}

Expected<Value> CallBuiltin(Interpreter& in, std::string_view name, const CallArgs& args,
                            size_t offset) {
  if (name == "range") return Range(in, args, offset);
  if (name == "namespace") {
    ASSIGN_OR_RETURN(Value ns, MakeMapping(in, args, true, offset));
    in.TrackNamespace(ns);
    return ns;
  }
  if (name == "dict") return MakeMapping(in, args, false, offset);
  if (name == "strftime_now") return StrftimeNow(in, args, offset);
  if (name == "raise_exception") {
    ASSIGN_OR_RETURN(auto p, in.Bind("raise_exception", args, {{"message", {}}}, offset));
    // The template's own message, verbatim: the server reports it to the client (HTTP 400).
    return InvalidArgument(Str(p[0]));
  }
  return in.Error(offset, "unknown function '" + std::string(name) + "'");
}

}  // namespace semantic::chat::tmpl
