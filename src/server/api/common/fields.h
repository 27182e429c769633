// Typed, range-checked reads of optional request fields; every failure names the field.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/api/common/api_error.h"

namespace semantic::server {

template <typename T>
using ApiResult = std::variant<T, ApiError>;

class Fields {
 public:
  explicit Fields(const nlohmann::json& obj, std::string prefix = "")
      : obj_(obj), prefix_(std::move(prefix)) {}

  // Each returns false and records the first error when the field is present but invalid.
  bool Number(const char* key, double lo, double hi, std::optional<double>* out);
  bool Int(const char* key, long long lo, long long hi, std::optional<long long>* out);
  bool Bool(const char* key, std::optional<bool>* out);
  bool String(const char* key, std::optional<std::string>* out);
  // A string or an array of strings (at most max_items).
  bool StringOrList(const char* key, size_t max_items, std::vector<std::string>* out);

  bool ok() const { return !error_.has_value(); }
  const ApiError& error() const { return *error_; }
  void Fail(const std::string& key, const std::string& message);

 private:
  const nlohmann::json* Get(const char* key) const;
  std::string Name(const char* key) const { return prefix_ + key; }

  const nlohmann::json& obj_;
  std::string prefix_;
  std::optional<ApiError> error_;
};

// JSON type name as users know it ("string", "number", "array", ...).
const char* JsonTypeName(const nlohmann::json& j);

}  // namespace semantic::server
