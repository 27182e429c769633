// Llama architecture (Llama 2/3, SmolLM2): hparams, tensor table, forward.
// Block: h = x + attn(rms(x)); out = h + ffn(rms(h)); GQA, NORM-pairing RoPE (GGUF Q/K are
// pre-permuted), SwiGLU FFN, optional tied output.
#include "models/llama.h"

#include <cmath>

#include "kernels/ops.h"
#include "models/debug_dump.h"
#include "models/layers.h"
#include "models/weights.h"

namespace semantic::models {

namespace {
std::string Blk(int i, const char* name) {
  return "blk." + std::to_string(i) + "." + name + ".weight";
}
}  // namespace

Expected<std::unique_ptr<Model>> LlamaModel::Load(const loader::GgufFile& f, ThreadPool& pool) {
  std::unique_ptr<LlamaModel> m(new LlamaModel(pool));
  ModelConfig& c = m->config_;
  c.arch = f.GetStringOr("general.architecture", "llama");
  c.name = f.GetStringOr("general.name", "");
  const std::string a = c.arch + ".";
  auto req = [&](const std::string& key) -> Expected<int64_t> {
    auto v = f.GetInt(a + key);
    if (!v.ok()) return InvalidArgument(f.path() + ": " + v.status().message());
    if (*v <= 0 || *v > (1 << 24)) {
      return InvalidArgument(f.path() + ": " + a + key + " = " + std::to_string(*v) +
                             " is out of range");
    }
    return v;
  };
  ASSIGN_OR_RETURN(int64_t n_layers, req("block_count"));
  ASSIGN_OR_RETURN(int64_t n_embd, req("embedding_length"));
  ASSIGN_OR_RETURN(int64_t n_ff, req("feed_forward_length"));
  ASSIGN_OR_RETURN(int64_t n_head, req("attention.head_count"));
  c.n_layers = static_cast<int>(n_layers);
  c.n_embd = static_cast<int>(n_embd);
  c.n_ff = static_cast<int>(n_ff);
  c.n_head = static_cast<int>(n_head);
  c.n_head_kv = static_cast<int>(f.GetIntOr(a + "attention.head_count_kv", c.n_head));
  c.n_ctx_train = static_cast<int>(f.GetIntOr(a + "context_length", 2048));
  c.head_dim = static_cast<int>(f.GetIntOr(a + "attention.key_length", c.n_embd / c.n_head));
  c.n_rot = static_cast<int>(f.GetIntOr(a + "rope.dimension_count", c.head_dim));
  c.rope_freq_base = static_cast<float>(f.GetFloatOr(a + "rope.freq_base", 10000.0));
  const double scale_factor = f.GetFloatOr(a + "rope.scaling.factor", 0.0);
  c.rope_freq_scale = scale_factor > 0 ? static_cast<float>(1.0 / scale_factor) : 1.0f;
  c.norm_eps = static_cast<float>(f.GetFloatOr(a + "attention.layer_norm_rms_epsilon", 1e-5));
  if (c.n_head_kv <= 0 || c.n_head % c.n_head_kv != 0 || c.head_dim <= 0 ||
      c.n_rot != c.head_dim || c.head_dim % 2 != 0) {
    return InvalidArgument(f.path() + ": inconsistent attention hparams (heads " +
                           std::to_string(c.n_head) + ", kv heads " +
                           std::to_string(c.n_head_kv) + ", head dim " +
                           std::to_string(c.head_dim) + ", rope dims " +
                           std::to_string(c.n_rot) + ")");
  }
  if (HasTensor(f, "rope_freqs.weight")) {
    ASSIGN_OR_RETURN(m->rope_freqs_, GetVector(f, "rope_freqs.weight", c.n_rot / 2));
  }

  const loader::GgufTensor* emb = f.FindTensor("token_embd.weight");
  if (!emb) return NotFound(f.path() + ": missing tensor 'token_embd.weight'");
  c.n_vocab = static_cast<int>(emb->ne[1]);
  ASSIGN_OR_RETURN(m->tok_embd_, GetMatrix(f, "token_embd.weight", c.n_embd, c.n_vocab));
  c.tied_output = !HasTensor(f, "output.weight");
  if (c.tied_output) {
    m->output_ = m->tok_embd_;
  } else {
    ASSIGN_OR_RETURN(m->output_, GetMatrix(f, "output.weight", c.n_embd, c.n_vocab));
  }
  ASSIGN_OR_RETURN(m->output_norm_, GetVector(f, "output_norm.weight", c.n_embd));

  const int q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim;
  m->layers_.resize(c.n_layers);
  for (int i = 0; i < c.n_layers; ++i) {
    Layer& L = m->layers_[i];
    ASSIGN_OR_RETURN(L.attn_norm, GetVector(f, Blk(i, "attn_norm"), c.n_embd));
    ASSIGN_OR_RETURN(L.wq, GetMatrix(f, Blk(i, "attn_q"), c.n_embd, q_dim));
    ASSIGN_OR_RETURN(L.wk, GetMatrix(f, Blk(i, "attn_k"), c.n_embd, kv_dim));
    ASSIGN_OR_RETURN(L.wv, GetMatrix(f, Blk(i, "attn_v"), c.n_embd, kv_dim));
    ASSIGN_OR_RETURN(L.wo, GetMatrix(f, Blk(i, "attn_output"), q_dim, c.n_embd));
    ASSIGN_OR_RETURN(L.ffn_norm, GetVector(f, Blk(i, "ffn_norm"), c.n_embd));
    ASSIGN_OR_RETURN(L.w_gate, GetMatrix(f, Blk(i, "ffn_gate"), c.n_embd, c.n_ff));
    ASSIGN_OR_RETURN(L.w_up, GetMatrix(f, Blk(i, "ffn_up"), c.n_embd, c.n_ff));
    ASSIGN_OR_RETURN(L.w_down, GetMatrix(f, Blk(i, "ffn_down"), c.n_ff, c.n_embd));
  }
  return std::unique_ptr<Model>(std::move(m));
}

Status LlamaModel::Forward(const std::vector<BatchSeq>& batch, kv::KvPool& kv_pool, Logits* out) {
  const ModelConfig& c = config_;
  const int q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim;

  // Gather the batch: token ids, positions, and where each sequence starts.
  int64_t T = 0;
  for (const BatchSeq& s : batch) {
    if (s.n_tokens <= 0) return InvalidArgument("batch sequence with no tokens");
    const int capacity =
        static_cast<int>(s.kv->blocks.size()) * kv_pool.layout().block_tokens;
    if (s.kv->n_tokens + s.n_tokens > capacity) {
      return Internal("sequence KV has no room for the new tokens (Reserve first)");
    }
    T += s.n_tokens;
  }
  tokens_.resize(T);
  pos_.resize(T);
  {
    int64_t t = 0;
    for (const BatchSeq& s : batch) {
      for (int i = 0; i < s.n_tokens; ++i, ++t) {
        if (s.tokens[i] < 0 || s.tokens[i] >= c.n_vocab) {
          return InvalidArgument("token id " + std::to_string(s.tokens[i]) +
                                 " outside the vocabulary (" + std::to_string(c.n_vocab) + ")");
        }
        tokens_[t] = s.tokens[i];
        pos_[t] = s.kv->n_tokens + i;
      }
    }
  }

  // Activations: x/xn [T][n_embd], q/attn [T][q_dim], k/v [T][kv_dim], gate/up [T][n_ff].
  x_.resize(T * c.n_embd);
  xn_.resize(T * c.n_embd);
  q_.resize(T * q_dim);
  k_.resize(T * kv_dim);
  v_.resize(T * kv_dim);
  attn_.resize(T * q_dim);
  gate_.resize(T * c.n_ff);
  up_.resize(T * c.n_ff);
  for (int64_t t = 0; t < T; ++t) kernels::DequantizeRow(tok_embd_, tokens_[t], &x_[t * c.n_embd]);

  std::vector<AttentionArgs> attn_args(batch.size());
  const float kq_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  const float* rope_factors = rope_freqs_.empty() ? nullptr : rope_freqs_.data();
  for (int il = 0; il < c.n_layers; ++il) {
    const Layer& L = layers_[il];
    RmsNorm(x_.data(), L.attn_norm.data(), T, c.n_embd, c.norm_eps, xn_.data());
    DumpTensor("attn_norm", il, xn_.data(), T * c.n_embd);
    kernels::MatMul(L.wq, xn_.data(), T, q_.data(), pool_);
    kernels::MatMul(L.wk, xn_.data(), T, k_.data(), pool_);
    kernels::MatMul(L.wv, xn_.data(), T, v_.data(), pool_);
    DumpTensor("Qcur", il, q_.data(), T * q_dim);
    DumpTensor("Kcur", il, k_.data(), T * kv_dim);
    DumpTensor("Vcur", il, v_.data(), T * kv_dim);
    Rope(q_.data(), T, c.n_head, c.head_dim, c.n_rot, pos_.data(), c.rope_freq_base,
         c.rope_freq_scale, RopeMode::kNorm, rope_factors);
    Rope(k_.data(), T, c.n_head_kv, c.head_dim, c.n_rot, pos_.data(), c.rope_freq_base,
         c.rope_freq_scale, RopeMode::kNorm, rope_factors);
    int64_t t0 = 0;
    for (size_t si = 0; si < batch.size(); ++si) {
      const BatchSeq& s = batch[si];
      StoreKv(kv_pool, *s.kv, il, s.kv->n_tokens, s.n_tokens, &k_[t0 * kv_dim],
              &v_[t0 * kv_dim]);
      attn_args[si] = {&kv_pool, s.kv, il, s.kv->n_tokens, s.n_tokens, c.n_head, kq_scale,
                       &q_[t0 * q_dim], &attn_[t0 * q_dim]};
      t0 += s.n_tokens;
    }
    Attention(attn_args.data(), static_cast<int>(attn_args.size()), pool_);
    DumpTensor("kqv_out", il, attn_.data(), T * q_dim);
    kernels::MatMul(L.wo, attn_.data(), T, xn_.data(), pool_);
    DumpTensor("attn_out", il, xn_.data(), T * c.n_embd);
    for (int64_t i = 0; i < T * c.n_embd; ++i) x_[i] += xn_[i];

    DumpTensor("ffn_inp", il, x_.data(), T * c.n_embd);
    RmsNorm(x_.data(), L.ffn_norm.data(), T, c.n_embd, c.norm_eps, xn_.data());
    DumpTensor("ffn_norm", il, xn_.data(), T * c.n_embd);
    kernels::MatMul(L.w_gate, xn_.data(), T, gate_.data(), pool_);
    kernels::MatMul(L.w_up, xn_.data(), T, up_.data(), pool_);
    SwiGlu(gate_.data(), up_.data(), T * c.n_ff);
    DumpTensor("ffn_swiglu", il, gate_.data(), T * c.n_ff);
    kernels::MatMul(L.w_down, gate_.data(), T, xn_.data(), pool_);
    DumpTensor("ffn_out", il, xn_.data(), T * c.n_embd);
    for (int64_t i = 0; i < T * c.n_embd; ++i) x_[i] += xn_[i];
    DumpTensor("l_out", il, x_.data(), T * c.n_embd);
  }

  // Rows that need logits: all tokens of all_logits sequences, else each sequence's last.
  std::vector<int64_t> rows;
  out->seq_row.clear();
  {
    int64_t t0 = 0;
    for (const BatchSeq& s : batch) {
      out->seq_row.push_back(static_cast<int>(rows.size()));
      if (s.all_logits) {
        for (int i = 0; i < s.n_tokens; ++i) rows.push_back(t0 + i);
      } else {
        rows.push_back(t0 + s.n_tokens - 1);
      }
      t0 += s.n_tokens;
    }
  }
  const int64_t R = static_cast<int64_t>(rows.size());
  for (int64_t r = 0; r < R; ++r) {
    RmsNorm(&x_[rows[r] * c.n_embd], output_norm_.data(), 1, c.n_embd, c.norm_eps,
            &xn_[r * c.n_embd]);
  }
  out->n_vocab = c.n_vocab;
  out->data.resize(R * c.n_vocab);
  DumpTensor("result_norm", 0, xn_.data(), R * c.n_embd);
  kernels::MatMul(output_, xn_.data(), R, out->data.data(), pool_);
  DumpTensor("result_output", 0, out->data.data(), R * c.n_vocab);

  for (const BatchSeq& s : batch) s.kv->n_tokens += s.n_tokens;
  return Status::Ok();
}

}  // namespace semantic::models
