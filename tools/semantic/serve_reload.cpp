// LiveSettingsFrom, ApplyLogSettings, ConfigReloader.
#include "tools/semantic/serve_reload.h"

#include <string>
#include <vector>

#include "base/log.h"
#include "config/option.h"
#include "server/http/auth.h"

namespace semantic::cli {

Expected<server::LiveSettings> LiveSettingsFrom(const config::Settings& s) {
  server::LiveSettings live;
  live.api_keys = s.server.api_keys;
  if (!s.server.api_key_file.empty()) {
    auto more = server::ReadKeyFile(s.server.api_key_file);
    if (!more.ok()) return more.status();
    live.api_keys.insert(live.api_keys.end(), more->begin(), more->end());
  }
  if (live.api_keys.empty() && !server::IsLoopbackHost(s.server.host) &&
      !s.server.allow_unauthenticated) {
    return InvalidArgument(
        "server.host " + s.server.host +
        " is reachable from other machines and no API key is set: set server.api_keys (or "
        "--api-keys / SEMANTIC_API_KEYS / --api-key-file), or pass --allow-unauthenticated to "
        "serve it open");
  }
  live.admin_key = s.server.admin_key;
  live.cors_origins = s.server.cors_origins;
  live.log_requests = s.logging.log_requests;
  live.metrics_enabled = s.metrics.enabled;
  live.metrics_agent_label = s.metrics.include_agent_id_label;
  live.request_timeout_ms = s.server.request_timeout.count();
  return live;
}

void ApplyLogSettings(const config::LoggingSettings& l) {
  log::SetLevel(static_cast<log::Level>(l.level));
  log::SetFormat(l.format == config::LogFormat::kJson ? log::Format::kJson : log::Format::kText);
}

bool ConfigReloader::Reload() {
  std::lock_guard<std::mutex> lock(mu_);
  LOG_INFO("SIGHUP: reloading the configuration");
  auto loaded = load_();
  if (!loaded.ok()) {
    LOG_ERROR("configuration reload failed; the running settings are kept:\n%s",
              loaded.status().message().c_str());
    http_.metrics().CountReload(false);
    return false;
  }
  for (const auto& w : loaded->warnings) LOG_WARN("%s", w.c_str());
  // Start from the running settings and take over only the live options that changed.
  config::Settings next = running_;
  std::vector<std::string> applied, ignored;
  for (const config::OptionDecl& d : config::Options()) {
    if (d.type == config::OptionType::kIgnored) continue;
    const config::Value now = d.binding.get(running_, d);
    const config::Value want = d.binding.get(loaded->settings, d);
    if (now == want) continue;
    if (d.live) {
      d.binding.set(next, want, d);
      applied.push_back(d.Name());
    } else {
      ignored.push_back(d.Name());
    }
  }
  if (loaded->settings.aliases != running_.aliases) ignored.push_back("[aliases]");
  auto live = LiveSettingsFrom(next);  // the key file is read again even if its name is the same
  if (!live.ok()) {
    LOG_ERROR("configuration reload failed; the running settings are kept: %s",
              live.status().message().c_str());
    http_.metrics().CountReload(false);
    return false;
  }
  http_.Reload(*live);
  limiter_.SetLimits({next.server.rate_limit_per_agent, next.server.rate_limit_per_key,
                      next.server.rate_limit_global});
  models_.SetMaxQueue(next.scheduler.max_queue);
  ApplyLogSettings(next.logging);
  running_ = next;
  http_.metrics().CountReload(true);
  auto join = [](const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  };
  for (const auto& name : ignored) {
    LOG_WARN("configuration reload: %s changed but needs a restart; the running value is kept",
             name.c_str());
  }
  LOG_INFO("configuration reloaded: %s (%zu API keys)",
           applied.empty() ? "no reloadable option changed" : ("applied " + join(applied)).c_str(),
           live->api_keys.size());
  return true;
}

}  // namespace semantic::cli
