// GET /metrics: Prometheus text exposition format 0.0.4 — HTTP requests, engine latencies and
// batch sizes, KV cache tiers, model loads and reloads. docs/metrics.md lists every family.
#pragma once

#include <string>

#include "server/http/server.h"

namespace semantic::server {

// Per-agent series (metrics.include_agent_id_label) cover at most this many agents: the most
// recently used, bounding the series count however many sessions exist.
inline constexpr size_t kMaxAgentSeries = 100;

// `agent_label`: metrics.include_agent_id_label (per-agent series).
std::string PrometheusText(const ModelHandle& m, const ServerMetrics& server, bool agent_label);

}  // namespace semantic::server
