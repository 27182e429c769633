// Single-process generation: loads a GGUF model + tokenizer, prefills a prompt in chunks into
// paged KV, and decodes token by token. (The batched executor/scheduler builds on the same parts.)
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "engine/sampler.h"
#include "kv/kv_pool.h"
#include "loader/gguf/gguf_file.h"
#include "models/model.h"
#include "tokenizer/tokenizer.h"

namespace semantic::engine {

struct GeneratorOptions {
  std::string model_path;
  int threads = 0;          // 0: all usable cores
  int context = 4096;       // KV positions available to one generation
  int block_tokens = 16;    // KV block size
  kernels::KvDtype kv_dtype = kernels::KvDtype::kF16;  // element type of KV blocks
  int prefill_chunk = 512;  // tokens per prefill forward pass
  bool cuda = false;        // run the forward pass on the CUDA GPU (models/cuda; docs/cuda.md)
};

struct GenerationStats {
  int prompt_tokens = 0;
  int generated_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  int decode_steps = 0;       // forward passes after the prompt
  std::string finish_reason;  // "stop" (EOG) or "length"
};

class Generator {
 public:
  static Expected<std::unique_ptr<Generator>> Open(const GeneratorOptions& options);

  const models::Model& model() const { return *model_; }
  const tokenizer::Tokenizer& tokenizer() const { return *tokenizer_; }
  ThreadPool& pool() { return *pool_; }
  kv::KvPool& kv_pool() { return *kv_pool_; }
  models::Model& mutable_model() { return *model_; }
  const loader::GgufFile& gguf() const { return *gguf_; }
  // Replaces the KV pool with one of n_blocks blocks (no sequence may hold blocks) and, for
  // sliding-window layouts, n_sliding_slots slots (< 0: one per block).
  void ResizeKvPool(int n_blocks, int n_sliding_slots = -1);

  // Generates up to max_tokens after `prompt`; on_token(id) is called for each new token
  // (return false to stop). The KV is released afterwards.
  Expected<GenerationStats> Generate(const std::vector<int32_t>& prompt, int max_tokens,
                                     const SamplingParams& sampling,
                                     const std::function<bool(int32_t)>& on_token);

 private:
  Generator() = default;
  GeneratorOptions options_;
  std::unique_ptr<loader::GgufFile> gguf_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<models::Model> model_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  std::unique_ptr<kv::KvPool> kv_pool_;
};

}  // namespace semantic::engine
