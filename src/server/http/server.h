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
  size_t max_header_bytes = 32u << 10;  // all header names and values; beyond it 431
  int max_json_depth = 64;              // nesting of a JSON body; deeper: 400
  int64_t read_timeout_ms = 5000;       // next request bytes; a stalled body gets 408
  int64_t write_timeout_ms = 5000;      // the client taking response bytes
  int64_t idle_timeout_ms = 5000;       // a connection without a request (whole seconds)
  int http_threads = 8;                 // connection threads kept ready
  int max_http_threads = 64;            // more start while all are busy, up to this many
  LiveSettings live;                    // at start; HttpServer::Reload replaces them
  // Shared with the model runtimes (serve.cpp owns them); null: the server keeps its own.
  LiveConfig* live_config = nullptr;
  ServerMetrics* metrics = nullptr;
};

// What the handlers need from the loaded model.
struct ModelHandle {
  std::string id;  // served name: model.served_name, else the file name without .gguf
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
  int max_messages = 0;                 // messages of one chat request; 0: no limit
  int max_output_tokens = 0;            // ceiling on a request's max_tokens; 0: none
  const LiveConfig* live = nullptr;     // the settings a reload may change (server's if null)
};

class ModelSlot;     // model_slot.h: the current model, swapped under load
class ModelManager;  // runtime/model_manager.h: loads, swaps and offloads models

class HttpServer {
 public:
  // Serves whatever `slot` holds at each request; with a manager, also the /admin/models routes.
  HttpServer(const ServerOptions& options, std::shared_ptr<ModelSlot> slot,
             ModelManager* manager = nullptr);
  // One fixed model (no swaps).
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
