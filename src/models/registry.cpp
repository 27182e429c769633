// Maps general.architecture to a model implementation.
#include <string>

#include "models/gemma3.h"
#include "models/llama.h"
#include "models/model.h"

namespace semantic::models {

Expected<std::unique_ptr<Model>> LoadModel(const loader::GgufFile& gguf, ThreadPool& pool) {
  auto arch = gguf.GetString("general.architecture");
  if (!arch.ok()) return InvalidArgument(gguf.path() + ": no general.architecture key");
  if (*arch == "llama") return LlamaModel::Load(gguf, pool);
  if (*arch == "gemma3") return Gemma3Model::Load(gguf, pool);
  return Unimplemented(gguf.path() + ": architecture '" + *arch +
                       "' is not supported (supported: llama, gemma3)");
}

}  // namespace semantic::models
