// Llama-architecture model (also SmolLM2 and other `llama` GGUF files).
#pragma once

#include <memory>
#include <vector>

#include "kernels/ops.h"
#include "models/batch.h"
#include "models/model.h"
#include "models/transformer_gguf.h"

namespace semantic::models {

class LlamaModel : public Model {
 public:
  static Expected<std::unique_ptr<Model>> Load(const loader::GgufFile& f, ThreadPool& pool);
  Status Forward(const std::vector<BatchSeq>& batch, kv::KvPool& kv_pool, Logits* out) override;

 private:
  explicit LlamaModel(ThreadPool& pool) : pool_(pool) {}

  using Layer = DenseLayerWeights;

  ThreadPool& pool_;
  EmbeddingAndHead head_;
  std::vector<float> rope_freqs_;  // [n_rot/2] (Llama 3.1 scaling), empty if absent
  std::vector<Layer> layers_;

  Activations a_;  // scratch reused across calls
};

}  // namespace semantic::models
