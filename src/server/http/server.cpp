// HTTP routes (cpp-httplib): service endpoints, OpenAI and Anthropic endpoints, error shapes,
// body limits.
#include "server/http/server.h"

#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>

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
#include "server/http/metrics.h"
#include "server/http/openapi.h"
#include "server/http/request_context.h"
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
}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  ModelHandle model;
  httplib::Server http;
  coordination::Registry coordination;  // /v1/coordination sessions
};

HttpServer::HttpServer(const ServerOptions& options, ModelHandle model)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->model = std::move(model);
  httplib::Server& s = impl_->http;
  const ModelHandle* m = &impl_->model;
  s.new_task_queue = [keep = options.http_threads, max = options.max_http_threads] {
    return new ConnectionThreads(keep, max);
  };
  s.set_payload_max_length(options.max_body_bytes);
  s.set_pre_routing_handler([o = &impl_->options, this](const httplib::Request& req,
                                                        httplib::Response& res) {
    const std::string id = BeginHttpRequest(req, res);
    if (anthropic::IsAnthropicPath(req.path)) res.set_header("request-id", id);
    if (ApplyCors(o->cors_origins, req, res)) return httplib::Server::HandlerResponse::Handled;
    if (draining_ && req.method == "POST" && req.path.rfind("/v1/", 0) == 0) {
      const ApiError e{503,
                       "the server is shutting down; retry on another instance or later",
                       "server_error",
                       "",
                       "shutting_down",
                       /*retry_after_s=*/5};
      if (anthropic::IsAnthropicPath(req.path)) {
        SendAnthropicError(res, e);
      } else {
        SendOpenAiError(res, e);
      }
      return httplib::Server::HandlerResponse::Handled;
    }
    if (Authorized(req, o->api_keys)) return httplib::Server::HandlerResponse::Unhandled;
    const std::string why =
        "missing or invalid API key: send it as 'Authorization: Bearer KEY' or 'x-api-key: KEY'";
    if (anthropic::IsAnthropicPath(req.path)) {
      SendAnthropicError(res, {401, why, "authentication_error", "", ""});
    } else {
      SendOpenAiError(res, {401, why, "invalid_request_error", "", "invalid_api_key"});
    }
    return httplib::Server::HandlerResponse::Handled;
  });

  const bool metrics = options.metrics_enabled;
  s.Get("/", [m, metrics](const httplib::Request&, httplib::Response& res) {
    json endpoints = json::array();
    const json spec = ServedSpec(metrics);
    for (const auto& [path, ops] : spec["paths"].items()) {
      if (path != "/") endpoints.push_back(path);
    }
    json info = {
        {"name", "semantic"}, {"version", "0.1.0"}, {"model", m->id}, {"endpoints", endpoints}};
    res.set_content(JsonText(info), "application/json");
  });
  s.Get("/openapi.json", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(JsonText(ServedSpec(metrics)), "application/json");
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
  s.Get("/v1/models", [m](const httplib::Request& req, httplib::Response& res) {
    const bool anthropic_client = req.has_header("anthropic-version");
    res.set_content(
        JsonText(anthropic_client ? anthropic::ModelsResponse(*m) : openai::ModelsResponse(*m)),
        "application/json");
  });
  s.Post("/v1/chat/completions", [m](const httplib::Request& req, httplib::Response& res) {
    openai::HandleChatCompletions(*m, req, res);
  });
  s.Post("/v1/completions", [m](const httplib::Request& req, httplib::Response& res) {
    openai::HandleCompletions(*m, req, res);
  });
  s.Post("/v1/messages", [m](const httplib::Request& req, httplib::Response& res) {
    anthropic::HandleMessages(*m, req, res);
  });
  s.Post("/v1/messages/count_tokens", [m](const httplib::Request& req, httplib::Response& res) {
    anthropic::HandleCountTokens(*m, req, res);
  });
  s.Post("/api/event_logging/batch", anthropic::HandleEventLogging);
  RegisterUi(s);

  if (m->cache) agents::Register(s, m, &impl_->options.admin_key);
  coordination_api::Register(s, m, &impl_->coordination);
  if (metrics) {
    s.Get("/metrics", [m](const httplib::Request&, httplib::Response& res) {
      res.set_content(PrometheusText(*m), "text/plain; version=0.0.4; charset=utf-8");
    });
  }

  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler already produced an error body
    if (anthropic::IsAnthropicPath(req.path) && res.status >= 400) {
      std::string what = res.status == 413 ? "request body is too large" : "request failed";
      if (res.status == 404) what = "no route for " + req.method + " " + req.path;
      SendAnthropicError(res, {res.status, what, "invalid_request_error", "", ""});
      return;
    }
    if (res.status == 404) {
      SendOpenAiError(res, {404, "no route for " + req.method + " " + req.path,
                            "invalid_request_error", "", "not_found"});
    } else if (res.status == 413) {
      SendOpenAiError(res, {413, "request body is too large", "invalid_request_error", "",
                            "request_too_large"});
    } else if (res.status == 405) {
      SendOpenAiError(res, {405, "method " + req.method + " is not allowed on " + req.path,
                            "invalid_request_error", "", "method_not_allowed"});
    } else if (res.status == 400) {
      SendOpenAiError(res, BadRequest("malformed HTTP request (a POST without a body needs "
                                      "'Content-Length: 0')",
                                      "", "bad_http_request"));
    } else if (res.status >= 400) {
      SendOpenAiError(res, {res.status, "request failed",
                            res.status >= 500 ? "server_error" : "invalid_request_error", "", ""});
    }
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
  s.set_logger([log_requests = options.log_requests](const httplib::Request& req,
                                                     const httplib::Response& res) {
    EndHttpRequest(req, res, log_requests);
  });
}

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
  if (impl_ && impl_->http.is_running()) impl_->http.stop();
}

}  // namespace semantic::server
