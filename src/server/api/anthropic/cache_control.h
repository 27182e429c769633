// Anthropic `cache_control` breakpoints ({type: "ephemeral", ttl?: "5m" | "1h"}) on system blocks,
// message content blocks and tools. semantic caches every prefix anyway; a breakpoint also holds
// the agent session's blocks in RAM (and protects them on disk) for the breakpoint's TTL, as a
// pin would, so the next turn of that agent never waits for a restore (docs/claude-code.md).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

namespace semantic::server::anthropic {

// The longest TTL of the request's breakpoints in milliseconds (5 min, or 1 h for ttl "1h"),
// 0 when it has none. Malformed values are ignored (cache_control is advisory).
int64_t CacheHoldMs(const nlohmann::json& body);

}  // namespace semantic::server::anthropic
