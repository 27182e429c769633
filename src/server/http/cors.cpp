// ApplyCors.
#include "server/http/cors.h"

#include <algorithm>

namespace semantic::server {

namespace {

constexpr const char* kAllowMethods = "GET, POST, DELETE, OPTIONS";
constexpr const char* kAllowHeaders =
    "Authorization, Content-Type, x-api-key, anthropic-api-key, anthropic-version, "
    "anthropic-beta, X-Agent-ID, X-Session-ID, X-Request-ID, X-Admin-Key";
// Response headers a browser script may read besides the CORS-safelisted ones.
constexpr const char* kExposeHeaders = "X-Request-ID, request-id, Retry-After";

bool Allowed(const std::vector<std::string>& origins, const std::string& origin) {
  return std::any_of(origins.begin(), origins.end(),
                     [&](const std::string& o) { return o == "*" || o == origin; });
}

}  // namespace

bool ApplyCors(const std::vector<std::string>& origins, const httplib::Request& req,
               httplib::Response& res) {
  if (origins.empty()) return false;
  const bool preflight = req.method == "OPTIONS" && req.has_header("Access-Control-Request-Method");
  res.set_header("Vary", "Origin");
  const std::string origin = req.get_header_value("Origin");
  if (!origin.empty() && Allowed(origins, origin)) {
    res.set_header("Access-Control-Allow-Origin", origin);
    if (preflight) {
      res.set_header("Access-Control-Allow-Methods", kAllowMethods);
      res.set_header("Access-Control-Allow-Headers", kAllowHeaders);
      res.set_header("Access-Control-Max-Age", "600");
    } else {
      res.set_header("Access-Control-Expose-Headers", kExposeHeaders);
    }
  }
  if (preflight) res.status = 204;  // an origin not listed gets no grant: the browser refuses
  return preflight;
}

}  // namespace semantic::server
