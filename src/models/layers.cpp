// Scalar implementations of the shared layers (vectorized by the compiler where it can).
#include "models/layers.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/fp16.h"
#include "kernels/attention.h"

namespace semantic::models {
void RmsNorm(const float* x, const float* w, int64_t n_tok, int64_t n, float eps, float* out) {
  for (int64_t t = 0; t < n_tok; ++t) {
    const float* xr = x + t * n;
    float* o = out + t * n;
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(xr[i]) * xr[i];
    const float scale = 1.0f / std::sqrt(static_cast<float>(sum / n) + eps);
    for (int64_t i = 0; i < n; ++i) o[i] = xr[i] * scale * w[i];
  }
}

void Rope(float* x, int64_t n_tok, int n_heads, int head_dim, int n_rot, const int32_t* pos,
          float freq_base, float freq_scale, RopeMode mode, const float* freq_factors) {
  const int half = n_rot / 2;
  std::vector<float> inv_freq(half);
  const float theta_scale = std::pow(freq_base, -2.0f / n_rot);
  float f = 1.0f;
  for (int i = 0; i < half; ++i) {  // same recurrence as ggml: theta_i = pos * scale^i
    inv_freq[i] = freq_factors ? f / freq_factors[i] : f;
    f *= theta_scale;
  }
  std::vector<float> cs(half), sn(half);
  for (int64_t t = 0; t < n_tok; ++t) {
    for (int i = 0; i < half; ++i) {
      const float theta = static_cast<float>(pos[t]) * inv_freq[i] * freq_scale;
      cs[i] = std::cos(theta);
      sn[i] = std::sin(theta);
    }
    for (int h = 0; h < n_heads; ++h) {
      float* v = x + (t * n_heads + h) * head_dim;
      for (int i = 0; i < half; ++i) {
        const int a = mode == RopeMode::kNorm ? 2 * i : i;
        const int b = mode == RopeMode::kNorm ? 2 * i + 1 : i + half;
        const float x0 = v[a], x1 = v[b];
        v[a] = x0 * cs[i] - x1 * sn[i];
        v[b] = x0 * sn[i] + x1 * cs[i];
      }
    }
  }
}

void SwiGlu(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void StoreKv(kv::KvPool& pool, const kv::SequenceKv& seq, int layer, int start, int n_tok,
             const float* k, const float* v) {
  const int bt = pool.layout().block_tokens;
  const int kv_dim = pool.layout().kv_dim();
  for (int t = 0; t < n_tok; ++t) {
    const int p = start + t;
    const int32_t block = seq.blocks[p / bt];
    uint16_t* kd = pool.K(block, layer) + static_cast<size_t>(p % bt) * kv_dim;
    uint16_t* vd = pool.V(block, layer) + static_cast<size_t>(p % bt) * kv_dim;
    for (int i = 0; i < kv_dim; ++i) {
      kd[i] = Fp32ToFp16(k[static_cast<size_t>(t) * kv_dim + i]);
      vd[i] = Fp32ToFp16(v[static_cast<size_t>(t) * kv_dim + i]);
    }
  }
}

void Attention(const AttentionArgs* args, int n_args, ThreadPool& pool) {
  // Work items: (arg, token, kv head); each covers the query heads of one GQA group.
  std::vector<int64_t> offsets(n_args + 1, 0);
  for (int a = 0; a < n_args; ++a) {
    offsets[a + 1] = offsets[a] + static_cast<int64_t>(args[a].n_tok) *
                                      args[a].pool->layout().n_kv_heads;
  }
  pool.ParallelFor(offsets[n_args], [&](int64_t begin, int64_t end) {
    std::vector<float> scratch;
    std::vector<const uint16_t*> k_blocks, v_blocks;
    int a = 0;
    for (int64_t item = begin; item < end; ++item) {
      while (item >= offsets[a + 1]) ++a;
      const AttentionArgs& A = args[a];
      const kv::KvLayout& L = A.pool->layout();
      const int hd = L.head_dim, n_kv = L.n_kv_heads, group = A.n_head / n_kv;
      const int64_t local = item - offsets[a];
      const int t = static_cast<int>(local / n_kv);
      const int kvh = static_cast<int>(local % n_kv);
      const int n_pos = A.start + t + 1;
      const int n_blocks = (n_pos + L.block_tokens - 1) / L.block_tokens;
      k_blocks.resize(n_blocks);
      v_blocks.resize(n_blocks);
      for (int b = 0; b < n_blocks; ++b) {
        k_blocks[b] = A.pool->K(A.seq->blocks[b], A.layer) + kvh * hd;
        v_blocks[b] = A.pool->V(A.seq->blocks[b], A.layer) + kvh * hd;
      }
      kernels::PagedHeadKv kv{k_blocks.data(), v_blocks.data(), L.block_tokens, L.kv_dim(), hd};
      scratch.resize(static_cast<size_t>(group) * n_pos);
      const size_t q_off = (static_cast<size_t>(t) * A.n_head + kvh * group) * hd;
      kernels::AttendGroup(kv, A.q + q_off, group, n_pos, A.scale, scratch.data(),
                           A.out + q_off);
    }
  });
}

}  // namespace semantic::models
