// Llama-architecture model (also SmolLM2 and other `llama` GGUF files), and the pre-norm
// decoder that the Qwen families (qwen.h) reuse with their additions (biases, QK-norm, MoE FFNs).
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
namespace cuda {
class LlamaCudaModel;
}

class LlamaModel : public Model {
 public:
  static Expected<std::unique_ptr<Model>> Load(const loader::GgufFile& f, ThreadPool& pool);
  Status Forward(const std::vector<BatchSeq>& batch, kv::KvPool& kv_pool, Logits* out) override;
  void PackWeights(const loader::GgufFile& f) override;
  size_t PackedWeightBytes() const override { return packed_.bytes(); }

 protected:
  LlamaModel(ThreadPool& pool, RopeMode rope_mode) : pool_(pool), rope_mode_(rope_mode) {}

  // Reads the hparams, rope_freqs and the embedding, head and layer tensors (what every family
  // of this decoder has): dense FFNs, or with moe_ffn the `<arch>.expert_*` keys and a MoE FFN
  // in every layer. The families' extras are loaded after it.
  Status LoadDense(const loader::GgufFile& f, bool moe_ffn = false);

  // The dense layer plus the families' additions, each empty when the family has none.
  struct Layer : DenseLayerWeights {
    std::vector<float> bq, bk, bv;      // [q_dim], [kv_dim], [kv_dim]: projection biases (qwen2)
    std::vector<float> q_norm, k_norm;  // [head_dim]: per-head RMSNorm before RoPE (qwen3)
    bool moe = false;                   // FFN: `experts` instead of w_gate / w_up / w_down
    MoeLayerWeights experts;
  };

  ThreadPool& pool_;
  RopeMode rope_mode_;  // kNorm for `llama` (GGUF Q/K rows pre-permuted), kNeox for Qwen
  EmbeddingAndHead head_;
  std::vector<float> rope_freqs_;  // [n_rot/2] (Llama 3.1 scaling), empty if absent
  std::vector<Layer> layers_;
  kernels::PackedWeights packed_{&pool_};  // the layers' and head's CPU-packed copies

  MoeConfig moe_;  // when the layers are MoE

  Activations a_;  // scratch reused across calls
  MoeScratch moe_scratch_;

  friend class cuda::LlamaCudaModel;  // runs these weights on a GPU (models/cuda)
};

}  // namespace semantic::models
