// DeepSeek-V2 / V2-Lite / Coder-V2 (`deepseek2` GGUF files): multi-head latent attention that
// caches the compressed latent, and mixture-of-experts FFNs.
#pragma once

#include <memory>
#include <vector>

#include "kernels/ops.h"
#include "models/batch.h"
#include "models/layers.h"
#include "models/model.h"
#include "models/moe.h"
#include "models/transformer_gguf.h"

namespace semantic::models {

class DeepSeek2Model : public Model {
 public:
  static Expected<std::unique_ptr<Model>> Load(const loader::GgufFile& f, ThreadPool& pool);
  Status Forward(const std::vector<BatchSeq>& batch, kv::KvPool& kv_pool, Logits* out) override;

 private:
  explicit DeepSeek2Model(ThreadPool& pool) : pool_(pool) {}

  struct Layer {
    std::vector<float> attn_norm, ffn_norm;  // [n_embd]
    // q = wq x, or wq_b rms(wq_a x) q_a_norm (q_lora_rank > 0): [n_head][nope + rope]
    kernels::WeightView wq, wq_a, wq_b;
    std::vector<float> q_a_norm;               // [q_lora_rank]
    kernels::WeightView wkv_a;                 // x -> [latent ; k_pe]: kv_lora_rank + rope
    std::vector<float> kv_a_norm;              // [kv_lora_rank]
    std::vector<kernels::WeightView> k_b;      // per head {nope, kv_lora_rank}: q_nope -> latent
    std::vector<kernels::WeightView> v_b;      // per head {kv_lora_rank, v}: latent -> v
    kernels::WeightView wo;                    // {n_head * v, n_embd}
    kernels::WeightView w_gate, w_up, w_down;  // dense FFN (the leading layers)
    bool moe = false;
    MoeLayerWeights experts;
  };

  // Per-step buffers beyond Activations, [T][...] f32.
  struct Scratch {
    std::vector<float> q_a;       // [T][q_lora_rank]
    std::vector<float> q;         // [T][n_head][nope + rope]
    std::vector<float> kv_a;      // [T][kv_lora_rank + rope]
    std::vector<float> q_pe;      // [T][n_head][rope]
    std::vector<float> k_pe;      // [T][rope]
    std::vector<float> head_in;   // [T][max(nope, kv_lora_rank)] one head's input
    std::vector<float> head_out;  // [T][max(kv_lora_rank, v)] one head's output
    std::vector<float> attn_v;    // [T][n_head][v]
  };

  ThreadPool& pool_;
  int q_lora_rank_ = 0, kv_lora_rank_ = 0, nope_ = 0, v_dim_ = 0, n_dense_lead_ = 0;
  float kq_scale_ = 1.0f;
  bool yarn_ = false;
  RopeYarn rope_yarn_;
  MoeConfig moe_;
  EmbeddingAndHead head_;
  std::vector<Layer> layers_;

  Activations a_;
  Scratch s_;
  MoeScratch moe_scratch_;
};

}  // namespace semantic::models
