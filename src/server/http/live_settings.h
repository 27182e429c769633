// The settings that may change while the server runs (SIGHUP re-reads the configuration; see
// docs/configuration.md, "Reloading"): HTTP threads read an immutable snapshot, a reload replaces
// the snapshot as a whole, so a request sees either the old settings or the new, never a mix.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace semantic::server {

struct LiveSettings {
  std::vector<std::string> api_keys;      // empty: no client authentication (auth.h)
  std::string admin_key;                  // empty: admin API disabled
  std::vector<std::string> cors_origins;  // empty: no CORS headers (cors.h)
  bool log_requests = true;               // one info line per request (request_context.h)
  bool metrics_enabled = true;            // false: /metrics answers 404 and is not listed
  bool metrics_agent_label = false;       // /metrics: per-agent series labelled agent_id
  int64_t request_timeout_ms = 0;         // 0: none
};

class LiveConfig {
 public:
  explicit LiveConfig(LiveSettings s = {})
      : current_(std::make_shared<const LiveSettings>(std::move(s))) {}

  std::shared_ptr<const LiveSettings> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  void Set(LiveSettings s) {
    auto next = std::make_shared<const LiveSettings>(std::move(s));
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::move(next);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const LiveSettings> current_;
};

}  // namespace semantic::server
