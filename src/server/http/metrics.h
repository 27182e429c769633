// GET /metrics: Prometheus text exposition format 0.0.4 — engine and KV cache counters/gauges.
#pragma once

#include <string>

#include "server/http/server.h"

namespace semantic::server {

// Per-agent series (ModelHandle::metrics_agent_label) cover at most this many agents: the most
// recently used, bounding the series count however many sessions exist.
inline constexpr size_t kMaxAgentSeries = 100;

std::string PrometheusText(const ModelHandle& m);

}  // namespace semantic::server
