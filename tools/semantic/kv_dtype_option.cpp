// The --kv-dtype flag for the commands that open a model directly (bench, generate, perplexity).
#include <map>
#include <string>

#include "tools/semantic/commands.h"

namespace semantic::cli {

void AddKvDtypeOption(CLI::App* cmd, kernels::KvDtype* out) {
  const std::map<std::string, kernels::KvDtype> names{{"f16", kernels::KvDtype::kF16},
                                                      {"q8_0", kernels::KvDtype::kQ8_0},
                                                      {"q4_0", kernels::KvDtype::kQ4_0}};
  cmd->add_option("--kv-dtype", *out, "KV cache element type: f16, q8_0 or q4_0")
      // The validator's own description would print the enum values, which have no text.
      ->transform(CLI::CheckedTransformer(names, CLI::ignore_case).description("{f16,q8_0,q4_0}"))
      ->type_name("TEXT")
      ->default_str("f16");
}

}  // namespace semantic::cli
