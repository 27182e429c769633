// HTTP front end: routes, limits, error shape, and the bridge from HTTP threads to the executor.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/settings.h"
#include "engine/executor.h"
#include "kv/prefix_cache.h"
#include "models/model.h"
#include "server/api/common/chat_render.h"
#include "server/http/live_settings.h"
#include "server/http/rate_limit.h"
#include "server/http/server_metrics.h"
#include "tokenizer/tokenizer.h"

namespace semantic::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  size_t max_body_bytes = 16u << 20;
  int http_threads = 8;       // connection threads kept ready
  int max_http_threads = 64;  // more start while all are busy, up to this many
  LiveSettings live;          // at start; HttpServer::Reload replaces them
};

// What the handlers need from the loaded model.
struct ModelHandle {
  std::string id;  // file name without .gguf
  std::string path;
  const models::ModelConfig* config = nullptr;
  const tokenizer::Tokenizer* tokenizer = nullptr;
  const ChatRenderer* chat = nullptr;
  engine::Executor* executor = nullptr;
  kv::PrefixCache* cache = nullptr;  // agent sessions and cache statistics
  int block_tokens = 16;
  std::string kv_dtype = "f16";
  int default_max_tokens = 0;           // 0: until the context is full
  int reasoning_extra_tokens = 0;       // added to every positive output limit
  float default_temperature = 1.0f;     // when a request sets none
  config::ModelAliases aliases;         // [aliases]: name pattern -> model
  RateLimiter* rate_limiter = nullptr;  // [server] rate_limit_*; none: unlimited
  const LiveConfig* live = nullptr;     // set by HttpServer: the settings a reload may change
};

class HttpServer {
 public:
  HttpServer(const ServerOptions& options, ModelHandle model);
  ~HttpServer();

  // Binds and serves until Stop(); returns an error if the address cannot be bound.
  Status Run();
  void Stop();
  void SetReady(bool ready) { ready_ = ready; }
  // Shutting down: /health/ready answers 503 and new generating requests get 503 with
  // Retry-After, while requests already running go on (graceful drain).
  void SetDraining() {
    draining_ = true;
    ready_ = false;
  }
  // Applies reloaded settings (SIGHUP) to the requests that start from now on.
  void Reload(LiveSettings live);
  // Counters for /metrics kept outside the engine (model loads, reloads, requests by route).
  ServerMetrics& metrics();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace semantic::server
