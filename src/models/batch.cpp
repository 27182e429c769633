// Batch flattening, per-sequence KV store + attention, and logits rows (see batch.h).
#include "models/batch.h"

#include <cmath>
#include <string>

#include "models/debug_dump.h"
#include "models/layers.h"

namespace semantic::models {

Status BeginBatch(const std::vector<BatchSeq>& batch, const kv::KvPool& pool, const ModelConfig& c,
                  const kernels::WeightView& tok_embd, float embd_scale, Activations* a) {
  const int n_vocab = c.n_vocab;
  std::vector<int32_t>* tokens = &a->tokens;
  std::vector<int32_t>* pos = &a->pos;
  int64_t T = 0;
  for (const BatchSeq& s : batch) {
    if (s.n_tokens <= 0) return InvalidArgument("batch sequence with no tokens");
    const int capacity = static_cast<int>(s.kv->blocks.size()) * pool.layout().block_tokens;
    if (s.kv->n_tokens + s.n_tokens > capacity) {
      return Internal("sequence KV has no room for the new tokens (Reserve first)");
    }
    T += s.n_tokens;
  }
  tokens->resize(T);
  pos->resize(T);
  int64_t t = 0;
  for (const BatchSeq& s : batch) {
    for (int i = 0; i < s.n_tokens; ++i, ++t) {
      if (s.tokens[i] < 0 || s.tokens[i] >= n_vocab) {
        return InvalidArgument("token id " + std::to_string(s.tokens[i]) +
                               " outside the vocabulary (" + std::to_string(n_vocab) + ")");
      }
      (*tokens)[t] = s.tokens[i];
      (*pos)[t] = s.kv->n_tokens + i;
    }
  }
  const int64_t q_dim = static_cast<int64_t>(c.n_head) * c.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(c.n_head_kv) * c.head_dim;
  a->x.resize(T * c.n_embd);
  a->xn.resize(T * c.n_embd);
  a->q.resize(T * q_dim);
  a->k.resize(T * kv_dim);
  a->v.resize(T * kv_dim);
  a->attn.resize(T * q_dim);
  a->gate.resize(T * c.n_ff);
  a->up.resize(T * c.n_ff);
  for (int64_t r = 0; r < T; ++r) {
    float* x = &a->x[r * c.n_embd];
    kernels::DequantizeRow(tok_embd, (*tokens)[r], x);
    if (embd_scale != 1.0f) {
      for (int i = 0; i < c.n_embd; ++i) x[i] *= embd_scale;
    }
  }
  return Status::Ok();
}

void AttendBatch(const std::vector<BatchSeq>& batch, kv::KvPool& pool, int layer, int n_head,
                 float scale, int window, const float* q, const float* k, const float* v,
                 float* out, ThreadPool& threads, const float* sinks) {
  const kv::KvLayout& L = pool.layout();
  const int64_t q_dim = static_cast<int64_t>(n_head) * L.head_dim, kv_dim = L.kv_dim();
  std::vector<AttentionArgs> args(batch.size());
  int64_t t0 = 0;
  for (size_t si = 0; si < batch.size(); ++si) {
    const BatchSeq& s = batch[si];
    StoreKv(pool, *s.kv, layer, s.kv->n_tokens, s.n_tokens, k + t0 * kv_dim,
            v != nullptr ? v + t0 * kv_dim : nullptr);
    args[si] = {&pool,  s.kv,  layer,          s.kv->n_tokens,   s.n_tokens,
                n_head, scale, q + t0 * q_dim, out + t0 * q_dim, window, sinks};
    t0 += s.n_tokens;
  }
  Attention(args.data(), static_cast<int>(args.size()), threads);
}

void ComputeLogits(const std::vector<BatchSeq>& batch, const float* x, int n_embd,
                   const std::vector<float>& output_norm, float eps,
                   const kernels::WeightView& output, int n_vocab, float* xn, Logits* out,
                   ThreadPool& threads) {
  std::vector<int64_t> rows;
  out->seq_row.clear();
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
  const int64_t R = static_cast<int64_t>(rows.size());
  for (int64_t r = 0; r < R; ++r) {
    RmsNorm(x + rows[r] * n_embd, output_norm.data(), 1, n_embd, eps, xn + r * n_embd);
  }
  out->n_vocab = n_vocab;
  out->data.resize(R * n_vocab);
  DumpTensor("result_norm", 0, xn, R * n_embd);
  kernels::MatMul(output, xn, R, out->data.data(), threads);
}

void CommitBatch(const std::vector<BatchSeq>& batch) {
  for (const BatchSeq& s : batch) s.kv->n_tokens += s.n_tokens;
}

void FinishBatch(const std::vector<BatchSeq>& batch, const float* x, const ModelConfig& c,
                 const std::vector<float>& output_norm, const kernels::WeightView& output,
                 float softcap, float* xn, Logits* out, ThreadPool& threads) {
  ComputeLogits(batch, x, c.n_embd, output_norm, c.norm_eps, output, c.n_vocab, xn, out, threads);
  if (softcap > 0.0f) {
    for (float& v : out->data) v = softcap * std::tanh(v / softcap);
  }
  DumpTensor("result_output", 0, out->data.data(), static_cast<int64_t>(out->data.size()));
  CommitBatch(batch);
}

}  // namespace semantic::models
