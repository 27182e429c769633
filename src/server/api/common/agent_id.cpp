// ResolveAgentId: headers, explicit field, user field.
#include "server/api/common/agent_id.h"

#include <xxhash.h>

#include "kv/agent_sessions.h"
#include "kv/block_key.h"
#include "server/http/request_context.h"

namespace semantic::server {

namespace {

std::variant<std::string, ApiError> Resolve(const httplib::Request& req,
                                            const std::optional<std::string>& explicit_id,
                                            const std::string& explicit_field,
                                            const std::optional<std::string>& user) {
  for (const char* header : {"X-Agent-ID", "X-Session-ID", "X-Claude-Code-Session-Id"}) {
    if (!req.has_header(header)) continue;
    const std::string id = req.get_header_value(header);
    if (Status st = kv::ValidateAgentId(id); !st.ok()) {
      return BadRequest(std::string("header ") + header + ": " + st.message(), header,
                        "invalid_agent_id");
    }
    return id;
  }
  if (explicit_id) {
    if (Status st = kv::ValidateAgentId(*explicit_id); !st.ok()) {
      return BadRequest("'" + explicit_field + "': " + st.message(), explicit_field,
                        "invalid_agent_id");
    }
    return *explicit_id;
  }
  if (user && !user->empty()) {
    if (kv::ValidateAgentId(*user).ok()) return *user;
    return "user-" + kv::KeyHex(XXH3_64bits(user->data(), user->size()));
  }
  return std::string();
}

}  // namespace

std::variant<std::string, ApiError> ResolveAgentId(const httplib::Request& req,
                                                   const std::optional<std::string>& explicit_id,
                                                   const std::string& explicit_field,
                                                   const std::optional<std::string>& user,
                                                   const std::string& user_field) {
  auto id = Resolve(req, explicit_id, explicit_field, user);
  if (const auto* s = std::get_if<std::string>(&id)) NoteRequestAgent(*s);  // access log line
  return id;
}

}  // namespace semantic::server
