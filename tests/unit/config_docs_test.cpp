// The option table's invariants and everything generated from it: docs/configuration.md and
// config/default.toml must match (fail when stale), CLI flags and --help, `semantic config` output.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/flags.h"
#include "config/render.h"
#include "config/value_parse.h"
#include "config/version.h"

namespace semantic::config {
namespace {

std::string SourceDir() {
  const char* env = std::getenv("SEMANTIC_SOURCE_DIR");
  return env && *env ? env : SEMANTIC_SOURCE_DIR;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

int Index(const char* section, const char* key) { return FindOption(section, key); }

TEST(ConfigDocs, ConfigurationMarkdownIsNotStale) {
  const std::string committed = ReadFile(SourceDir() + "/docs/configuration.md");
  EXPECT_EQ(committed, RenderMarkdown())
      << "docs/configuration.md is stale; regenerate it with\n"
         "  build/semantic config --markdown > docs/configuration.md";
}

TEST(ConfigDocs, DefaultTomlIsNotStale) {
  const std::string path = SourceDir() + "/config/default.toml";
  EXPECT_EQ(ReadFile(path), RenderDefaultToml())
      << "config/default.toml is stale; regenerate it with\n"
         "  build/semantic config --default-toml > config/default.toml";
  // Loading it changes nothing: every value equals its declared default.
  LoadInputs in;
  in.files = {path};
  in.home = "/home/u";
  auto from_file = Load(in);
  ASSERT_TRUE(from_file.ok()) << from_file.status().message();
  EXPECT_TRUE(from_file->warnings.empty());
  LoadInputs none;
  none.home = "/home/u";
  auto defaults = Load(none);
  ASSERT_TRUE(defaults.ok());
  const auto& opts = Options();
  for (size_t i = 0; i < opts.size(); ++i) {
    const OptionDecl& d = opts[i];
    if (d.type == OptionType::kIgnored) continue;
    EXPECT_EQ(d.binding.get(from_file->settings, d), d.binding.get(defaults->settings, d))
        << d.Name();
    EXPECT_EQ(from_file->origins[i].kind, Origin::Kind::kFile) << d.Name() << " missing";
  }
}

TEST(ConfigDocs, EveryOptionIsDocumented) {
  const std::string md = RenderMarkdown();
  const std::string toml = RenderDefaultToml();
  for (const auto& d : Options()) {
    if (d.type == OptionType::kIgnored) {
      EXPECT_TRUE(Contains(md, "`" + d.Name() + "`")) << d.Name();
      continue;
    }
    EXPECT_TRUE(Contains(md, "| `" + d.key + "` |")) << d.Name();
    EXPECT_TRUE(Contains(md, d.EnvName())) << d.Name();
    EXPECT_TRUE(Contains(md, d.FlagName())) << d.Name();
    EXPECT_TRUE(Contains(toml, "\n" + d.key + " = ")) << d.Name();
    for (const auto& a : d.aliases) EXPECT_TRUE(Contains(md, a.name)) << a.name;
  }
}

TEST(ConfigDocs, TableIsConsistent) {
  std::set<std::string> names, envs, flags;
  const auto& opts = Options();
  for (size_t i = 0; i < opts.size(); ++i) {
    const OptionDecl& d = opts[i];
    EXPECT_TRUE(std::regex_match(d.key, std::regex("[a-z][a-z0-9_]*"))) << d.Name();
    EXPECT_NE(std::find(Sections().begin(), Sections().end(), d.section), Sections().end());
    EXPECT_FALSE(d.help.empty()) << d.Name();
    EXPECT_TRUE(names.insert(d.Name()).second) << "declared twice: " << d.Name();
    for (const auto& a : d.aliases) {
      EXPECT_TRUE(names.insert(a.name).second) << "alias used twice: " << a.name;
      EXPECT_EQ(FindOption(a.name.substr(0, a.name.find('.')), a.name.substr(a.name.find('.') + 1)),
                static_cast<int>(i));
    }
    EXPECT_EQ(FindOption(d.section, d.key), static_cast<int>(i));
    if (d.type == OptionType::kIgnored) continue;
    EXPECT_NE(d.binding.set, nullptr) << d.Name();
    auto def = ParseText(d, d.default_text, "/home/u");
    EXPECT_TRUE(def.ok()) << d.Name() << ": default: " << def.status().message();
    EXPECT_TRUE(envs.insert(d.EnvName()).second) << d.EnvName();
    for (const auto& e : d.env_aliases) EXPECT_TRUE(envs.insert(e).second) << e;
    EXPECT_TRUE(flags.insert(d.FlagName()).second) << d.FlagName();
    for (const auto& f : d.short_flags) {
      EXPECT_TRUE(flags.insert(f).second) << f;
      EXPECT_NE(f, "-h") << "reserved for --help";
    }
  }
  EXPECT_EQ(FindOption("mlx", "model_id"), Index("model", "path"));
}

// Writing one option's field must not change any other option's field.
TEST(ConfigDocs, EachOptionHasItsOwnField) {
  const Settings base = Defaults();
  const auto& opts = Options();
  for (size_t i = 0; i < opts.size(); ++i) {
    const OptionDecl& d = opts[i];
    if (d.type == OptionType::kIgnored) continue;
    Settings s = base;
    Value v = d.binding.get(s, d);
    if (auto* b = std::get_if<bool>(&v)) {
      *b = !*b;
    } else if (auto* n = std::get_if<int64_t>(&v)) {
      *n += 1;
    } else if (auto* f = std::get_if<double>(&v)) {
      *f += 0.25;
    } else if (auto* str = std::get_if<std::string>(&v)) {
      *str = d.type == OptionType::kEnum
                 ? d.choices.back() == *str ? d.choices.front() : d.choices.back()
                 : *str + "x";
    } else {
      std::get<std::vector<std::string>>(v).push_back("http://x");
    }
    d.binding.set(s, v, d);
    EXPECT_EQ(d.binding.get(s, d), v) << d.Name();
    for (size_t j = 0; j < opts.size(); ++j) {
      if (j == i || opts[j].type == OptionType::kIgnored) continue;
      EXPECT_EQ(opts[j].binding.get(s, opts[j]), opts[j].binding.get(base, opts[j]))
          << "setting " << d.Name() << " changed " << opts[j].Name();
    }
  }
}

TEST(ConfigDocs, VersionMatchesCMakeProject) {
  const std::string cmake = ReadFile(SourceDir() + "/CMakeLists.txt");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cmake, m, std::regex(R"(project\(semantic VERSION ([0-9.]+))")));
  EXPECT_EQ(m[1].str(), kVersion);
}

// Parses argv for a `serve`-like subcommand carrying the option flags.
Expected<LoadedConfig> ParseAndLoad(std::vector<std::string> args, const EnvList& env = {}) {
  CLI::App app{"test"};
  CLI::App* cmd = app.add_subcommand("serve", "serve");
  auto flags = ConfigFlags::Add(cmd);
  args.insert(args.begin(), {"semantic", "serve"});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return InvalidArgument(std::string("CLI11: ") + e.what());
  }
  return Load(flags->Inputs(env));
}

TEST(ConfigFlags, ShortAndDerivedFlags) {
  auto c = ParseAndLoad({"--port", "9000", "-c", "4096", "--model-kv-dtype", "q8_0", "-m", "x.gguf",
                         "--metrics-enabled", "false", "--logging-log-requests",
                         "--server-max-body", "1MiB", "--cors-origins", "http://a,http://b"});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->settings.server.port, 9000);
  EXPECT_EQ(c->settings.model.context_length, 4096);
  EXPECT_EQ(c->settings.model.kv_dtype, KvDtype::kQ8_0);
  EXPECT_EQ(c->settings.model.path, "x.gguf");
  EXPECT_FALSE(c->settings.metrics.enabled);
  EXPECT_TRUE(c->settings.logging.log_requests);
  EXPECT_EQ(c->settings.server.max_body, 1 << 20);
  EXPECT_EQ(c->settings.server.cors_origins, (std::vector<std::string>{"http://a", "http://b"}));
  EXPECT_EQ(c->origins[Index("server", "port")].ToString(), "flag:--port");
  EXPECT_EQ(c->origins[Index("model", "kv_dtype")].ToString(), "flag:--kv-dtype");
  EXPECT_EQ(c->origins[Index("metrics", "enabled")].ToString(), "flag:--metrics-enabled");
}

TEST(ConfigFlags, FlagsBeatEnvAndConfigFileFlagIsUsed) {
  char path[] = "/tmp/semantic_config_flags_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "[server]\nhost = \"0.0.0.0\"\nport = 7000\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  auto c = ParseAndLoad({"--config", path, "--port", "7001"},
                        {{"SEMANTIC_SERVER__PORT", "7002"}, {"SEMANTIC_SERVER__HOST", "::1"}});
  unlink(path);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->settings.server.port, 7001);
  EXPECT_EQ(c->settings.server.host, "::1");
  // SEMANTIC_CONFIG names files when --config is absent.
  EXPECT_EQ(ConfigFilesFromEnv({{"SEMANTIC_CONFIG", "a.toml,b.toml"}}),
            (std::vector<std::string>{"a.toml", "b.toml"}));
}

TEST(ConfigFlags, BadFlagValueNamesFlagAndKey) {
  auto c = ParseAndLoad({"-p", "70000"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "flag:--port: server.port: 70000 is out of range [1, 65535]");
}

TEST(ConfigFlags, HelpListsEveryOption) {
  CLI::App app{"test"};
  CLI::App* cmd = app.add_subcommand("serve", "serve");
  ConfigFlags::Add(cmd);
  const std::string help = cmd->help();
  for (const auto& d : Options()) {
    if (d.type == OptionType::kIgnored) continue;
    EXPECT_TRUE(Contains(help, d.FlagName())) << d.FlagName();
    EXPECT_TRUE(Contains(help, d.EnvName())) << d.EnvName();
  }
  EXPECT_TRUE(Contains(help, "--config"));
  EXPECT_TRUE(Contains(help, "One of: f16, q8_0, q4_0."));
}

TEST(ConfigRender, EffectiveConfigShowsSources) {
  char path[] = "/tmp/semantic_config_render_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "[mlx]\nmax_batch_size = 4\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  LoadInputs in;
  in.files = {path};
  in.env = {{"SEMANTIC_MLX_MAX_CONTEXT_LENGTH", "4096"}, {"SEMANTIC_API_KEY", "sk-secret"}};
  in.flags = {{Index("server", "port"), "9000", "--port"}};
  in.home = "/home/u";
  auto c = Load(in);
  unlink(path);
  ASSERT_TRUE(c.ok()) << c.status().message();
  const std::string out = RenderEffective(*c);
  auto line_of = [&out](const std::string& start) {
    const size_t at = out.find("\n" + start);
    if (at == std::string::npos) return std::string();
    return out.substr(at + 1, out.find('\n', at + 1) - at - 1);
  };
  EXPECT_TRUE(std::regex_match(line_of("port ="), std::regex("port = 9000 +# flag:--port")))
      << line_of("port =");
  EXPECT_TRUE(
      std::regex_match(line_of("context_length ="),
                       std::regex("context_length = 4096 +# env:SEMANTIC_MLX_MAX_CONTEXT_LENGTH "
                                  "\\(as mlx.max_context_length\\)")))
      << line_of("context_length =");
  EXPECT_TRUE(std::regex_match(
      line_of("max_batch ="),
      std::regex("max_batch = 4 +# file:" + std::string(path) + ":2 \\(as mlx.max_batch_size\\)")))
      << line_of("max_batch =");
  EXPECT_TRUE(std::regex_match(line_of("cache_budget ="),
                               std::regex("cache_budget = \"2GiB\" +# default")));
  EXPECT_TRUE(
      std::regex_match(line_of("api_keys ="),
                       std::regex("api_keys = \\[\"\\*\\*\\*\\*\"\\] +# env:SEMANTIC_API_KEY")))
      << line_of("api_keys =");
  EXPECT_FALSE(Contains(out, "sk-secret"));
  for (const auto& s : Sections()) EXPECT_TRUE(Contains(out, "\n[" + s + "]\n")) << s;
}

}  // namespace
}  // namespace semantic::config
