// `semantic serve` configuration reload (SIGHUP): read the configuration again and apply the
// options declared Live() (src/config/options.cpp) to the running server; every other change is
// logged as needing a restart and ignored; a configuration that does not load changes nothing.
#pragma once

#include <functional>
#include <mutex>

#include "base/status.h"
#include "config/load.h"
#include "server/runtime/model_manager.h"
#include "server/http/live_settings.h"
#include "server/http/rate_limit.h"
#include "server/http/server.h"

namespace semantic::cli {

// The hot-reloadable settings of `s`: client keys (server.api_keys plus the keys in
// server.api_key_file, read now), admin key, CORS, logging and metrics switches, request timeout.
// Fails when the key file cannot be read, or when the host is reachable from other machines,
// no key is configured and server.allow_unauthenticated is off.
Expected<server::LiveSettings> LiveSettingsFrom(const config::Settings& s);

// [logging] level and format.
void ApplyLogSettings(const config::LoggingSettings& l);

class ConfigReloader {
 public:
  using Loader = std::function<Expected<config::LoadedConfig>()>;
  ConfigReloader(Loader load, const config::Settings& running, server::HttpServer& http,
                 server::RateLimiter& limiter, server::ModelManager& models)
      : load_(std::move(load)),
        running_(running),
        http_(http),
        limiter_(limiter),
        models_(models) {}

  // Loads, compares with the running settings, applies the live ones; logs what it did and
  // counts the result in semantic_config_reloads_total. True when the new settings were applied.
  bool Reload();

 private:
  Loader load_;
  config::Settings running_;  // what the server runs with now
  server::HttpServer& http_;
  server::RateLimiter& limiter_;
  server::ModelManager& models_;
  std::mutex mu_;  // one reload at a time
};

}  // namespace semantic::cli
