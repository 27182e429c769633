// Refusing a request from the pre-routing handler (headers too large, bad API key, draining)
// without leaving its body in the connection. httplib calls that handler before it reads the
// body, and a request it handles there keeps its unread body in the socket: the next keep-alive
// request would be parsed from the middle of it (a 400, or a request smuggled inside the body).
// A refused request that has a body is therefore routed to kRefusedPath instead, so httplib reads
// the body (within server.max_body and server.read_timeout) and then the refusal is sent.
#pragma once

#include <httplib.h>

#include "server/api/common/api_error.h"

namespace semantic::server {

inline constexpr const char* kRefusedPath = "/.semantic-refused";

// Sends `e` in the dialect's shape now when `req` has no body; else defers it as above.
httplib::Server::HandlerResponse Refuse(const httplib::Request& req, httplib::Response& res,
                                        const ApiError& e, bool anthropic);

// The route that sends deferred refusals (every method).
void RegisterRefusalRoute(httplib::Server& s);

// A deferred request gets its own path back (for error bodies and the access log); call before
// using req.path in the error handler and the logger. Forgets the deferred refusal when
// `forget`.
void RestoreRefusedPath(const httplib::Request& req, bool forget);

}  // namespace semantic::server
