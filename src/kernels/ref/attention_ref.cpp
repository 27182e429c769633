// Scalar reference for paged attention over f16 / q8_0 / q4_0 K/V (the oracle for the AVX2
// kernels).
#include <algorithm>
#include <cmath>
#include <vector>

#include "base/fp16.h"
#include "kernels/attention.h"
#include "quant/blocks.h"
#include "quant/dequantize.h"
#include "quant/quantize.h"

namespace semantic::kernels::ref {
namespace {

const uint8_t* Row(const uint8_t* const* blocks, const PagedHeadKv& kv, int p) {
  return blocks[p / kv.block_tokens] + static_cast<size_t>(p % kv.block_tokens) * kv.row_stride;
}

quant::DType QuantType(KvDtype t) {
  return t == KvDtype::kQ8_0   ? quant::DType::kQ8_0
         : t == KvDtype::kQ4_0 ? quant::DType::kQ4_0
                               : quant::DType::kF16;
}

// Sum over 32 elements of the integer quants of one K block times q's Q8_0 quants.
int BlockDot(KvDtype t, const uint8_t* k, const quant::BlockQ8_0& q) {
  int sum = 0;
  if (t == KvDtype::kQ8_0) {
    const auto* b = reinterpret_cast<const quant::BlockQ8_0*>(k);
    for (int i = 0; i < 32; ++i) sum += b->qs[i] * q.qs[i];
  } else {
    const auto* b = reinterpret_cast<const quant::BlockQ4_0*>(k);
    for (int i = 0; i < 16; ++i) {
      sum += ((b->qs[i] & 0xF) - 8) * q.qs[i] + ((b->qs[i] >> 4) - 8) * q.qs[i + 16];
    }
  }
  return sum;
}

// s[p] = scale * q . k[p] for p < n_pos (q rounded to f16, or quantized to Q8_0 for the block
// types); returns max_p s[p].
float Scores(const PagedHeadKv& kv, const float* q, int n_pos, float scale, float* s) {
  const int hd = kv.head_dim;
  std::vector<float> q16(hd);
  std::vector<quant::BlockQ8_0> q8(hd / 32);
  if (kv.dtype == KvDtype::kF16) {
    for (int i = 0; i < hd; ++i) q16[i] = Fp16ToFp32(Fp32ToFp16(q[i]));
  } else {
    quant::QuantizeRowQ8_0(q, q8.data(), hd);
  }
  const size_t kblock = KvRowBytes(kv.dtype, 32);
  float max_s = -INFINITY;
  for (int p = 0; p < n_pos; ++p) {
    const uint8_t* k = Row(kv.k_blocks, kv, p);
    float dot = 0.0f;
    if (kv.dtype == KvDtype::kF16) {
      const auto* k16 = reinterpret_cast<const uint16_t*>(k);
      for (int i = 0; i < hd; ++i) dot += q16[i] * Fp16ToFp32(k16[i]);
    } else {
      for (int b = 0; b < hd / 32; ++b) {
        const uint8_t* kb = k + b * kblock;  // every block starts with its f16 scale
        const float d = Fp16ToFp32(*reinterpret_cast<const uint16_t*>(kb)) * Fp16ToFp32(q8[b].d);
        dot += static_cast<float>(BlockDot(kv.dtype, kb, q8[b])) * d;
      }
    }
    s[p] = dot * scale;
    max_s = std::max(max_s, s[p]);
  }
  return max_s;
}

// o[i] += w * v[p][i] for the head's V row at position p.
void AddV(const PagedHeadKv& kv, int p, float w, float* o, float* tmp) {
  quant::DequantizeRowRef(QuantType(kv.dtype), Row(kv.v_blocks, kv, p), tmp, kv.head_dim);
  for (int i = 0; i < kv.head_dim; ++i) o[i] += w * tmp[i];
}

}  // namespace

void AttendGroup(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                 float* scratch, float* out) {
  const int hd = kv.head_dim;
  const KvRotation rot = KvRotationFor(kv.dtype, hd);
  std::vector<float> tmp(hd), q_rot(q, q + n_q * hd);  // q in the cache's rotated space
  HadamardRotate(q_rot.data(), n_q * hd, rot.k);
  q = q_rot.data();
  for (int h = 0; h < n_q; ++h) {
    float* s = scratch + static_cast<size_t>(h) * n_pos;
    const float max_s = Scores(kv, q + h * hd, n_pos, scale, s);
    double sum = 0.0;
    for (int p = 0; p < n_pos; ++p) {
      s[p] = std::exp(s[p] - max_s);
      sum += s[p];
    }
    const float inv = static_cast<float>(1.0 / sum);
    float* o = out + h * hd;
    std::fill(o, o + hd, 0.0f);
    for (int p = 0; p < n_pos; ++p) {
      float w = s[p] * inv;
      if (kv.dtype == KvDtype::kF16) w = Fp16ToFp32(Fp32ToFp16(w));  // f16 weights, as llama.cpp
      AddV(kv, p, w, o, tmp.data());
    }
  }
  HadamardRotate(out, n_q * hd, rot.v);
}

void AttendGroupPartial(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                        float* scratch, float* out, float* m, float* l) {
  const int hd = kv.head_dim;
  const KvRotation rot = KvRotationFor(kv.dtype, hd);
  std::vector<float> tmp(hd), q_rot(q, q + n_q * hd);
  HadamardRotate(q_rot.data(), n_q * hd, rot.k);
  q = q_rot.data();
  for (int h = 0; h < n_q; ++h) {
    float* s = scratch + static_cast<size_t>(h) * n_pos;
    const float max_s = Scores(kv, q + h * hd, n_pos, scale, s);
    double sum = 0.0;
    float* o = out + h * hd;
    std::fill(o, o + hd, 0.0f);
    for (int p = 0; p < n_pos; ++p) {
      const float w = std::exp(s[p] - max_s);
      sum += w;
      AddV(kv, p, w, o, tmp.data());
    }
    m[h] = max_s;
    l[h] = static_cast<float>(sum);
  }
  HadamardRotate(out, n_q * hd, rot.v);  // linear, so merging rotated-back partials is exact
}

}  // namespace semantic::kernels::ref

namespace semantic::kernels {

void MergePartials(const float* out, const float* m, const float* l, int n_seg, int n_q,
                   int head_dim, float* result) {
  for (int h = 0; h < n_q; ++h) {
    float mx = -INFINITY;
    for (int s = 0; s < n_seg; ++s) mx = std::max(mx, m[s * n_q + h]);
    double denom = 0.0;
    float* r = result + h * head_dim;
    std::fill(r, r + head_dim, 0.0f);
    for (int s = 0; s < n_seg; ++s) {
      const float f = std::exp(m[s * n_q + h] - mx);
      denom += f * l[s * n_q + h];
      const float* o = out + (static_cast<size_t>(s) * n_q + h) * head_dim;
      for (int i = 0; i < head_dim; ++i) r[i] += f * o[i];
    }
    const float inv = static_cast<float>(1.0 / denom);
    for (int i = 0; i < head_dim; ++i) r[i] *= inv;
  }
}

}  // namespace semantic::kernels
