// Llama architecture (Llama 2/3.x, SmolLM2): hparams, tensor table, forward.
// Block: h = x + attn(rms(x)); out = h + ffn(rms(h)); GQA, NORM-pairing RoPE (GGUF Q/K are
// pre-permuted) with optional rope_freqs factors (Llama 3.1+ scaling), SwiGLU FFN, optional tied
// output. The forward also applies the Qwen families' q/k/v biases, per-head QK-norm and MoE
// FFNs when the layer has them (qwen.cpp).
#include "models/llama.h"

#include <cmath>

#include "kernels/ops.h"
#include "models/batch.h"
#include "models/debug_dump.h"
#include "models/layers.h"
#include "models/transformer_gguf.h"
#include "models/weights.h"

namespace semantic::models {

Status LlamaModel::LoadDense(const loader::GgufFile& f, bool moe_ffn) {
  ModelConfig& c = config_;
  RETURN_IF_ERROR(ReadTransformerHparams(f, &c));
  // llama.cpp's get_rope_factors: Llama 3.1's scaling, baked in by the converter.
  if (HasTensor(f, "rope_freqs.weight")) {
    ASSIGN_OR_RETURN(rope_freqs_, GetVector(f, "rope_freqs.weight", c.n_rot / 2));
  }
  ASSIGN_OR_RETURN(head_, LoadEmbeddingAndHead(f, &c));
  if (moe_ffn) RETURN_IF_ERROR(ReadMoeConfig(f, c.arch, &moe_));
  layers_.resize(c.n_layers);
  for (int i = 0; i < c.n_layers; ++i) {
    Layer& L = layers_[i];
    ASSIGN_OR_RETURN(static_cast<DenseLayerWeights&>(L), LoadDenseLayer(f, c, i, !moe_ffn));
    L.moe = moe_ffn;
    if (moe_ffn) {
      ASSIGN_OR_RETURN(L.experts, LoadMoeLayer(f, moe_, c.n_embd, i));
    }
  }
  return Status::Ok();
}

void LlamaModel::PackWeights(const loader::GgufFile& f) {
  for (Layer& L : layers_) {
    PackDenseLayer(f, &L, &packed_);  // the FFN's views are empty in MoE layers
    if (L.moe) PackMoeLayer(f, &L.experts, &packed_);
  }
  PackHead(f, &head_, &packed_);
}

Expected<std::unique_ptr<Model>> LlamaModel::Load(const loader::GgufFile& f, ThreadPool& pool) {
  std::unique_ptr<LlamaModel> m(new LlamaModel(pool, RopeMode::kNorm));
  RETURN_IF_ERROR(m->LoadDense(f));
  return std::unique_ptr<Model>(std::move(m));
}

Status LlamaModel::Forward(const std::vector<BatchSeq>& batch, kv::KvPool& kv_pool, Logits* out) {
  const ModelConfig& c = config_;
  const int q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim;

  RETURN_IF_ERROR(BeginBatch(batch, kv_pool, c, head_.tok_embd, 1.0f, &a_));
  const int64_t T = a_.n_tokens();

  const float kq_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  const float* rope_factors = rope_freqs_.empty() ? nullptr : rope_freqs_.data();
  for (int il = 0; il < c.n_layers; ++il) {
    const Layer& L = layers_[il];
    RmsNorm(a_.x.data(), L.attn_norm.data(), T, c.n_embd, c.norm_eps, a_.xn.data());
    DumpTensor("attn_norm", il, a_.xn.data(), T * c.n_embd);
    kernels::MatMulShared({{&L.wq, a_.q.data()}, {&L.wk, a_.k.data()}, {&L.wv, a_.v.data()}},
                          a_.xn.data(), T, pool_);
    if (!L.bq.empty()) {
      AddBias(a_.q.data(), L.bq.data(), T, q_dim);
      AddBias(a_.k.data(), L.bk.data(), T, kv_dim);
      AddBias(a_.v.data(), L.bv.data(), T, kv_dim);
    }
    if (!L.q_norm.empty()) {
      RmsNorm(a_.q.data(), L.q_norm.data(), T * c.n_head, c.head_dim, c.norm_eps, a_.q.data());
      RmsNorm(a_.k.data(), L.k_norm.data(), T * c.n_head_kv, c.head_dim, c.norm_eps, a_.k.data());
    }
    DumpTensor("Qcur", il, a_.q.data(), T * q_dim);
    DumpTensor("Kcur", il, a_.k.data(), T * kv_dim);
    DumpTensor("Vcur", il, a_.v.data(), T * kv_dim);
    Rope(a_.q.data(), T, c.n_head, c.head_dim, c.n_rot, a_.pos.data(), c.rope_freq_base,
         c.rope_freq_scale, rope_mode_, rope_factors);
    Rope(a_.k.data(), T, c.n_head_kv, c.head_dim, c.n_rot, a_.pos.data(), c.rope_freq_base,
         c.rope_freq_scale, rope_mode_, rope_factors);
    AttendBatch(batch, kv_pool, il, c.n_head, kq_scale, 0, a_.q.data(), a_.k.data(), a_.v.data(),
                a_.attn.data(), pool_);
    DumpTensor("kqv_out", il, a_.attn.data(), T * q_dim);
    kernels::MatMul(L.wo, a_.attn.data(), T, a_.xn.data(), pool_);
    DumpTensor("attn_out", il, a_.xn.data(), T * c.n_embd);
    for (int64_t i = 0; i < T * c.n_embd; ++i) a_.x[i] += a_.xn[i];

    DumpTensor("ffn_inp", il, a_.x.data(), T * c.n_embd);
    RmsNorm(a_.x.data(), L.ffn_norm.data(), T, c.n_embd, c.norm_eps, a_.xn.data());
    DumpTensor("ffn_norm", il, a_.xn.data(), T * c.n_embd);
    if (L.moe) {
      MoeFfn(L.experts, moe_, a_.xn.data(), T, c.n_embd, a_.xn.data(), &moe_scratch_, pool_);
    } else {
      kernels::MatMulShared({{&L.w_gate, a_.gate.data()}, {&L.w_up, a_.up.data()}}, a_.xn.data(), T,
                            pool_);
      GatedActivation(SwiGlu, a_.gate.data(), a_.up.data(), T * c.n_ff, pool_);
      DumpTensor("ffn_swiglu", il, a_.gate.data(), T * c.n_ff);
      kernels::MatMul(L.w_down, a_.gate.data(), T, a_.xn.data(), pool_);
    }
    DumpTensor("ffn_out", il, a_.xn.data(), T * c.n_embd);
    for (int64_t i = 0; i < T * c.n_embd; ++i) a_.x[i] += a_.xn[i];
    DumpTensor("l_out", il, a_.x.data(), T * c.n_embd);
  }

  FinishBatch(batch, a_.x.data(), c, head_.output_norm, head_.output, 0.0f, a_.xn.data(), out,
              pool_);
  return Status::Ok();
}

}  // namespace semantic::models
