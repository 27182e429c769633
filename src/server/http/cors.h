// CORS ([server] cors_origins): none configured, no CORS headers at all. Otherwise a request whose
// Origin is listed (or any, with "*") gets Access-Control-Allow-Origin echoing that origin, with
// Vary: Origin, on every response including errors; a preflight (OPTIONS with
// Access-Control-Request-Method) is answered 204 here, before authentication, with the allowed
// methods and headers.
#pragma once

#include <httplib.h>

#include <string>
#include <vector>

namespace semantic::server {

// Adds the CORS headers `req` earns to `res`; returns true when `req` is a preflight, which
// `res` (status 204) then answers completely.
bool ApplyCors(const std::vector<std::string>& origins, const httplib::Request& req,
               httplib::Response& res);

}  // namespace semantic::server
