// Command-line flags for every option: --config FILE, a derived --section-key flag per option and
// the common short forms (-m/--model, --host, -p/--port, -c/--context), added to a CLI11 command.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/load.h"

namespace semantic::config {

class ConfigFlags {
 public:
  // Adds the flags to `cmd`, grouped by section; keep the result until after parsing.
  static std::shared_ptr<ConfigFlags> Add(CLI::App* cmd);

  // After parsing: --config files (else SEMANTIC_CONFIG from `env`), `env`, and the flags given.
  LoadInputs Inputs(EnvList env) const;
  // Load(Inputs(ProcessEnv())).
  Expected<LoadedConfig> Load() const;

 private:
  std::vector<std::string> files_;
  std::vector<std::pair<int, CLI::Option*>> options_;  // option index → its CLI11 option
};

// The flag name used in messages for option `index`: its first long short form, else --section-key.
std::string FlagLabel(int index);

}  // namespace semantic::config
