// Llama-architecture model (also SmolLM2 and other `llama` GGUF files).
#pragma once

#include <memory>
#include <vector>

#include "kernels/ops.h"
#include "models/model.h"

namespace semantic::models {

class LlamaModel : public Model {
 public:
  static Expected<std::unique_ptr<Model>> Load(const loader::GgufFile& f, ThreadPool& pool);
  Status Forward(const std::vector<BatchSeq>& batch, kv::KvPool& kv_pool, Logits* out) override;

 private:
  explicit LlamaModel(ThreadPool& pool) : pool_(pool) {}

  struct Layer {
    std::vector<float> attn_norm, ffn_norm;  // [n_embd] f32
    kernels::WeightView wq, wk, wv, wo, w_gate, w_up, w_down;
  };

  ThreadPool& pool_;
  kernels::WeightView tok_embd_, output_;
  std::vector<float> output_norm_;  // [n_embd]
  std::vector<float> rope_freqs_;   // [n_rot/2] (Llama 3.1 scaling), empty if absent
  std::vector<Layer> layers_;

  // Scratch reused across calls (see Forward for shapes).
  std::vector<int32_t> tokens_, pos_;
  std::vector<float> x_, xn_, q_, k_, v_, attn_, gate_, up_;
};

}  // namespace semantic::models
