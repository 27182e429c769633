// Prometheus text for the HTTP layer, the executor and the KV cache tiers.
#include "server/http/metrics.h"

#include <cstdio>

#include "base/histogram.h"
#include "models/layers.h"

namespace semantic::server {

namespace {

class Writer {
 public:
  void Metric(const char* name, const char* type, const char* help, double value,
              const char* labels = "") {
    Header(name, type, help);
    out_ += std::string(name) + labels + " " + Number(value) + "\n";
  }
  // A family without series yet (HELP and TYPE only), so that it is always listed.
  void Header(const char* name, const char* type, const char* help) {
    if (last_ != name) {
      out_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
      last_ = name;
    }
  }
  // name_bucket{le="…"} (cumulative), name_sum, name_count.
  void Histogram(const char* name, const char* help, const semantic::Histogram& h) {
    Header(name, "histogram", help);
    const std::string n = name;
    uint64_t cumulative = 0;
    const auto& bounds = h.upper_bounds();
    for (size_t i = 0; i <= bounds.size(); ++i) {
      cumulative += h.bucket_counts()[i];
      const std::string le = i < bounds.size() ? Number(bounds[i]) : "+Inf";
      out_ += n + "_bucket{le=\"" + le + "\"} " + Number(static_cast<double>(cumulative)) + "\n";
    }
    out_ += n + "_sum " + Number(h.sum()) + "\n";
    out_ += n + "_count " + Number(static_cast<double>(h.count())) + "\n";
  }
  std::string Take() { return std::move(out_); }

 private:
  static std::string Number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.17g", v);
    return buf;
  }
  std::string out_;
  std::string last_;
};

// metrics.include_agent_id_label: per-agent counters of the kMaxAgentSeries most recently used
// sessions (agent ids are [A-Za-z0-9_.-], safe as label values without escaping). The counters
// are the session's own, so they persist across restarts and restart from 0 after a delete.
void AgentSeries(kv::PrefixCache& cache, Writer& w) {
  const std::vector<kv::AgentUsage> agents = cache.RecentAgentUsage(kMaxAgentSeries);
  const char* req_help = "Requests finished per agent session (most recently used sessions).";
  for (const kv::AgentUsage& a : agents) {
    const std::string label = "{agent_id=\"" + a.id + "\"}";
    w.Metric("semantic_agent_requests_total", "counter", req_help, static_cast<double>(a.requests),
             label.c_str());
  }
  const char* tok_help = "Prompt tokens per agent session, served from the KV cache or computed.";
  for (const kv::AgentUsage& a : agents) {
    for (const bool cached : {true, false}) {
      const std::string label =
          "{agent_id=\"" + a.id + "\",source=\"" + (cached ? "cached" : "computed") + "\"}";
      const uint64_t n = cached ? a.cached_tokens : a.prompt_tokens - a.cached_tokens;
      w.Metric("semantic_agent_prompt_tokens_total", "counter", tok_help, static_cast<double>(n),
               label.c_str());
    }
  }
}

// Requests by route and status, model loads, unloads and swaps, configuration reloads.
void ServerSeries(const ServerMetrics& s, Writer& w) {
  const char* req_help =
      "HTTP requests answered, by route pattern and status (route \"unmatched\": no route, or "
      "answered before routing).";
  w.Header("semantic_http_requests_total", "counter", req_help);
  for (const auto& [key, n] : s.Requests()) {
    const std::string labels =
        "{route=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"}";
    w.Metric("semantic_http_requests_total", "counter", req_help, static_cast<double>(n),
             labels.c_str());
  }
  w.Metric("semantic_model_loads_total", "counter",
           "Models loaded (at start-up, by swaps, and on demand with registry.max_loaded > 1).",
           static_cast<double>(s.model_loads()));
  w.Metric("semantic_model_unloads_total", "counter",
           "Models unloaded while running (swapped out, offloaded, or least recently used).",
           static_cast<double>(s.model_unloads()));
  w.Metric("semantic_models_resident", "gauge", "Models loaded now (at most registry.max_loaded).",
           static_cast<double>(s.models_resident()));
  w.Metric("semantic_model_load_seconds", "gauge", "Seconds the last model load took.",
           s.last_model_load_seconds());
  w.Metric("semantic_model_swaps_total", "counter",
           "Served model replaced while running (hot swap).", static_cast<double>(s.model_swaps()));
  const char* reload_help = "Configuration reloads (SIGHUP), by result (error: old settings kept).";
  w.Metric("semantic_config_reloads_total", "counter", reload_help,
           static_cast<double>(s.reloads_ok()), "{result=\"ok\"}");
  w.Metric("semantic_config_reloads_total", "counter", reload_help,
           static_cast<double>(s.reloads_failed()), "{result=\"error\"}");
}

// A gauge split into in-use, cached and free (total - in use - cached) series; `labels` goes
// before the state label ("tier=\"ram\"," or "").
void UsageTriple(Writer& w, const char* name, const char* help, const std::string& labels,
                 int total, int in_use, int cached) {
  w.Metric(name, "gauge", help, in_use, ("{" + labels + "state=\"in_use\"}").c_str());
  w.Metric(name, "gauge", help, cached, ("{" + labels + "state=\"cached\"}").c_str());
  w.Metric(name, "gauge", help, total - in_use - cached,
           ("{" + labels + "state=\"free\"}").c_str());
}

}  // namespace

std::string PrometheusText(const ModelHandle& m, const ServerMetrics& server, bool agent_label) {
  Writer w;
  ServerSeries(server, w);
  const engine::ExecutorStats e = m.executor->Stats();
  w.Metric("semantic_requests_completed_total", "counter", "Generation requests finished.",
           static_cast<double>(e.requests_done));
  w.Metric("semantic_generated_tokens_total", "counter", "Tokens generated.",
           static_cast<double>(e.tokens_generated));
  w.Metric("semantic_prompt_tokens_computed_total", "counter",
           "Prompt tokens run through the model (not served from cache).",
           static_cast<double>(e.prompt_tokens));
  w.Metric("semantic_sequences_running", "gauge", "Sequences in the executor.", e.running);
  w.Metric("semantic_requests_queued", "gauge", "Requests waiting to start.",
           m.executor->Queued());
  w.Metric("semantic_preemptions_total", "counter",
           "Running sequences parked because KV blocks ran out (resumed from the cache).",
           static_cast<double>(e.preemptions));
  w.Metric("semantic_steps_total", "counter", "Forward passes (batched steps) run.",
           static_cast<double>(e.steps));
  w.Histogram("semantic_time_to_first_token_seconds",
              "Seconds from a request entering the queue to its first sampled token.", e.ttft_s);
  w.Histogram("semantic_inter_token_latency_seconds",
              "Seconds between two consecutive tokens of one sequence.", e.itl_s);
  const models::AttentionStats shared = models::SharedAttentionTotals();
  w.Metric("semantic_attention_shared_segment_reads_saved_total", "counter",
           "Reads of a 1024-position K/V segment (per layer and KV head) that batched sequences "
           "holding the same cached prefix did not repeat: attended once for all of them (all "
           "models of the process).",
           static_cast<double>(shared.shared_tokens - shared.shared_tiles));
  w.Histogram("semantic_batch_size", "Sequences in one forward step (decodes and prefill chunks).",
              e.batch_size);
  if (!m.cache) return w.Take();
  const kv::PrefixCacheStats c = m.cache->Stats();
  w.Metric("semantic_prompt_tokens_total", "counter", "Prompt tokens of finished requests.",
           static_cast<double>(c.prompt_tokens));
  w.Metric("semantic_prompt_tokens_cached_total", "counter",
           "Prompt tokens of finished requests served from the KV cache.",
           static_cast<double>(c.cached_tokens));
  const char* hit_help = "KV blocks looked up at admission, by result.";
  w.Metric("semantic_kv_block_lookups_total", "counter", hit_help,
           static_cast<double>(c.ram_hits), "{result=\"ram_hit\"}");
  w.Metric("semantic_kv_block_lookups_total", "counter", hit_help,
           static_cast<double>(c.disk_hits), "{result=\"disk_hit\"}");
  w.Metric("semantic_kv_block_lookups_total", "counter", hit_help, static_cast<double>(c.misses),
           "{result=\"miss\"}");
  const char* bytes_help = "Bytes of KV blocks per tier.";
  w.Metric("semantic_kv_bytes", "gauge", bytes_help, static_cast<double>(c.ram_bytes_in_use),
           "{tier=\"ram\",state=\"in_use\"}");
  w.Metric("semantic_kv_bytes", "gauge", bytes_help, static_cast<double>(c.ram_bytes_cached),
           "{tier=\"ram\",state=\"cached\"}");
  w.Metric("semantic_kv_bytes", "gauge", bytes_help, static_cast<double>(c.disk.bytes),
           "{tier=\"disk\",state=\"stored\"}");
  w.Metric("semantic_kv_budget_bytes", "gauge", "Byte budget per tier.",
           static_cast<double>(c.ram_bytes_total), "{tier=\"ram\"}");
  w.Metric("semantic_kv_budget_bytes", "gauge", "Byte budget per tier.",
           static_cast<double>(c.disk.budget), "{tier=\"disk\"}");
  const char* blocks_help =
      "KV blocks per tier (RAM: in use, cached for reuse, free; disk: files).";
  UsageTriple(w, "semantic_kv_blocks", blocks_help, "tier=\"ram\",", c.pool_blocks, c.pool_in_use,
              c.pool_cached);
  w.Metric("semantic_kv_blocks", "gauge", blocks_help, static_cast<double>(c.disk.files),
           "{tier=\"disk\",state=\"stored\"}");
  const char* slots_help =
      "Sliding-window KV slots (models with sliding-window layers, else 0): in use, cached with "
      "a published block, free.";
  UsageTriple(w, "semantic_kv_sliding_slots", slots_help, "", c.sliding_slots, c.sliding_in_use,
              c.sliding_cached);
  w.Metric("semantic_kv_sliding_evictions_total", "counter",
           "Sliding-window KV parts evicted from their RAM slots (their blocks stay).",
           static_cast<double>(c.sliding_evictions));
  w.Metric("semantic_pool_utilization_ratio", "gauge",
           "Fraction of RAM KV blocks holding data (in use or cached).",
           c.pool_blocks ? static_cast<double>(c.pool_in_use + c.pool_cached) / c.pool_blocks : 0);
  const char* ev_help = "KV blocks evicted, per tier (RAM: prefix forgotten; disk: file deleted).";
  w.Metric("semantic_kv_evictions_total", "counter", ev_help,
           static_cast<double>(c.ram_evictions), "{tier=\"ram\"}");
  w.Metric("semantic_kv_evictions_total", "counter", ev_help,
           static_cast<double>(c.disk.evictions), "{tier=\"disk\"}");
  w.Metric("semantic_kv_disk_writes_total", "counter", "Block files written.",
           static_cast<double>(c.disk.writes));
  w.Metric("semantic_kv_disk_write_errors_total", "counter", "Failed disk tier writes.",
           static_cast<double>(c.disk.write_errors));
  w.Metric("semantic_kv_disk_writes_skipped_total", "counter",
           "Block writes skipped because the disk writer was too far behind (kept in RAM only).",
           static_cast<double>(c.disk.writes_skipped));
  w.Metric("semantic_kv_disk_loads_total", "counter", "Blocks restored from disk.",
           static_cast<double>(c.disk.loads));
  w.Metric("semantic_kv_disk_pending_writes", "gauge", "Writes queued for the disk tier.",
           static_cast<double>(c.disk.pending_writes));
  w.Metric("semantic_kv_quarantined_files_total", "counter",
           "Cache files that failed a check (checksum, fingerprint, format) and were set aside.",
           static_cast<double>(c.disk.quarantined));
  w.Metric("semantic_agents", "gauge", "Agent sessions by tier (hot: blocks in RAM).",
           c.sessions_hot, "{tier=\"hot\"}");
  w.Metric("semantic_agents", "gauge", "Agent sessions by tier (hot: blocks in RAM).",
           c.sessions - c.sessions_hot, "{tier=\"warm\"}");
  w.Metric("semantic_agents_pinned", "gauge", "Pinned agent sessions.", c.sessions_pinned);
  w.Metric("semantic_kv_disk_load_failures_total", "counter",
           "Blocks that could not be restored from disk (recomputed instead).",
           static_cast<double>(c.disk_load_failures));
  if (agent_label) AgentSeries(*m.cache, w);
  return w.Take();
}

}  // namespace semantic::server
