// `semantic cache ls|stats|verify|rm`: the KV cache directory without a running server.
// The directory is agent.cache_dir (same config files, env and --cache-dir flag as serve).
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/flags.h"
#include "kv/block_key.h"
#include "kv/cache_dir.h"
#include "tools/semantic/commands.h"

namespace semantic::cli {
namespace {

struct CacheArgs {
  bool json = false;
  bool fix = false;
  bool all = false;
  std::vector<std::string> agents;
};

std::string When(int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buf;
}

nlohmann::json ModelJson(const kv::ModelCacheInfo& m, bool with_sessions) {
  nlohmann::json j = {{"fingerprint", m.fingerprint}, {"dir", m.dir},
                      {"block_files", m.block_files}, {"block_bytes", m.block_bytes},
                      {"temp_files", m.temp_files}, {"quarantined_files", m.quarantined_files},
                      {"sessions", m.sessions.size()}, {"bad_sessions", m.bad_sessions}};
  if (with_sessions) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : m.sessions) {
      list.push_back({{"agent_id", s.id}, {"tokens", s.n_tokens}, {"blocks", s.keys.size()},
                      {"pinned", s.pinned}, {"ttl_ms", s.ttl_ms}, {"last_use_ms", s.last_use_ms},
                      {"requests", s.requests}});
    }
    j["agents"] = list;
  }
  return j;
}

int Ls(const std::string& root, const CacheArgs& a, bool stats_only) {
  auto models = kv::ScanCacheDir(root);
  if (a.json) {
    nlohmann::json out = {{"cache_dir", root}, {"models", nlohmann::json::array()}};
    for (const auto& m : models) out["models"].push_back(ModelJson(m, !stats_only));
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  if (models.empty()) {
    std::printf("no KV caches under %s\n", root.c_str());
    return 0;
  }
  uint64_t files = 0, bytes = 0, sessions = 0;
  for (const auto& m : models) {
    std::printf("model %s: %llu blocks, %.1f MiB, %zu agents, %llu quarantined, %llu temp\n",
                m.fingerprint.c_str(), static_cast<unsigned long long>(m.block_files),
                m.block_bytes / 1048576.0, m.sessions.size(),
                static_cast<unsigned long long>(m.quarantined_files),
                static_cast<unsigned long long>(m.temp_files));
    files += m.block_files;
    bytes += m.block_bytes;
    sessions += m.sessions.size();
    for (const auto& bad : m.bad_sessions) std::printf("  unreadable session: %s\n", bad.c_str());
    if (stats_only) continue;
    if (!m.sessions.empty()) {
      std::printf("  %-32s %8s %7s %6s  %s\n", "AGENT", "TOKENS", "BLOCKS", "PINNED", "LAST USED");
    }
    for (const auto& s : m.sessions) {
      std::printf("  %-32s %8d %7zu %6s  %s\n", s.id.c_str(), s.n_tokens, s.keys.size(),
                  s.pinned ? "yes" : "no", When(s.last_use_ms).c_str());
    }
  }
  if (stats_only) {
    std::printf("total: %zu models, %llu blocks, %.1f MiB, %llu agents (%s)\n", models.size(),
                static_cast<unsigned long long>(files), bytes / 1048576.0,
                static_cast<unsigned long long>(sessions), root.c_str());
  }
  return 0;
}

int Verify(const std::string& root, const CacheArgs& a) {
  kv::VerifyResult r = kv::VerifyCacheDir(root, a.fix);
  for (const auto& p : r.problems) std::printf("bad: %s\n", p.c_str());
  std::printf("%llu block files ok, %llu bad%s\n", static_cast<unsigned long long>(r.ok),
              static_cast<unsigned long long>(r.bad),
              r.bad && a.fix ? " (moved to quarantine/)" : r.bad ? " (run with --fix to quarantine)" : "");
  return r.bad == 0 || a.fix ? 0 : 1;
}

int Rm(const std::string& root, const CacheArgs& a) {
  if (a.all == !a.agents.empty()) {
    std::fprintf(stderr, "error: give agent ids or --all (not both)\n");
    return 2;
  }
  if (a.all) {
    auto n = kv::RemoveAllCaches(root);
    if (!n.ok()) {
      std::fprintf(stderr, "error: %s\n", n.status().message().c_str());
      return 1;
    }
    std::printf("removed %d model cache directories under %s\n", *n, root.c_str());
    return 0;
  }
  int rc = 0;
  for (const auto& id : a.agents) {
    auto n = kv::RemoveAgentFromDir(root, id);
    if (!n.ok()) {
      std::fprintf(stderr, "error: %s: %s\n", id.c_str(), n.status().message().c_str());
      rc = 1;
    } else if (*n == 0) {
      std::fprintf(stderr, "error: no agent '%s' under %s\n", id.c_str(), root.c_str());
      rc = 1;
    } else {
      std::printf("removed agent %s\n", id.c_str());
    }
  }
  return rc;
}

}  // namespace

void RegisterCache(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CacheArgs>();
  CLI::App* cmd = app.add_subcommand(
      "cache", "Inspect or clean the KV cache directory (agent.cache_dir) without a server");
  cmd->require_subcommand(1);
  cmd->fallthrough();
  auto flags = config::ConfigFlags::Add(cmd);
  auto dir = [flags, &exit_code](std::string* out) {
    auto cfg = flags->Load();
    if (!cfg.ok()) {
      std::fprintf(stderr, "configuration error:\n%s\n", cfg.status().message().c_str());
      exit_code = 2;
      return false;
    }
    *out = cfg->settings.agent.cache_dir;
    return true;
  };
  CLI::App* ls = cmd->add_subcommand("ls", "List model caches and agent sessions");
  ls->add_flag("--json", args->json, "Machine-readable output");
  ls->callback([args, dir, &exit_code] {
    std::string root;
    if (dir(&root)) exit_code = Ls(root, *args, false);
  });
  CLI::App* st = cmd->add_subcommand("stats", "Totals per model cache");
  st->add_flag("--json", args->json, "Machine-readable output");
  st->callback([args, dir, &exit_code] {
    std::string root;
    if (dir(&root)) exit_code = Ls(root, *args, true);
  });
  CLI::App* vf = cmd->add_subcommand("verify", "Read every block file and check it completely");
  vf->add_flag("--fix", args->fix, "Move bad files to quarantine/ and delete stale temp files");
  vf->callback([args, dir, &exit_code] {
    std::string root;
    if (dir(&root)) exit_code = Verify(root, *args);
  });
  CLI::App* rm = cmd->add_subcommand("rm", "Remove agent sessions (and blocks only they use)");
  rm->add_option("agents", args->agents, "Agent ids");
  rm->add_flag("--all", args->all, "Remove every model's cache under the directory");
  rm->callback([args, dir, &exit_code] {
    std::string root;
    if (dir(&root)) exit_code = Rm(root, *args);
  });
}

}  // namespace semantic::cli
