// Shared transformer pieces on f32 activations: RMSNorm, RoPE (NORM and NEOX pairing), biases,
// SwiGLU / GeGLU, and causal (optionally sliding-window) attention that reads K/V from paged
// blocks.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"
#include "kernels/ops.h"
#include "kv/kv_pool.h"

namespace semantic::models {

// out[t][i] = x[t][i] / sqrt(mean(x[t]^2) + eps) * w[i]; x, out: [n_tok][n] (may alias).
void RmsNorm(const float* x, const float* w, int64_t n_tok, int64_t n, float eps, float* out);

enum class RopeMode { kNorm, kNeox };  // adjacent pairs (llama GGUF) or half-split pairs

// YaRN rope scaling as ggml's rope_yarn computes it: rotary pair i turns by
// theta_interp * (1 - r_i) + theta_extrap * r_i, theta_extrap = pos * base^(-2i/n_rot),
// theta_interp = freq_scale * theta_extrap, r_i = ext_factor * (1 - clamp((i - low) /
// max(0.001, high - low), 0, 1)); cos and sin are multiplied by mscale.
struct RopeYarn {
  float low = 0.0f, high = 0.0f;  // correction dims (pair indices), YarnCorrDims
  float ext_factor = 1.0f;
  float mscale = 1.0f;
};
// ggml_rope_yarn_corr_dims: the pair indices whose wavelength fits beta_fast resp. beta_slow
// times in the original context, clamped to [0, n_rot - 1].
RopeYarn YarnCorrDims(int n_rot, int n_ctx_orig, float freq_base, float beta_fast = 32.0f,
                      float beta_slow = 1.0f);

// Rotates the first n_rot dims of each head in x: [n_tok][n_heads][head_dim], in place.
// Token t sits at position pos[t]; theta_i = pos * base^(-2i/n_rot) * freq_scale / factor[i]
// (freq_factors: [n_rot/2], Llama 3.1-style scaling, or nullptr), or YaRN's blend when yarn.
void Rope(float* x, int64_t n_tok, int n_heads, int head_dim, int n_rot, const int32_t* pos,
          float freq_base, float freq_scale, RopeMode mode, const float* freq_factors = nullptr,
          const RopeYarn* yarn = nullptr);

// x[t][i] += b[i]; x: [n_tok][n], b: [n].
void AddBias(float* x, const float* b, int64_t n_tok, int64_t n);

// gate[t][i] = silu(gate[t][i]) * up[t][i]; [n_tok][n].
void SwiGlu(float* gate, const float* up, int64_t n);

// y = down(silu(gate x) * up x) for n_tok rows; x: [n_tok][gate.cols], y: [n_tok][down.rows];
// gate_buf, up_buf: scratch of [n_tok][gate.rows]. y may alias x (read before y is written).
void SwiGluFfn(const kernels::WeightView& gate, const kernels::WeightView& up,
               const kernels::WeightView& down, const float* x, int64_t n_tok, float* gate_buf,
               float* up_buf, float* y, ThreadPool& pool);

// gate[t][i] = gelu(gate[t][i]) * up[t][i] with the tanh GELU as llama.cpp's CPU backend computes
// it (GGML_GELU_FP16): the input rounded to f16, the GELU value rounded to f16, 0 below -10 and
// the identity above 10.
void GeluTanhGlu(float* gate, const float* up, int64_t n);

// act(gate, up, n) (SwiGlu, GeluTanhGlu: element-wise) split over the pool's threads when n is
// large (prefill); the same values as one call.
void GatedActivation(void (*act)(float*, const float*, int64_t), float* gate, const float* up,
                     int64_t n, ThreadPool& pool);

// Stores this step's K and V rows ([n_tok][kv_dim] f32) into the sequence's blocks for `layer`
// at positions start..start+n_tok-1, in the pool's dtype (f16, or q8_0 / q4_0 Hadamard-rotated
// and quantized as llama.cpp writes its KV cache; see kernels/kv_dtype.h). v is not read when
// the layout's v_from_k (V rows are the K rows) and may be null.
void StoreKv(kv::KvPool& pool, const kv::SequenceKv& seq, int layer, int start, int n_tok,
             const float* k, const float* v);

// Causal attention for one sequence's n_tok new queries at positions start..start+n_tok-1 over
// all positions 0..start+t (window == 0), or only the last `window` of them, start+t-window+1 ..
// start+t (sliding-window layers). q: [n_tok][n_head][head_dim]; out: [n_tok][n_head][head_dim].
// Heads share KV heads in groups of n_head/n_head_kv (GQA). scale multiplies q·k.
struct AttentionArgs {
  const kv::KvPool* pool = nullptr;
  const kv::SequenceKv* seq = nullptr;
  int layer = 0;
  int start = 0;
  int n_tok = 0;
  int n_head = 0;
  float scale = 1.0f;
  const float* q = nullptr;
  float* out = nullptr;
  int window = 0;
  // Attention sinks (gpt-oss): [n_head] learned logits that join each head's softmax
  // denominator (weight exp(sink) against no value), or null for plain softmax.
  const float* sinks = nullptr;
};
// Segments of positions that several sequences share (the same physical blocks of a cached
// prefix, whole 1024-position segments from position 0) are attended once for the query tokens of
// all of them (src/models/attention_batch.cpp); results are the same bits as attending each
// sequence alone. `stats`, when given, counts that sharing.
struct AttentionStats {
  int64_t shared_tiles = 0;   // shared segments attended (per KV head)
  int64_t shared_tokens = 0;  // query tokens in them
};
void Attention(const AttentionArgs* args, int n_args, ThreadPool& pool,
               AttentionStats* stats = nullptr);
// The sharing counted over all Attention calls of the process (every model), for /metrics.
AttentionStats SharedAttentionTotals();

}  // namespace semantic::models
