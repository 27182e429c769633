// OpenAI gpt-oss (`gpt-oss` GGUF files, e.g. gpt-oss-20b / 120b): attention sinks, alternating
// sliding-window and full layers, MoE with biased experts (MXFP4 in the released files).
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

class GptOssModel : public Model {
 public:
  static Expected<std::unique_ptr<Model>> Load(const loader::GgufFile& f, ThreadPool& pool);
  Status Forward(const std::vector<BatchSeq>& batch, kv::KvPool& kv_pool, Logits* out) override;

  int sliding_window() const { return n_swa_; }
  // llama.cpp's set_swa_pattern(2): even layers use the window, odd ones are full.
  static bool IsSlidingWindowLayer(int il) { return il % 2 == 0; }

 private:
  explicit GptOssModel(ThreadPool& pool) : pool_(pool) {}

  struct Layer {
    std::vector<float> attn_norm, post_attn_norm;  // [n_embd]
    kernels::WeightView wq, wk, wv, wo;
    std::vector<float> bq, bk, bv, bo;  // [q_dim], [kv_dim], [kv_dim], [n_embd]
    std::vector<float> sinks;           // [n_head] attention-sink logits
    MoeLayerWeights experts;
  };

  ThreadPool& pool_;
  int n_swa_ = 0;
  bool yarn_ = false;
  RopeYarn rope_yarn_;
  MoeConfig moe_;
  EmbeddingAndHead head_;
  std::vector<Layer> layers_;

  Activations a_;
  MoeScratch moe_scratch_;
};

}  // namespace semantic::models
