// ModelManager with registry.max_loaded > 1: routing a request's `model` to a resident model,
// loading registry models on demand (one load per model, shared by concurrent requests), and
// unloading the least recently used idle model beyond max_loaded.
#include <algorithm>
#include <filesystem>
#include <system_error>

#include "base/log.h"
#include "base/timer.h"
#include "server/api/common/model_names.h"
#include "server/runtime/model_manager.h"

namespace semantic::server {
namespace {

using Clock = std::chrono::steady_clock;

bool IsGenericName(const std::string& name) {
  return name.empty() || name == "default" || name == "semantic";
}

// The registry id `name` asks for: through the first [aliases] pattern it matches, then a
// registry id (with or without ".gguf"). "" when it names the default model or nothing known.
std::string RegistryId(const config::Settings& base, const std::vector<ModelEntry>& registry,
                       const std::string& name) {
  std::string target = name;
  for (const auto& [pattern, to] : base.aliases) {
    if (GlobMatch(pattern, name)) {
      target = to;
      break;
    }
  }
  if (IsGenericName(target)) return "";
  for (const ModelEntry& e : registry) {
    if (e.id == target || e.id + ".gguf" == target) return e.id;
  }
  return "";
}

std::string Canonical(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path c = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : c.string();
}

ApiError LoadFailed(const std::string& id, const std::string& why) {
  return {503,
          "model '" + id + "' is in the registry but could not be loaded: " + why +
              "; the other models keep serving",
          "server_error", "model", "model_load_failed"};
}

}  // namespace

std::vector<ModelEntry> ModelManager::Registry(const config::Settings& base) const {
  // Many requests name a model the registry does not hold ("claude-…" from Claude Code): the
  // folders are scanned at most once a second, not once a request.
  std::lock_guard<std::mutex> lock(registry_mu_);
  const auto now = Clock::now();
  if (registry_at_ == Clock::time_point{} || now - registry_at_ > std::chrono::seconds(1)) {
    registry_ = ListModels(base);
    registry_at_ = now;
  }
  return registry_;
}

RoutedModel ModelManager::Use(Other& o) {
  o.last_used = ++tick_;
  o.used_at = Clock::now();
  return {HandleOf(o.rt), std::nullopt};
}

int ModelManager::ResidentCount() const {
  return (runtime_ ? 1 : 0) + static_cast<int>(others_.size());
}

void ModelManager::PublishResident() {
  if (shared_.metrics) shared_.metrics->SetModelsResident(ResidentCount());
}

std::list<ModelManager::Other>::iterator ModelManager::FindOther(const std::string& id) {
  return std::find_if(others_.begin(), others_.end(), [&](const Other& o) { return o.id == id; });
}

std::list<ModelManager::Other>::iterator ModelManager::LruIdle() {
  auto best = others_.end();
  for (auto it = others_.begin(); it != others_.end(); ++it) {
    // Idle: loaded, nothing in its executor, and no request holding its handle (the entry's
    // reference is the only one). Handles are only handed out under mu_, so it stays idle.
    if (!it->rt || it->rt.use_count() > 1 || it->rt->InFlight() > 0) continue;
    if (best == others_.end() || it->last_used < best->last_used) best = it;
  }
  return best;
}

RoutedModel ModelManager::Route(const std::string& name) {
  config::Settings base;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (IsGenericName(name) || (runtime_ && ModelMatches(runtime_->handle(), name))) {
      return {HandleOf(runtime_), std::nullopt};
    }
    for (Other& o : others_) {
      if (o.rt && ModelMatches(o.rt->handle(), name)) return Use(o);
    }
    base = base_;
  }
  // Only registry ids load on demand: a request never names a file path.
  const std::string id = RegistryId(base, Registry(base), name);
  if (id.empty()) return {slot_->Get(), std::nullopt};  // its handler answers as with one model
  auto cfg = ResolveModel(base, id);
  if (!cfg.ok()) return {nullptr, LoadFailed(id, cfg.status().message())};
  return Acquire(*cfg);
}

RoutedModel ModelManager::Acquire(const config::Settings& cfg) {
  const std::string id = cfg.model.served_name;
  const auto deadline = Clock::now() + load_timeout_;
  std::shared_ptr<ModelRuntime> victim;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (runtime_ && runtime_->handle().id == id) return {HandleOf(runtime_), std::nullopt};
    if (auto it = FindOther(id); it != others_.end()) {
      if (it->rt) return Use(*it);
      // Another request is loading it: wait for that load instead of starting a second one.
      const std::shared_ptr<LoadTicket> ticket = it->ticket;
      cv_.wait(lock, [&] { return ticket->done; });
      if (ticket->error) return {nullptr, ticket->error};
      continue;
    }
    if (ResidentCount() < max_loaded_) break;
    if (auto lru = LruIdle(); lru != others_.end()) {
      victim = std::move(lru->rt);
      others_.erase(lru);
      break;
    }
    if (Clock::now() >= deadline) {
      return {nullptr,
              ApiError{503,
                       "model '" + id + "' is not loaded and all " + std::to_string(max_loaded_) +
                           " resident models (registry.max_loaded) are busy; retry "
                           "when one is idle",
                       "server_error", "model", "models_busy", /*retry_after_s=*/5}};
    }
    cv_.wait_for(lock, std::chrono::milliseconds(20));  // requests end without notifying
  }
  // The slot is ours: an entry marks the load so that concurrent requests wait for it.
  auto ticket = std::make_shared<LoadTicket>();
  others_.push_back({id, nullptr, cfg, 0, Clock::now(), ticket});
  lock.unlock();
  if (victim) {
    LOG_INFO("models: unloading %s, the least recently used (registry.max_loaded = %d), to load %s",
             victim->handle().id.c_str(), max_loaded_, id.c_str());
    UnloadIdle(std::move(victim));
  }
  std::string same_as;
  auto loaded = LoadBeside(cfg, &same_as);
  lock.lock();
  auto it = FindOther(id);
  ticket->done = true;
  if (!same_as.empty()) {
    ticket->error = BadRequest("model '" + id + "' has the same weights as the loaded '" + same_as +
                                   "': ask for '" + same_as + "'",
                               "model", "model_conflict");
  } else if (!loaded.ok() || it == others_.end()) {
    ++load_failures_;
    ticket->error =
        LoadFailed(id, loaded.ok() ? "the server is shutting down" : loaded.status().message());
  }
  if (ticket->error) {
    if (it != others_.end()) others_.erase(it);
    PublishResident();
    cv_.notify_all();
    LOG_WARN("models: %s", ticket->error->message.c_str());
    return {nullptr, ticket->error};
  }
  ++loads_;
  if (shared_.metrics) shared_.metrics->CountModelLoad((*loaded)->load_seconds());
  it->rt = std::move(*loaded);
  it->ticket.reset();
  PublishResident();
  cv_.notify_all();
  return Use(*it);
}

Expected<std::unique_ptr<ModelRuntime>> ModelManager::LoadBeside(const config::Settings& cfg,
                                                                 std::string* same_as) {
  // The same weights twice would share one cache folder (it is keyed by their fingerprint).
  auto same_weights = [&](const std::string& path, uint64_t fingerprint) -> std::string {
    std::lock_guard<std::mutex> lock(mu_);
    auto same = [&](const std::shared_ptr<ModelRuntime>& rt) {
      return rt && (fingerprint != 0 ? rt->fingerprint() == fingerprint
                                     : Canonical(rt->handle().path) == Canonical(path));
    };
    if (same(runtime_)) return runtime_->handle().id;
    for (const Other& o : others_) {
      if (same(o.rt)) return o.id;
    }
    return "";
  };
  *same_as = same_weights(cfg.model.path, 0);
  if (!same_as->empty()) return InvalidArgument("same weights as " + *same_as);
  LOG_INFO("models: loading %s (%s) on demand", cfg.model.served_name.c_str(),
           cfg.model.path.c_str());
  auto loaded = ModelRuntime::Load(cfg, shared_);
  if (!loaded.ok()) return loaded.status();
  *same_as = same_weights("", (*loaded)->fingerprint());
  if (!same_as->empty()) return InvalidArgument("same weights as " + *same_as);
  return loaded;
}

void ModelManager::UnloadIdle(std::shared_ptr<ModelRuntime> rt) {
  rt->StopExecutor();
  rt.reset();  // writes its pending KV blocks and agent sessions
  ++unloads_;
  if (shared_.metrics) shared_.metrics->CountModelUnload();
}

SwapResult ModelManager::SwapResident(const config::Settings& cfg, SwapResult r) {
  Timer timer;
  RoutedModel got = Acquire(cfg);
  if (got.error) {
    ++swap_failures_;
    r.http_status = got.error->status == 503 && got.error->code == "model_load_failed"
                        ? 422
                        : got.error->status;
    r.status = "failed";
    r.message =
        got.error->message + (r.old_model_id.empty() ? "" : "; still serving " + r.old_model_id);
    r.seconds = timer.Seconds();
    return r;
  }
  std::shared_ptr<ModelRuntime> next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = FindOther(got.model->id);  // held by `got`: not unloaded since
    if (it != others_.end()) {
      next = it->rt;
      if (runtime_) {  // the old default stays resident, now the most recently used other
        it->id = runtime_->handle().id;
        it->rt = runtime_;
        it->cfg = current_cfg_;
        it->last_used = ++tick_;
        it->used_at = Clock::now();
      } else {
        others_.erase(it);
      }
      runtime_ = next;
      current_cfg_ = cfg;
    }
  }
  if (!next) {  // it was the default already (a concurrent swap)
    r.status = "unchanged";
    r.new_model_id = got.model->id;
    r.message = "model " + r.new_model_id + " is already the default";
    return r;
  }
  slot_->Set(HandleOf(next));
  ++swaps_;
  if (shared_.metrics) shared_.metrics->CountModelSwap();
  r.status = "success";
  r.new_model_id = next->handle().id;
  r.seconds = timer.Seconds();
  r.message = "now serving " + r.new_model_id + " by default";
  if (!r.old_model_id.empty()) {
    r.message += "; " + r.old_model_id +
                 " stays loaded (registry.max_loaded = " + std::to_string(max_loaded_) + ")";
  }
  LOG_INFO("swap: %s", r.message.c_str());
  return r;
}

std::vector<ResidentInfo> ModelManager::ResidentModels() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ResidentInfo> out;
  const auto now = Clock::now();
  if (runtime_) {
    out.push_back({runtime_->handle().id, runtime_->handle().path, true, false,
                   std::max<int>(runtime_->InFlight(), static_cast<int>(runtime_.use_count()) - 2),
                   0});
  }
  std::vector<const Other*> by_use;
  for (const Other& o : others_) by_use.push_back(&o);
  std::sort(by_use.begin(), by_use.end(),
            [](const Other* a, const Other* b) { return a->last_used > b->last_used; });
  for (const Other* o : by_use) {
    ResidentInfo i{o->id, o->cfg.model.path, false, !o->rt, 0, 0};
    if (o->rt) {
      i.in_use = std::max<int>(o->rt->InFlight(), static_cast<int>(o->rt.use_count()) - 1);
      i.idle_seconds = i.in_use > 0 ? 0 : std::chrono::duration<double>(now - o->used_at).count();
    }
    out.push_back(std::move(i));
  }
  return out;
}

std::vector<std::shared_ptr<const ModelHandle>> ModelManager::Resident() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<const ModelHandle>> out;
  if (runtime_) out.push_back(HandleOf(runtime_));
  for (const Other& o : others_) {
    if (o.rt) out.push_back(HandleOf(o.rt));
  }
  return out;
}

std::vector<std::string> ModelManager::Loadable() const {
  config::Settings b;
  std::vector<std::string> resident;
  {
    std::lock_guard<std::mutex> lock(mu_);
    b = base_;
    if (runtime_) resident.push_back(runtime_->handle().id);
    for (const Other& o : others_) resident.push_back(o.id);
  }
  std::vector<std::string> out;
  for (const ModelEntry& e : Registry(b)) {
    if (e.exists && e.problem.empty() &&
        std::find(resident.begin(), resident.end(), e.id) == resident.end()) {
      out.push_back(e.id);
    }
  }
  return out;
}

}  // namespace semantic::server
