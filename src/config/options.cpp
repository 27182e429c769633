// The option table: every configuration option declared once (section, key, type, default, help,
// range or choices, aliases incl. agent-memory's names, flags) and bound to its Settings field.
#include <cctype>
#include <map>
#include <mutex>

#include "config/option.h"

namespace semantic::config {
namespace {

// Fluent builder so each table row reads as one declaration.
struct Decl {
  OptionDecl d;
  Decl(const char* section, const char* key, OptionType type, const char* def, const char* help,
       Binding binding = {}) {
    d.section = section;
    d.key = key;
    d.type = type;
    d.default_text = def;
    d.help = help;
    d.binding = binding;
  }
  Decl&& Range(double lo, double hi) && {
    d.has_range = true;
    d.min = lo;
    d.max = hi;
    return std::move(*this);
  }
  Decl&& Choices(std::vector<std::string> c) && {
    d.choices = std::move(c);
    return std::move(*this);
  }
  Decl&& Alias(const char* name, AliasValue v = AliasValue::kSame) && {
    d.aliases.push_back({name, v});
    return std::move(*this);
  }
  Decl&& Env(const char* name) && {
    d.env_aliases.push_back(name);
    return std::move(*this);
  }
  Decl&& Flags(std::vector<std::string> f) && {
    d.short_flags = std::move(f);
    return std::move(*this);
  }
  Decl&& Secret() && {
    d.secret = true;
    return std::move(*this);
  }
  Decl&& Live() && {
    d.live = true;
    return std::move(*this);
  }
  Decl&& Check(Status (*fn)(const Value&)) && {
    d.check = fn;
    return std::move(*this);
  }
};

constexpr double kKiB = 1024.0, kMiB = kKiB * 1024, kGiB = kMiB * 1024, kTiB = kGiB * 1024;
constexpr double kSecond = 1000.0, kDay = 86400 * kSecond;
using T = OptionType;

Status CheckOrigins(const Value& v) {
  for (const auto& o : std::get<std::vector<std::string>>(v)) {
    if (o != "*" && o.rfind("http://", 0) != 0 && o.rfind("https://", 0) != 0) {
      return InvalidArgument("origin '" + o + "' must be \"*\" or start with http:// or https://");
    }
  }
  return Status::Ok();
}

Status CheckNonEmpty(const Value& v) {
  if (std::get<std::string>(v).empty()) return InvalidArgument("must not be empty");
  return Status::Ok();
}

std::vector<OptionDecl> BuildTable() {
  std::vector<OptionDecl> t;
  auto add = [&t](Decl&& d) { t.push_back(std::move(d.d)); };
  // Compatibility names that have no effect here: accepted with a warning, never an error.
  auto ignored = [&t](const char* section, const char* key, const char* why) {
    t.push_back(Decl(section, key, T::kIgnored, "", why).d);
  };

  // [model] (alias [mlx]): what is served and how the engine batches it.
  add(Decl("model", "path", T::kPath, "models/SmolLM2-135M-Instruct.Q4_1.gguf",
           "GGUF model file to serve.", Bind<&Settings::model, &ModelSettings::path>())
          .Alias("model.model_id")
          .Alias("model.id")
          .Env("SEMANTIC_MODEL")
          .Flags({"-m", "--model"})
          .Check(CheckNonEmpty));
  add(Decl("model", "served_name", T::kString, "",
           "Model name shown by /v1/models and accepted in requests; empty: the file name "
           "without .gguf.",
           Bind<&Settings::model, &ModelSettings::served_name>()));
  add(Decl("model", "context_length", T::kInt, "8192",
           "KV positions per sequence (prompt plus output). Beyond the model's trained context "
           "requests are served with a warning at start-up: output quality degrades there.",
           Bind<&Settings::model, &ModelSettings::context_length>())
          .Range(128, 1 << 20)
          .Alias("model.max_context_length")
          .Flags({"-c", "--context"}));
  add(Decl("model", "kv_dtype", T::kEnum, "f16",
           "Element type of KV blocks, in RAM and on disk: f16 = 2 bytes a value; q8_0 = 1.06 "
           "(SmolLM2 perplexity +0.2%, faster decode at long context); q4_0 = 0.56 (+4%). The "
           "block types need head_dim % 32 == 0; see docs/kv-dtypes.md.",
           Bind<&Settings::model, &ModelSettings::kv_dtype>())
          .Choices({"f16", "q8_0", "q4_0"})
          .Alias("model.kv_bits", AliasValue::kKvBits)
          .Flags({"--kv-dtype"}));
  add(Decl("model", "block_tokens", T::kInt, "16",
           "Tokens per KV block: the unit of caching, sharing between agents and eviction.",
           Bind<&Settings::model, &ModelSettings::block_tokens>())
          .Range(1, 1024)
          .Flags({"--block-tokens"}));
  add(Decl("model", "cache_budget", T::kSize, "2GiB",
           "RAM for the KV blocks of all agents together; beyond it cold blocks move to disk.",
           Bind<&Settings::model, &ModelSettings::cache_budget>())
          .Range(kMiB, 64 * kTiB)
          .Alias("model.cache_budget_mb", AliasValue::kMebibytes)
          .Flags({"--cache-budget"}));
  add(Decl("model", "max_batch", T::kInt, "8", "Sequences decoded together in one step.",
           Bind<&Settings::model, &ModelSettings::max_batch>())
          .Range(1, 256)
          .Alias("model.max_batch_size")
          .Flags({"--max-batch"}));
  add(Decl("model", "prefill_chunk", T::kInt, "512",
           "Token budget of one forward step: the decode tokens plus a chunk of waiting prompts.",
           Bind<&Settings::model, &ModelSettings::prefill_chunk>())
          .Range(16, 1 << 16)
          .Alias("model.prefill_step_size")
          .Flags({"--prefill-chunk"}));
  add(Decl("model", "threads", T::kInt, "0", "Compute threads; 0: all usable cores.",
           Bind<&Settings::model, &ModelSettings::threads>())
          .Range(0, 4096)
          .Flags({"-t", "--threads"}));
  add(Decl("model", "device", T::kEnum, "cpu",
           "Where the model runs. cuda needs a build with SEMANTIC_CUDA and a GPU, and covers "
           "llama, qwen2 and qwen3 with Q4_0/Q4_1/Q8_0/F16 weights and f16 KV (docs/cuda.md).",
           Bind<&Settings::model, &ModelSettings::device>())
          .Choices({"cpu", "cuda"})
          .Flags({"--device"}));
  add(Decl("model", "default_max_tokens", T::kInt, "0",
           "Output token limit of a request that sets none; 0: until the context is full.",
           Bind<&Settings::model, &ModelSettings::default_max_tokens>())
          .Range(0, 1 << 20));
  add(Decl("model", "default_temperature", T::kFloat, "1.0",
           "Sampling temperature of a request that sets none.",
           Bind<&Settings::model, &ModelSettings::default_temperature>())
          .Range(0, 2));
  add(Decl("model", "reasoning_extra_tokens", T::kInt, "0",
           "Output tokens added to every request's max_tokens (and to "
           "model.default_max_tokens), for models that think before they answer: the reasoning "
           "does not eat the answer's budget. A limit of 0 stays 0; the sum is clamped to the "
           "context.",
           Bind<&Settings::model, &ModelSettings::reasoning_extra_tokens>())
          .Range(0, 1 << 20));
  ignored("model", "chunked_prefill_enabled", "prefill is always chunked by model.prefill_chunk");
  ignored("model", "chunked_prefill_threshold", "prefill is always chunked by model.prefill_chunk");
  ignored("model", "chunked_prefill_min_chunk", "prefill is always chunked by model.prefill_chunk");
  ignored("model", "chunked_prefill_max_chunk", "prefill is always chunked by model.prefill_chunk");
  ignored("model", "kv_group_size", "q8_0 and q4_0 KV blocks use fixed groups of 32");
  ignored("model", "scheduler_enabled", "the continuous-batching scheduler is always on");
  ignored("model", "scheduler_interleave_threshold", "prefill chunks and decode share every step");

  // [agent]: durable per-agent sessions and the disk tier.
  add(Decl("agent", "cache_dir", T::kPath, "~/.cache/semantic/agents",
           "Directory of the on-disk KV store (agent sessions and their blocks).",
           Bind<&Settings::agent, &AgentSettings::cache_dir>())
          .Flags({"--cache-dir"})
          .Check(CheckNonEmpty));
  add(Decl("agent", "disk_budget", T::kSize, "20GiB",
           "Disk space for KV blocks; beyond it the coldest blocks are deleted. 0: no disk tier.",
           Bind<&Settings::agent, &AgentSettings::disk_budget>())
          .Range(0, 1024 * kTiB)
          .Flags({"--disk-budget"}));
  add(Decl("agent", "max_agents_in_memory", T::kInt, "0",
           "Agent sessions whose blocks stay in RAM; beyond it, when a request ends, the least "
           "recently used agents' blocks leave RAM (to the disk tier, or dropped without one). "
           "Pinned or cache_control-held sessions neither count nor leave; running ones stay "
           "until they end. 0: limited by model.cache_budget only.",
           Bind<&Settings::agent, &AgentSettings::max_agents_in_memory>())
          .Range(0, 1000000));
  add(Decl("agent", "eviction_policy", T::kEnum, "lru",
           "lru: least recently used unpinned blocks leave RAM first when blocks are needed; "
           "none: cached blocks are never evicted for new work (only agent.max_agents_in_memory, "
           "session TTLs and the agent API remove them), and a request that needs more RAM than "
           "is free fails with 503.",
           Bind<&Settings::agent, &AgentSettings::eviction_policy>())
          .Choices({"lru", "none"}));
  add(Decl("agent", "evict_to_disk", T::kBool, "true",
           "Blocks evicted from RAM are written to the disk tier (false: dropped).",
           Bind<&Settings::agent, &AgentSettings::evict_to_disk>()));
  add(Decl("agent", "session_ttl", T::kDuration, "0s",
           "Idle time after which an unpinned agent session is deleted; 0: never.",
           Bind<&Settings::agent, &AgentSettings::session_ttl>())
          .Range(0, 3650 * kDay));
  ignored("agent", "batch_window_ms",
          "requests join the running batch at the next step; see scheduler.batch_window");
  ignored("agent", "lru_eviction_enabled", "use agent.eviction_policy");
  ignored("agent", "validate_model_tag", "caches are always checked against the model fingerprint");

  // [scheduler]: admission and backpressure (batch size and step budget are model.max_batch and
  // model.prefill_chunk).
  add(Decl("scheduler", "max_queue", T::kInt, "256",
           "Requests waiting to start; beyond it new requests get 429 (OpenAI) / 529 (Anthropic) "
           "with Retry-After. A reload keeps the connection-thread limit derived from it at "
           "start-up (server.max_http_threads = 0).",
           Bind<&Settings::scheduler, &SchedulerSettings::max_queue>())
          .Range(1, 1 << 20)
          .Flags({"--max-queue"})
          .Live());
  add(Decl("scheduler", "max_running_per_agent", T::kInt, "0",
           "Requests of one agent running at once (others of that agent wait; other agents go "
           "ahead); 0: no limit.",
           Bind<&Settings::scheduler, &SchedulerSettings::max_running_per_agent>())
          .Range(0, 4096)
          .Flags({"--max-running-per-agent"}));
  add(Decl("scheduler", "batch_window", T::kDuration, "10ms",
           "Longest a request that finds the server idle waits for others sent with it (the wait "
           "ends after 2 ms without a new one), so requests sent together are prefilled together "
           "and decode as one batch; 0: no wait.",
           Bind<&Settings::scheduler, &SchedulerSettings::batch_window>())
          .Range(0, kSecond));

  // [server]: HTTP transport, limits and authentication.
  add(Decl("server", "host", T::kString, "127.0.0.1",
           "Address to bind; 0.0.0.0 listens on every interface.",
           Bind<&Settings::server, &ServerSettings::host>())
          .Flags({"--host"})
          .Check(CheckNonEmpty));
  add(Decl("server", "port", T::kInt, "8000", "TCP port to listen on.",
           Bind<&Settings::server, &ServerSettings::port>())
          .Range(1, 65535)
          .Flags({"-p", "--port"}));
  add(Decl("server", "cors_origins", T::kList, "",
           "Origins allowed by CORS, comma-separated; \"*\" allows any; empty: no CORS headers. "
           "A listed origin is echoed in Access-Control-Allow-Origin; preflight OPTIONS requests "
           "are answered without an API key.",
           Bind<&Settings::server, &ServerSettings::cors_origins>())
          .Check(CheckOrigins)
          .Flags({"--cors-origins"})
          .Live());
  add(Decl("server", "max_body", T::kSize, "16MiB", "Largest accepted request body.",
           Bind<&Settings::server, &ServerSettings::max_body>())
          .Range(kKiB, kGiB)
          .Flags({"--max-body"}));
  add(Decl("server", "request_timeout", T::kDuration, "10m",
           "Longest a request may run before it is cancelled; 0: no limit.",
           Bind<&Settings::server, &ServerSettings::request_timeout>())
          .Range(0, kDay)
          .Live());
  add(Decl("server", "max_header_bytes", T::kSize, "32KiB",
           "Largest total size of a request's headers (names and values); beyond it 431. A "
           "single header line over 8 KiB gets 400 and a request line over 8 KiB 414 (limits "
           "built into the HTTP library).",
           Bind<&Settings::server, &ServerSettings::max_header_bytes>())
          .Range(kKiB, 64 * kMiB)
          .Flags({"--max-header-bytes"}));
  add(Decl("server", "max_json_depth", T::kInt, "64",
           "Deepest nesting of arrays and objects in a JSON request body; deeper gets 400 before "
           "the body is parsed.",
           Bind<&Settings::server, &ServerSettings::max_json_depth>())
          .Range(2, 10000));
  add(Decl("server", "max_messages", T::kInt, "10000",
           "Most messages in one chat request (/v1/chat/completions, /v1/messages, "
           "/v1/messages/count_tokens); more gets 400 naming `messages`.",
           Bind<&Settings::server, &ServerSettings::max_messages>())
          .Range(1, 1 << 24));
  add(Decl("server", "max_output_tokens", T::kInt, "0",
           "Ceiling on a request's max_tokens (max_completion_tokens): a request asking for more "
           "gets 400 naming the field and this limit; one that sets none is limited to it. 0: "
           "the context left is the only ceiling.",
           Bind<&Settings::server, &ServerSettings::max_output_tokens>())
          .Range(0, 1 << 24)
          .Flags({"--max-output-tokens"}));
  add(Decl("server", "read_timeout", T::kDuration, "5s",
           "Longest wait for the next bytes of a request being received; a body that stalls "
           "longer gets 408, a stalled request line or header closes the connection.",
           Bind<&Settings::server, &ServerSettings::read_timeout>())
          .Range(10, 3600 * kSecond));
  add(Decl("server", "write_timeout", T::kDuration, "5s",
           "Longest wait for a client to accept response bytes (a stream to a client that stops "
           "reading is cancelled after it).",
           Bind<&Settings::server, &ServerSettings::write_timeout>())
          .Range(10, 3600 * kSecond));
  add(Decl("server", "idle_timeout", T::kDuration, "5s",
           "An open connection without a request in progress (keep-alive, or connected and "
           "silent) is closed after this long; whole seconds, at least 1.",
           Bind<&Settings::server, &ServerSettings::idle_timeout>())
          .Range(kSecond, 3600 * kSecond));
  add(Decl("server", "shutdown_timeout", T::kDuration, "30s",
           "On SIGINT/SIGTERM, time given to running requests before caches are flushed and the "
           "server exits; meanwhile new requests get 503 and /health/ready reports draining. "
           "Requests still running then are cancelled; open client connections (idle "
           "keep-alive ones too) are closed at once after that, without waiting for idle_timeout.",
           Bind<&Settings::server, &ServerSettings::shutdown_timeout>())
          .Range(0, 3600 * kSecond));
  add(Decl("server", "api_keys", T::kList, "",
           "Accepted client keys, comma-separated, sent as Authorization: Bearer KEY, x-api-key "
           "or anthropic-api-key (compared in constant time); empty (and no api_key_file): no "
           "authentication. /health routes and the /ui page are always open; /admin routes need "
           "admin_key.",
           Bind<&Settings::server, &ServerSettings::api_keys>())
          .Secret()
          .Env("SEMANTIC_API_KEYS")
          .Env("SEMANTIC_API_KEY")
          .Flags({"--api-keys"})
          .Live());
  add(Decl("server", "api_key_file", T::kPath, "",
           "File of accepted client keys, one per line (blank lines and # comments ignored), "
           "added to api_keys; read at start-up and again on every SIGHUP.",
           Bind<&Settings::server, &ServerSettings::api_key_file>())
          .Flags({"--api-key-file"})
          .Live());
  add(Decl("server", "allow_unauthenticated", T::kBool, "false",
           "Serve a non-loopback host without any API key. Without it, semantic refuses to start "
           "on such an address unless keys are configured.",
           Bind<&Settings::server, &ServerSettings::allow_unauthenticated>())
          .Flags({"--allow-unauthenticated"}));
  add(Decl("server", "admin_key", T::kString, "",
           "Key for the /admin API (header X-Admin-Key or Bearer); empty: /admin is disabled.",
           Bind<&Settings::server, &ServerSettings::admin_key>())
          .Secret()
          .Env("SEMANTIC_ADMIN_KEY")
          .Live());
  add(Decl("server", "http_threads", T::kInt, "8",
           "Threads kept ready to serve HTTP connections; more start while all are busy, up to "
           "server.max_http_threads.",
           Bind<&Settings::server, &ServerSettings::http_threads>())
          .Range(1, 1024));
  add(Decl("server", "max_http_threads", T::kInt, "0",
           "Most threads serving HTTP connections (each streaming request and each idle "
           "keep-alive connection holds one; beyond it a new connection waits for a free "
           "thread); 0: http_threads + model.max_batch + scheduler.max_queue.",
           Bind<&Settings::server, &ServerSettings::max_http_threads>())
          .Range(0, 65536));
  add(Decl("server", "rate_limit_per_agent", T::kInt, "0",
           "Generating requests per minute per agent (a bucket of a minute's worth, refilled "
           "continuously; beyond it 429 with Retry-After); 0: unlimited.",
           Bind<&Settings::server, &ServerSettings::rate_limit_per_agent>())
          .Range(0, 1000000)
          .Live());
  add(Decl("server", "rate_limit_per_key", T::kInt, "0",
           "Generating requests per minute per API key (the key that authenticated the request; "
           "same bucket rule; requests without a key are not counted); 0: unlimited.",
           Bind<&Settings::server, &ServerSettings::rate_limit_per_key>())
          .Range(0, 100000000)
          .Live());
  add(Decl("server", "rate_limit_global", T::kInt, "0",
           "Generating requests per minute for the whole server (same bucket rule); 0: "
           "unlimited.",
           Bind<&Settings::server, &ServerSettings::rate_limit_global>())
          .Range(0, 100000000)
          .Live());
  ignored("server", "workers", "one process serves all requests; see server.http_threads");
  ignored("server", "allow_remote", "choose the interface with server.host");

  // [logging]
  add(Decl("logging", "level", T::kEnum, "info", "Least severe message written.",
           Bind<&Settings::logging, &LoggingSettings::level>())
          .Choices({"debug", "info", "warn", "error"})
          .Alias("server.log_level")
          .Env("SEMANTIC_LOG_LEVEL")
          .Flags({"-l", "--log-level"})
          .Live());
  add(Decl("logging", "format", T::kEnum, "text",
           "text: one readable line; json: one object a line {ts, level, msg, request_id} "
           "(request_id while serving an HTTP request).",
           Bind<&Settings::logging, &LoggingSettings::format>())
          .Choices({"text", "json"})
          .Flags({"--log-format"})
          .Live());
  add(Decl("logging", "log_requests", T::kBool, "true",
           "One info line per HTTP request (method, path, status, duration, agent id, request "
           "id); false: the line is written at debug level.",
           Bind<&Settings::logging, &LoggingSettings::log_requests>())
          .Live());

  // [metrics]
  add(Decl("metrics", "enabled", T::kBool, "true",
           "Serve Prometheus metrics at /metrics; false: /metrics answers 404 and is not listed.",
           Bind<&Settings::metrics, &MetricsSettings::enabled>())
          .Live());
  add(Decl("metrics", "include_agent_id_label", T::kBool, "false",
           "Add per-agent series labelled agent_id (requests, prompt tokens cached/computed) for "
           "the 100 most recently used agent sessions.",
           Bind<&Settings::metrics, &MetricsSettings::include_agent_id_label>())
          .Live());
  ignored("metrics", "port", "metrics are served on server.port at /metrics");

  // [registry]: the models a swap (POST /admin/models/swap) and `semantic models` can name.
  add(Decl("registry", "profiles_dir", T::kPath, "config/models",
           "Folder of model profiles: one TOML file per model holding [model] options (path, "
           "served_name, context_length, kv_dtype, default_temperature …); the model's id is "
           "its served_name, else the file name without .toml. See docs/model-hot-swap.md.",
           Bind<&Settings::registry, &RegistrySettings::profiles_dir>()));
  add(Decl("registry", "models_dir", T::kPath, "models",
           "Folder searched (with its subfolders) for .gguf files, each available by its file "
           "name without .gguf.",
           Bind<&Settings::registry, &RegistrySettings::models_dir>()));
  add(Decl("registry", "swap_timeout", T::kDuration, "30s",
           "How long a swap lets the old model's running requests finish before cancelling "
           "them, when the request gives no timeout_seconds.",
           Bind<&Settings::registry, &RegistrySettings::swap_timeout>())
          .Range(0, 3600 * kSecond));
  add(Decl("registry", "max_loaded", T::kInt, "1",
           "Models resident at once. 1: one model is served and a request naming another gets "
           "404 (swap first). More: a request naming a registry model that is not loaded loads "
           "it beside the others; beyond this many, the least recently used idle model (never "
           "the default) is unloaded, its caches written to disk. Each resident model has its "
           "own weights and KV pool (model.cache_budget each). See docs/model-hot-swap.md.",
           Bind<&Settings::registry, &RegistrySettings::max_loaded>())
          .Range(1, 64));
  add(Decl("registry", "load_timeout", T::kDuration, "60s",
           "With max_loaded > 1: how long a request for a model that is not loaded waits for a "
           "resident model to become idle (so it can be unloaded) before answering 503 with "
           "Retry-After.",
           Bind<&Settings::registry, &RegistrySettings::load_timeout>())
          .Range(0, 3600 * kSecond));
  return t;
}

struct NameIndex {
  std::map<std::string, std::pair<int, const Alias*>, std::less<>> by_name;
};

const NameIndex& Index() {
  static const NameIndex* index = [] {
    auto* idx = new NameIndex;
    const auto& opts = Options();
    for (size_t i = 0; i < opts.size(); ++i) {
      idx->by_name[opts[i].Name()] = {static_cast<int>(i), nullptr};
      for (const auto& a : opts[i].aliases) idx->by_name[a.name] = {static_cast<int>(i), &a};
    }
    return idx;
  }();
  return *index;
}

}  // namespace

const char* TypeName(OptionType type) {
  switch (type) {
    case OptionType::kString:
      return "string";
    case OptionType::kPath:
      return "path";
    case OptionType::kInt:
      return "integer";
    case OptionType::kFloat:
      return "number";
    case OptionType::kBool:
      return "boolean";
    case OptionType::kEnum:
      return "enum";
    case OptionType::kSize:
      return "size";
    case OptionType::kDuration:
      return "duration";
    case OptionType::kList:
      return "list";
    case OptionType::kIgnored:
      return "ignored";
  }
  return "?";
}

std::string OptionDecl::EnvName() const {
  std::string out = "SEMANTIC_";
  for (char c : section + "__" + key) out += static_cast<char>(std::toupper(c));
  return out;
}

std::string OptionDecl::FlagName() const {
  std::string out = "--" + section + "-" + key;
  for (char& c : out) c = c == '_' ? '-' : c;
  return out;
}

const std::vector<OptionDecl>& Options() {
  static const std::vector<OptionDecl>* table = new std::vector<OptionDecl>(BuildTable());
  return *table;
}

const std::vector<std::string>& Sections() {
  static const std::vector<std::string> kSections = {"model", "agent", "scheduler", "server",
                                                     "logging",
                                                     "metrics",   "registry"};
  return kSections;
}

std::string_view SectionForAlias(std::string_view name) {
  if (name == "mlx") return "model";
  if (name == "security") return "server";  // [security] api_keys, admin_key, ...
  return {};
}

int FindOption(std::string_view section, std::string_view key, const Alias** via) {
  std::string_view canonical = SectionForAlias(section);
  std::string name = std::string(canonical.empty() ? section : canonical) + "." + std::string(key);
  const auto& idx = Index().by_name;
  auto it = idx.find(name);
  if (it == idx.end()) return -1;
  if (via) *via = it->second.second;
  return it->second.first;
}

}  // namespace semantic::config
