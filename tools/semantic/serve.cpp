// `semantic serve`: load the model, start the executor thread and the HTTP server.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <thread>

#include "base/log.h"
#include "base/timer.h"
#include "config/flags.h"
#include "config/settings.h"
#include "engine/executor.h"
#include "engine/generator.h"
#include "engine/model_fingerprint.h"
#include "kernels/ops.h"
#include "kv/prefix_cache.h"
#include "server/api/common/model_names.h"
#include "server/http/auth.h"
#include "server/http/server.h"
#include "tools/semantic/commands.h"
#include "tools/semantic/serve_reload.h"

namespace semantic::cli {
namespace {

// One small forward before serving: faults in every weight page and wakes the thread pool, so
// the first request (often an agent returning after a restart) does not pay for it.
void WarmUp(engine::Generator& g) {
  Timer timer;
  kv::SequenceKv seq;
  if (!seq.Reserve(g.kv_pool(), 8).ok()) return;
  std::vector<int32_t> tokens(8, std::max(0, g.tokenizer().bos_id()));
  models::Logits logits;
  Status st = g.mutable_model().Forward({{tokens.data(), 8, &seq, false}}, g.kv_pool(), &logits);
  seq.Clear(g.kv_pool());
  LOG_INFO("warm-up forward: %.0f ms%s", timer.Seconds() * 1e3,
           st.ok() ? "" : (" (failed: " + st.message() + ")").c_str());
}

std::atomic<bool> g_stop_requested{false};
std::atomic<bool> g_reload_requested{false};

void OnSignal(int) { g_stop_requested = true; }    // the drain thread in Run() does the rest
void OnHangup(int) { g_reload_requested = true; }  // so does the configuration reload

// SIGHUP: reload the configuration (serve_reload.h). SIGINT/SIGTERM: stop taking new requests,
// let running ones finish within server.shutdown_timeout, cancel what is left, then stop the HTTP
// server (caches are flushed after Run() returns).
void DrainOnSignal(server::HttpServer& http, engine::Executor& exec, ConfigReloader& reloader,
                   std::chrono::milliseconds timeout, const std::atomic<bool>& done) {
  while (!g_stop_requested && !done) {
    if (g_reload_requested.exchange(false)) reloader.Reload();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (done) return;
  http.SetDraining();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto busy = [&] {
    const engine::ExecutorStats st = exec.Stats();
    return st.running > 0 || exec.Queued() > 0;
  };
  LOG_INFO("shutting down: new requests get 503; waiting up to %.0f s for running ones",
           timeout.count() / 1000.0);
  // Idle means idle for 250 ms in a row: a request whose handler has not reached the executor
  // yet, and the last bytes of a finished stream, get that long.
  auto idle_since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < deadline) {
    const auto now = std::chrono::steady_clock::now();
    if (busy()) {
      idle_since = now;
    } else if (now - idle_since >= std::chrono::milliseconds(250)) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (busy()) LOG_WARN("server.shutdown_timeout reached: cancelling the requests still running");
  exec.Stop();  // cancels what is left; their handlers end with an error
  http.Stop();
}

// `reload`: loads the configuration again, as at start-up (SIGHUP).
int Run(const config::Settings& cfg, ConfigReloader::Loader reload) {
  const config::ModelSettings& mc = cfg.model;
  std::signal(SIGHUP, OnHangup);  // from now on a SIGHUP waits for the server to be up
  // Client keys first: a server that would be open to the network fails before loading anything.
  auto live = LiveSettingsFrom(cfg);
  if (!live.ok()) {
    std::fprintf(stderr, "error: %s\n", live.status().message().c_str());
    return 1;
  }
  if (live->api_keys.empty()) LOG_INFO("no API keys configured: clients are not authenticated");
  std::string model_path = mc.path;
  if (!std::filesystem::exists(model_path) &&
      model_path == "models/SmolLM2-135M-Instruct.Q4_1.gguf") {
    model_path = DefaultModelPath();  // the bundled default, wherever the binary was started
  }
  engine::GeneratorOptions opts;
  opts.model_path = model_path;
  opts.threads = mc.threads;
  opts.context = mc.context_length;  // resized below once the model's KV size per token is known
  opts.block_tokens = mc.block_tokens;
  opts.kv_dtype = KvDtypeFromConfig(mc.kv_dtype);
  LOG_INFO("loading %s", model_path.c_str());
  Timer load_timer;
  auto gen = engine::Generator::Open(opts);
  if (!gen.ok()) {
    std::fprintf(stderr, "error: %s\n", gen.status().message().c_str());
    return 1;
  }
  engine::Generator& g = **gen;
  const double load_seconds = load_timer.Seconds();
  if (mc.context_length > g.model().config().n_ctx_train) {
    LOG_WARN(
        "model.context_length %d is beyond the %d positions the model was trained on: "
        "requests that long are served, but the model's output quality degrades there",
        mc.context_length, g.model().config().n_ctx_train);
  }
  {
    // KV pool: room for one full context at least, up to a RAM budget shared by all sequences.
    const kv::KvLayout layout = g.kv_pool().layout();  // a copy: the pool is replaced below
    const double bytes_per_token = 2.0 * layout.n_layers * layout.row_bytes();  // K + V
    const long long budget_tokens =
        static_cast<long long>(static_cast<double>(mc.cache_budget) / bytes_per_token);
    const long long tokens = std::max<long long>(mc.context_length, budget_tokens);
    g.ResizeKvPool(static_cast<int>((tokens + mc.block_tokens - 1) / mc.block_tokens));
    LOG_INFO("KV pool: %lld tokens (%.0f MiB, %s)", tokens, tokens * bytes_per_token / 1048576.0,
             kernels::KvDtypeName(layout.dtype));
    if (budget_tokens < mc.context_length) {
      LOG_WARN(
          "model.cache_budget (%.0f MiB) holds %lld tokens, less than one context of %d: "
          "the pool is sized for one context instead (lower --context or raise "
          "--cache-budget to keep RAM within the budget)",
          mc.cache_budget / 1048576.0, budget_tokens, mc.context_length);
    }
  }
  const auto& tok = g.tokenizer();
  auto chat = server::ChatRenderer::ForModel(g.gguf(), tok);
  if (!chat.ok()) {
    std::fprintf(stderr, "error: %s\n", chat.status().message().c_str());
    return 1;
  }
  LOG_INFO("tool calls: %s format (docs/tool-calling.md)",
           chat::ToolFamilyName((*chat)->tool_family()));
  // Prefix cache over the pool, with the disk tier and agent sessions behind it.
  kv::BlockFileIdentity identity;
  identity.model_fingerprint = engine::ModelFingerprint(g.gguf());
  identity.layout = g.kv_pool().layout();
  identity.kv_dtype = static_cast<uint32_t>(identity.layout.dtype);
  kv::PrefixCacheOptions co;
  co.cache_dir = cfg.agent.evict_to_disk ? cfg.agent.cache_dir : "";
  co.disk_budget = static_cast<uint64_t>(cfg.agent.disk_budget);
  co.default_ttl_ms = cfg.agent.session_ttl.count();
  co.max_agents_in_memory = cfg.agent.max_agents_in_memory;
  if (cfg.agent.eviction_policy == config::EvictionPolicy::kNone) {
    g.kv_pool().set_evict_cached(false);
    LOG_INFO(
        "agent.eviction_policy = none: cached KV blocks stay in RAM; once RAM is full of "
        "them, requests that need new blocks fail with 503");
  }
  kv::PrefixCache cache(g.kv_pool(), identity, co);
  if (Status cst = cache.Open(); !cst.ok()) {
    LOG_WARN("KV disk tier disabled, caching in RAM only: %s", cst.message().c_str());
  } else if (cache.disk_enabled()) {
    LOG_INFO("KV disk tier: %s (budget %.1f GiB)", co.cache_dir.c_str(),
             co.disk_budget / 1073741824.0);
  }
  WarmUp(g);
  engine::ExecutorOptions eo;
  eo.cache = &cache;
  eo.max_running = mc.max_batch;
  eo.max_running_per_agent = cfg.scheduler.max_running_per_agent;
  eo.max_queue = cfg.scheduler.max_queue;
  eo.batch_window_ms = static_cast<int>(cfg.scheduler.batch_window.count());
  eo.step_token_budget = mc.prefill_chunk;
  eo.max_context = mc.context_length;
  engine::Executor exec(g.mutable_model(), g.kv_pool(), tok, eo);
  exec.Start();

  server::ModelHandle handle;
  handle.path = model_path;
  handle.id =
      mc.served_name.empty() ? std::filesystem::path(model_path).stem().string() : mc.served_name;
  handle.config = &g.model().config();
  handle.tokenizer = &tok;
  handle.chat = chat->get();
  handle.executor = &exec;
  handle.cache = &cache;
  handle.block_tokens = mc.block_tokens;
  handle.kv_dtype = config::Name(mc.kv_dtype);
  handle.default_max_tokens = mc.default_max_tokens;
  handle.reasoning_extra_tokens = mc.reasoning_extra_tokens;
  handle.default_temperature = static_cast<float>(mc.default_temperature);
  handle.aliases = cfg.aliases;
  server::RateLimiter limiter({cfg.server.rate_limit_per_agent, cfg.server.rate_limit_per_key,
                               cfg.server.rate_limit_global});
  handle.rate_limiter = &limiter;
  if (const std::string bad = server::CheckAliases(handle); !bad.empty()) {
    std::fprintf(stderr, "error: %s\n", bad.c_str());
    return 1;
  }
  server::ServerOptions so;
  so.host = cfg.server.host;
  so.port = cfg.server.port;
  so.max_body_bytes = static_cast<size_t>(cfg.server.max_body);
  so.http_threads = cfg.server.http_threads;
  // Every running and every queued request may hold a connection thread; so may as many idle
  // keep-alive connections as threads are kept ready.
  so.max_http_threads = cfg.server.max_http_threads > 0
                            ? cfg.server.max_http_threads
                            : cfg.server.http_threads + mc.max_batch + cfg.scheduler.max_queue;
  so.live = std::move(*live);
  server::HttpServer http(so, handle);
  http.metrics().CountModelLoad(load_seconds);
  ConfigReloader reloader(std::move(reload), cfg, http, limiter, exec);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  // A file-size limit (ulimit -f) must fail the cache write (counted, logged), not kill the server.
  std::signal(SIGXFSZ, SIG_IGN);
  std::atomic<bool> run_ended{false};
  std::thread drain(DrainOnSignal, std::ref(http), std::ref(exec), std::ref(reloader),
                    cfg.server.shutdown_timeout, std::cref(run_ended));
  http.SetReady(true);
  LOG_INFO("model %s ready (%s, %d layers, context %d, %d threads, kernels %s)", handle.id.c_str(),
           handle.config->arch.c_str(), handle.config->n_layers, exec.MaxContext(), g.pool().size(),
           kernels::ActiveIsa());
  Status st = http.Run();
  run_ended = true;
  drain.join();
  exec.Stop();
  LOG_INFO("writing pending KV blocks and sessions");
  cache.Flush();
  if (!st.ok()) {
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    return 1;
  }
  LOG_INFO("stopped");
  return 0;
}

}  // namespace

void RegisterServe(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Run the OpenAI-compatible HTTP server (options: config file < env < flags; see "
      "docs/configuration.md)");
  auto flags = config::ConfigFlags::Add(cmd);
  cmd->callback([flags, &exit_code] {
    auto cfg = flags->Load();
    if (!cfg.ok()) {
      std::fprintf(stderr, "configuration error:\n%s\n", cfg.status().message().c_str());
      exit_code = 2;
      return;
    }
    ApplyLogSettings(cfg->settings.logging);
    for (const auto& w : cfg->warnings) LOG_WARN("%s", w.c_str());
    exit_code = Run(cfg->settings, [flags] { return flags->Load(); });
  });
}

}  // namespace semantic::cli
