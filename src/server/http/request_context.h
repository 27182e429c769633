// Per-request context on the HTTP thread serving it: the request id (the client's X-Request-ID
// when it is sane, else a generated "req_…"), the start time and the agent id, for the response
// headers, error bodies, log lines and the one access-log line per request (logging.log_requests).
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>

namespace semantic::server {

inline constexpr const char* kRequestIdHeader = "X-Request-ID";
inline constexpr size_t kMaxRequestIdLength = 128;

// True for 1..kMaxRequestIdLength characters of [A-Za-z0-9._:-]: safe in headers, logs and JSON.
bool IsSaneRequestId(std::string_view id);

// Starts the context of `req` on this thread: picks its id, sets X-Request-ID on `res` and makes
// the id part of this thread's log lines. Returns the id.
std::string BeginHttpRequest(const httplib::Request& req, httplib::Response& res);

// The id of the request `res` answers ("" before BeginHttpRequest).
std::string RequestIdOf(const httplib::Response& res);

// Milliseconds since BeginHttpRequest of the request this thread serves; -1 before it.
double RequestElapsedMs();

// Records the agent the current request belongs to (for the access-log line).
void NoteRequestAgent(const std::string& agent_id);

// The API key that authenticated the current request ("" when none was needed): the per-key
// rate limit's bucket (rate_limit.h).
void NoteRequestApiKey(const std::string& key);
const std::string& RequestApiKey();

// Ends the context: one line "METHOD path -> status (N ms) agent=… id=…", at info level when
// `log_requests`, else debug.
void EndHttpRequest(const httplib::Request& req, const httplib::Response& res, bool log_requests);

}  // namespace semantic::server
