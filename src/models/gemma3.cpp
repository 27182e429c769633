// Gemma 3 architecture (`gemma3`): hparams, tensor table, forward; numerics as llama.cpp's
// llm_build_gemma3 (model-formats.md §2.5).
// Embedding scaled by sqrt(n_embd); block: h = x + post_attn_norm(attn(attn_norm(x))),
// out = h + post_ffw_norm(ffn(ffn_norm(h))); per-head RMSNorm of q and k before NEOX RoPE; q
// scaled by 1/sqrt(head_dim) after RoPE; GeGLU (tanh GELU) FFN; tied output. Five of every six
// layers attend within a sliding window with RoPE base 10000; every sixth layer is global with
// rope.freq_base (and the GGUF's linear scaling). The KV layout marks the sliding layers, so the
// pool keeps their K/V only for blocks some sequence can still attend to (kv::KvLayout::window).
#include "models/gemma3.h"

#include <cmath>

#include "models/batch.h"
#include "models/debug_dump.h"
#include "models/layers.h"
#include "models/transformer_gguf.h"
#include "models/weights.h"

namespace semantic::models {

namespace {
// llama.cpp's set_swa_pattern(6) for Gemma 3: layer il is global iff il % 6 == 5. The GGUF has no
// key for it.
constexpr int kSwaPattern = 6;
}  // namespace

bool Gemma3Model::IsSlidingWindowLayer(int il) const { return il % kSwaPattern < kSwaPattern - 1; }

Expected<std::unique_ptr<Model>> Gemma3Model::Load(const loader::GgufFile& f, ThreadPool& pool) {
  std::unique_ptr<Gemma3Model> m(new Gemma3Model(pool));
  ModelConfig& c = m->config_;
  RETURN_IF_ERROR(ReadTransformerHparams(f, &c));
  const std::string a = c.arch + ".";
  auto swa = f.GetInt(a + "attention.sliding_window");
  if (!swa.ok() || *swa <= 0) {
    return InvalidArgument(f.path() + ": " + a + "attention.sliding_window is missing or not > 0");
  }
  m->n_swa_ = static_cast<int>(*swa);
  m->kv_window_ = m->n_swa_;
  for (int il = 0; il < c.n_layers; ++il) {
    if (m->IsSlidingWindowLayer(il)) m->kv_sliding_layers_.push_back(il);
  }
  m->rope_base_swa_ = static_cast<float>(f.GetFloatOr(a + "rope.freq_base_swa", 10000.0));
  m->final_softcap_ = static_cast<float>(f.GetFloatOr(a + "final_logit_softcapping", 0.0));
  // llama.cpp hard-codes query_pre_attn_scalar: n_embd/n_head for the 27B (62 layers), else
  // head_dim.
  m->attn_scale_ =
      1.0f / std::sqrt(static_cast<float>(c.n_layers == 62 ? c.n_embd / c.n_head : c.head_dim));

  ASSIGN_OR_RETURN(m->head_, LoadEmbeddingAndHead(f, &c));
  m->layers_.resize(c.n_layers);
  for (int i = 0; i < c.n_layers; ++i) {
    Layer& L = m->layers_[i];
    ASSIGN_OR_RETURN(static_cast<DenseLayerWeights&>(L), LoadDenseLayer(f, c, i));
    ASSIGN_OR_RETURN(L.q_norm, GetVector(f, BlockTensor(i, "attn_q_norm"), c.head_dim));
    ASSIGN_OR_RETURN(L.k_norm, GetVector(f, BlockTensor(i, "attn_k_norm"), c.head_dim));
    ASSIGN_OR_RETURN(L.post_attn_norm,
                     GetVector(f, BlockTensor(i, "post_attention_norm"), c.n_embd));
    ASSIGN_OR_RETURN(L.post_ffw_norm, GetVector(f, BlockTensor(i, "post_ffw_norm"), c.n_embd));
  }
  return std::unique_ptr<Model>(std::move(m));
}

void Gemma3Model::PackWeights(const loader::GgufFile& f) {
  for (Layer& L : layers_) PackDenseLayer(f, &L, &packed_);
  PackHead(f, &head_, &packed_);
}

Status Gemma3Model::Forward(const std::vector<BatchSeq>& batch, kv::KvPool& kv_pool, Logits* out) {
  const ModelConfig& c = config_;
  const int q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim;
  // Embeddings scaled by sqrt(n_embd) in f32, as llama.cpp (HF rounds the scale to bf16).
  RETURN_IF_ERROR(
      BeginBatch(batch, kv_pool, c, head_.tok_embd, std::sqrt(static_cast<float>(c.n_embd)), &a_));
  const int64_t T = a_.n_tokens();

  for (int il = 0; il < c.n_layers; ++il) {
    const Layer& L = layers_[il];
    const bool swa = IsSlidingWindowLayer(il);
    RmsNorm(a_.x.data(), L.attn_norm.data(), T, c.n_embd, c.norm_eps, a_.xn.data());
    DumpTensor("attn_norm", il, a_.xn.data(), T * c.n_embd);
    kernels::MatMulShared({{&L.wq, a_.q.data()}, {&L.wk, a_.k.data()}, {&L.wv, a_.v.data()}},
                          a_.xn.data(), T, pool_);
    RmsNorm(a_.q.data(), L.q_norm.data(), T * c.n_head, c.head_dim, c.norm_eps, a_.q.data());
    RmsNorm(a_.k.data(), L.k_norm.data(), T * c.n_head_kv, c.head_dim, c.norm_eps, a_.k.data());
    const float base = swa ? rope_base_swa_ : c.rope_freq_base;
    const float freq_scale = swa ? 1.0f : c.rope_freq_scale;
    Rope(a_.q.data(), T, c.n_head, c.head_dim, c.n_rot, a_.pos.data(), base, freq_scale,
         RopeMode::kNeox);
    Rope(a_.k.data(), T, c.n_head_kv, c.head_dim, c.n_rot, a_.pos.data(), base, freq_scale,
         RopeMode::kNeox);
    for (int64_t i = 0; i < T * q_dim; ++i) a_.q[i] *= attn_scale_;
    DumpTensor("Qcur", il, a_.q.data(), T * q_dim);
    DumpTensor("Kcur", il, a_.k.data(), T * kv_dim);
    DumpTensor("Vcur", il, a_.v.data(), T * kv_dim);
    AttendBatch(batch, kv_pool, il, c.n_head, 1.0f, swa ? n_swa_ : 0, a_.q.data(), a_.k.data(),
                a_.v.data(), a_.attn.data(), pool_);
    DumpTensor("kqv_out", il, a_.attn.data(), T * q_dim);
    kernels::MatMul(L.wo, a_.attn.data(), T, a_.xn.data(), pool_);
    RmsNorm(a_.xn.data(), L.post_attn_norm.data(), T, c.n_embd, c.norm_eps, a_.xn.data());
    DumpTensor("attn_post_norm", il, a_.xn.data(), T * c.n_embd);
    for (int64_t i = 0; i < T * c.n_embd; ++i) a_.x[i] += a_.xn[i];

    RmsNorm(a_.x.data(), L.ffn_norm.data(), T, c.n_embd, c.norm_eps, a_.xn.data());
    DumpTensor("ffn_norm", il, a_.xn.data(), T * c.n_embd);
    kernels::MatMulShared({{&L.w_gate, a_.gate.data()}, {&L.w_up, a_.up.data()}}, a_.xn.data(), T,
                          pool_);
    GatedActivation(GeluTanhGlu, a_.gate.data(), a_.up.data(), T * c.n_ff, pool_);
    kernels::MatMul(L.w_down, a_.gate.data(), T, a_.xn.data(), pool_);
    RmsNorm(a_.xn.data(), L.post_ffw_norm.data(), T, c.n_embd, c.norm_eps, a_.xn.data());
    DumpTensor("ffn_post_norm", il, a_.xn.data(), T * c.n_embd);
    for (int64_t i = 0; i < T * c.n_embd; ++i) a_.x[i] += a_.xn[i];
    DumpTensor("l_out", il, a_.x.data(), T * c.n_embd);
  }

  FinishBatch(batch, a_.x.data(), c, head_.output_norm, head_.output, final_softcap_, a_.xn.data(),
              out, pool_);
  return Status::Ok();
}

}  // namespace semantic::models
