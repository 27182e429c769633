// The model the server answers with right now. Each request takes one snapshot (Get) and keeps it
// to the end, so a model swap never changes a running request's model, executor or cache; the
// snapshot also keeps that model loaded until the request lets go of it. With several models
// resident (registry.max_loaded > 1) a router picks the snapshot by the request's `model`.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/api/common/api_error.h"
#include "server/http/server.h"

namespace semantic::server {

// The model a request named, or why it cannot have it (a load that failed, no room to load).
struct RoutedModel {
  std::shared_ptr<const ModelHandle> model;  // null without error: no model is loaded
  std::optional<ApiError> error;
};

// Picks a resident model by name, loading a registry model on demand (runtime/model_manager.h).
class ModelRouter {
 public:
  virtual ~ModelRouter() = default;
  // A name no resident or registry model answers to routes to the default model, whose handler
  // then reports it (404 model_not_found) as with one model.
  virtual RoutedModel Route(const std::string& name) = 0;
  // The resident models, the default first.
  virtual std::vector<std::shared_ptr<const ModelHandle>> Resident() const = 0;
  // Registry ids a request may name that are not resident now.
  virtual std::vector<std::string> Loadable() const = 0;
};

class ModelSlot {
 public:
  // Null while no model is loaded (offloaded, or a start-up that has not finished).
  std::shared_ptr<const ModelHandle> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  // Installs `next` and returns the one it replaces.
  std::shared_ptr<const ModelHandle> Set(std::shared_ptr<const ModelHandle> next) {
    std::lock_guard<std::mutex> lock(mu_);
    current_.swap(next);
    return next;
  }
  // Set once before serving; null (the default): one model, requests always get Get().
  void SetRouter(ModelRouter* router) { router_ = router; }
  ModelRouter* router() const { return router_; }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const ModelHandle> current_;
  ModelRouter* router_ = nullptr;
};

}  // namespace semantic::server
