// Server-generated response ids ("chatcmpl-…", "msg_…", "req_…"): unique per process and run.
#pragma once

#include <string>

namespace semantic::server {

// prefix + 16 hex digits (a per-process random salt, then a counter).
std::string NewId(const char* prefix);

}  // namespace semantic::server
