// Route adapter: runs a handler with the snapshot of the current model (model_slot.h), or
// answers 503 `model_not_loaded` in the route's dialect while no model is loaded.
#pragma once

#include <httplib.h>

#include <memory>
#include <utility>

#include "server/http/model_slot.h"

namespace semantic::server {

// 503 with Retry-After in OpenAI's or Anthropic's shape (by path).
void SendNoModel(const httplib::Request& req, httplib::Response& res);

// fn(const ModelHandle&, const httplib::Request&, httplib::Response&).
template <class Fn>
httplib::Server::Handler WithModel(const ModelSlot* slot, Fn fn) {
  return [slot, fn = std::move(fn)](const httplib::Request& req, httplib::Response& res) {
    const std::shared_ptr<const ModelHandle> m = slot->Get();
    if (!m) return SendNoModel(req, res);
    fn(*m, req, res);
    // A streamed body is written after the handler returns: its provider keeps the snapshot,
    // so the model stays loaded (and counted as in use) until the last byte is sent.
    if (res.content_provider_) {
      res.content_provider_ = [inner = std::move(res.content_provider_), m](
                                  size_t offset, size_t length, httplib::DataSink& sink) {
        return inner(offset, length, sink);
      };
    }
  };
}

}  // namespace semantic::server
