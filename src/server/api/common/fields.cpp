// Field readers with dialect-neutral error messages.
#include "server/api/common/fields.h"

#include <cmath>

namespace semantic::server {

const char* JsonTypeName(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "boolean";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::object: return "object";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "integer";
    case nlohmann::json::value_t::number_float: return "number";
    default: return "value";
  }
}

void Fields::Fail(const std::string& key, const std::string& message) {
  if (!error_) error_ = BadRequest(message, key);
}

const nlohmann::json* Fields::Get(const char* key) const {
  auto it = obj_.find(key);
  if (it == obj_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool Fields::Number(const char* key, double lo, double hi, std::optional<double>* out) {
  const nlohmann::json* v = Get(key);
  if (!v) return true;
  if (!v->is_number()) {
    Fail(Name(key), "'" + Name(key) + "' must be a number, got " + JsonTypeName(*v));
    return false;
  }
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) {
    Fail(Name(key), "'" + Name(key) + "' must be between " + nlohmann::json(lo).dump() + " and " +
                        nlohmann::json(hi).dump() + ", got " + v->dump());
    return false;
  }
  *out = d;
  return true;
}

bool Fields::Int(const char* key, long long lo, long long hi, std::optional<long long>* out) {
  const nlohmann::json* v = Get(key);
  if (!v) return true;
  const bool integral = v->is_number_integer() ||
                        (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>() &&
                         std::fabs(v->get<double>()) < 9e15);
  if (!integral) {
    Fail(Name(key), "'" + Name(key) + "' must be an integer, got " +
                        (v->is_number() ? v->dump() : std::string(JsonTypeName(*v))));
    return false;
  }
  const long long x = v->is_number_unsigned() && v->get<unsigned long long>() > 9e18
                          ? hi + 1
                          : static_cast<long long>(v->get<double>());
  if (x < lo || x > hi) {
    Fail(Name(key), "'" + Name(key) + "' must be between " + std::to_string(lo) + " and " +
                        std::to_string(hi) + ", got " + v->dump());
    return false;
  }
  *out = x;
  return true;
}

bool Fields::Bool(const char* key, std::optional<bool>* out) {
  const nlohmann::json* v = Get(key);
  if (!v) return true;
  if (!v->is_boolean()) {
    Fail(Name(key), "'" + Name(key) + "' must be a boolean, got " + JsonTypeName(*v));
    return false;
  }
  *out = v->get<bool>();
  return true;
}

bool Fields::String(const char* key, std::optional<std::string>* out) {
  const nlohmann::json* v = Get(key);
  if (!v) return true;
  if (!v->is_string()) {
    Fail(Name(key), "'" + Name(key) + "' must be a string, got " + JsonTypeName(*v));
    return false;
  }
  *out = v->get<std::string>();
  return true;
}

bool Fields::StringOrList(const char* key, size_t max_items, std::vector<std::string>* out) {
  const nlohmann::json* v = Get(key);
  if (!v) return true;
  if (v->is_string()) {
    out->push_back(v->get<std::string>());
    return true;
  }
  if (!v->is_array()) {
    Fail(Name(key), "'" + Name(key) + "' must be a string or an array of strings, got " +
                        JsonTypeName(*v));
    return false;
  }
  if (v->size() > max_items) {
    Fail(Name(key), "'" + Name(key) + "' may hold at most " + std::to_string(max_items) +
                        " items, got " + std::to_string(v->size()));
    return false;
  }
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) {
      Fail(Name(key), "'" + Name(key) + "[" + std::to_string(i) + "]' must be a string, got " +
                          JsonTypeName((*v)[i]));
      return false;
    }
    out->push_back((*v)[i].get<std::string>());
  }
  return true;
}

}  // namespace semantic::server
