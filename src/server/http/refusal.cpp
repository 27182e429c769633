// Refuse, RegisterRefusalRoute, RestoreRefusedPath.
#include "server/http/refusal.h"

#include <string>

#include "server/http/error_response.h"

namespace semantic::server {

namespace {

// The refusal waiting for its request's body, on the HTTP thread serving that request.
struct Deferred {
  bool active = false;
  ApiError error;
  bool anthropic = false;
  std::string path;
};
thread_local Deferred t_deferred;

bool HasBody(const httplib::Request& req) {
  if (req.has_header("Transfer-Encoding")) return true;
  const std::string n = req.get_header_value("Content-Length");
  return !n.empty() && n.find_first_not_of('0') != std::string::npos;
}

void Send(httplib::Response& res, const ApiError& e, bool anthropic) {
  if (anthropic) return SendAnthropicError(res, e);
  SendOpenAiError(res, e);
}

}  // namespace

httplib::Server::HandlerResponse Refuse(const httplib::Request& req, httplib::Response& res,
                                        const ApiError& e, bool anthropic) {
  if (!HasBody(req)) {
    Send(res, e, anthropic);
    return httplib::Server::HandlerResponse::Handled;
  }
  t_deferred = {true, e, anthropic, req.path};
  // httplib hands the handler a const view of its own (mutable) request object; the path is
  // what it routes on next.
  const_cast<httplib::Request&>(req).path = kRefusedPath;
  return httplib::Server::HandlerResponse::Unhandled;
}

void RestoreRefusedPath(const httplib::Request& req, bool forget) {
  if (t_deferred.active && req.path == kRefusedPath) {
    const_cast<httplib::Request&>(req).path = t_deferred.path;
  }
  if (forget) t_deferred = {};
}

void RegisterRefusalRoute(httplib::Server& s) {
  auto send = [](const httplib::Request& req, httplib::Response& res) {
    if (!t_deferred.active) {  // asked for by name, not deferred
      return SendOpenAiError(res, {404, "no route for " + req.method + " " + req.path,
                                   "invalid_request_error", "", "not_found"});
    }
    const Deferred d = t_deferred;
    RestoreRefusedPath(req, /*forget=*/true);
    Send(res, d.error, d.anthropic);
  };
  s.Get(kRefusedPath, send);
  s.Post(kRefusedPath, send);
  s.Put(kRefusedPath, send);
  s.Patch(kRefusedPath, send);
  s.Delete(kRefusedPath, send);
  s.Options(kRefusedPath, send);
}

}  // namespace semantic::server
