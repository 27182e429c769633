// One loaded model with everything that serves it: weights and thread pool (engine::Generator),
// chat template, KV prefix cache with its disk tier and agent sessions, and the executor thread.
// `semantic serve` loads one at start; a model swap (model_manager.h) loads another beside it, and
// with registry.max_loaded > 1 so does a request naming a registry model that is not loaded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "config/settings.h"
#include "engine/executor.h"
#include "engine/generator.h"
#include "kv/prefix_cache.h"
#include "server/api/common/chat_render.h"
#include "server/http/rate_limit.h"
#include "server/http/server.h"

namespace semantic::server {

// What every model shares: server-wide settings that are not the model's own.
struct RuntimeShared {
  RateLimiter* rate_limiter = nullptr;  // null: unlimited
  const LiveConfig* live = nullptr;     // settings a reload may change (request timeout …)
  ServerMetrics* metrics = nullptr;     // model loads and swaps are counted here
  // [aliases] may name any registry model (max_loaded > 1: the manager checks them), not only
  // the model being loaded.
  bool aliases_name_registry = false;
};

class ModelRuntime {
 public:
  // Loads cfg.model (path, context, KV dtype and budget …) with cfg.agent's cache settings and
  // starts its executor. Any failure (missing or corrupt file, unsupported architecture,
  // a bad template, an alias that names no model) is an error naming the file; nothing is left
  // running.
  static Expected<std::unique_ptr<ModelRuntime>> Load(const config::Settings& cfg,
                                                      const RuntimeShared& shared);
  // Stops the executor (cancelling what still runs) and writes pending KV blocks and sessions.
  ~ModelRuntime();

  const ModelHandle& handle() const { return handle_; }
  uint64_t fingerprint() const { return fingerprint_; }
  // Requests running or waiting in this model's executor.
  bool Busy() const;
  int InFlight() const;
  // Cancels everything queued or running and joins the executor thread (idempotent).
  void StopExecutor();
  void SetMaxQueue(int n);
  double load_seconds() const { return load_seconds_; }

 private:
  ModelRuntime() = default;
  std::unique_ptr<engine::Generator> gen_;
  std::unique_ptr<ChatRenderer> chat_;
  std::unique_ptr<kv::PrefixCache> cache_;
  std::unique_ptr<engine::Executor> exec_;
  ModelHandle handle_;
  uint64_t fingerprint_ = 0;
  double load_seconds_ = 0;
};

// A handle that keeps its runtime loaded for as long as a request holds it (null for null).
inline std::shared_ptr<const ModelHandle> HandleOf(const std::shared_ptr<ModelRuntime>& rt) {
  if (!rt) return nullptr;
  return std::shared_ptr<const ModelHandle>(rt, &rt->handle());
}

}  // namespace semantic::server
