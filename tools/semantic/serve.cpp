// `semantic serve`: load the model, start the executor thread and the HTTP server.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <thread>

#include "base/log.h"
#include "config/flags.h"
#include "config/settings.h"
#include "kernels/ops.h"
#include "server/http/auth.h"
#include "server/http/server.h"
#include "server/runtime/model_manager.h"
#include "tools/semantic/commands.h"
#include "tools/semantic/serve_reload.h"

namespace semantic::cli {
namespace {

std::atomic<bool> g_stop_requested{false};
std::atomic<bool> g_reload_requested{false};

void OnSignal(int) { g_stop_requested = true; }    // the drain thread in Run() does the rest
void OnHangup(int) { g_reload_requested = true; }  // so does the configuration reload

// SIGHUP: reload the configuration (serve_reload.h). SIGINT/SIGTERM: stop taking new requests,
// let running ones finish within server.shutdown_timeout, cancel what is left, then stop the HTTP
// server (caches are flushed after Run() returns).
void DrainOnSignal(server::HttpServer& http, server::ModelManager& models,
                   ConfigReloader& reloader, std::chrono::milliseconds timeout,
                   const std::atomic<bool>& done) {
  while (!g_stop_requested && !done) {
    if (g_reload_requested.exchange(false)) reloader.Reload();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (done) return;
  http.SetDraining();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto busy = [&] { return models.Busy(); };
  LOG_INFO("shutting down: new requests get 503; waiting up to %.0f s for running ones",
           timeout.count() / 1000.0);
  // Idle means idle for 250 ms in a row: the last bytes of a finished stream get that long.
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
  models.StopExecutors();  // cancels what is left; their handlers end with an error
  http.Stop();
}

// `reload`: loads the configuration again, as at start-up (SIGHUP).
int Run(const config::Settings& cfg, ConfigReloader::Loader reload) {
  const config::ModelSettings& mc = cfg.model;
  if (Status st = CheckDevice(mc.device); !st.ok()) {
    std::fprintf(stderr, "error: model.device = %s: %s\n", config::Name(mc.device),
                 st.message().c_str());
    return 2;
  }
  std::signal(SIGHUP, OnHangup);  // from now on a SIGHUP waits for the server to be up
  // A file-size limit (ulimit -f) must fail the write (a cache file: counted, logged; a log line
  // to a full log file: lost), not kill the server: from the first byte on, loading included.
  std::signal(SIGXFSZ, SIG_IGN);
  // Client keys first: a server that would be open to the network fails before loading anything.
  auto live = LiveSettingsFrom(cfg);
  if (!live.ok()) {
    std::fprintf(stderr, "error: %s\n", live.status().message().c_str());
    return 1;
  }
  if (live->api_keys.empty()) LOG_INFO("no API keys configured: clients are not authenticated");
  config::Settings base = cfg;
  if (!std::filesystem::exists(base.model.path) &&
      base.model.path == "models/SmolLM2-135M-Instruct.Q4_1.gguf") {
    base.model.path = DefaultModelPath();  // the bundled default, wherever the binary was started
  }
  server::LiveConfig live_config(*live);
  server::ServerMetrics metrics;
  server::RateLimiter limiter({cfg.server.rate_limit_per_agent, cfg.server.rate_limit_per_key,
                               cfg.server.rate_limit_global});
  server::RuntimeShared shared;
  shared.rate_limiter = &limiter;
  shared.live = &live_config;
  shared.metrics = &metrics;
  server::ModelManager models(base, shared);
  if (Status st = models.LoadInitial(); !st.ok()) {
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    return 1;
  }
  server::ServerOptions so;
  so.host = cfg.server.host;
  so.port = cfg.server.port;
  so.max_body_bytes = static_cast<size_t>(cfg.server.max_body);
  so.max_header_bytes = static_cast<size_t>(cfg.server.max_header_bytes);
  so.max_json_depth = cfg.server.max_json_depth;
  so.read_timeout_ms = cfg.server.read_timeout.count();
  so.write_timeout_ms = cfg.server.write_timeout.count();
  so.idle_timeout_ms = cfg.server.idle_timeout.count();
  so.http_threads = cfg.server.http_threads;
  // Every running and every queued request may hold a connection thread; so may as many idle
  // keep-alive connections as threads are kept ready.
  so.max_http_threads = cfg.server.max_http_threads > 0
                            ? cfg.server.max_http_threads
                            : cfg.server.http_threads + mc.max_batch + cfg.scheduler.max_queue;
  so.live = *live;
  so.live_config = &live_config;
  so.metrics = &metrics;
  server::HttpServer http(so, models.slot(), &models);
  ConfigReloader reloader(std::move(reload), cfg, http, limiter, models);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::atomic<bool> run_ended{false};
  std::thread drain(DrainOnSignal, std::ref(http), std::ref(models), std::ref(reloader),
                    cfg.server.shutdown_timeout, std::cref(run_ended));
  http.SetReady(true);
  LOG_INFO("serving (kernels %s)", kernels::ActiveIsa());
  Status st = http.Run();
  run_ended = true;
  drain.join();
  models.StopExecutors();
  models.Unload();  // writes pending KV blocks and sessions
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
