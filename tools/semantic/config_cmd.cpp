// `semantic config`: the effective configuration with the source of each value (or the generated
// docs/configuration.md and config/default.toml); `semantic version`.
#include <cstdio>
#include <memory>

#include "config/flags.h"
#include "config/render.h"
#include "config/version.h"
#include "tools/semantic/commands.h"

namespace semantic::cli {
namespace {

struct ConfigArgs {
  bool markdown = false;
  bool default_toml = false;
};

int RunConfig(const ConfigArgs& a, const config::ConfigFlags& flags) {
  if (a.markdown) {
    std::fputs(config::RenderMarkdown().c_str(), stdout);
    return 0;
  }
  if (a.default_toml) {
    std::fputs(config::RenderDefaultToml().c_str(), stdout);
    return 0;
  }
  auto cfg = flags.Load();
  if (!cfg.ok()) {
    std::fprintf(stderr, "configuration error:\n%s\n", cfg.status().message().c_str());
    return 2;
  }
  for (const auto& w : cfg->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  std::fputs(config::RenderEffective(*cfg).c_str(), stdout);
  return 0;
}

}  // namespace

void RegisterConfig(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ConfigArgs>();
  CLI::App* cmd = app.add_subcommand(
      "config", "Print the effective configuration (same flags as serve) and each value's source");
  auto flags = config::ConfigFlags::Add(cmd);
  auto* md = cmd->add_flag("--markdown", args->markdown,
                           "Print docs/configuration.md, generated from the option declarations");
  cmd->add_flag("--default-toml", args->default_toml,
                "Print config/default.toml, generated from the option declarations")
      ->excludes(md);
  cmd->callback([args, flags, &exit_code] { exit_code = RunConfig(*args, *flags); });
}

void RegisterVersion(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("version", "Print the version");
  cmd->callback([&exit_code] {
    std::printf("semantic %s\n", config::kVersion);
    exit_code = 0;
  });
}

}  // namespace semantic::cli
