// Counters the HTTP layer keeps for /metrics (metrics.h renders them): requests by route pattern
// and status, model load and swap events, configuration reloads (SIGHUP). Thread-safe.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace semantic::server {

// The route pattern that served `req`, with its path parameters replaced by "{id}"
// ("/v1/agents/{id}/pin"), so the label's values are bounded by the routes; "unmatched" when no
// route did (404, or answered before routing: 401, 503 while draining, CORS preflight).
std::string RouteLabel(const httplib::Request& req);

class ServerMetrics {
 public:
  void CountRequest(const std::string& route, int status);
  void CountModelLoad(double seconds);
  void CountModelSwap() { ++model_swaps_; }
  void CountModelUnload() { ++model_unloads_; }
  void SetModelsResident(int n) { models_resident_ = n; }
  void CountReload(bool ok) { ++(ok ? reloads_ok_ : reloads_failed_); }

  // (route, status) -> requests answered.
  std::map<std::pair<std::string, int>, uint64_t> Requests() const;
  uint64_t model_loads() const { return model_loads_; }
  double last_model_load_seconds() const { return last_load_s_; }
  uint64_t model_swaps() const { return model_swaps_; }
  uint64_t model_unloads() const { return model_unloads_; }
  int models_resident() const { return models_resident_; }
  uint64_t reloads_ok() const { return reloads_ok_; }
  uint64_t reloads_failed() const { return reloads_failed_; }

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::atomic<uint64_t> model_loads_{0};
  std::atomic<double> last_load_s_{0};
  std::atomic<uint64_t> model_swaps_{0};  // POST /admin/models/swap that succeeded
  std::atomic<uint64_t> model_unloads_{0};  // swapped out, offloaded, or unloaded as LRU
  std::atomic<int> models_resident_{0};
  std::atomic<uint64_t> reloads_ok_{0};
  std::atomic<uint64_t> reloads_failed_{0};
};

}  // namespace semantic::server
