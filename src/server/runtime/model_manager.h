// Loads the served model and swaps it under load (names follow the original semantic's admin
// API). A swap loads the new model beside the running one — a load that fails leaves the old one
// serving, untouched (the rollback) — then points new requests at it, lets the old model's
// running requests finish within the timeout, cancels the rest, writes the old model's KV blocks
// and agent sessions to disk and unloads it. Each model's caches live under its own fingerprint,
// so swapping back finds every agent's cache where it was left.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "config/settings.h"
#include "server/http/model_slot.h"
#include "server/runtime/model_registry.h"
#include "server/runtime/model_runtime.h"

namespace semantic::server {

struct SwapResult {
  int http_status = 200;
  std::string status;  // success | unchanged | failed (old model kept) | busy | offloaded
  std::string old_model_id, new_model_id;
  std::string message;
  double seconds = 0;
  int drained = 0;    // old-model requests that finished during the swap
  int cancelled = 0;  // old-model requests cancelled at the timeout
};

struct ManagerStats {
  uint64_t loads = 0, load_failures = 0, swaps = 0, swap_failures = 0;
};

class ModelManager {
 public:
  ModelManager(config::Settings base, RuntimeShared shared);
  ~ModelManager();

  // Loads base.model and installs it (start-up).
  Status LoadInitial();

  std::shared_ptr<ModelSlot> slot() const { return slot_; }
  // The settings models are loaded with (the server's configuration; reloads update them).
  config::Settings base() const;
  // The loaded model's settings (its profile applied); base() while none is loaded.
  config::Settings current_settings() const;

  SwapResult Swap(const std::string& model_id, std::chrono::milliseconds timeout);
  SwapResult Offload(std::chrono::milliseconds timeout);

  // Requests running or queued on the current model, or HTTP requests still using it.
  bool Busy() const;
  // Shutdown: cancels what still runs on the current model (its handlers end with an error).
  void StopExecutors();
  // Shutdown: unloads the current model after StopExecutors (writes its KV blocks and sessions).
  void Unload();
  ManagerStats stats() const;
  // scheduler.max_queue after a reload: the current model and every model loaded later.
  void SetMaxQueue(int n);

 private:
  // Lets `old`'s requests finish within `timeout`, cancels the rest and unloads it.
  void Retire(std::shared_ptr<ModelRuntime> old, std::chrono::milliseconds timeout, SwapResult* r);

  config::Settings base_;  // under mu_
  const RuntimeShared shared_;
  std::shared_ptr<ModelSlot> slot_ = std::make_shared<ModelSlot>();
  mutable std::mutex mu_;  // base_, runtime_, current_cfg_
  std::shared_ptr<ModelRuntime> runtime_;
  config::Settings current_cfg_;
  std::mutex swap_mu_;  // one swap or offload at a time
  std::atomic<uint64_t> loads_{0}, load_failures_{0}, swaps_{0}, swap_failures_{0};
};

}  // namespace semantic::server
