// The GGUF hyper-parameters and tensor tables that decoder-only transformers share
// (`<arch>.block_count`, heads, RoPE, norm eps; token_embd/output; per-layer attention and
// gated-FFN tensors).
#pragma once

#include <vector>

#include "base/status.h"
#include "kernels/ops.h"
#include "kernels/packed_weights.h"
#include "loader/gguf/gguf_file.h"
#include "models/model.h"

namespace semantic::models {

// Fills c from the `<general.architecture>.*` keys (see model-formats.md §2) and checks that the
// attention shape is consistent (GQA groups, even head size, rotary dims == value size == head
// size). mla: the cached K/V rows are MLA latents (deepseek2: head_dim = key_length = latent +
// rotary dims, value_length = latent): rotary and value sizes are the model's to check.
Status ReadTransformerHparams(const loader::GgufFile& f, ModelConfig* c, bool mla = false);

// token_embd {n_embd, n_vocab} (sets c->n_vocab), output (or token_embd when tied: sets
// c->tied_output) and output_norm [n_embd].
struct EmbeddingAndHead {
  kernels::WeightView tok_embd, output;
  std::vector<float> output_norm;
};
Expected<EmbeddingAndHead> LoadEmbeddingAndHead(const loader::GgufFile& f, ModelConfig* c);

// One layer's attention and gated FFN: blk.<i>.{attn_norm, attn_q, attn_k, attn_v, attn_output,
// ffn_norm, ffn_gate, ffn_up, ffn_down}; without the last three when !dense_ffn (MoE layers).
struct DenseLayerWeights {
  std::vector<float> attn_norm, ffn_norm;  // [n_embd] f32
  kernels::WeightView wq, wk, wv, wo, w_gate, w_up, w_down;
};
Expected<DenseLayerWeights> LoadDenseLayer(const loader::GgufFile& f, const ModelConfig& c, int i,
                                           bool dense_ffn = true);

// PackMatrix (models/weights.h) for the head and for a dense layer's matmul weights.
void PackHead(const loader::GgufFile& f, EmbeddingAndHead* h, kernels::PackedWeights* store);
void PackDenseLayer(const loader::GgufFile& f, DenseLayerWeights* L, kernels::PackedWeights* store);

// "blk.<i>.<name>.<kind>": kind "weight" or "bias".
std::string BlockTensor(int i, const char* name, const char* kind = "weight");

}  // namespace semantic::models
