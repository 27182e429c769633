// DeepSeek-V2 architecture (`deepseek2`): hparams, tensor table, forward; numerics as llama.cpp's
// llm_build_deepseek2 on MLA files (model-formats.md §2.6).
// Block: h = x + mla(rms(x)); out = h + ffn(rms(h)), the FFN dense for the first
// leading_dense_block_count layers and MoE (top-k routed experts + shared experts) after.
// MLA, absorbed form: per token the cache holds one KV "head" K = [rms(c) ; rope(k_pe)] of
// kv_lora_rank + rope dims (c: the compressed latent, shared by all heads); each query head is
// Q = [k_b[h] q_nope ; rope(q_pe)], so Q.K = q_nope.k_nope + q_pe.k_pe with k_nope = k_b[h]^T c
// never formed; the head's output over V = c is mapped to its value by v_b[h]. NORM-pairing RoPE
// on the rope dims with YaRN scaling; kq_scale = mscale^2 / sqrt(nope + rope) with
// mscale = 1 + yarn_log_multiplier * ln(factor) (HF's 0.1 * mscale_all_dim * ln(factor)).
// V is not stored (kv::KvLayout::v_from_k): attention reads the K rows as values, so each head's
// output is [sum w c ; sum w k_pe], of which only the first kv_lora_rank dims (the latent) are
// used. The cache is kv_lora_rank + rope values per token and layer (DeepSeek-V2: 576; the
// decompressed K/V would be n_head x (192 + 128)).
#include "models/deepseek2.h"

#include <algorithm>
#include <cmath>

#include "models/debug_dump.h"
#include "models/weights.h"

namespace semantic::models {

Expected<std::unique_ptr<Model>> DeepSeek2Model::Load(const loader::GgufFile& f, ThreadPool& pool) {
  std::unique_ptr<DeepSeek2Model> m(new DeepSeek2Model(pool));
  m->kv_v_from_k_ = true;
  ModelConfig& c = m->config_;
  RETURN_IF_ERROR(ReadTransformerHparams(f, &c, /*mla=*/true));
  const std::string a = c.arch + ".";
  m->q_lora_rank_ = static_cast<int>(f.GetIntOr(a + "attention.q_lora_rank", 0));
  m->kv_lora_rank_ = static_cast<int>(f.GetIntOr(a + "attention.kv_lora_rank", 0));
  const int k_mla = static_cast<int>(f.GetIntOr(a + "attention.key_length_mla", 0));
  m->v_dim_ = static_cast<int>(f.GetIntOr(a + "attention.value_length_mla", 0));
  m->nope_ = k_mla - c.n_rot;
  const int64_t value_length = f.GetIntOr(a + "attention.value_length", 0);
  if (k_mla == 0 || HasTensor(f, BlockTensor(0, "attn_kv_b"))) {
    return Unimplemented(f.path() + ": deepseek2 file from an older converter (attn_kv_b, no " + a +
                         "attention.key_length_mla); reconvert it with a current "
                         "convert_hf_to_gguf.py");
  }
  if (c.n_head_kv != 1 || m->kv_lora_rank_ <= 0 || m->nope_ <= 0 || m->v_dim_ <= 0 ||
      c.head_dim != m->kv_lora_rank_ + c.n_rot || value_length != m->kv_lora_rank_ ||
      m->q_lora_rank_ < 0 || m->q_lora_rank_ > (1 << 20)) {
    return InvalidArgument(
        f.path() + ": inconsistent MLA hparams (kv heads " + std::to_string(c.n_head_kv) +
        ", key length " + std::to_string(c.head_dim) + ", value length " +
        std::to_string(value_length) + ", kv_lora_rank " + std::to_string(m->kv_lora_rank_) +
        ", rope dims " + std::to_string(c.n_rot) + ", key_length_mla " + std::to_string(k_mla) +
        ", value_length_mla " + std::to_string(m->v_dim_) + ")");
  }
  m->n_dense_lead_ = static_cast<int>(f.GetIntOr(a + "leading_dense_block_count", 0));
  if (m->n_dense_lead_ < c.n_layers) RETURN_IF_ERROR(ReadMoeConfig(f, c.arch, &m->moe_));

  // YaRN as llama.cpp sets it up for deepseek2: ext_factor 1, ramp over the original context,
  // RoPE amplitude 1 (llama.cpp's attn_factor cancels ggml's 1 + 0.1 ln(1/freq_scale)); the
  // magnitude correction goes into kq_scale instead.
  float mscale = 1.0f;
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
    const float log_mul =
        static_cast<float>(f.GetFloatOr(a + "rope.scaling.yarn_log_multiplier", 0.0));
    mscale = 1.0f + log_mul * std::log(1.0f / c.rope_freq_scale);
  }
  m->kq_scale_ = mscale * mscale / std::sqrt(static_cast<float>(k_mla));

  ASSIGN_OR_RETURN(m->head_, LoadEmbeddingAndHead(f, &c));
  const int q_dim = c.n_head * k_mla;
  m->layers_.resize(c.n_layers);
  for (int i = 0; i < c.n_layers; ++i) {
    Layer& L = m->layers_[i];
    auto mat = [&](const char* name, int64_t cols, int64_t rows) {
      return GetMatrix(f, BlockTensor(i, name), cols, rows);
    };
    ASSIGN_OR_RETURN(L.attn_norm, GetVector(f, BlockTensor(i, "attn_norm"), c.n_embd));
    if (m->q_lora_rank_ > 0) {
      ASSIGN_OR_RETURN(L.wq_a, mat("attn_q_a", c.n_embd, m->q_lora_rank_));
      ASSIGN_OR_RETURN(L.q_a_norm, GetVector(f, BlockTensor(i, "attn_q_a_norm"), m->q_lora_rank_));
      ASSIGN_OR_RETURN(L.wq_b, mat("attn_q_b", m->q_lora_rank_, q_dim));
    } else {
      ASSIGN_OR_RETURN(L.wq, mat("attn_q", c.n_embd, q_dim));
    }
    ASSIGN_OR_RETURN(L.wkv_a, mat("attn_kv_a_mqa", c.n_embd, c.head_dim));
    ASSIGN_OR_RETURN(L.kv_a_norm, GetVector(f, BlockTensor(i, "attn_kv_a_norm"), m->kv_lora_rank_));
    ASSIGN_OR_RETURN(
        L.k_b, GetMatrixStack(f, BlockTensor(i, "attn_k_b"), m->nope_, m->kv_lora_rank_, c.n_head));
    ASSIGN_OR_RETURN(L.v_b, GetMatrixStack(f, BlockTensor(i, "attn_v_b"), m->kv_lora_rank_,
                                           m->v_dim_, c.n_head));
    ASSIGN_OR_RETURN(L.wo, mat("attn_output", c.n_head * m->v_dim_, c.n_embd));
    ASSIGN_OR_RETURN(L.ffn_norm, GetVector(f, BlockTensor(i, "ffn_norm"), c.n_embd));
    L.moe = i >= m->n_dense_lead_;
    if (L.moe) {
      ASSIGN_OR_RETURN(L.experts, LoadMoeLayer(f, m->moe_, c.n_embd, i));
    } else {
      ASSIGN_OR_RETURN(L.w_gate, mat("ffn_gate", c.n_embd, c.n_ff));
      ASSIGN_OR_RETURN(L.w_up, mat("ffn_up", c.n_embd, c.n_ff));
      ASSIGN_OR_RETURN(L.w_down, mat("ffn_down", c.n_ff, c.n_embd));
    }
  }
  return std::unique_ptr<Model>(std::move(m));
}

Status DeepSeek2Model::Forward(const std::vector<BatchSeq>& batch, kv::KvPool& kv_pool,
                               Logits* out) {
  const ModelConfig& c = config_;
  const int H = c.n_head, rope = c.n_rot, lora = kv_lora_rank_, hd = c.head_dim;
  const int k_mla = nope_ + rope;
  if (!kv_pool.layout().v_from_k) {
    return Internal("deepseek2 reads V from K rows: its pool needs KvLayoutFor's layout");
  }
  RETURN_IF_ERROR(BeginBatch(batch, kv_pool, c, head_.tok_embd, 1.0f, &a_));
  const int64_t T = a_.n_tokens();
  s_.q_a.resize(T * q_lora_rank_);
  s_.q.resize(T * H * k_mla);
  s_.kv_a.resize(T * hd);
  s_.q_pe.resize(T * H * rope);
  s_.k_pe.resize(T * rope);
  s_.head_in.resize(T * std::max(nope_, lora));
  s_.head_out.resize(T * std::max(lora, v_dim_));
  s_.attn_v.resize(T * H * v_dim_);
  const RopeYarn* yarn = yarn_ ? &rope_yarn_ : nullptr;

  for (int il = 0; il < c.n_layers; ++il) {
    const Layer& L = layers_[il];
    RmsNorm(a_.x.data(), L.attn_norm.data(), T, c.n_embd, c.norm_eps, a_.xn.data());
    DumpTensor("attn_norm", il, a_.xn.data(), T * c.n_embd);
    if (q_lora_rank_ > 0) {
      kernels::MatMul(L.wq_a, a_.xn.data(), T, s_.q_a.data(), pool_);
      RmsNorm(s_.q_a.data(), L.q_a_norm.data(), T, q_lora_rank_, c.norm_eps, s_.q_a.data());
      kernels::MatMul(L.wq_b, s_.q_a.data(), T, s_.q.data(), pool_);
    } else {
      kernels::MatMul(L.wq, a_.xn.data(), T, s_.q.data(), pool_);
    }
    kernels::MatMul(L.wkv_a, a_.xn.data(), T, s_.kv_a.data(), pool_);
    for (int64_t t = 0; t < T; ++t) {
      for (int h = 0; h < H; ++h) {
        std::copy_n(&s_.q[(t * H + h) * k_mla + nope_], rope, &s_.q_pe[(t * H + h) * rope]);
      }
      std::copy_n(&s_.kv_a[t * hd + lora], rope, &s_.k_pe[t * rope]);
    }
    Rope(s_.q_pe.data(), T, H, rope, rope, a_.pos.data(), c.rope_freq_base, c.rope_freq_scale,
         RopeMode::kNorm, nullptr, yarn);
    Rope(s_.k_pe.data(), T, 1, rope, rope, a_.pos.data(), c.rope_freq_base, c.rope_freq_scale,
         RopeMode::kNorm, nullptr, yarn);
    // K = [rms(c) ; k_pe]: [T][hd]; V is read from K.
    for (int64_t t = 0; t < T; ++t) {
      float* k = &a_.k[t * hd];
      RmsNorm(&s_.kv_a[t * hd], L.kv_a_norm.data(), 1, lora, c.norm_eps, k);
      std::copy_n(&s_.k_pe[t * rope], rope, k + lora);
    }
    // Q per head = [k_b[h] q_nope ; q_pe]: [T][H][hd].
    for (int h = 0; h < H; ++h) {
      for (int64_t t = 0; t < T; ++t) {
        std::copy_n(&s_.q[(t * H + h) * k_mla], nope_, &s_.head_in[t * nope_]);
      }
      kernels::MatMul(L.k_b[h], s_.head_in.data(), T, s_.head_out.data(), pool_);
      for (int64_t t = 0; t < T; ++t) {
        float* q = &a_.q[(t * H + h) * hd];
        std::copy_n(&s_.head_out[t * lora], lora, q);
        std::copy_n(&s_.q_pe[(t * H + h) * rope], rope, q + lora);
      }
    }
    DumpTensor("Qcur", il, a_.q.data(), T * H * hd);
    DumpTensor("Kcur", il, a_.k.data(), T * hd);
    AttendBatch(batch, kv_pool, il, H, kq_scale_, 0, a_.q.data(), a_.k.data(), nullptr,
                a_.attn.data(), pool_);
    // Each head's latent output (its first kv_lora_rank dims) -> v_b[h] -> [T][H][v].
    for (int h = 0; h < H; ++h) {
      for (int64_t t = 0; t < T; ++t) {
        std::copy_n(&a_.attn[(t * H + h) * hd], lora, &s_.head_in[t * lora]);
      }
      kernels::MatMul(L.v_b[h], s_.head_in.data(), T, s_.head_out.data(), pool_);
      for (int64_t t = 0; t < T; ++t) {
        std::copy_n(&s_.head_out[t * v_dim_], v_dim_, &s_.attn_v[(t * H + h) * v_dim_]);
      }
    }
    DumpTensor("kqv_out", il, s_.attn_v.data(), T * H * v_dim_);
    kernels::MatMul(L.wo, s_.attn_v.data(), T, a_.xn.data(), pool_);
    for (int64_t i = 0; i < T * c.n_embd; ++i) a_.x[i] += a_.xn[i];

    DumpTensor("ffn_inp", il, a_.x.data(), T * c.n_embd);
    RmsNorm(a_.x.data(), L.ffn_norm.data(), T, c.n_embd, c.norm_eps, a_.xn.data());
    if (L.moe) {
      MoeFfn(L.experts, moe_, a_.xn.data(), T, c.n_embd, a_.xn.data(), &moe_scratch_, pool_);
    } else {
      SwiGluFfn(L.w_gate, L.w_up, L.w_down, a_.xn.data(), T, a_.gate.data(), a_.up.data(),
                a_.xn.data(), pool_);
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
