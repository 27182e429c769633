// GET /metrics: Prometheus text exposition format 0.0.4 — engine and KV cache counters/gauges.
#pragma once

#include <string>

#include "server/http/server.h"

namespace semantic::server {

std::string PrometheusText(const ModelHandle& m);

}  // namespace semantic::server
