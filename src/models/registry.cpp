// Maps general.architecture to a model implementation.
#include <string>

#include "models/llama.h"
#include "models/model.h"

namespace semantic::models {

Expected<std::unique_ptr<Model>> LoadModel(const loader::GgufFile& gguf, ThreadPool& pool) {
  auto arch = gguf.GetString("general.architecture");
  if (!arch.ok()) return InvalidArgument(gguf.path() + ": no general.architecture key");
  if (*arch == "llama") return LlamaModel::Load(gguf, pool);
  return Unimplemented(gguf.path() + ": architecture '" + *arch +
                       "' is not supported (supported: llama)");
}

}  // namespace semantic::models
