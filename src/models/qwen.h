// Qwen2 / Qwen2.5 (`qwen2`) and Qwen3 (`qwen3`) dense models: the Llama decoder with NEOX RoPE
// and, for qwen2, q/k/v projection biases, for qwen3, per-head QK-norm.
#pragma once

#include <memory>

#include "models/llama.h"

namespace semantic::models {

class QwenModel : public LlamaModel {
 public:
  static Expected<std::unique_ptr<Model>> Load(const loader::GgufFile& f, ThreadPool& pool);

 private:
  explicit QwenModel(ThreadPool& pool) : LlamaModel(pool, RopeMode::kNeox) {}
};

}  // namespace semantic::models
