// gpt-oss architecture (`gpt-oss`): hparams, tensor table, forward; numerics as llama.cpp's
// llm_build_openai_moe_iswa.
// Block: h = x + attn(rms(x) attn_norm), out = h + moe(rms(h) post_attention_norm). Attention:
// q/k/v/o projections with biases, NEOX RoPE with YaRN scaling (ggml's amplitude
// 1 + 0.1 ln(factor) on cos/sin), kq_scale 1/sqrt(head_dim), and a learned per-head sink logit
// (attn_sinks) in each softmax denominator. Even layers attend within attention.sliding_window
// positions (the KV layout marks them, so the pool drops their blocks once out of every
// sequence's window, as for Gemma 3), odd layers over the whole context. MoE: every layer; router with bias, top-k of the
// raw logits weighted by their softmax, expert biases, clamped SwiGLU (alpha 1.702, limit 7,
// up + 1). Untied output.
#include "models/gpt_oss.h"

#include <cmath>

#include "models/debug_dump.h"
#include "models/weights.h"

namespace semantic::models {

Expected<std::unique_ptr<Model>> GptOssModel::Load(const loader::GgufFile& f, ThreadPool& pool) {
  std::unique_ptr<GptOssModel> m(new GptOssModel(pool));
  ModelConfig& c = m->config_;
  RETURN_IF_ERROR(ReadTransformerHparams(f, &c));
  const std::string a = c.arch + ".";
  auto swa = f.GetInt(a + "attention.sliding_window");
  if (!swa.ok() || *swa <= 0 || *swa > (1 << 24)) {
    return InvalidArgument(f.path() + ": " + a + "attention.sliding_window is missing or out of range");
  }
  m->n_swa_ = static_cast<int>(*swa);
  m->kv_window_ = m->n_swa_;  // the pool keeps sliding layers' K/V only while still readable
  for (int il = 0; il < c.n_layers; ++il) {
    if (IsSlidingWindowLayer(il)) m->kv_sliding_layers_.push_back(il);
  }
  RETURN_IF_ERROR(ReadMoeConfig(f, c.arch, &m->moe_));
  m->moe_.sigmoid_gating = false;
  m->moe_.norm_weights = false;
  m->moe_.softmax_after_topk = true;
  m->moe_.biases = true;
  m->moe_.oai_swiglu = true;
  if (f.GetStringOr(a + "rope.scaling.type", "") == "yarn" && c.rope_freq_scale != 1.0f) {
    m->yarn_ = true;
    const int n_ctx_orig =
        static_cast<int>(f.GetIntOr(a + "rope.scaling.original_context_length", c.n_ctx_train));
    m->rope_yarn_ =
        YarnCorrDims(c.n_rot, n_ctx_orig, c.rope_freq_base,
                     static_cast<float>(f.GetFloatOr(a + "rope.scaling.yarn_beta_fast", 32.0)),
                     static_cast<float>(f.GetFloatOr(a + "rope.scaling.yarn_beta_slow", 1.0)));
    m->rope_yarn_.ext_factor =
        static_cast<float>(f.GetFloatOr(a + "rope.scaling.yarn_ext_factor", 1.0));
    m->rope_yarn_.mscale = 1.0f + 0.1f * std::log(1.0f / c.rope_freq_scale);
  }

  ASSIGN_OR_RETURN(m->head_, LoadEmbeddingAndHead(f, &c));
  const int q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim;
  m->layers_.resize(c.n_layers);
  for (int i = 0; i < c.n_layers; ++i) {
    Layer& L = m->layers_[i];
    ASSIGN_OR_RETURN(L.attn_norm, GetVector(f, BlockTensor(i, "attn_norm"), c.n_embd));
    ASSIGN_OR_RETURN(L.post_attn_norm,
                     GetVector(f, BlockTensor(i, "post_attention_norm"), c.n_embd));
    ASSIGN_OR_RETURN(L.wq, GetMatrix(f, BlockTensor(i, "attn_q"), c.n_embd, q_dim));
    ASSIGN_OR_RETURN(L.wk, GetMatrix(f, BlockTensor(i, "attn_k"), c.n_embd, kv_dim));
    ASSIGN_OR_RETURN(L.wv, GetMatrix(f, BlockTensor(i, "attn_v"), c.n_embd, kv_dim));
    ASSIGN_OR_RETURN(L.wo, GetMatrix(f, BlockTensor(i, "attn_output"), q_dim, c.n_embd));
    ASSIGN_OR_RETURN(L.bq, GetVector(f, BlockTensor(i, "attn_q", "bias"), q_dim));
    ASSIGN_OR_RETURN(L.bk, GetVector(f, BlockTensor(i, "attn_k", "bias"), kv_dim));
    ASSIGN_OR_RETURN(L.bv, GetVector(f, BlockTensor(i, "attn_v", "bias"), kv_dim));
    ASSIGN_OR_RETURN(L.bo, GetVector(f, BlockTensor(i, "attn_output", "bias"), c.n_embd));
    ASSIGN_OR_RETURN(L.sinks, GetVector(f, BlockTensor(i, "attn_sinks"), c.n_head));
    ASSIGN_OR_RETURN(L.experts, LoadMoeLayer(f, m->moe_, c.n_embd, i));
  }
  return std::unique_ptr<Model>(std::move(m));
}

Status GptOssModel::Forward(const std::vector<BatchSeq>& batch, kv::KvPool& kv_pool,
                            Logits* out) {
  const ModelConfig& c = config_;
  const int q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim;
  RETURN_IF_ERROR(BeginBatch(batch, kv_pool, c, head_.tok_embd, 1.0f, &a_));
  const int64_t T = a_.n_tokens();
  const RopeYarn* yarn = yarn_ ? &rope_yarn_ : nullptr;
  const float kq_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));

  for (int il = 0; il < c.n_layers; ++il) {
    const Layer& L = layers_[il];
    RmsNorm(a_.x.data(), L.attn_norm.data(), T, c.n_embd, c.norm_eps, a_.xn.data());
    kernels::MatMulShared({{&L.wq, a_.q.data()}, {&L.wk, a_.k.data()}, {&L.wv, a_.v.data()}},
                          a_.xn.data(), T, pool_);
    AddBias(a_.q.data(), L.bq.data(), T, q_dim);
    AddBias(a_.k.data(), L.bk.data(), T, kv_dim);
    AddBias(a_.v.data(), L.bv.data(), T, kv_dim);
    Rope(a_.q.data(), T, c.n_head, c.head_dim, c.n_rot, a_.pos.data(), c.rope_freq_base,
         c.rope_freq_scale, RopeMode::kNeox, nullptr, yarn);
    Rope(a_.k.data(), T, c.n_head_kv, c.head_dim, c.n_rot, a_.pos.data(), c.rope_freq_base,
         c.rope_freq_scale, RopeMode::kNeox, nullptr, yarn);
    DumpTensor("Qcur", il, a_.q.data(), T * q_dim);
    DumpTensor("Kcur", il, a_.k.data(), T * kv_dim);
    AttendBatch(batch, kv_pool, il, c.n_head, kq_scale, IsSlidingWindowLayer(il) ? n_swa_ : 0,
                a_.q.data(), a_.k.data(), a_.v.data(), a_.attn.data(), pool_, L.sinks.data());
    DumpTensor("kqv_out", il, a_.attn.data(), T * q_dim);
    kernels::MatMul(L.wo, a_.attn.data(), T, a_.xn.data(), pool_);
    AddBias(a_.xn.data(), L.bo.data(), T, c.n_embd);
    for (int64_t i = 0; i < T * c.n_embd; ++i) a_.x[i] += a_.xn[i];

    RmsNorm(a_.x.data(), L.post_attn_norm.data(), T, c.n_embd, c.norm_eps, a_.xn.data());
    DumpTensor("attn_post_norm", il, a_.xn.data(), T * c.n_embd);
    MoeFfn(L.experts, moe_, a_.xn.data(), T, c.n_embd, a_.xn.data(), &moe_scratch_, pool_);
    DumpTensor("ffn_moe_out", il, a_.xn.data(), T * c.n_embd);
    for (int64_t i = 0; i < T * c.n_embd; ++i) a_.x[i] += a_.xn[i];
    DumpTensor("l_out", il, a_.x.data(), T * c.n_embd);
  }

  FinishBatch(batch, a_.x.data(), c, head_.output_norm, head_.output, 0.0f, a_.xn.data(), out,
              pool_);
  return Status::Ok();
}

}  // namespace semantic::models
