// The coordination routes' entries of the served OpenAPI document (server/http/openapi.cpp).
#pragma once

#include <nlohmann/json.hpp>

namespace semantic::server::coordination_api {

// {path: {method: operation}} for every /v1/coordination route.
nlohmann::json OpenApiPaths();

}  // namespace semantic::server::coordination_api
