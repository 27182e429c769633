// Configuration loading: precedence flag > env > file > default for several types, provenance,
// agent-memory's names, and errors that name the key and the source.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "config/load.h"

namespace semantic::config {
namespace {

// A TOML file in the temp directory, removed at scope exit.
class TempToml {
 public:
  explicit TempToml(const std::string& text) {
    static std::atomic<int> counter{0};
    path_ =
        (std::filesystem::temp_directory_path() / ("semantic_config_" + std::to_string(getpid()) +
                                                   "_" + std::to_string(counter++) + ".toml"))
            .string();
    std::ofstream(path_) << text;
  }
  ~TempToml() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

int Index(const char* section, const char* key) {
  const int i = FindOption(section, key);
  EXPECT_GE(i, 0);
  return i;
}

std::string OriginOf(const LoadedConfig& c, const char* section, const char* key) {
  return c.origins[Index(section, key)].ToString();
}

LoadedConfig MustLoad(const LoadInputs& in) {
  auto c = Load(in);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : LoadedConfig{};
}

// The error text of a load that must fail.
std::string LoadError(const LoadInputs& in) {
  auto c = Load(in);
  EXPECT_FALSE(c.ok());
  return c.ok() ? "" : c.status().message();
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(ConfigLoad, DefaultsComeFromDeclarations) {
  LoadInputs in;
  in.home = "/home/u";
  LoadedConfig c = MustLoad(in);
  const Settings& s = c.settings;
  EXPECT_EQ(s.model.path, "models/SmolLM2-135M-Instruct.Q4_1.gguf");
  EXPECT_EQ(s.model.context_length, 8192);
  EXPECT_EQ(s.model.kv_dtype, KvDtype::kF16);
  EXPECT_EQ(s.model.block_tokens, 16);
  EXPECT_EQ(s.model.cache_budget, 2ll << 30);
  EXPECT_EQ(s.model.max_batch, 8);
  EXPECT_EQ(s.model.prefill_chunk, 512);
  EXPECT_EQ(s.model.threads, 0);
  EXPECT_EQ(s.agent.cache_dir, "/home/u/.cache/semantic/agents");
  EXPECT_EQ(s.agent.disk_budget, 20ll << 30);
  EXPECT_EQ(s.server.host, "127.0.0.1");
  EXPECT_EQ(s.server.port, 8000);
  EXPECT_TRUE(s.server.cors_origins.empty());
  EXPECT_EQ(s.server.max_body, 16ll << 20);
  EXPECT_TRUE(s.server.api_keys.empty());
  EXPECT_EQ(s.logging.level, LogLevel::kInfo);
  EXPECT_EQ(s.logging.format, LogFormat::kText);
  EXPECT_TRUE(s.metrics.enabled);
  EXPECT_STREQ(Name(s.model.kv_dtype), "f16");
  EXPECT_STREQ(Name(LogLevel::kWarn), "warn");
  for (const auto& o : c.origins) EXPECT_EQ(o.ToString(), "default");
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(Defaults().model.context_length, 8192);
}

// Each case: one option, a value per layer, and the expected field value for each winning layer.
TEST(ConfigLoad, PrecedenceFlagOverEnvOverFileOverDefault) {
  TempToml file(
      "[model]\ncontext_length = 4096\ncache_budget = \"1GiB\"\nkv_dtype = \"q8_0\"\n"
      "[metrics]\nenabled = false\n[server]\ncors_origins = [\"http://file\"]\n"
      "request_timeout = 90\n");
  const EnvList env = {{"SEMANTIC_MODEL__CONTEXT_LENGTH", "2048"},
                       {"SEMANTIC_MODEL__CACHE_BUDGET", "512MiB"},
                       {"SEMANTIC_MODEL__KV_DTYPE", "q4_0"},
                       {"SEMANTIC_METRICS__ENABLED", "yes"},
                       {"SEMANTIC_SERVER__CORS_ORIGINS", "http://env1,http://env2"},
                       {"SEMANTIC_SERVER__REQUEST_TIMEOUT", "2m"}};
  const std::vector<FlagValue> flags = {
      {Index("model", "context_length"), "1024", "--context"},
      {Index("model", "cache_budget"), "256MiB", "--cache-budget"},
      {Index("model", "kv_dtype"), "f16", "--kv-dtype"},
      {Index("metrics", "enabled"), "false", "--metrics-enabled"},
      {Index("server", "cors_origins"), "*", "--cors-origins"},
      {Index("server", "request_timeout"), "5s", "--server-request-timeout"}};
  LoadInputs in;
  in.files = {file.path()};
  in.env = env;
  in.flags = flags;
  LoadedConfig c = MustLoad(in);
  EXPECT_EQ(c.settings.model.context_length, 1024);
  EXPECT_EQ(c.settings.model.cache_budget, 256ll << 20);
  EXPECT_EQ(c.settings.model.kv_dtype, KvDtype::kF16);
  EXPECT_FALSE(c.settings.metrics.enabled);
  EXPECT_EQ(c.settings.server.cors_origins, std::vector<std::string>{"*"});
  EXPECT_EQ(c.settings.server.request_timeout.count(), 5000);
  EXPECT_EQ(OriginOf(c, "model", "context_length"), "flag:--context");
  EXPECT_EQ(OriginOf(c, "server", "host"), "default");

  in.flags.clear();
  c = MustLoad(in);
  EXPECT_EQ(c.settings.model.context_length, 2048);
  EXPECT_EQ(c.settings.model.cache_budget, 512ll << 20);
  EXPECT_EQ(c.settings.model.kv_dtype, KvDtype::kQ4_0);
  EXPECT_TRUE(c.settings.metrics.enabled);
  EXPECT_EQ(c.settings.server.cors_origins,
            (std::vector<std::string>{"http://env1", "http://env2"}));
  EXPECT_EQ(c.settings.server.request_timeout.count(), 120000);
  EXPECT_EQ(OriginOf(c, "model", "context_length"), "env:SEMANTIC_MODEL__CONTEXT_LENGTH");

  in.env.clear();
  c = MustLoad(in);
  EXPECT_EQ(c.settings.model.context_length, 4096);
  EXPECT_EQ(c.settings.model.cache_budget, 1ll << 30);
  EXPECT_EQ(c.settings.model.kv_dtype, KvDtype::kQ8_0);
  EXPECT_FALSE(c.settings.metrics.enabled);
  EXPECT_EQ(c.settings.server.cors_origins, std::vector<std::string>{"http://file"});
  EXPECT_EQ(c.settings.server.request_timeout.count(), 90000);
  EXPECT_EQ(OriginOf(c, "model", "context_length"), "file:" + file.path() + ":2");
  EXPECT_EQ(OriginOf(c, "server", "request_timeout"), "file:" + file.path() + ":9");

  in.files.clear();
  c = MustLoad(in);
  EXPECT_EQ(c.settings.model.context_length, 8192);
  EXPECT_EQ(OriginOf(c, "model", "context_length"), "default");
}

TEST(ConfigLoad, LaterFilesWin) {
  TempToml base("[server]\nport = 9001\nhost = \"0.0.0.0\"\n");
  TempToml profile("[server]\nport = 9002\n");
  LoadInputs in;
  in.files = {base.path(), profile.path()};
  LoadedConfig c = MustLoad(in);
  EXPECT_EQ(c.settings.server.port, 9002);
  EXPECT_EQ(c.settings.server.host, "0.0.0.0");
  EXPECT_EQ(OriginOf(c, "server", "port"), "file:" + profile.path() + ":2");
  EXPECT_EQ(OriginOf(c, "server", "host"), "file:" + base.path() + ":3");
}

TEST(ConfigLoad, AliasesInFileOrderLaterFileReplacesSameName) {
  TempToml base(
      "[aliases]\n\"claude-sonnet-*\" = \"default\"\n\"gpt-4o\" = \"smol\"\n"
      "\"claude-3.5-haiku\" = \"default\"\n");
  TempToml profile("[aliases]\n\"gpt-4o\" = \"other\"\n");
  LoadInputs in;
  in.files = {base.path(), profile.path()};
  LoadedConfig c = MustLoad(in);
  const ModelAliases want = {
      {"claude-sonnet-*", "default"}, {"gpt-4o", "other"}, {"claude-3.5-haiku", "default"}};
  EXPECT_EQ(c.settings.aliases, want);
  EXPECT_TRUE(Defaults().aliases.empty());
}

TEST(ConfigLoad, AliasMustNameAModelAsAString) {
  TempToml bad("[aliases]\n\"gpt-4o\" = 3\n\"x\" = \"\"\n");
  LoadInputs in;
  in.files = {bad.path()};
  const std::string e = LoadError(in);
  EXPECT_TRUE(Contains(e, bad.path() + ":2: aliases.gpt-4o: expected a string")) << e;
  EXPECT_TRUE(Contains(e, bad.path() + ":3: aliases.x: the model name is empty")) << e;
}

TEST(ConfigLoad, AgentMemoryNamesInFiles) {
  TempToml file(
      "[mlx]\nmodel_id = \"other.gguf\"\nmax_context_length = 100000\nmax_batch_size = 2\n"
      "prefill_step_size = 256\nkv_bits = 4\ncache_budget_mb = 8192\nblock_tokens = 256\n"
      "chunked_prefill_enabled = true\n"
      "[agent]\nmax_agents_in_memory = 12\nbatch_window_ms = 10\n"
      "[server]\nlog_level = \"DEBUG\"\n");
  LoadInputs in;
  in.files = {file.path()};
  LoadedConfig c = MustLoad(in);
  const Settings& s = c.settings;
  EXPECT_EQ(s.model.path, "other.gguf");
  EXPECT_EQ(s.model.context_length, 100000);
  EXPECT_EQ(s.model.max_batch, 2);
  EXPECT_EQ(s.model.prefill_chunk, 256);
  EXPECT_EQ(s.model.kv_dtype, KvDtype::kQ4_0);
  EXPECT_EQ(s.model.cache_budget, 8192ll << 20);
  EXPECT_EQ(s.model.block_tokens, 256);
  EXPECT_EQ(s.agent.max_agents_in_memory, 12);
  EXPECT_EQ(s.logging.level, LogLevel::kDebug);
  const Origin& o = c.origins[Index("model", "path")];
  EXPECT_EQ(o.ToString(), "file:" + file.path() + ":2");
  EXPECT_EQ(o.as, "mlx.model_id");
  // Options without effect here are accepted with a warning naming them.
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_TRUE(Contains(c.warnings[0], "model.chunked_prefill_enabled")) << c.warnings[0];
  EXPECT_TRUE(Contains(c.warnings[0], ":9:")) << c.warnings[0];
  EXPECT_TRUE(Contains(c.warnings[1], "agent.batch_window_ms")) << c.warnings[1];
}

TEST(ConfigLoad, AgentMemoryNamesInEnv) {
  // Each spelling of the model id, alone.
  for (const char* var : {"SEMANTIC_MLX__MODEL_ID", "SEMANTIC_MLX_MODEL_ID", "SEMANTIC_MODEL",
                          "SEMANTIC_MODEL__PATH", "SEMANTIC_MODEL_PATH", "SEMANTIC_MODEL__ID"}) {
    LoadInputs in;
    in.env = {{var, "/m/x.gguf"}};
    LoadedConfig c = MustLoad(in);
    EXPECT_EQ(c.settings.model.path, "/m/x.gguf") << var;
    EXPECT_EQ(OriginOf(c, "model", "path"), std::string("env:") + var);
  }
  LoadInputs in;
  in.env = {{"SEMANTIC_MLX_KV_BITS", "8"},
            {"SEMANTIC_MLX_CACHE_BUDGET_MB", "4096"},
            {"SEMANTIC_MLX_MAX_BATCH_SIZE", "3"},
            {"SEMANTIC_SERVER_PORT", "8123"},
            {"SEMANTIC_SERVER_LOG_LEVEL", "WARN"},
            {"SEMANTIC_AGENT_CACHE_DIR", "~/caches"},
            {"SEMANTIC_ADMIN_KEY", "s3cret"},
            {"SEMANTIC_API_KEY", "k1,k2"},
            {"SEMANTIC_MLX_SCHEDULER_ENABLED", "true"},
            {"SEMANTIC_SOURCE_DIR", "/src"},  // other tools' variables are left alone
            {"SEMANTIC_KERNELS", "ref"},
            {"HOME", "/home/env"}};
  LoadedConfig c = MustLoad(in);
  EXPECT_EQ(c.settings.model.kv_dtype, KvDtype::kQ8_0);
  EXPECT_EQ(c.settings.model.cache_budget, 4096ll << 20);
  EXPECT_EQ(c.settings.model.max_batch, 3);
  EXPECT_EQ(c.settings.server.port, 8123);
  EXPECT_EQ(c.settings.logging.level, LogLevel::kWarn);
  EXPECT_EQ(c.settings.agent.cache_dir, "/home/env/caches");
  EXPECT_EQ(c.settings.server.admin_key, "s3cret");
  EXPECT_EQ(c.settings.server.api_keys, (std::vector<std::string>{"k1", "k2"}));
  EXPECT_EQ(c.origins[Index("model", "kv_dtype")].as, "mlx.kv_bits");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_TRUE(Contains(c.warnings[0], "env:SEMANTIC_MLX_SCHEDULER_ENABLED")) << c.warnings[0];
}

TEST(ConfigLoad, SameOptionTwiceInOneSource) {
  LoadInputs in;
  in.env = {{"SEMANTIC_MLX_MODEL_ID", "a.gguf"}, {"SEMANTIC_MODEL__PATH", "a.gguf"}};
  EXPECT_EQ(MustLoad(in).settings.model.path, "a.gguf");  // agreeing spellings are fine
  in.env = {{"SEMANTIC_MLX_MODEL_ID", "a.gguf"}, {"SEMANTIC_MODEL__PATH", "b.gguf"}};
  const std::string err = LoadError(in);
  EXPECT_TRUE(Contains(err, "model.path")) << err;
  EXPECT_TRUE(Contains(err, "conflicts with env:SEMANTIC_MLX_MODEL_ID")) << err;
  TempToml file("[model]\npath = \"a.gguf\"\n[mlx]\nmodel_id = \"b.gguf\"\n");
  LoadInputs f;
  f.files = {file.path()};
  const std::string ferr = LoadError(f);
  EXPECT_TRUE(Contains(ferr, "file:" + file.path() +
                                 ":4: model.path (as mlx.model_id): "
                                 "conflicts with file:" +
                                 file.path() + ":2"))
      << ferr;
}

TEST(ConfigLoad, UnknownKeyInFileNamesFileLineAndSuggests) {
  TempToml file("[model]\n\ncontext_lenght = 4096\n");
  LoadInputs in;
  in.files = {file.path()};
  EXPECT_EQ(LoadError(in), "file:" + file.path() +
                               ":3: unknown key 'model.context_lenght' (did you mean "
                               "model.context_length?)");
}

TEST(ConfigLoad, UnknownSectionAndStrayKeys) {
  TempToml file("top = 1\n[health]\nstartup_timeout = 60\n[model]\nsub = { a = 1 }\n");
  LoadInputs in;
  in.files = {file.path()};
  const std::string err = LoadError(in);
  EXPECT_TRUE(Contains(err, "file:" + file.path() + ":1: key 'top' must be inside a section"))
      << err;
  EXPECT_TRUE(Contains(err, "file:" + file.path() + ":2: unknown section [health]")) << err;
  EXPECT_TRUE(Contains(err, "file:" + file.path() + ":5: unknown key 'model.sub'")) << err;
  EXPECT_FALSE(Contains(err, "startup_timeout")) << "reported once, as its section";
}

TEST(ConfigLoad, BadEnumInEnv) {
  LoadInputs in;
  in.env = {{"SEMANTIC_MODEL__KV_DTYPE", "q5"}};
  EXPECT_EQ(LoadError(in),
            "env:SEMANTIC_MODEL__KV_DTYPE: model.kv_dtype: 'q5' is not one of f16, q8_0, q4_0");
  in.env = {{"SEMANTIC_MLX_KV_BITS", "3"}};
  EXPECT_EQ(LoadError(in),
            "env:SEMANTIC_MLX_KV_BITS: model.kv_dtype (as mlx.kv_bits): '3' is "
            "not a kv_bits value (4, 8, 16 or none)");
}

TEST(ConfigLoad, OutOfRangeFlag) {
  LoadInputs in;
  in.flags = {{Index("server", "port"), "70000", "--port"}};
  EXPECT_EQ(LoadError(in), "flag:--port: server.port: 70000 is out of range [1, 65535]");
  in.flags = {{Index("model", "default_temperature"), "2.5", "--model-default-temperature"}};
  EXPECT_EQ(LoadError(in),
            "flag:--model-default-temperature: model.default_temperature: 2.5 is "
            "out of range [0.0, 2.0]");
}

TEST(ConfigLoad, BadSizeUnit) {
  TempToml file("[model]\ncache_budget = \"2GX\"\n");
  LoadInputs in;
  in.files = {file.path()};
  EXPECT_EQ(LoadError(in), "file:" + file.path() +
                               ":2: model.cache_budget: '2GX' has an unknown "
                               "size unit 'GX' (use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)");
  LoadInputs e;
  e.env = {{"SEMANTIC_AGENT__DISK_BUDGET", "10 parsecs"}};
  EXPECT_TRUE(Contains(LoadError(e), "env:SEMANTIC_AGENT__DISK_BUDGET: agent.disk_budget: "));
}

TEST(ConfigLoad, WrongTomlType) {
  TempToml file(
      "[model]\ncontext_length = \"8192\"\n[metrics]\nenabled = 1\n[server]\nport = 80.5\n"
      "cors_origins = [1, 2]\nhost = 1979-05-27\n");
  LoadInputs in;
  in.files = {file.path()};
  const std::string p = "file:" + file.path();
  EXPECT_EQ(LoadError(in),
            p + ":2: model.context_length: expected an integer, got a string\n" + p +
                ":4: metrics.enabled: expected a boolean, got an integer\n" + p +
                ":6: server.port: expected an integer, got a float\n" + p +
                ":7: server.cors_origins: expected a list, got an array holding non-strings\n" + p +
                ":8: server.host: expected a string, got a date");
}

TEST(ConfigLoad, SyntaxErrorAndMissingFile) {
  TempToml file("[model]\ncontext_length = = 3\n");
  LoadInputs in;
  in.files = {file.path()};
  const std::string err = LoadError(in);
  EXPECT_TRUE(Contains(err, "file:" + file.path() + ":2:")) << err;
  EXPECT_TRUE(Contains(err, "TOML syntax error")) << err;
  in.files = {"/nonexistent/semantic.toml"};
  EXPECT_TRUE(Contains(LoadError(in), "file:/nonexistent/semantic.toml: cannot read"));
}

TEST(ConfigLoad, UnknownEnvNames) {
  LoadInputs in;
  in.env = {{"SEMANTIC_SERVER__PROT", "1"}};
  EXPECT_EQ(LoadError(in),
            "env:SEMANTIC_SERVER__PROT: unknown key 'server.prot' (did you mean server.port?)");
  in.env = {{"SEMANTIC_HEALTH__STARTUP_TIMEOUT", "1"}};
  EXPECT_TRUE(Contains(LoadError(in), "env:SEMANTIC_HEALTH__STARTUP_TIMEOUT: unknown section"));
  // The flat form is shared with other tools: a warning, not an error.
  in.env = {{"SEMANTIC_SERVER_URL", "http://x"}};
  LoadedConfig c = MustLoad(in);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_TRUE(Contains(c.warnings[0], "env:SEMANTIC_SERVER_URL: unknown key 'server.url'"));
}

TEST(ConfigLoad, AllErrorsReportedTogether) {
  TempToml file("[server]\nport = 0\n");
  LoadInputs in;
  in.files = {file.path()};
  in.env = {{"SEMANTIC_LOGGING__LEVEL", "loud"}};
  in.flags = {{Index("model", "threads"), "-1", "--threads"}};
  const std::string err = LoadError(in);
  EXPECT_TRUE(Contains(err, "server.port")) << err;
  EXPECT_TRUE(Contains(err, "env:SEMANTIC_LOGGING__LEVEL: logging.level")) << err;
  EXPECT_TRUE(Contains(err, "flag:--threads: model.threads")) << err;
}

}  // namespace
}  // namespace semantic::config
