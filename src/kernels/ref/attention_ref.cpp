// Scalar reference for paged attention (the oracle for the AVX2 kernel).
#include <algorithm>
#include <cmath>
#include <vector>

#include "base/fp16.h"
#include "kernels/attention.h"

namespace semantic::kernels::ref {
namespace {

// s[p] = scale * f16(q) . k[p] for p < n_pos; returns max_p s[p].
float Scores(const PagedHeadKv& kv, const float* q, int n_pos, float scale, float* s) {
  const int hd = kv.head_dim, bt = kv.block_tokens;
  std::vector<float> q16(hd);
  for (int i = 0; i < hd; ++i) q16[i] = Fp16ToFp32(Fp32ToFp16(q[i]));
  float max_s = -INFINITY;
  for (int p = 0; p < n_pos; ++p) {
    const uint16_t* k = kv.k_blocks[p / bt] + static_cast<size_t>(p % bt) * kv.row_stride;
    float dot = 0.0f;
    for (int i = 0; i < hd; ++i) dot += q16[i] * Fp16ToFp32(k[i]);
    s[p] = dot * scale;
    max_s = std::max(max_s, s[p]);
  }
  return max_s;
}

const uint16_t* VRow(const PagedHeadKv& kv, int p) {
  return kv.v_blocks[p / kv.block_tokens] + static_cast<size_t>(p % kv.block_tokens) * kv.row_stride;
}

}  // namespace

void AttendGroup(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                 float* scratch, float* out) {
  const int hd = kv.head_dim;
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
      const float w = Fp16ToFp32(Fp32ToFp16(s[p] * inv));  // f16 weights, as llama.cpp
      const uint16_t* v = VRow(kv, p);
      for (int i = 0; i < hd; ++i) o[i] += w * Fp16ToFp32(v[i]);
    }
  }
}

void AttendGroupPartial(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                        float* scratch, float* out, float* m, float* l) {
  const int hd = kv.head_dim;
  for (int h = 0; h < n_q; ++h) {
    float* s = scratch + static_cast<size_t>(h) * n_pos;
    const float max_s = Scores(kv, q + h * hd, n_pos, scale, s);
    double sum = 0.0;
    float* o = out + h * hd;
    std::fill(o, o + hd, 0.0f);
    for (int p = 0; p < n_pos; ++p) {
      const float w = std::exp(s[p] - max_s);
      sum += w;
      const uint16_t* v = VRow(kv, p);
      for (int i = 0; i < hd; ++i) o[i] += w * Fp16ToFp32(v[i]);
    }
    m[h] = max_s;
    l[h] = static_cast<float>(sum);
  }
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
