// Load(): builds Settings from defaults < TOML files < environment < flags, remembering where each
// value came from. Every problem names the option and its source; all problems are reported at
// once.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "config/option.h"
#include "config/settings.h"

namespace semantic::config {

struct Origin {
  enum class Kind { kDefault, kFile, kEnv, kFlag };
  Kind kind = Kind::kDefault;
  std::string where;  // kFile: "PATH:LINE"; kEnv: variable name; kFlag: "--flag"
  std::string as;     // the alias or section alias used ("mlx.model_id"); empty: primary name
  // "default", "file:PATH:LINE", "env:NAME" or "flag:--name".
  std::string ToString() const;
};

// One option given on the command line (see flags.h).
struct FlagValue {
  int option = -1;   // index into Options()
  std::string text;  // as typed
  std::string flag;  // the flag's name for messages ("--server-port")
};

using EnvList = std::vector<std::pair<std::string, std::string>>;

struct LoadInputs {
  std::vector<std::string> files;  // TOML files in order; later files win
  EnvList env;                     // NAME, VALUE pairs; ProcessEnv() for the real environment
  std::vector<FlagValue> flags;
  std::string home;  // replaces ~; empty: HOME from `env`, else the process's
};

struct LoadedConfig {
  Settings settings;
  std::vector<Origin> origins;  // one per Options() entry
  std::vector<std::string>
      warnings;  // compatibility options without effect, unknown flat env names
};

// Never throws. On failure the message lists every problem, one per line, each as
// "<source>: <section.key>: <problem>".
Expected<LoadedConfig> Load(const LoadInputs& inputs);

// The process environment as NAME, VALUE pairs.
EnvList ProcessEnv();
// Config files named by SEMANTIC_CONFIG (comma-separated) in `env`; empty if unset.
std::vector<std::string> ConfigFilesFromEnv(const EnvList& env);

}  // namespace semantic::config
