// RouteLabel and ServerMetrics.
#include "server/http/server_metrics.h"

namespace semantic::server {

std::string RouteLabel(const httplib::Request& req) {
  // cpp-httplib leaves the winning route's regex match in req.matches (empty when none matched);
  // its sub-matches are the path parameters, positions into req.path.
  if (req.matches.empty()) return "unmatched";
  std::string route = req.path;
  for (size_t i = req.matches.size(); i-- > 1;) {
    if (!req.matches[i].matched) continue;
    route.replace(static_cast<size_t>(req.matches.position(i)),
                  static_cast<size_t>(req.matches.length(i)),
                  i == 1 ? "{id}" : "{id" + std::to_string(i) + "}");
  }
  return route;
}

void ServerMetrics::CountRequest(const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
}

void ServerMetrics::CountModelLoad(double seconds) {
  last_load_s_ = seconds;
  ++model_loads_;
}

std::map<std::pair<std::string, int>, uint64_t> ServerMetrics::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

}  // namespace semantic::server
