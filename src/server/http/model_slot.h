// The model the server answers with right now. Each request takes one snapshot (Get) and keeps it
// to the end, so a model swap never changes a running request's model, executor or cache; the
// snapshot also keeps that model loaded until the request lets go of it.
#pragma once

#include <memory>
#include <mutex>

#include "server/http/server.h"

namespace semantic::server {

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

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const ModelHandle> current_;
};

}  // namespace semantic::server
