// Metric building blocks: the Prometheus-style Histogram, route labels from cpp-httplib's match,
// and the server's counters.
#include "server/http/server_metrics.h"

#include <gtest/gtest.h>

#include <regex>

#include "base/histogram.h"

namespace semantic::server {
namespace {

TEST(Histogram, BucketsAreUpperBoundsInclusive) {
  Histogram h({0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 1.0, 7.0, 11.0, 1e9}) h.Observe(v);
  EXPECT_EQ(h.bucket_counts(), (std::vector<uint64_t>{2, 2, 1, 2}));  // le 0.1, 1, 10, +Inf
  EXPECT_EQ(h.count(), 7u);
  EXPECT_DOUBLE_EQ(h.sum(), 0.05 + 0.1 + 0.5 + 1.0 + 7.0 + 11.0 + 1e9);
  Histogram empty;
  empty.Observe(3);
  EXPECT_EQ(empty.bucket_counts(), (std::vector<uint64_t>{1}));  // only +Inf
}

httplib::Request Routed(const std::string& path, const char* pattern) {
  httplib::Request req;
  req.path = path;
  std::regex_match(req.path, req.matches, std::regex(pattern));
  return req;
}

TEST(RouteLabel, PatternWithParametersReplaced) {
  EXPECT_EQ(RouteLabel(Routed("/v1/chat/completions", "/v1/chat/completions")),
            "/v1/chat/completions");
  EXPECT_EQ(RouteLabel(Routed("/v1/agents/coder-1/pin", R"(/v1/agents/([^/]+)/pin)")),
            "/v1/agents/{id}/pin");
  EXPECT_EQ(RouteLabel(Routed("/v1/agents/abc", R"(/v1/agents/([^/]+))")), "/v1/agents/{id}");
  EXPECT_EQ(RouteLabel(Routed("/a/x/b/yy", R"(/a/([^/]+)/b/([^/]+))")), "/a/{id}/b/{id2}");
  // No route matched (404, or answered before routing): one label, not the client's path.
  EXPECT_EQ(RouteLabel(Routed("/v1/agents/x/nope", R"(/v1/agents/([^/]+))")), "unmatched");
  httplib::Request unrouted;
  unrouted.path = "/anything";
  EXPECT_EQ(RouteLabel(unrouted), "unmatched");
}

TEST(ServerMetrics, CountsByRouteAndStatus) {
  ServerMetrics m;
  m.CountRequest("/v1/messages", 200);
  m.CountRequest("/v1/messages", 200);
  m.CountRequest("/v1/messages", 429);
  m.CountReload(true);
  m.CountReload(false);
  m.CountReload(false);
  m.CountModelLoad(1.5);
  const auto r = m.Requests();
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(r.at({"/v1/messages", 200}), 2u);
  EXPECT_EQ(r.at({"/v1/messages", 429}), 1u);
  EXPECT_EQ(m.reloads_ok(), 1u);
  EXPECT_EQ(m.reloads_failed(), 2u);
  EXPECT_EQ(m.model_loads(), 1u);
  EXPECT_DOUBLE_EQ(m.last_model_load_seconds(), 1.5);
  EXPECT_EQ(m.model_swaps(), 0u);
}

}  // namespace
}  // namespace semantic::server
