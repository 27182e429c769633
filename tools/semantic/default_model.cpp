// Where the default model lives when --model is not given.
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tools/semantic/commands.h"

namespace semantic::cli {

std::string DefaultModelPath() {
  if (const char* env = std::getenv("SEMANTIC_MODEL"); env && *env) return env;
  const std::string name = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // build/semantic -> <repo>/models/...
    auto candidate = exe.parent_path().parent_path() / name;
    if (std::filesystem::exists(candidate, ec)) return candidate.string();
  }
  return name;
}

}  // namespace semantic::cli
