// The shared layers: scalar implementations (vectorized by the compiler where it can), RMS norm
// and SiLU through the element-wise kernels (kernels/ops.h).
#include "models/layers.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/fp16.h"
#include "kernels/attention.h"
#include "kernels/ops.h"

namespace semantic::models {
void RmsNorm(const float* x, const float* w, int64_t n_tok, int64_t n, float eps, float* out) {
  kernels::RmsNormRows(x, w, n_tok, n, eps, out);
}

RopeYarn YarnCorrDims(int n_rot, int n_ctx_orig, float freq_base, float beta_fast,
                      float beta_slow) {
  constexpr float kPi = 3.14159265358979323846f;
  auto corr_dim = [&](float n_rotations) {
    return n_rot * std::log(n_ctx_orig / (n_rotations * 2 * kPi)) / (2 * std::log(freq_base));
  };
  RopeYarn y;
  y.low = std::max(0.0f, std::floor(corr_dim(beta_fast)));
  y.high = std::min(static_cast<float>(n_rot - 1), std::ceil(corr_dim(beta_slow)));
  return y;
}

namespace {

// cos / sin of every (token, rotary pair) of one Rope call's positions and parameters. A forward
// pass rotates q and k of every layer at the same positions, so the last few tables are kept
// (per thread; matched by value, never by address) and reused: the same floats, computed once.
struct RopeTable {
  int n_rot = 0;
  float freq_base = 0.0f, freq_scale = 0.0f;
  std::vector<float> factors;  // freq_factors' values, empty when none
  bool has_yarn = false;
  RopeYarn yarn;
  std::vector<int32_t> pos;
  std::vector<float> cs, sn;  // [n_tok][n_rot / 2]

  bool Matches(int64_t n_tok, int n_rot_, const int32_t* pos_, float base, float scale,
               const float* factors_, const RopeYarn* yarn_) const {
    const int half = n_rot_ / 2;
    if (n_rot != n_rot_ || freq_base != base || freq_scale != scale) return false;
    if (factors.empty() != (factors_ == nullptr)) return false;
    if (factors_ && !std::equal(factors.begin(), factors.end(), factors_, factors_ + half))
      return false;
    if (has_yarn != (yarn_ != nullptr)) return false;
    if (yarn_ && (yarn.low != yarn_->low || yarn.high != yarn_->high ||
                  yarn.ext_factor != yarn_->ext_factor || yarn.mscale != yarn_->mscale))
      return false;
    return static_cast<int64_t>(pos.size()) == n_tok && std::equal(pos.begin(), pos.end(), pos_);
  }
};

const RopeTable& RopeTableFor(int64_t n_tok, int n_rot, const int32_t* pos, float freq_base,
                              float freq_scale, const float* freq_factors, const RopeYarn* yarn) {
  constexpr int kTables = 4;  // q and k share one; Gemma 3 alternates two bases
  thread_local RopeTable tables[kTables];
  thread_local int next = 0;
  for (const RopeTable& t : tables)
    if (t.Matches(n_tok, n_rot, pos, freq_base, freq_scale, freq_factors, yarn)) return t;
  RopeTable& t = tables[next];
  next = (next + 1) % kTables;
  const int half = n_rot / 2;
  t.n_rot = n_rot;
  t.freq_base = freq_base;
  t.freq_scale = freq_scale;
  t.factors.assign(freq_factors, freq_factors ? freq_factors + half : nullptr);
  t.has_yarn = yarn != nullptr;
  t.yarn = yarn ? *yarn : RopeYarn{};
  t.pos.assign(pos, pos + n_tok);
  t.cs.resize(static_cast<size_t>(n_tok) * half);
  t.sn.resize(t.cs.size());

  std::vector<float> inv_freq(half);
  const float theta_scale = std::pow(freq_base, -2.0f / n_rot);
  float f = 1.0f;
  for (int i = 0; i < half; ++i) {  // same recurrence as ggml: theta_i = pos * scale^i
    inv_freq[i] = freq_factors ? f / freq_factors[i] : f;
    f *= theta_scale;
  }
  std::vector<float> ramp(half, 0.0f);  // YaRN: weight of the extrapolated angle per pair
  float mscale = 1.0f;
  if (yarn) {
    for (int i = 0; i < half; ++i) {
      const float y = (i - yarn->low) / std::max(0.001f, yarn->high - yarn->low);
      ramp[i] = (1.0f - std::min(1.0f, std::max(0.0f, y))) * yarn->ext_factor;
    }
    mscale = yarn->mscale;
  }
  for (int64_t tok = 0; tok < n_tok; ++tok) {
    float* cs = t.cs.data() + tok * half;
    float* sn = t.sn.data() + tok * half;
    for (int i = 0; i < half; ++i) {
      const float extrap = static_cast<float>(pos[tok]) * inv_freq[i];
      const float interp = extrap * freq_scale;
      const float theta = yarn ? interp * (1.0f - ramp[i]) + extrap * ramp[i] : interp;
      cs[i] = std::cos(theta) * mscale;
      sn[i] = std::sin(theta) * mscale;
    }
  }
  return t;
}

}  // namespace

void Rope(float* x, int64_t n_tok, int n_heads, int head_dim, int n_rot, const int32_t* pos,
          float freq_base, float freq_scale, RopeMode mode, const float* freq_factors,
          const RopeYarn* yarn) {
  const int half = n_rot / 2;
  const RopeTable& table =
      RopeTableFor(n_tok, n_rot, pos, freq_base, freq_scale, freq_factors, yarn);
  for (int64_t t = 0; t < n_tok; ++t) {
    const float* cs = table.cs.data() + t * half;
    const float* sn = table.sn.data() + t * half;
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

void AddBias(float* x, const float* b, int64_t n_tok, int64_t n) {
  for (int64_t t = 0; t < n_tok; ++t) {
    for (int64_t i = 0; i < n; ++i) x[t * n + i] += b[i];
  }
}

void SwiGlu(float* gate, const float* up, int64_t n) { kernels::SiluMul(gate, up, n); }

void SwiGluFfn(const kernels::WeightView& gate, const kernels::WeightView& up,
               const kernels::WeightView& down, const float* x, int64_t n_tok, float* gate_buf,
               float* up_buf, float* y, ThreadPool& pool) {
  kernels::MatMulShared({{&gate, gate_buf}, {&up, up_buf}}, x, n_tok, pool);
  GatedActivation(SwiGlu, gate_buf, up_buf, n_tok * gate.rows, pool);
  kernels::MatMul(down, gate_buf, n_tok, y, pool);
}

namespace {

// GELU (tanh form) of every f16 value, rounded to f16, as f32: ggml's table (its CPU GELU
// rounds the input and the result to f16). 64 Ki entries, built once.
const float* GeluTanhTable() {
  static const std::vector<float> table = [] {
    constexpr float kSqrt2OverPi = 0.79788456080286535588f, kCoef = 0.044715f;
    std::vector<float> t(1 << 16);
    for (uint32_t h = 0; h < t.size(); ++h) {
      const float x = Fp16ToFp32(static_cast<uint16_t>(h));
      t[h] = Fp16ToFp32(
          Fp32ToFp16(0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kCoef * x * x)))));
    }
    return t;
  }();
  return table.data();
}

}  // namespace

void GeluTanhGlu(float* gate, const float* up, int64_t n) {
  const float* table = GeluTanhTable();
  constexpr int64_t kChunk = 256;
  uint16_t h[kChunk];
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int64_t m = std::min(kChunk, n - i0);
    kernels::F32ToF16(gate + i0, h, m);  // vectorized, round to nearest even as Fp32ToFp16
    for (int64_t j = 0; j < m; ++j) {
      const float g = gate[i0 + j];
      const float y = g <= -10.0f ? 0.0f : g >= 10.0f ? g : table[h[j]];
      gate[i0 + j] = y * up[i0 + j];
    }
  }
}

void GatedActivation(void (*act)(float*, const float*, int64_t), float* gate, const float* up,
                     int64_t n, ThreadPool& pool) {
  constexpr int64_t kMinParallel = 1 << 14, kChunk = 4096;
  if (n < kMinParallel || pool.size() == 1) {
    act(gate, up, n);
    return;
  }
  pool.ParallelFor((n + kChunk - 1) / kChunk, [&](int64_t c0, int64_t c1) {
    const int64_t i0 = c0 * kChunk, i1 = std::min(n, c1 * kChunk);
    act(gate + i0, up + i0, i1 - i0);
  });
}

void StoreKv(kv::KvPool& pool, const kv::SequenceKv& seq, int layer, int start, int n_tok,
             const float* k, const float* v) {
  const kv::KvLayout& L = pool.layout();
  const int bt = L.block_tokens, hd = L.head_dim, kv_dim = L.kv_dim();
  const kernels::KvRotation rot = kernels::KvRotationFor(L.dtype, hd);
  for (int t = 0; t < n_tok; ++t) {
    const int p = start + t;
    const int32_t block = seq.blocks[p / bt];
    for (int h = 0; h < L.n_kv_heads; ++h) {
      const size_t src = static_cast<size_t>(t) * kv_dim + h * hd;
      const size_t dst = kv::KvPool::RowOffset(L, h, p % bt);
      kernels::QuantizeKvRow(L.dtype, k + src, pool.K(block, layer) + dst, hd, rot.k);
      if (!L.v_from_k) {
        kernels::QuantizeKvRow(L.dtype, v + src, pool.V(block, layer) + dst, hd, rot.v);
      }
    }
  }
}

}  // namespace semantic::models
