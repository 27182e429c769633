// Request limits checked by the HTTP layer before a handler reads the body: total header size
// (431) and JSON nesting depth (400, checked on the raw text before it is parsed).
#pragma once

#include <httplib.h>

#include <cstddef>
#include <string_view>

namespace semantic::server {

// Bytes of all header names and values of `req`, counting ": " and CRLF per header.
size_t HeaderBytes(const httplib::Request& req);

// True when arrays/objects in `text` nest deeper than `max_depth` (brackets inside strings do not
// count). Linear, no allocation; stops at the first level past the limit.
bool JsonNestsDeeperThan(std::string_view text, int max_depth);

// server.max_json_depth for every ParseJsonBody of this process (set once by HttpServer).
void SetMaxJsonDepth(int depth);
int MaxJsonDepth();

}  // namespace semantic::server
