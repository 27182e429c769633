// Gemma 3 text model (`gemma3` GGUF files, e.g. Gemma 3 270M / 1B).
#pragma once

#include <memory>
#include <vector>

#include "kernels/ops.h"
#include "models/batch.h"
#include "models/model.h"
#include "models/transformer_gguf.h"

namespace semantic::models {

class Gemma3Model : public Model {
 public:
  static Expected<std::unique_ptr<Model>> Load(const loader::GgufFile& f, ThreadPool& pool);
  Status Forward(const std::vector<BatchSeq>& batch, kv::KvPool& kv_pool, Logits* out) override;
  void PackWeights(const loader::GgufFile& f) override;
  size_t PackedWeightBytes() const override { return packed_.bytes(); }

  // Sliding-window layers attend to the last sliding_window() positions only.
  int sliding_window() const { return n_swa_; }
  bool IsSlidingWindowLayer(int il) const;

 private:
  explicit Gemma3Model(ThreadPool& pool) : pool_(pool) {}

  // The dense layer plus Gemma's extra norms. All norm weights are stored in the GGUF with
  // Gemma's +1 already added (the converter's norm_shift), so they are plain RMSNorm weights.
  struct Layer : DenseLayerWeights {
    std::vector<float> post_attn_norm, post_ffw_norm;  // [n_embd]
    std::vector<float> q_norm, k_norm;                 // [head_dim] per-head QK-norm
  };

  ThreadPool& pool_;
  int n_swa_ = 0;                   // sliding window (positions)
  float rope_base_swa_ = 10000.0f;  // RoPE base of the sliding-window layers
  float attn_scale_ = 1.0f;         // multiplies q after RoPE (kq_scale is then 1)
  float final_softcap_ = 0.0f;      // c·tanh(logit/c) when > 0
  EmbeddingAndHead head_;
  std::vector<Layer> layers_;
  kernels::PackedWeights packed_{&pool_};  // the layers' and head's CPU-packed copies

  Activations a_;  // scratch reused across calls
};

}  // namespace semantic::models
