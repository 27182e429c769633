// Loads the served model and swaps it under load (names follow the original semantic's admin
// API). A swap loads the new model beside the running one — a load that fails leaves the old one
// serving, untouched (the rollback) — then points new requests at it, lets the old model's
// running requests finish within the timeout, cancels the rest, writes the old model's KV blocks
// and agent sessions to disk and unloads it. Each model's caches live under its own fingerprint,
// so swapping back finds every agent's cache where it was left.
//
// With registry.max_loaded > 1 it is also the request router (model_slot.h): a request naming a
// registry model that is not resident loads it beside the others (concurrent requests share one
// load), and beyond max_loaded the least recently used idle model other than the default is
// unloaded (its caches written to disk first). A swap then makes a resident model the default
// instead of unloading the old one.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

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
  uint64_t loads = 0, load_failures = 0, swaps = 0, swap_failures = 0, unloads = 0;
};

// One resident model as /admin/models/current reports it.
struct ResidentInfo {
  std::string id, path;
  bool is_default = false;
  bool loading = false;  // a request is loading it now
  int in_use = 0;        // requests holding it (running, queued, or still streaming)
  double idle_seconds = 0;
};

class ModelManager : public ModelRouter {
 public:
  ModelManager(config::Settings base, RuntimeShared shared);
  ~ModelManager() override;

  // Loads base.model and installs it (start-up).
  Status LoadInitial();

  std::shared_ptr<ModelSlot> slot() const { return slot_; }
  // The settings models are loaded with (the server's configuration; reloads update them).
  config::Settings base() const;
  // The loaded model's settings (its profile applied); base() while none is loaded.
  config::Settings current_settings() const;

  SwapResult Swap(const std::string& model_id, std::chrono::milliseconds timeout);
  SwapResult Offload(std::chrono::milliseconds timeout);

  // Requests running or queued on a resident model, HTTP requests still using one, or a load.
  bool Busy() const;
  // Shutdown: cancels what still runs on every resident model (handlers end with an error).
  void StopExecutors();
  // Shutdown: unloads every resident model after StopExecutors (writes KV blocks and sessions).
  void Unload();
  ManagerStats stats() const;
  int max_loaded() const { return max_loaded_; }
  // The default model first, then the others by most recent use.
  std::vector<ResidentInfo> ResidentModels() const;

  // ModelRouter (installed in the slot when max_loaded > 1).
  RoutedModel Route(const std::string& name) override;
  std::vector<std::shared_ptr<const ModelHandle>> Resident() const override;
  std::vector<std::string> Loadable() const override;
  // scheduler.max_queue after a reload: the resident models and every model loaded later.
  void SetMaxQueue(int n);

 private:
  // One load on demand; the requests that wait for it share its outcome.
  struct LoadTicket {
    bool done = false;
    std::optional<ApiError> error;
  };
  // A model resident beside the default (max_loaded > 1), or one a request is loading.
  struct Other {
    std::string id;
    std::shared_ptr<ModelRuntime> rt;  // null while loading
    config::Settings cfg;
    uint64_t last_used = 0;  // tick_ at its last request
    std::chrono::steady_clock::time_point used_at;
    std::shared_ptr<LoadTicket> ticket;  // while loading: waiters share this load
  };

  // Lets `old`'s requests finish within `timeout`, cancels the rest and unloads it.
  void Retire(std::shared_ptr<ModelRuntime> old, std::chrono::milliseconds timeout, SwapResult* r);
  // The resident (or loading) model `cfg` describes; loads it, unloading the least recently used
  // idle model first when max_loaded are resident, or waiting up to registry.load_timeout for
  // one to become idle.
  RoutedModel Acquire(const config::Settings& cfg);
  // Loads `cfg` unless a resident model has the same weights (its id in *same_as: they would
  // share one cache folder, keyed by the weights' fingerprint).
  Expected<std::unique_ptr<ModelRuntime>> LoadBeside(const config::Settings& cfg,
                                                     std::string* same_as);
  // Swap with max_loaded > 1: the model becomes the default; the old default stays resident.
  SwapResult SwapResident(const config::Settings& cfg, SwapResult r);
  // Writes an unused model's caches and releases it.
  void UnloadIdle(std::shared_ptr<ModelRuntime> rt);
  RoutedModel Use(Other& o);  // under mu_: its handle, marked most recently used
  std::list<Other>::iterator FindOther(const std::string& id);           // under mu_
  std::list<Other>::iterator LruIdle();                                  // under mu_; end(): none
  int ResidentCount() const;                                             // under mu_
  std::vector<ModelEntry> Registry(const config::Settings& base) const;  // ListModels, cached
  void PublishResident();                                                // under mu_: the gauge

  config::Settings base_;  // under mu_
  const RuntimeShared shared_;
  std::shared_ptr<ModelSlot> slot_ = std::make_shared<ModelSlot>();
  mutable std::mutex mu_;  // base_, runtime_, current_cfg_, others_
  std::shared_ptr<ModelRuntime> runtime_;
  config::Settings current_cfg_;
  std::mutex swap_mu_;  // one swap or offload at a time
  std::atomic<uint64_t> loads_{0}, load_failures_{0}, swaps_{0}, swap_failures_{0}, unloads_{0};
  const int max_loaded_;
  const std::chrono::milliseconds load_timeout_;
  std::list<Other> others_;         // under mu_; models resident beside the default
  std::condition_variable cv_;      // with mu_: a load finished (waits for room poll it)
  uint64_t tick_ = 0;               // under mu_
  mutable std::mutex registry_mu_;  // registry_, registry_at_
  mutable std::vector<ModelEntry> registry_;
  mutable std::chrono::steady_clock::time_point registry_at_;
};

}  // namespace semantic::server
