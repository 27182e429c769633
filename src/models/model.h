// Model interface: hyper-parameters read from GGUF, and one batched forward pass over several
// sequences at different positions, each with its own KV block table.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "kv/kv_pool.h"
#include "loader/gguf/gguf_file.h"

namespace semantic::models {

struct ModelConfig {
  std::string arch;
  std::string name;
  int n_vocab = 0;
  int n_ctx_train = 0;
  int n_embd = 0;
  int n_layers = 0;
  int n_ff = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;
  int n_rot = 0;
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;
  float norm_eps = 1e-5f;
  bool tied_output = false;
};

// One sequence's slice of a batch. Its tokens occupy positions [kv->n_tokens, +n_tokens).
struct BatchSeq {
  const int32_t* tokens = nullptr;
  int n_tokens = 0;
  kv::SequenceKv* kv = nullptr;  // block table; must have room (Reserve) for the new tokens
  bool all_logits = false;       // logits for every token (teacher forcing) or only the last
};

// Logits, [n_rows][n_vocab] f32: rows in batch order; each sequence contributes n_tokens rows
// when all_logits, else one.
struct Logits {
  int n_vocab = 0;
  std::vector<float> data;
  std::vector<int> seq_row;  // first row of each sequence
  const float* Row(int r) const { return data.data() + static_cast<size_t>(r) * n_vocab; }
};

class Model {
 public:
  virtual ~Model() = default;
  const ModelConfig& config() const { return config_; }
  kv::KvLayout KvLayoutFor(int block_tokens,
                           kernels::KvDtype dtype = kernels::KvDtype::kF16) const {
    kv::KvLayout l{config_.n_layers, config_.n_head_kv, config_.head_dim, block_tokens, dtype,
                   kv_v_from_k_};
    l.window = kv_window_;
    for (int il : kv_sliding_layers_) l.set_sliding(il);
    return l;
  }

  // Runs the batch, appends each sequence's new K/V to its blocks and advances kv->n_tokens.
  virtual Status Forward(const std::vector<BatchSeq>& batch, kv::KvPool& pool, Logits* out) = 0;

  // Where the forward pass runs ("cpu", or "cuda: <device name>").
  virtual std::string Device() const { return "cpu"; }
  // Copies the matrices the CPU kernels run packed (kernels/packed_weights.h) into that layout,
  // once after loading, for a model that runs on the CPU (a model moved to a GPU skips it: the
  // copies would only cost host memory and load time). No-op for architectures without it.
  virtual void PackWeights(const loader::GgufFile& f) {}
  // Bytes of weights PackWeights copied.
  virtual size_t PackedWeightBytes() const { return 0; }
  // Whether Forward can run over a pool of this layout (the CUDA path takes f16 KV only).
  virtual Status CheckKvLayout(const kv::KvLayout& layout) const { return Status::Ok(); }

 protected:
  ModelConfig config_;
  bool kv_v_from_k_ = false;  // the model attends its K rows as V (kv::KvLayout::v_from_k)
  // Sliding-window layers (kv::KvLayout::window): attention on them reads only the last
  // kv_window_ positions, so the pool keeps their K/V only while a sequence may read it.
  int kv_window_ = 0;
  std::vector<int> kv_sliding_layers_;
};

// Loads the architecture named by general.architecture. `gguf` must outlive the model.
Expected<std::unique_ptr<Model>> LoadModel(const loader::GgufFile& gguf, ThreadPool& pool);

}  // namespace semantic::models
