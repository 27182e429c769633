// Type-checked reads of optional config.json / tokenizer.json fields: a field of the wrong JSON
// type gives the default instead of nlohmann's type_error exception (checkpoint files are input).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace semantic::loader {

inline std::string JsonString(const nlohmann::json& j, const char* key, const std::string& def) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : def;
}
inline bool JsonBool(const nlohmann::json& j, const char* key, bool def) {
  return j.is_object() && j.contains(key) && j[key].is_boolean() ? j[key].get<bool>() : def;
}
// An integer in [0, 2^24], else def.
inline int64_t JsonSmallInt(const nlohmann::json& j, const char* key, int64_t def) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number_integer()) return def;
  const int64_t v = j[key].get<int64_t>();
  return v >= 0 && v <= (int64_t{1} << 24) ? v : def;
}

}  // namespace semantic::loader
