// GgufFile accessors: metadata lookup, typed getters with conversion rules, and value rendering
// for `semantic inspect`. Parsing and validation live in gguf_parser.cpp.
#include "loader/gguf/gguf_file.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "base/log.h"

namespace semantic::loader {
namespace {

bool IsIntegerType(GgufType t) {
  switch (t) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kU16:
    case GgufType::kI16:
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kU64:
    case GgufType::kI64:
      return true;
    default:
      return false;
  }
}

// Integer (or bool) value as int64; false when the type is not integral or it does not fit.
bool ToInt(const GgufValue& v, int64_t* out) {
  if (const auto* u = std::get_if<uint64_t>(&v.v)) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    *out = static_cast<int64_t>(*u);
    return true;
  }
  if (const auto* s = std::get_if<int64_t>(&v.v)) {
    *out = *s;
    return true;
  }
  if (const auto* b = std::get_if<bool>(&v.v)) {
    *out = *b ? 1 : 0;
    return true;
  }
  return false;
}

bool ToFloat(const GgufValue& v, double* out) {
  if (const auto* d = std::get_if<double>(&v.v)) {
    *out = *d;
    return true;
  }
  if (const auto* u = std::get_if<uint64_t>(&v.v)) {
    *out = static_cast<double>(*u);
    return true;
  }
  if (const auto* s = std::get_if<int64_t>(&v.v)) {
    *out = static_cast<double>(*s);
    return true;
  }
  return false;
}

std::string TypeLabel(const GgufValue& v) {
  if (v.type == GgufType::kArray) {
    if (const auto* a = std::get_if<std::shared_ptr<GgufArray>>(&v.v); a && *a) {
      return std::string("[") + GgufTypeName((*a)->elem_type) + "]";
    }
  }
  return GgufTypeName(v.type);
}

const GgufArray* AsArray(const GgufValue& v) {
  const auto* a = std::get_if<std::shared_ptr<GgufArray>>(&v.v);
  return a ? a->get() : nullptr;
}

// Python-repr-like quoting: printable ASCII and UTF-8 as is, control bytes escaped.
std::string QuoteString(const std::string& s, size_t max_chars) {
  std::string out = "'";
  size_t n = s.size();
  bool cut = false;
  if (n > max_chars) {
    n = max_chars;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // UTF-8 boundary
    cut = true;
  }
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += cut ? "..." : "'";
  return out;
}

// Shortest round-trip form (of the f32 for FLOAT32 values), like Python's repr: fixed notation
// for exponents in [-4, 16), scientific otherwise, and always a '.' or an exponent.
std::string FormatFloat(double d, bool is_f32) {
  char buf[400];
  auto shortest = [&](std::chars_format fmt) {
    auto r = is_f32 ? std::to_chars(buf, buf + sizeof(buf), static_cast<float>(d), fmt)
                    : std::to_chars(buf, buf + sizeof(buf), d, fmt);
    return std::string(buf, r.ec == std::errc() ? r.ptr : buf);
  };
  std::string s = shortest(std::chars_format::general);
  if (!std::isfinite(d)) return s;
  const double mag = std::fabs(d);
  if (mag != 0 && mag >= 1e-4 && mag < 1e16 && s.find('e') != std::string::npos) {
    s = shortest(std::chars_format::fixed);
  }
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string FormatScalar(const GgufValue& v, size_t max_items) {
  if (const auto* u = std::get_if<uint64_t>(&v.v)) return std::to_string(*u);
  if (const auto* s = std::get_if<int64_t>(&v.v)) return std::to_string(*s);
  if (const auto* b = std::get_if<bool>(&v.v)) return *b ? "true" : "false";
  if (const auto* d = std::get_if<double>(&v.v)) {
    return FormatFloat(*d, v.type == GgufType::kF32);
  }
  if (const auto* str = std::get_if<std::string>(&v.v)) {
    const size_t max_chars =
        max_items == std::numeric_limits<size_t>::max() ? std::numeric_limits<size_t>::max() : 60;
    return QuoteString(*str, max_chars);
  }
  return "?";
}

}  // namespace

const std::string& GgufFile::path() const { return file_ ? file_->path() : parts_path_; }
size_t GgufFile::file_size() const { return file_ ? file_->size() : parts_bytes_; }

std::unique_ptr<GgufFile> GgufFile::FromParts(std::string path,
                                              std::vector<std::pair<std::string, GgufValue>> kv,
                                              std::vector<GgufTensor> tensors,
                                              std::shared_ptr<const void> storage) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->parts_path_ = std::move(path);
  f->parts_storage_ = std::move(storage);
  f->version_ = 3;
  f->kv_ = std::move(kv);
  for (size_t i = 0; i < f->kv_.size(); ++i) f->kv_index_[f->kv_[i].first] = i;
  f->tensors_ = std::move(tensors);
  for (size_t i = 0; i < f->tensors_.size(); ++i) {
    f->tensor_index_[f->tensors_[i].name] = i;
    f->parts_bytes_ += f->tensors_[i].nbytes;
  }
  return f;
}

const GgufValue* GgufFile::Find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufTensor* GgufFile::FindTensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {
Status NotFoundKey(const GgufFile& f, const std::string& key) {
  return NotFound(f.path() + ": metadata key '" + key + "' not found");
}
Status BadType(const GgufFile& f, const std::string& key, const GgufValue& v, const char* want) {
  return InvalidArgument(f.path() + ": metadata '" + key + "' has type " + TypeLabel(v) +
                         ", expected " + want);
}
}  // namespace

Expected<int64_t> GgufFile::GetInt(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFoundKey(*this, key);
  int64_t x = 0;
  if (!ToInt(*v, &x)) {
    if (std::holds_alternative<uint64_t>(v->v)) {
      return InvalidArgument(path() + ": metadata '" + key + "' value " +
                             std::to_string(std::get<uint64_t>(v->v)) + " does not fit int64");
    }
    return BadType(*this, key, *v, "an integer");
  }
  return x;
}

Expected<double> GgufFile::GetFloat(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFoundKey(*this, key);
  double x = 0;
  if (std::holds_alternative<bool>(v->v) || !ToFloat(*v, &x)) {
    return BadType(*this, key, *v, "a number");
  }
  return x;
}

Expected<bool> GgufFile::GetBool(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFoundKey(*this, key);
  const auto* b = std::get_if<bool>(&v->v);
  if (!b) return BadType(*this, key, *v, "BOOL");
  return *b;
}

Expected<std::string> GgufFile::GetString(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFoundKey(*this, key);
  const auto* s = std::get_if<std::string>(&v->v);
  if (!s) return BadType(*this, key, *v, "STRING");
  return *s;
}

Expected<std::vector<std::string>> GgufFile::GetStringArray(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFoundKey(*this, key);
  const GgufArray* a = AsArray(*v);
  if (!a || a->elem_type != GgufType::kString) return BadType(*this, key, *v, "[STRING]");
  std::vector<std::string> out;
  out.reserve(a->items.size());
  for (const GgufValue& item : a->items) out.push_back(std::get<std::string>(item.v));
  return out;
}

Expected<std::vector<double>> GgufFile::GetFloatArray(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFoundKey(*this, key);
  const GgufArray* a = AsArray(*v);
  if (!a || !(a->elem_type == GgufType::kF32 || a->elem_type == GgufType::kF64 ||
              IsIntegerType(a->elem_type))) {
    return BadType(*this, key, *v, "an array of numbers");
  }
  std::vector<double> out(a->items.size());
  for (size_t i = 0; i < out.size(); ++i) ToFloat(a->items[i], &out[i]);
  return out;
}

Expected<std::vector<int64_t>> GgufFile::GetIntArray(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFoundKey(*this, key);
  const GgufArray* a = AsArray(*v);
  if (!a || !(IsIntegerType(a->elem_type) || a->elem_type == GgufType::kBool)) {
    return BadType(*this, key, *v, "an array of integers");
  }
  std::vector<int64_t> out(a->items.size());
  for (size_t i = 0; i < out.size(); ++i) {
    if (!ToInt(a->items[i], &out[i])) {
      return InvalidArgument(path() + ": metadata '" + key + "' item " + std::to_string(i) +
                             " does not fit int64");
    }
  }
  return out;
}

// The *Or getters cannot return a Status: a present key of the wrong type is logged and the
// default is used.
namespace {
template <typename T>
T ValueOr(const Expected<T>& r, const T& def) {
  if (r.ok()) return r.value();
  if (r.status().code() != StatusCode::kNotFound) {
    LOG_WARN("%s (using the default)", r.status().message().c_str());
  }
  return def;
}
}  // namespace

int64_t GgufFile::GetIntOr(const std::string& key, int64_t def) const {
  return ValueOr(GetInt(key), def);
}
double GgufFile::GetFloatOr(const std::string& key, double def) const {
  return ValueOr(GetFloat(key), def);
}
bool GgufFile::GetBoolOr(const std::string& key, bool def) const {
  return ValueOr(GetBool(key), def);
}
std::string GgufFile::GetStringOr(const std::string& key, const std::string& def) const {
  return ValueOr(GetString(key), def);
}

std::string FormatGgufValue(const GgufValue& v, size_t max_items) {
  const GgufArray* a = AsArray(v);
  if (v.type != GgufType::kArray || !a) return FormatScalar(v, max_items);
  std::string out = "[";
  const size_t n = std::min(a->items.size(), max_items);
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ", ";
    out += FormatGgufValue(a->items[i], max_items);
  }
  if (n < a->items.size()) out += n ? ", ..." : "...";
  return out + "]";
}

const char* GgufTypeName(GgufType t) {
  switch (t) {
    case GgufType::kU8:
      return "UINT8";
    case GgufType::kI8:
      return "INT8";
    case GgufType::kU16:
      return "UINT16";
    case GgufType::kI16:
      return "INT16";
    case GgufType::kU32:
      return "UINT32";
    case GgufType::kI32:
      return "INT32";
    case GgufType::kF32:
      return "FLOAT32";
    case GgufType::kBool:
      return "BOOL";
    case GgufType::kString:
      return "STRING";
    case GgufType::kArray:
      return "ARRAY";
    case GgufType::kU64:
      return "UINT64";
    case GgufType::kI64:
      return "INT64";
    case GgufType::kF64:
      return "FLOAT64";
  }
  return "UNKNOWN";
}

}  // namespace semantic::loader
