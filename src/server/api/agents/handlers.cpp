// Agent API handlers over kv::PrefixCache.
#include "server/api/agents/handlers.h"

#include <nlohmann/json.hpp>
#include <random>

#include "kv/agent_sessions.h"
#include "server/api/common/fields.h"
#include "server/http/auth.h"
#include "server/http/error_response.h"
#include "server/http/json_body.h"
#include "server/http/with_model.h"

namespace semantic::server::agents {

using nlohmann::json;

namespace {

json AgentJson(const kv::AgentInfo& a, int block_tokens) {
  const kv::AgentSession& s = a.session;
  const char* tier = a.blocks_in_ram > 0 ? "hot" : a.blocks_on_disk > 0 ? "warm" : "cold";
  return {{"agent_id", s.id},
          {"cache_size_tokens", s.n_tokens},
          {"cached_blocks", static_cast<int>(s.keys.size())},
          {"block_tokens", block_tokens},
          {"blocks_in_ram", a.blocks_in_ram},
          {"ram_bytes", a.ram_bytes},
          {"blocks_on_disk", a.blocks_on_disk},
          {"tier", tier},
          {"active", a.active},
          {"pinned", s.pinned},
          {"held_until", s.hold_until_ms > kv::UnixMs() ? json(s.hold_until_ms / 1000.0) : json()},
          {"ttl_seconds", s.ttl_ms / 1000.0},
          {"created_at", s.created_ms / 1000.0},
          {"last_used_at", s.last_use_ms / 1000.0},
          {"requests", s.requests},
          {"prompt_tokens", s.prompt_tokens},
          {"cached_tokens", s.cached_tokens}};
}

json StatsJson(const kv::PrefixCacheStats& st) {
  const double mib = 1048576.0;
  const uint64_t ram_bytes = st.ram_bytes_in_use + st.ram_bytes_cached;
  return {{"hot", st.sessions_hot},
          {"warm", st.sessions - st.sessions_hot},
          {"total", st.sessions},
          {"pinned", st.sessions_pinned},
          {"dirty", st.disk.pending_writes},
          {"pool_utilization_pct",
           st.pool_blocks ? 100.0 * (st.pool_in_use + st.pool_cached) / st.pool_blocks : 0.0},
          {"total_cache_size_mb", (ram_bytes + st.disk.bytes) / mib},
          {"ram",
           {{"blocks", st.pool_blocks},
            {"blocks_in_use", st.pool_in_use},
            {"blocks_cached", st.pool_cached},
            {"block_bytes", st.block_bytes},
            {"bytes_in_use", st.ram_bytes_in_use},
            {"bytes_cached", st.ram_bytes_cached},
            {"evictions", st.ram_evictions},
            {"bytes_total", st.ram_bytes_total},
            {"sliding",
             {{"slots", st.sliding_slots},
              {"slots_in_use", st.sliding_in_use},
              {"slots_cached", st.sliding_cached},
              {"evictions", st.sliding_evictions}}}}},
          {"disk",
           {{"enabled", st.disk.enabled},
            {"files", st.disk.files},
            {"bytes", st.disk.bytes},
            {"budget_bytes", st.disk.budget},
            {"writes", st.disk.writes},
            {"write_errors", st.disk.write_errors},
            {"loads", st.disk.loads},
            {"evictions", st.disk.evictions},
            {"quarantined", st.disk.quarantined},
            {"pending_writes", st.disk.pending_writes},
            {"writes_skipped", st.disk.writes_skipped}}},
          {"hits", {{"ram_blocks", st.ram_hits}, {"disk_blocks", st.disk_hits}}},
          {"misses_blocks", st.misses},
          {"prompt_tokens", st.prompt_tokens},
          {"cached_prompt_tokens", st.cached_tokens}};
}

void NotFound(httplib::Response& res, const std::string& id) {
  SendOpenAiError(res, {404, "no agent '" + id + "' (see GET /v1/agents/list)",
                        "invalid_request_error", "agent_id", "agent_not_found"});
}

bool ValidId(httplib::Response& res, const std::string& id, const std::string& field) {
  if (Status st = kv::ValidateAgentId(id); !st.ok()) {
    SendOpenAiError(res, BadRequest(st.message(), field, "invalid_agent_id"));
    return false;
  }
  return true;
}

bool TtlField(httplib::Response& res, Fields& f, std::optional<int64_t>* ttl_ms) {
  std::optional<double> ttl;
  if (!f.Number("ttl_seconds", 0, 1e9, &ttl)) {
    SendOpenAiError(res, f.error());
    return false;
  }
  if (ttl) *ttl_ms = static_cast<int64_t>(*ttl * 1000.0);
  return true;
}

std::string NewAgentId() {
  static std::mt19937_64 rng{std::random_device{}()};
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "agent_%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

// fn(kv::PrefixCache* cache, int block_tokens, req, res) over the current model's cache.
template <class Fn>
httplib::Server::Handler WithCache(const ModelSlot* slot, Fn fn) {
  return WithModel(slot, [fn = std::move(fn)](const ModelHandle& m, const httplib::Request& req,
                                              httplib::Response& res) {
    if (m.cache == nullptr) {
      return SendOpenAiError(res, {404, "this server keeps no agent sessions",
                                   "invalid_request_error", "", "not_found"});
    }
    fn(m.cache, m.block_tokens, req, res);
  });
}

}  // namespace

void Register(httplib::Server& s, const ModelSlot* slot, const LiveConfig* live) {
  s.Post("/v1/agents", WithCache(slot, [=](kv::PrefixCache* cache, int bt,
                                           const httplib::Request& req, httplib::Response& res) {
           json body;
           if (!ParseJsonBody(req, res, &body, /*allow_empty=*/true)) return;
           Fields f(body);
           std::optional<std::string> id;
           std::optional<bool> pinned;
           std::optional<int64_t> ttl_ms;
           if (!f.String("agent_id", &id) || !f.Bool("pinned", &pinned))
             return SendOpenAiError(res, f.error());
           if (!TtlField(res, f, &ttl_ms)) return;
           const std::string agent = id ? *id : NewAgentId();
           if (!ValidId(res, agent, "agent_id")) return;
           if (cache->GetAgent(agent)) {
             return SendOpenAiError(res, {409, "agent '" + agent + "' already exists",
                                          "invalid_request_error", "agent_id", "agent_exists"});
           }
           res.status = 201;
           res.set_content(JsonText(AgentJson(cache->PutAgent(agent, pinned, ttl_ms), bt)),
                           "application/json");
         }));
  s.Get("/v1/agents/list", WithCache(slot, [=](kv::PrefixCache* cache, int bt,
                                               const httplib::Request&, httplib::Response& res) {
          json list = json::array();
          for (const auto& a : cache->ListAgents()) list.push_back(AgentJson(a, bt));
          res.set_content(JsonText({{"agents", list}, {"total", list.size()}}), "application/json");
        }));
  s.Get("/v1/agents/stats", WithCache(slot, [=](kv::PrefixCache* cache, int bt,
                                                const httplib::Request&, httplib::Response& res) {
          res.set_content(JsonText(StatsJson(cache->Stats())), "application/json");
        }));
  s.Get(R"(/v1/agents/([^/]+))",
        WithCache(slot, [=](kv::PrefixCache* cache, int bt, const httplib::Request& req,
                            httplib::Response& res) {
          const std::string id = req.matches[1];
          if (!ValidId(res, id, "agent_id")) return;
          auto a = cache->GetAgent(id);
          if (!a) return NotFound(res, id);
          res.set_content(JsonText(AgentJson(*a, bt)), "application/json");
        }));
  s.Delete(R"(/v1/agents/([^/]+))",
           WithCache(slot, [=](kv::PrefixCache* cache, int bt, const httplib::Request& req,
                               httplib::Response& res) {
             const std::string id = req.matches[1];
             if (!ValidId(res, id, "agent_id")) return;
             bool evict_only = false;
             if (req.has_param("evict_only")) {
               const std::string v = req.get_param_value("evict_only");
               if (v != "true" && v != "false" && v != "1" && v != "0") {
                 return SendOpenAiError(
                     res, BadRequest("'evict_only' must be true or false, got '" + v + "'",
                                     "evict_only"));
               }
               evict_only = v == "true" || v == "1";
             }
             if (!cache->DeleteAgent(id, evict_only)) return NotFound(res, id);
             res.status = 204;
           }));
  auto pin = [=](bool on) {
    return WithCache(slot, [=](kv::PrefixCache* cache, int bt, const httplib::Request& req,
                               httplib::Response& res) {
      const std::string id = req.matches[1];
      if (!ValidId(res, id, "agent_id")) return;
      if (!cache->GetAgent(id)) return NotFound(res, id);
      res.set_content(JsonText(AgentJson(cache->PutAgent(id, on, std::nullopt), bt)),
                      "application/json");
    });
  };
  s.Post(R"(/v1/agents/([^/]+)/pin)", pin(true));
  s.Post(R"(/v1/agents/([^/]+)/unpin)", pin(false));
  s.Post(R"(/v1/agents/([^/]+)/ttl)",
         WithCache(slot, [=](kv::PrefixCache* cache, int bt, const httplib::Request& req,
                             httplib::Response& res) {
           const std::string id = req.matches[1];
           if (!ValidId(res, id, "agent_id")) return;
           json body;
           if (!ParseJsonBody(req, res, &body)) return;
           Fields f(body);
           std::optional<int64_t> ttl_ms;
           if (!TtlField(res, f, &ttl_ms)) return;
           if (!ttl_ms)
             return SendOpenAiError(res, BadRequest("'ttl_seconds' is required", "ttl_seconds"));
           if (!cache->GetAgent(id)) return NotFound(res, id);
           res.set_content(JsonText(AgentJson(cache->PutAgent(id, std::nullopt, ttl_ms), bt)),
                           "application/json");
         }));
  s.Post(R"(/v1/agents/([^/]+)/fork)",
         WithCache(slot, [=](kv::PrefixCache* cache, int bt, const httplib::Request& req,
                             httplib::Response& res) {
           const std::string from = req.matches[1];
           if (!ValidId(res, from, "agent_id")) return;
           json body;
           if (!ParseJsonBody(req, res, &body, /*allow_empty=*/true)) return;
           Fields f(body);
           std::optional<std::string> to;
           if (!f.String("agent_id", &to)) return SendOpenAiError(res, f.error());
           const std::string target = to ? *to : NewAgentId();
           if (!ValidId(res, target, "agent_id")) return;
           if (!cache->GetAgent(from)) return NotFound(res, from);
           if (Status st = cache->ForkAgent(from, target); !st.ok()) {
             return SendOpenAiError(
                 res, {409, st.message(), "invalid_request_error", "agent_id", "agent_exists"});
           }
           res.status = 201;
           res.set_content(JsonText(AgentJson(*cache->GetAgent(target), bt)), "application/json");
         }));
  s.Post(R"(/v1/agents/([^/]+)/flush)",
         WithCache(slot, [=](kv::PrefixCache* cache, int bt, const httplib::Request& req,
                             httplib::Response& res) {
           const std::string id = req.matches[1];
           if (!ValidId(res, id, "agent_id")) return;
           if (!cache->GetAgent(id)) return NotFound(res, id);
           cache->Flush();
           res.set_content(JsonText(AgentJson(*cache->GetAgent(id), bt)), "application/json");
         }));
  s.Delete("/admin/caches",
           WithCache(slot, [=](kv::PrefixCache* cache, int bt, const httplib::Request& req,
                               httplib::Response& res) {
             if (!AdminAuthorized(req, res, live->Get()->admin_key)) return;
    const auto before = cache->Stats();
             cache->Clear();
             res.set_content(JsonText({{"status", "cleared"},
                                       {"sessions_removed", before.sessions},
                                       {"disk_files_removed", before.disk.files}}),
                             "application/json");
           }));
}

}  // namespace semantic::server::agents
