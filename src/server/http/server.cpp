// HTTP routes (cpp-httplib): service endpoints, OpenAI and Anthropic endpoints, error shapes,
// body limits.
#include "server/http/server.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

#include "base/log.h"
#include "server/api/agents/handlers.h"
#include "server/api/anthropic/handlers.h"
#include "server/api/anthropic/models.h"
#include "server/api/coordination/handlers.h"
#include "server/api/openai/handlers.h"
#include "server/http/auth.h"
#include "server/http/connection_threads.h"
#include "server/http/cors.h"
#include "server/http/error_response.h"
#include "server/http/limits.h"
#include "server/http/metrics.h"
#include "server/http/model_slot.h"
#include "server/http/openapi.h"
#include "server/http/refusal.h"
#include "server/http/request_context.h"
#include "server/http/with_model.h"
#include "server/runtime/admin_routes.h"
#include "server/http/static_ui.h"

namespace semantic::server {

using nlohmann::json;

namespace {
// The OpenAPI document as served: /metrics only when metrics.enabled.
json ServedSpec(bool metrics) {
  json spec = OpenApiSpec("0.1.0");
  if (!metrics) spec["paths"].erase("/metrics");
  return spec;
}

void SendError(const httplib::Request& req, httplib::Response& res, const ApiError& e) {
  if (anthropic::IsAnthropicPath(req.path)) return SendAnthropicError(res, e);
  SendOpenAiError(res, e);
}

// Status and text for errors httplib raises itself, before any handler ran: a body too large
// (413), a request line over its 8 KiB limit (414), a body that stalled past server.read_timeout
// (408), a malformed request line or header (400).
ApiError TransportError(const httplib::Request& req, int status, const ServerOptions& o) {
  switch (status) {
    case 404:
      return {404, "no route for " + req.method + " " + req.path, "invalid_request_error", "",
              "not_found"};
    case 405:
      return {405, "method " + req.method + " is not allowed on " + req.path,
              "invalid_request_error", "", "method_not_allowed"};
    case 413:
      return {413,
              "request body is too large: the limit is " + std::to_string(o.max_body_bytes) +
                  " bytes (server.max_body)",
              "invalid_request_error", "", "request_too_large"};
    case 414:
      return {414, "request line (method, path and query) is longer than 8 KiB",
              "invalid_request_error", "", "uri_too_long"};
    default:
      break;
  }
  // A body that stopped arriving: httplib waited read_timeout for the next bytes.
  const double elapsed_ms = RequestElapsedMs();
  if (status == 400 && req.has_header("Content-Length") &&
      elapsed_ms >= 0.9 * static_cast<double>(o.read_timeout_ms)) {
    const std::string declared = req.get_header_value("Content-Length");
    if (declared.find_first_not_of("0123456789") == std::string::npos && !declared.empty() &&
        declared.size() < 19 && std::stoull(declared) > req.body.size()) {
      return {408,
              "request body incomplete: " + std::to_string(req.body.size()) + " of " + declared +
                  " bytes arrived, then nothing for " + std::to_string(o.read_timeout_ms) +
                  " ms (server.read_timeout)",
              "invalid_request_error", "", "request_timeout"};
    }
  }
  if (status == 400 && req.has_header("Content-Encoding")) {
    return BadRequest("request body could not be decoded as Content-Encoding: " +
                          req.get_header_value("Content-Encoding"),
                      "Content-Encoding", "bad_content_encoding");
  }
  if (status == 415) {
    return {415,
            "Content-Encoding " + req.get_header_value("Content-Encoding") +
                " is not supported; send the body uncompressed",
            "invalid_request_error", "Content-Encoding", "unsupported_content_encoding"};
  }
  if (status == 400) {
    return BadRequest(
        "malformed HTTP request: a bad request line, header or Content-Length, a "
        "header line over 8 KiB, or a POST without 'Content-Length' whose body "
        "did not end within server.read_timeout",
        "", "bad_http_request");
  }
  return {status, "request failed", status >= 500 ? "server_error" : "invalid_request_error", "",
          ""};
}
}  // namespace

void SendNoModel(const httplib::Request& req, httplib::Response& res) {
  const ApiError e{503,
                   "no model is loaded (offloaded, or a swap is loading one): load one with POST "
                   "/admin/models/swap, or retry shortly",
                   "server_error",
                   "model",
                   "model_not_loaded",
                   /*retry_after_s=*/5};
  SendRouteError(req, res, e);
}

void SendRouteError(const httplib::Request& req, httplib::Response& res, const ApiError& e) {
  SendError(req, res, e);
}

namespace {
// GET /v1/models with several models resident: each resident model's entries (the default's
// first; an id listed once), then the registry models a request may load, marked loaded: false.
json ResidentModelsList(const ModelRouter& router, bool anthropic_client) {
  json data = json::array();
  std::set<std::string> ids;
  auto add = [&](json entry) {
    if (ids.insert(entry["id"].get<std::string>()).second) data.push_back(std::move(entry));
  };
  for (const auto& mh : router.Resident()) {
    json one = anthropic_client ? anthropic::ModelsResponse(*mh) : openai::ModelsResponse(*mh);
    for (json& entry : one["data"]) {
      entry["loaded"] = true;
      add(std::move(entry));
    }
  }
  for (const std::string& id : router.Loadable()) {
    add(anthropic_client ? json{{"type", "model"},
                                {"id", id},
                                {"display_name", id + " (not loaded)"},
                                {"created_at", "1970-01-01T00:00:00Z"},
                                {"loaded", false}}
                         : json{{"id", id},
                                {"object", "model"},
                                {"created", 0},
                                {"owned_by", "semantic"},
                                {"loaded", false}});
  }
  if (!anthropic_client) return {{"object", "list"}, {"data", data}};
  return {{"data", data},
          {"has_more", false},
          {"first_id", data.empty() ? json() : data.front()["id"]},
          {"last_id", data.empty() ? json() : data.back()["id"]}};
}
}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  std::shared_ptr<ModelSlot> slot;
  LiveConfig own_live;
  ServerMetrics own_metrics;
  LiveConfig* live = nullptr;        // options.live_config, else own_live
  ServerMetrics* metrics = nullptr;  // options.metrics, else own_metrics
  httplib::Server http;
  coordination::Registry coordination;  // /v1/coordination sessions
};

HttpServer::HttpServer(const ServerOptions& options, ModelHandle model)
    : HttpServer(options, std::make_shared<ModelSlot>()) {
  if (model.live == nullptr) model.live = impl_->live;
  impl_->slot->Set(std::make_shared<const ModelHandle>(std::move(model)));
}

HttpServer::HttpServer(const ServerOptions& options, std::shared_ptr<ModelSlot> slot,
                       ModelManager* manager)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->slot = std::move(slot);
  if (options.live_config != nullptr) {
    impl_->live = options.live_config;
  } else {
    impl_->live = &impl_->own_live;
    impl_->live->Set(options.live);
  }
  impl_->metrics = options.metrics != nullptr ? options.metrics : &impl_->own_metrics;
  httplib::Server& s = impl_->http;
  const ModelSlot* m = impl_->slot.get();
  const LiveConfig* live = impl_->live;
  ServerMetrics* counters = impl_->metrics;
  s.new_task_queue = [keep = options.http_threads, max = options.max_http_threads] {
    return new ConnectionThreads(keep, max);
  };
  s.set_payload_max_length(options.max_body_bytes);
  SetMaxJsonDepth(options.max_json_depth);
  s.set_read_timeout(std::chrono::milliseconds(options.read_timeout_ms));
  s.set_write_timeout(std::chrono::milliseconds(options.write_timeout_ms));
  s.set_keep_alive_timeout(std::max<time_t>(1, (options.idle_timeout_ms + 999) / 1000));
  s.set_pre_routing_handler([opts = &impl_->options, live, this](const httplib::Request& req,
                                                                 httplib::Response& res) {
    RestoreRefusedPath(req, /*forget=*/true);  // nothing deferred from an earlier request
    const std::string id = BeginHttpRequest(req, res);
    const bool anthropic = anthropic::IsAnthropicPath(req.path);
    if (anthropic) res.set_header("request-id", id);
    // Refusals go through Refuse (refusal.h): a refused body must still be read.
    if (const size_t n = HeaderBytes(req); n > opts->max_header_bytes) {
      return Refuse(req, res,
                    {431,
                     "request headers are " + std::to_string(n) + " bytes; this server accepts " +
                         std::to_string(opts->max_header_bytes) + " (server.max_header_bytes)",
                     "invalid_request_error", "", "headers_too_large"},
                    anthropic);
    }
    const std::shared_ptr<const LiveSettings> o = live->Get();
    if (ApplyCors(o->cors_origins, req, res)) return httplib::Server::HandlerResponse::Handled;
    if (draining_ && req.method == "POST" && req.path.rfind("/v1/", 0) == 0) {
      return Refuse(req, res,
                    {503, "the server is shutting down; retry on another instance or later",
                     "server_error", "", "shutting_down", /*retry_after_s=*/5},
                    anthropic);
    }
    if (std::string key; Authorized(req, o->api_keys, &key)) {
      NoteRequestApiKey(key);
      return httplib::Server::HandlerResponse::Unhandled;
    }
    return Refuse(req, res,
                  {401,
                   "missing or invalid API key: send it as 'Authorization: Bearer KEY' or "
                   "'x-api-key: KEY'",
                   "invalid_request_error", "", "invalid_api_key"},
                  anthropic);
  });
  RegisterRefusalRoute(s);

  s.Get("/", [m, live](const httplib::Request&, httplib::Response& res) {
    json endpoints = json::array();
    const json spec = ServedSpec(live->Get()->metrics_enabled);
    for (const auto& [path, ops] : spec["paths"].items()) {
      if (path != "/") endpoints.push_back(path);
    }
    const auto model = m->Get();
    json info = {{"name", "semantic"},
                 {"version", "0.1.0"},
                 {"model", model ? json(model->id) : json()},
                 {"endpoints", endpoints}};
    res.set_content(JsonText(info), "application/json");
  });
  s.Get("/openapi.json", [live](const httplib::Request&, httplib::Response& res) {
    res.set_content(JsonText(ServedSpec(live->Get()->metrics_enabled)), "application/json");
  });
  s.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  s.Get("/health/live", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"alive"})", "application/json");
  });
  auto ready = [this](const httplib::Request&, httplib::Response& res) {
    if (!ready_) {
      res.status = 503;
      res.set_content(draining_ ? R"({"status":"draining"})" : R"({"status":"starting"})",
                      "application/json");
      return;
    }
    res.set_content(R"({"status":"ready"})", "application/json");
  };
  s.Get("/health/ready", ready);
  s.Get("/health/startup", ready);
  auto served_model =
      WithModel(m, [](const ModelHandle& mh, const httplib::Request& req, httplib::Response& res) {
        const bool anthropic_client = req.has_header("anthropic-version");
        res.set_content(
            JsonText(anthropic_client ? anthropic::ModelsResponse(mh) : openai::ModelsResponse(mh)),
            "application/json");
      });
  s.Get("/v1/models", [m, served_model](const httplib::Request& req, httplib::Response& res) {
    const ModelRouter* router = m->router();
    if (router == nullptr) return served_model(req, res);
    const bool anthropic_client = req.has_header("anthropic-version");
    res.set_content(JsonText(ResidentModelsList(*router, anthropic_client)), "application/json");
  });
  // These route by the body's `model` when several models are resident (with_model.h).
  s.Post("/v1/chat/completions", WithRequestedModel(m, openai::HandleChatCompletions));
  s.Post("/v1/completions", WithRequestedModel(m, openai::HandleCompletions));
  s.Post("/v1/messages", WithRequestedModel(m, anthropic::HandleMessages));
  s.Post("/v1/messages/count_tokens", WithRequestedModel(m, anthropic::HandleCountTokens));
  s.Post("/api/event_logging/batch", anthropic::HandleEventLogging);
  RegisterUi(s);

  agents::Register(s, m, live);
  if (manager) RegisterAdminModelRoutes(s, manager, live);
  coordination_api::Register(s, m, &impl_->coordination);
  // metrics.enabled may change on reload: the route is always there and answers 404 when off.
  s.Get("/metrics", [m, live, counters](const httplib::Request& req, httplib::Response& res) {
    const std::shared_ptr<const LiveSettings> l = live->Get();
    if (!l->metrics_enabled) {
      return SendOpenAiError(res, {404, "no route for " + req.method + " " + req.path,
                                   "invalid_request_error", "", "not_found"});
    }
    const auto mh = m->Get();
    if (!mh) return SendNoModel(req, res);
    res.set_content(PrometheusText(*mh, *counters, l->metrics_agent_label),
                    "text/plain; version=0.0.4; charset=utf-8");
  });

  s.set_error_handler([o = &impl_->options](const httplib::Request& req, httplib::Response& res) {
    RestoreRefusedPath(req, /*forget=*/false);  // a deferred refusal whose body failed to arrive
    if (!res.body.empty()) return;  // a handler already produced an error body
    if (res.status >= 400) SendError(req, res, TransportError(req, res.status, *o));
  });
  s.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        LOG_ERROR("handler threw: %s", what.c_str());
        const ApiError e{500, "internal error: " + what, "server_error", "", "internal_error"};
        if (anthropic::IsAnthropicPath(req.path)) return SendAnthropicError(res, e);
        SendOpenAiError(res, e);
      });
  s.set_logger([live, counters](const httplib::Request& req, const httplib::Response& res) {
    RestoreRefusedPath(req, /*forget=*/true);
    counters->CountRequest(RouteLabel(req), res.status);
    EndHttpRequest(req, res, live->Get()->log_requests);
  });
}

void HttpServer::Reload(LiveSettings live) { impl_->live->Set(std::move(live)); }

ServerMetrics& HttpServer::metrics() { return *impl_->metrics; }

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Run() {
  if (!impl_->http.bind_to_port(impl_->options.host, impl_->options.port)) {
    return IoError("cannot listen on " + impl_->options.host + ":" +
                   std::to_string(impl_->options.port) + " (address in use or not permitted)");
  }
  LOG_INFO("listening on http://%s:%d", impl_->options.host.c_str(), impl_->options.port);
  impl_->http.listen_after_bind();
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!impl_ || !impl_->http.is_running()) return;
  impl_->http.stop();  // closes the listener; Run() returns once every connection has ended
  // Running requests have finished or been cancelled by now (serve's drain); what is left are
  // keep-alive connections waiting for a next request, or a stream's last bytes.
  if (const int n = ShutdownConnections(impl_->options.port); n > 0)
    LOG_INFO("closed %d open client connection(s)", n);
}

}  // namespace semantic::server
