// The OpenAPI 3.1 description of every route the server exposes (served at GET /openapi.json;
// tests/py/test_openapi.py checks it against the live routes).
#pragma once

#include <nlohmann/json.hpp>

namespace semantic::server {

nlohmann::json OpenApiSpec(const std::string& version);

}  // namespace semantic::server
