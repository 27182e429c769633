// Qwen architectures (`qwen2`, `qwen3`, `qwen3moe`): hparams, tensor table; the forward is
// LlamaModel's.
// As llama.cpp's llm_build_qwen2 / llm_build_qwen3 (model-formats.md §2.3-2.4): the Llama block
// with NEOX-pairing RoPE (Qwen weights are never permuted) and kq_scale 1/sqrt(head_dim);
// qwen2 adds attn_{q,k,v}.bias right after each projection; qwen3 has no biases but RMSNorms each
// q and k head (attn_{q,k}_norm [head_dim], the model's eps) before RoPE, and its head size is
// attention.key_length, not n_embd / n_head. qwen3moe is qwen3 with a MoE FFN in every layer
// (routed experts only; softmax routing, the top-k weights renormalized as llama.cpp always does
// for it). Tied output when output.weight is absent.
#include "models/qwen.h"

#include "models/transformer_gguf.h"
#include "models/weights.h"

namespace semantic::models {

Expected<std::unique_ptr<Model>> QwenModel::Load(const loader::GgufFile& f, ThreadPool& pool) {
  std::unique_ptr<QwenModel> m(new QwenModel(pool));
  auto arch = f.GetString("general.architecture");
  const bool moe = arch.ok() && *arch == "qwen3moe";
  RETURN_IF_ERROR(m->LoadDense(f, moe));
  if (moe) {  // llm_build_qwen3moe: softmax routing, top-k weights always renormalized
    m->moe_.sigmoid_gating = false;
    m->moe_.norm_weights = true;
  }
  const ModelConfig& c = m->config_;
  const bool qwen3 = c.arch == "qwen3" || c.arch == "qwen3moe";
  const int q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim;
  for (int i = 0; i < c.n_layers; ++i) {
    Layer& L = m->layers_[i];
    if (qwen3) {
      ASSIGN_OR_RETURN(L.q_norm, GetVector(f, BlockTensor(i, "attn_q_norm"), c.head_dim));
      ASSIGN_OR_RETURN(L.k_norm, GetVector(f, BlockTensor(i, "attn_k_norm"), c.head_dim));
    } else {
      ASSIGN_OR_RETURN(L.bq, GetVector(f, BlockTensor(i, "attn_q", "bias"), q_dim));
      ASSIGN_OR_RETURN(L.bk, GetVector(f, BlockTensor(i, "attn_k", "bias"), kv_dim));
      ASSIGN_OR_RETURN(L.bv, GetVector(f, BlockTensor(i, "attn_v", "bias"), kv_dim));
    }
  }
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace semantic::models
