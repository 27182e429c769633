// ModelManager: load beside, switch, drain, unload.
#include "server/runtime/model_manager.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <thread>

#include "base/log.h"
#include "base/timer.h"
#include "server/api/common/model_names.h"

namespace semantic::server {
namespace {

using Clock = std::chrono::steady_clock;

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
    : base_(std::move(base)),
      shared_([&] {
        shared.aliases_name_registry = base_.registry.max_loaded > 1;
        return shared;
      }()),
      current_cfg_(base_),
      max_loaded_(base_.registry.max_loaded),
      load_timeout_(base_.registry.load_timeout) {
  if (max_loaded_ > 1) slot_->SetRouter(this);
}

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
  for (Other& o : others_) {
    o.cfg.scheduler.max_queue = n;
    if (o.rt) o.rt->SetMaxQueue(n);
  }
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
  if (max_loaded_ > 1) {
    // Each alias names "default", this model, or a model a request may load.
    const config::Settings b = base();
    const std::vector<std::string> ids = Loadable();
    for (const auto& [pattern, target] : b.aliases) {
      if (IsOwnName(next->handle(), target) ||
          std::find(ids.begin(), ids.end(), target) != ids.end()) {
        continue;
      }
      return InvalidArgument("aliases: '" + pattern + "' maps to '" + target +
                             "', which is neither \"default\" nor a model in the registry "
                             "(semantic models)");
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    runtime_ = next;
    current_cfg_ = base_;
    PublishResident();
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
  if (max_loaded_ > 1) return SwapResident(*cfg, std::move(r));
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    PublishResident();
  }
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
  std::vector<std::shared_ptr<ModelRuntime>> others;  // every resident model goes
  {
    std::lock_guard<std::mutex> lock(mu_);
    old.swap(runtime_);
    for (auto it = others_.begin(); it != others_.end();) {
      if (!it->rt) {  // a request is loading it: that load finishes and stays
        ++it;
        continue;
      }
      others.push_back(std::move(it->rt));
      it = others_.erase(it);
    }
  }
  r.old_model_id = old ? old->handle().id : "";
  slot_->Set(nullptr);
  Retire(std::move(old), timeout, &r);
  std::string also;
  for (std::shared_ptr<ModelRuntime>& o : others) {
    also += (also.empty() ? "" : ", ") + o->handle().id;
    SwapResult ignored;
    Retire(std::move(o), timeout, &ignored);
    r.drained += ignored.drained;
    r.cancelled += ignored.cancelled;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    PublishResident();
  }
  r.status = "offloaded";
  r.seconds = timer.Seconds();
  r.message = r.old_model_id.empty() ? "no model was loaded"
                                     : "unloaded " + r.old_model_id + "; its caches are on disk";
  if (!also.empty()) r.message += "; also unloaded " + also;
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
  ++unloads_;
  if (shared_.metrics) shared_.metrics->CountModelUnload();
}

bool ModelManager::Busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  // runtime_ and the slot's handle are two references; each request holding the handle (from
  // routing until its last streamed byte) is one more. Another resident model is referenced by
  // its entry alone; a model still loading is busy too.
  if (runtime_ && (runtime_->Busy() || runtime_.use_count() > 2)) return true;
  for (const Other& o : others_) {
    if (!o.rt || o.rt->Busy() || o.rt.use_count() > 1) return true;
  }
  return false;
}

void ModelManager::StopExecutors() {
  std::lock_guard<std::mutex> lock(mu_);
  if (runtime_) runtime_->StopExecutor();
  for (Other& o : others_) {
    if (o.rt) o.rt->StopExecutor();
  }
}

void ModelManager::Unload() {
  std::shared_ptr<ModelRuntime> old;
  std::list<Other> others;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old.swap(runtime_);
    others.swap(others_);
    PublishResident();
  }
  slot_->Set(nullptr);
  old.reset();
  others.clear();  // each writes its pending KV blocks and sessions
}

ManagerStats ModelManager::stats() const {
  return {loads_.load(), load_failures_.load(), swaps_.load(), swap_failures_.load(),
          unloads_.load()};
}

}  // namespace semantic::server
