// Route adapters: run a handler with the snapshot of the current model (model_slot.h), or with
// the model the request's `model` names when several are resident; answer 503
// `model_not_loaded` in the route's dialect while no model is loaded.
#pragma once

#include <httplib.h>

#include <memory>
#include <utility>

#include "server/http/json_body.h"
#include "server/http/model_slot.h"

namespace semantic::server {

// 503 with Retry-After in OpenAI's or Anthropic's shape (by path).
void SendNoModel(const httplib::Request& req, httplib::Response& res);
// `e` in OpenAI's or Anthropic's shape (by path).
void SendRouteError(const httplib::Request& req, httplib::Response& res, const ApiError& e);

// Runs fn(*m, req, res) and keeps `m` alive until a streamed body's last byte.
template <class Fn>
void RunWithModel(std::shared_ptr<const ModelHandle> m, const Fn& fn, const httplib::Request& req,
                  httplib::Response& res) {
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
}

// fn(const ModelHandle&, const httplib::Request&, httplib::Response&) with the default model.
template <class Fn>
httplib::Server::Handler WithModel(const ModelSlot* slot, Fn fn) {
  return [slot, fn = std::move(fn)](const httplib::Request& req, httplib::Response& res) {
    RunWithModel(slot->Get(), fn, req, res);
  };
}

// As WithModel, for the generating routes: with a router, the model the body's `model` names
// (loaded on demand); a load that fails or finds no room answers here.
template <class Fn>
httplib::Server::Handler WithRequestedModel(const ModelSlot* slot, Fn fn) {
  return [slot, fn = std::move(fn)](const httplib::Request& req, httplib::Response& res) {
    ModelRouter* router = slot->router();
    if (router == nullptr) return RunWithModel(slot->Get(), fn, req, res);
    RoutedModel routed = router->Route(RequestedModelName(req.body));
    if (routed.error) return SendRouteError(req, res, *routed.error);
    RunWithModel(std::move(routed.model), fn, req, res);
  };
}

}  // namespace semantic::server
