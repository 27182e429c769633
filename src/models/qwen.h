// Qwen2 / Qwen2.5 (`qwen2`), Qwen3 (`qwen3`) and Qwen3-MoE (`qwen3moe`): the Llama decoder with
// NEOX RoPE and, for qwen2, q/k/v projection biases, for qwen3, per-head QK-norm, for qwen3moe,
// QK-norm and MoE FFNs.
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
