// Maps general.architecture to a model implementation.
#include <string>

#include "models/deepseek2.h"
#include "models/gemma3.h"
#include "models/gpt_oss.h"
#include "models/llama.h"
#include "models/model.h"
#include "models/qwen.h"

namespace semantic::models {

Expected<std::unique_ptr<Model>> LoadModel(const loader::GgufFile& gguf, ThreadPool& pool) {
  auto arch = gguf.GetString("general.architecture");
  if (!arch.ok()) return InvalidArgument(gguf.path() + ": no general.architecture key");
  if (*arch == "llama") return LlamaModel::Load(gguf, pool);
  if (*arch == "gemma3") return Gemma3Model::Load(gguf, pool);
  if (*arch == "qwen2" || *arch == "qwen3" || *arch == "qwen3moe") {
    return QwenModel::Load(gguf, pool);
  }
  if (*arch == "deepseek2") return DeepSeek2Model::Load(gguf, pool);
  if (*arch == "gpt-oss") return GptOssModel::Load(gguf, pool);
  return Unimplemented(
      gguf.path() + ": architecture '" + *arch +
      "' is not supported (supported: llama, gemma3, qwen2, qwen3, qwen3moe, deepseek2, gpt-oss)");
}

}  // namespace semantic::models
