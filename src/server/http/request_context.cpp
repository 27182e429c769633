// Request ids, the thread's request context and the access-log line.
#include "server/http/request_context.h"

#include <chrono>

#include "base/log.h"
#include "server/api/common/ids.h"

namespace semantic::server {

namespace {

struct Context {
  std::string id;
  std::string agent;
  std::string api_key;
  std::chrono::steady_clock::time_point start;
};
thread_local Context t_context;

}  // namespace

bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string BeginHttpRequest(const httplib::Request& req, httplib::Response& res) {
  std::string id = req.get_header_value(kRequestIdHeader);
  if (!IsSaneRequestId(id)) id = NewId("req_");
  t_context = {id, "", "", std::chrono::steady_clock::now()};
  res.set_header(kRequestIdHeader, id);
  log::SetRequestId(id);
  return id;
}

std::string RequestIdOf(const httplib::Response& res) {
  return res.get_header_value(kRequestIdHeader);
}

void NoteRequestAgent(const std::string& agent_id) { t_context.agent = agent_id; }

double RequestElapsedMs() {
  if (t_context.id.empty()) return -1;
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                   t_context.start)
      .count();
}

void NoteRequestApiKey(const std::string& key) { t_context.api_key = key; }

const std::string& RequestApiKey() { return t_context.api_key; }

void EndHttpRequest(const httplib::Request& req, const httplib::Response& res, bool log_requests) {
  // A request refused before routing (bad request line) has no context of its own.
  const std::string id = RequestIdOf(res);
  const bool ours = !id.empty() && id == t_context.id;
  const double ms = ours ? std::chrono::duration<double, std::milli>(
                               std::chrono::steady_clock::now() - t_context.start)
                               .count()
                         : 0.0;
  const std::string agent = ours && !t_context.agent.empty() ? " agent=" + t_context.agent : "";
  log::Write(log_requests ? log::Level::kInfo : log::Level::kDebug, "%s %s -> %d (%.1f ms)%s",
             req.method.c_str(), req.path.c_str(), res.status, ms, agent.c_str());
  t_context = {};
  log::SetRequestId("");
}

}  // namespace semantic::server
