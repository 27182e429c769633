// `semantic models`: the models this configuration can serve or swap to — the configured one,
// the profiles in registry.profiles_dir and the .gguf files under registry.models_dir.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "config/flags.h"
#include "server/runtime/model_registry.h"
#include "tools/semantic/commands.h"

namespace semantic::cli {
namespace {

std::string Size(uint64_t bytes) {
  char buf[32];
  if (bytes >= (1ull << 30)) {
    std::snprintf(buf, sizeof(buf), "%.1f GiB", bytes / 1073741824.0);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f MiB", bytes / 1048576.0);
  }
  return buf;
}

int RunModels(bool json_out, const config::ConfigFlags& flags) {
  auto cfg = flags.Load();
  if (!cfg.ok()) {
    std::fprintf(stderr, "configuration error:\n%s\n", cfg.status().message().c_str());
    return 2;
  }
  const auto models = server::ListModels(cfg->settings);
  if (json_out) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : models) {
      list.push_back({{"model_id", e.id},
                      {"path", e.path},
                      {"source", e.source},
                      {"profile", e.profile},
                      {"bytes", e.bytes},
                      {"exists", e.exists},
                      {"problem", e.problem}});
    }
    std::printf("%s\n", list.dump(2).c_str());
    return 0;
  }
  std::printf("%-34s %-8s %9s  %s\n", "MODEL ID", "SOURCE", "SIZE", "PATH");
  for (const auto& e : models) {
    std::string where = e.path;
    if (!e.profile.empty()) where += "  (profile " + e.profile + ")";
    if (!e.problem.empty()) where = "profile " + e.profile + ": " + e.problem;
    std::printf("%-34s %-8s %9s  %s%s\n", e.id.c_str(), e.source.c_str(),
                e.exists ? Size(e.bytes).c_str() : "-", where.c_str(),
                e.exists || !e.problem.empty() ? "" : "  (missing)");
  }
  std::printf("\nprofiles: %s   models: %s   swap: POST /admin/models/swap {\"model_id\": ...}\n",
              cfg->settings.registry.profiles_dir.c_str(),
              cfg->settings.registry.models_dir.c_str());
  return 0;
}

}  // namespace

void RegisterModels(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "models",
      "List the models this configuration can serve or swap to (the configured model, "
      "registry.profiles_dir profiles, .gguf files under registry.models_dir)");
  auto json_out = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json_out, "Print JSON instead of a table");
  auto flags = config::ConfigFlags::Add(cmd);
  cmd->callback([flags, json_out, &exit_code] { exit_code = RunModels(*json_out, *flags); });
}

}  // namespace semantic::cli
