// ModelManager: load beside, switch, drain, unload.
#include "server/runtime/model_manager.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <thread>

#include "base/log.h"
#include "base/timer.h"

namespace semantic::server {
namespace {

using Clock = std::chrono::steady_clock;

// A handle that keeps its runtime loaded for as long as a request holds it.
std::shared_ptr<const ModelHandle> HandleOf(const std::shared_ptr<ModelRuntime>& rt) {
  if (!rt) return nullptr;
  return std::shared_ptr<const ModelHandle>(rt, &rt->handle());
}

SwapResult SwapBusy(SwapResult r) {
  r.http_status = 409;
  r.status = "busy";
  r.message = "another swap or offload is running; retry when it has finished";
  return r;
}

int HttpStatusOf(const Status& st) {
  switch (st.code()) {
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kInvalidArgument:
      return 400;
    default:
      return 422;  // the file is there but does not load: corrupt, unsupported, too large
  }
}

}  // namespace

ModelManager::ModelManager(config::Settings base, RuntimeShared shared)
    : base_(std::move(base)), shared_(shared), current_cfg_(base_) {}

ModelManager::~ModelManager() {
  StopExecutors();
  Unload();
}

config::Settings ModelManager::base() const {
  std::lock_guard<std::mutex> lock(mu_);
  return base_;
}

void ModelManager::SetMaxQueue(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  base_.scheduler.max_queue = n;
  current_cfg_.scheduler.max_queue = n;
  if (runtime_) runtime_->SetMaxQueue(n);
}

Status ModelManager::LoadInitial() {
  auto rt = ModelRuntime::Load(base(), shared_);
  if (!rt.ok()) {
    ++load_failures_;
    return rt.status();
  }
  ++loads_;
  std::shared_ptr<ModelRuntime> next = std::move(*rt);
  if (shared_.metrics) shared_.metrics->CountModelLoad(next->load_seconds());
  {
    std::lock_guard<std::mutex> lock(mu_);
    runtime_ = next;
    current_cfg_ = base_;
  }
  slot_->Set(HandleOf(next));
  return Status::Ok();
}

config::Settings ModelManager::current_settings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_cfg_;
}

SwapResult ModelManager::Swap(const std::string& model_id, std::chrono::milliseconds timeout) {
  SwapResult r;
  std::unique_lock<std::mutex> swap_lock(swap_mu_, std::try_to_lock);
  std::shared_ptr<ModelRuntime> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = runtime_;
  }
  r.old_model_id = old ? old->handle().id : "";
  r.new_model_id = model_id;
  if (!swap_lock.owns_lock()) return SwapBusy(r);
  Timer timer;
  auto cfg = ResolveModel(base(), model_id);
  if (!cfg.ok()) {
    ++swap_failures_;
    r.http_status = HttpStatusOf(cfg.status());
    r.status = "failed";
    r.message = cfg.status().message() + (old ? "; still serving " + r.old_model_id : "");
    return r;
  }
  std::error_code ec;
  if (old && std::filesystem::equivalent(cfg->model.path, old->handle().path, ec) &&
      cfg->model.served_name == old->handle().id) {
    r.status = "unchanged";
    r.new_model_id = old->handle().id;
    r.message = "model " + r.new_model_id + " is already loaded";
    return r;
  }
  LOG_INFO("swap: loading %s (%s) beside %s", model_id.c_str(), cfg->model.path.c_str(),
           old ? r.old_model_id.c_str() : "no model");
  auto loaded = ModelRuntime::Load(*cfg, shared_);
  if (loaded.ok() && old && (*loaded)->fingerprint() == old->fingerprint()) {
    // The same weights under another name would share the old model's cache folder.
    loaded = InvalidArgument("model '" + model_id + "' has the same weights as the loaded '" +
                             r.old_model_id + "'");
  }
  if (!loaded.ok()) {
    ++load_failures_;
    ++swap_failures_;
    r.http_status = HttpStatusOf(loaded.status());
    r.status = "failed";
    r.message = "loading '" + model_id + "' failed: " + loaded.status().message() +
                (old ? "; rolled back: still serving " + r.old_model_id : "");
    r.seconds = timer.Seconds();
    LOG_WARN("swap failed: %s", r.message.c_str());
    return r;
  }
  ++loads_;
  std::shared_ptr<ModelRuntime> next = std::move(*loaded);
  if (shared_.metrics) shared_.metrics->CountModelLoad(next->load_seconds());
  r.new_model_id = next->handle().id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    runtime_ = next;
    current_cfg_ = *cfg;
  }
  slot_->Set(HandleOf(next));  // new requests go to the new model from here on
  Retire(std::move(old), timeout, &r);
  ++swaps_;
  if (shared_.metrics) shared_.metrics->CountModelSwap();
  r.status = "success";
  r.seconds = timer.Seconds();
  r.message = "now serving " + r.new_model_id + " (loaded in " +
              std::to_string(static_cast<int>(next->load_seconds() * 1000)) + " ms";
  if (!r.old_model_id.empty()) {
    r.message += "; " + std::to_string(r.drained) + " running request(s) finished on " +
                 r.old_model_id + ", " + std::to_string(r.cancelled) + " cancelled";
  }
  r.message += ")";
  LOG_INFO("swap: %s", r.message.c_str());
  return r;
}

SwapResult ModelManager::Offload(std::chrono::milliseconds timeout) {
  SwapResult r;
  std::unique_lock<std::mutex> swap_lock(swap_mu_, std::try_to_lock);
  if (!swap_lock.owns_lock()) return SwapBusy(r);
  Timer timer;
  std::shared_ptr<ModelRuntime> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old.swap(runtime_);
  }
  r.old_model_id = old ? old->handle().id : "";
  slot_->Set(nullptr);
  Retire(std::move(old), timeout, &r);
  r.status = "offloaded";
  r.seconds = timer.Seconds();
  r.message = r.old_model_id.empty() ? "no model was loaded"
                                     : "unloaded " + r.old_model_id + "; its caches are on disk";
  return r;
}

void ModelManager::Retire(std::shared_ptr<ModelRuntime> old, std::chrono::milliseconds timeout,
                          SwapResult* r) {
  if (!old) return;
  // In use: requests in its executor, or HTTP requests holding its handle (a stream still
  // writing, a handler that has not submitted yet); `old` itself is one reference.
  auto in_use = [&] {
    return std::max<int>(old->InFlight(), static_cast<int>(old.use_count()) - 1);
  };
  const int before = in_use();
  const auto deadline = Clock::now() + timeout;
  while (in_use() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  r->cancelled = in_use();
  r->drained = std::max(0, before - r->cancelled);
  if (r->cancelled > 0) {
    LOG_WARN("swap: cancelling %d request(s) still running on %s", r->cancelled,
             old->handle().id.c_str());
  }
  old->StopExecutor();
  // Handlers still holding the old handle finish their last bytes; then it is ours alone and
  // unloads here (writing its blocks), so a swap back finds the files complete.
  const auto handlers_deadline = Clock::now() + std::chrono::seconds(10);
  while (old.use_count() > 1 && Clock::now() < handlers_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (old.use_count() > 1) {
    LOG_WARN("swap: %s is still referenced by a request; it unloads when that request ends",
             old->handle().id.c_str());
  }
  old.reset();
}

bool ModelManager::Busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  // runtime_ and the slot's handle are two references; each request holding the handle (from
  // routing until its last streamed byte) is one more.
  return runtime_ && (runtime_->Busy() || runtime_.use_count() > 2);
}

void ModelManager::StopExecutors() {
  std::lock_guard<std::mutex> lock(mu_);
  if (runtime_) runtime_->StopExecutor();
}

void ModelManager::Unload() {
  std::shared_ptr<ModelRuntime> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old.swap(runtime_);
  }
  slot_->Set(nullptr);
  old.reset();
}

ManagerStats ModelManager::stats() const {
  return {loads_.load(), load_failures_.load(), swaps_.load(), swap_failures_.load()};
}

}  // namespace semantic::server
