// Settings: the typed configuration the server reads (no string look-ups, no typos). Fields are
// zero here; their defaults live only in the option table (options.cpp): use Defaults() or Load().
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace semantic::config {

// Enumerations: the declaration's choice list is in the same order as the enumerators.
enum class KvDtype { kF16 = 0, kQ8_0, kQ4_0 };
enum class LogLevel { kDebug = 0, kInfo, kWarn, kError };
enum class LogFormat { kText = 0, kJson };
enum class EvictionPolicy { kLru = 0, kNone };
enum class Device { kCpu = 0, kCuda };

const char* Name(KvDtype v);
const char* Name(LogLevel v);
const char* Name(LogFormat v);
const char* Name(EvictionPolicy v);
const char* Name(Device v);

struct ModelSettings {
  std::string path;         // GGUF file (~ expanded)
  std::string served_name;  // name in /v1/models; empty: file stem
  int context_length{};     // KV positions per sequence
  KvDtype kv_dtype{};
  int block_tokens{};            // tokens per KV block
  int64_t cache_budget{};        // bytes of RAM for KV blocks
  int max_batch{};               // sequences decoded together
  int prefill_chunk{};           // tokens per forward step
  int threads{};                 // 0: all usable cores
  Device device{};               // cuda: models/cuda (docs/cuda.md)
  int default_max_tokens{};      // when a request gives none
  double default_temperature{};  // when a request gives none
  int reasoning_extra_tokens{};  // added to every request's max tokens
};

struct AgentSettings {
  std::string cache_dir;       // on-disk KV store (~ expanded)
  int64_t disk_budget{};       // bytes on disk for KV blocks
  int max_agents_in_memory{};  // 0: bounded by model.cache_budget only
  EvictionPolicy eviction_policy{};
  bool evict_to_disk{};                     // evicted RAM blocks go to disk (else dropped)
  std::chrono::milliseconds session_ttl{};  // 0: sessions never expire
};

struct SchedulerSettings {
  int max_queue{};              // waiting requests before 429/529
  int max_running_per_agent{};  // 0: no limit
  std::chrono::milliseconds batch_window{};  // an idle executor's wait for the rest of a burst
};

struct ServerSettings {
  std::string host;
  int port{};
  std::vector<std::string> cors_origins;         // empty: no CORS headers; "*": any origin
  int64_t max_body{};                            // bytes per request body
  std::chrono::milliseconds request_timeout{};   // 0: none
  int64_t max_header_bytes{};                    // all header names and values of a request
  int max_json_depth{};                          // nesting of a JSON body
  int max_messages{};                            // messages of one chat request
  int max_output_tokens{};                       // ceiling on max_tokens; 0: none
  std::chrono::milliseconds read_timeout{};      // wait for the next request bytes
  std::chrono::milliseconds write_timeout{};     // wait for the client to take response bytes
  std::chrono::milliseconds idle_timeout{};      // keep-alive connection without a request
  std::chrono::milliseconds shutdown_timeout{};  // drain time on SIGTERM
  std::vector<std::string> api_keys;             // empty: no auth
  std::string api_key_file;                      // more keys, one per line
  bool allow_unauthenticated{};                  // non-loopback host without keys
  std::string admin_key;                         // empty: admin API disabled
  int http_threads{};                            // kept ready
  int max_http_threads{};      // 0: http_threads + model.max_batch + scheduler.max_queue
  int rate_limit_per_agent{};  // requests per minute; 0: unlimited
  int rate_limit_per_key{};    // requests per minute per API key; 0: unlimited
  int rate_limit_global{};     // requests per minute; 0: unlimited
};

struct LoggingSettings {
  LogLevel level{};
  LogFormat format{};
  bool log_requests{};
};

struct MetricsSettings {
  bool enabled{};
  bool include_agent_id_label{};
};

struct RegistrySettings {
  std::string profiles_dir;               // config/models/<name>.toml profiles
  std::string models_dir;                 // .gguf files found here (recursively)
  std::chrono::milliseconds swap_timeout{};  // drain time for the old model's requests
  int max_loaded = 1;                        // models resident at once (LRU unload beyond)
  std::chrono::milliseconds load_timeout{};  // wait for an idle model to unload, then 503
};

// [aliases]: model names a client may send, mapped to a served model. The name may hold `*` (any
// run of characters) and `?` (one character): "claude-sonnet-*" = "default". In file order; the
// first match wins; a later file replaces an earlier file's entry for the same name.
using ModelAliases = std::vector<std::pair<std::string, std::string>>;

struct Settings {
  ModelSettings model;
  AgentSettings agent;
  SchedulerSettings scheduler;
  ServerSettings server;
  LoggingSettings logging;
  MetricsSettings metrics;
  RegistrySettings registry;
  ModelAliases aliases;
};

// Every option at its declared default (HOME from the process environment for ~).
Settings Defaults();

}  // namespace semantic::config
