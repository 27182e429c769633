// Paged attention over q8_0 / q4_0 K/V. Included by attention_q_avx2.cpp and
// attention_q_avx512.cpp (the VNNI build uses vpdpbusd and more registers).
//
// Scores: q is quantized to Q8_0 once per call (as llama.cpp does for these K types); for eight
// positions at a time, each position's 32-byte integer dot with q is reduced across lanes so that
// lane i holds position i, and one FMA applies d_k·d_q for the block. V: each 32-element block of
// a V row is dequantized once and accumulated into up to kVHeads query heads.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/attention.h"
#include "kernels/cpu/attention_x86.h"
#include "kernels/cpu/simd_x86.h"
#include "quant/blocks.h"
#include "quant/quantize.h"

namespace semantic::kernels::cpu {
namespace {  // NOLINT(build/namespaces): per-ISA copies on purpose

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
constexpr bool kVnni = true;
constexpr int kVHeads = 4;  // query heads whose V accumulators live in registers at once
#else
constexpr bool kVnni = false;
constexpr int kVHeads = 3;
#endif
constexpr int kMaxGroup = 16;   // query heads per KV head
constexpr int kMaxBlocks = 16;  // 32-element blocks per head (head_dim <= 512)

// 8 x i8 -> 8 x f32.
inline __m256 I8ToF32(__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)); }

// Block traits. Operand: the 32 quants as the first operand of Dot; Dot(u, q): i32x8 partial
// sums of quant x q over the block, to which kOffset * sum(q) must be subtracted. Values: the
// block's quants as 4 x 8 floats in element order (unscaled).
struct KvQ8_0 {
  static constexpr int kBytes = 34;
  static constexpr int kOffset = kVnni ? 128 : 0;  // VNNI: i8 quants made u8 by +128
  static __m256i Operand(const uint8_t* b) {
    const __m256i k = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
    return kVnni ? _mm256_xor_si256(k, _mm256_set1_epi8(static_cast<char>(0x80))) : k;
  }
  static __m256i Dot(__m256i u, __m256i q) {
    if constexpr (kVnni) return DotU8S8(u, q);
    return DotU8S8(_mm256_sign_epi8(u, u), _mm256_sign_epi8(q, u));  // |k| x sign(k)·q
  }
  static void Values(const uint8_t* b, __m256 v[4]) {
    for (int c = 0; c < 4; ++c)
      v[c] = I8ToF32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + 2 + 8 * c)));
  }
};

struct KvQ4_0 {
  static constexpr int kBytes = 18;
  static constexpr int kOffset = 8;
  static __m256i Operand(const uint8_t* b) { return LoadNibbles32(b + 2); }
  static __m256i Dot(__m256i u, __m256i q) { return DotU8S8(u, q); }
  static void Values(const uint8_t* b, __m256 v[4]) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 2));
    const __m128i m = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
    const __m128i lo = _mm_sub_epi8(_mm_and_si128(raw, m), eight);  // elements 0..15
    const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(raw, 4), m), eight);
    v[0] = I8ToF32(lo);
    v[1] = I8ToF32(_mm_srli_si128(lo, 8));
    v[2] = I8ToF32(hi);
    v[3] = I8ToF32(_mm_srli_si128(hi, 8));
  }
};

inline uint16_t LoadU16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

// out[h][32j .. 32j+32) = sum_p w[h][p] * v[p][same dims] for the H heads from h0.
// w: [n_q][n_pos] f32 weights; out: [n_q][head_dim].
template <class T, int H>
void AccumulateV(const PagedHeadKv& kv, const float* w, int n_pos, int h0, int j, float* out) {
  __m256 acc[H][4];
  for (int h = 0; h < H; ++h)
    for (int c = 0; c < 4; ++c) acc[h][c] = _mm256_setzero_ps();
  const int bt = kv.block_tokens;
  const float* wh = w + static_cast<size_t>(h0) * n_pos;
  for (int b0 = 0; b0 < n_pos; b0 += bt) {
    const uint8_t* vblock = kv.v_blocks[b0 / bt] + j * T::kBytes;
    const int in_block = std::min(bt, n_pos - b0);
    if (b0 + bt < n_pos)
      PrefetchRows(kv.v_blocks[b0 / bt + 1] + j * T::kBytes, bt, kv.row_stride, T::kBytes);
    for (int i = 0; i < in_block; ++i) {
      const uint8_t* blk = vblock + static_cast<size_t>(i) * kv.row_stride;
      const float dv = HalfToFloat(blk);
      __m256 v[4];
      T::Values(blk, v);
      for (int h = 0; h < H; ++h) {
        const __m256 wv = _mm256_set1_ps(wh[static_cast<size_t>(h) * n_pos + b0 + i] * dv);
        for (int c = 0; c < 4; ++c) acc[h][c] = _mm256_fmadd_ps(wv, v[c], acc[h][c]);
      }
    }
  }
  for (int h = 0; h < H; ++h)
    for (int c = 0; c < 4; ++c)
      _mm256_storeu_ps(out + (h0 + h) * kv.head_dim + 32 * j + 8 * c, acc[h][c]);
}

template <class T>
void AccumulateVHeads(const PagedHeadKv& kv, const float* w, int n_q, int n_pos, int j,
                      float* out) {
  for (int h0 = 0; h0 < n_q;) {
    switch (std::min(n_q - h0, kVHeads)) {
      case 4:
        AccumulateV<T, 4>(kv, w, n_pos, h0, j, out);
        h0 += 4;
        break;
      case 3:
        AccumulateV<T, 3>(kv, w, n_pos, h0, j, out);
        h0 += 3;
        break;
      case 2:
        AccumulateV<T, 2>(kv, w, n_pos, h0, j, out);
        h0 += 2;
        break;
      default:
        AccumulateV<T, 1>(kv, w, n_pos, h0, j, out);
        h0 += 1;
    }
  }
}

// As AttendGroupAvx2 (attention_avx2.cpp) for block-quantized K/V of type T. Requires
// head_dim % 32 == 0, head_dim <= 32 * kMaxBlocks and n_q <= kMaxGroup.
template <class T>
void AttendGroupQ(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                  float* scratch, float* out, float* partial_m, float* partial_l) {
  const int hd = kv.head_dim, bt = kv.block_tokens, nb = hd / 32;
  const size_t stride = kv.row_stride;
  // q as Q8_0: quants [n_q][nb][32] i8, scales [n_q][nb] f32, kOffset * sum(quants) per block.
  alignas(32) int8_t qq[kMaxGroup * kMaxBlocks * 32];
  float qd[kMaxGroup * kMaxBlocks];
  int32_t qoff[kMaxGroup * kMaxBlocks];
  for (int h = 0; h < n_q; ++h) {
    quant::BlockQ8_0 blocks[kMaxBlocks];
    quant::QuantizeRowQ8_0(q + h * hd, blocks, hd);
    for (int j = 0; j < nb; ++j) {
      const int idx = h * nb + j;
      std::memcpy(qq + 32 * idx, blocks[j].qs, 32);
      qd[idx] = _cvtsh_ss(blocks[j].d);
      int sum = 0;
      for (int i = 0; i < 32; ++i) sum += blocks[j].qs[i];
      qoff[idx] = T::kOffset * sum;
    }
  }

  // Scores s[h][p] = scale * sum_j d_k d_q (k_j . q_j), eight positions of a block at a time.
  float max_s[kMaxGroup];  // over partial groups of positions; vmax over whole groups of 8
  __m256 vmax[kMaxGroup];
  for (int h = 0; h < n_q; ++h) {
    max_s[h] = -INFINITY;
    vmax[h] = _mm256_set1_ps(-INFINITY);
  }
  for (int b0 = 0; b0 < n_pos; b0 += bt) {
    const uint8_t* kblock = kv.k_blocks[b0 / bt];
    const int in_block = std::min(bt, n_pos - b0);
    if (b0 + bt < n_pos) PrefetchRows(kv.k_blocks[b0 / bt + 1], bt, stride, nb * T::kBytes);
    for (int i0 = 0; i0 < in_block; i0 += 8) {
      const int n8 = std::min(8, in_block - i0);
      const uint8_t* rows[8];  // past the block's end: repeat the last row (lanes discarded)
      for (int i = 0; i < 8; ++i) rows[i] = kblock + (i0 + std::min(i, n8 - 1)) * stride;
      __m256 acc[kMaxGroup];
      for (int h = 0; h < n_q; ++h) acc[h] = _mm256_setzero_ps();
      for (int j = 0; j < nb; ++j) {
        const size_t off = static_cast<size_t>(j) * T::kBytes;
        const __m256 dk = _mm256_cvtph_ps(
            _mm_setr_epi16(LoadU16(rows[0] + off), LoadU16(rows[1] + off), LoadU16(rows[2] + off),
                           LoadU16(rows[3] + off), LoadU16(rows[4] + off), LoadU16(rows[5] + off),
                           LoadU16(rows[6] + off), LoadU16(rows[7] + off)));
        __m256i u[8];
        for (int i = 0; i < 8; ++i) u[i] = T::Operand(rows[i] + off);
        for (int h = 0; h < n_q; ++h) {
          const int idx = h * nb + j;
          const __m256i qv = _mm256_load_si256(reinterpret_cast<const __m256i*>(qq + 32 * idx));
          __m256i d[8];
          for (int i = 0; i < 8; ++i) d[i] = T::Dot(u[i], qv);
          __m256i isum = ReduceLanes8(d);
          if constexpr (T::kOffset != 0) {
            isum = _mm256_sub_epi32(isum, _mm256_set1_epi32(qoff[idx]));
          }
          acc[h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum),
                                   _mm256_mul_ps(dk, _mm256_set1_ps(qd[idx])), acc[h]);
        }
      }
      for (int h = 0; h < n_q; ++h) {
        const __m256 sv = _mm256_mul_ps(acc[h], _mm256_set1_ps(scale));
        float* s = scratch + static_cast<size_t>(h) * n_pos + b0 + i0;
        if (n8 == 8) {
          _mm256_storeu_ps(s, sv);
          vmax[h] = _mm256_max_ps(vmax[h], sv);
        } else {
          alignas(32) float tmp[8];
          _mm256_store_ps(tmp, sv);
          for (int i = 0; i < n8; ++i) {
            s[i] = tmp[i];
            max_s[h] = std::max(max_s[h], tmp[i]);
          }
        }
      }
    }
  }
  // Softmax per head with f32 weights (llama.cpp keeps them f32 for quantized V).
  for (int h = 0; h < n_q; ++h) {
    max_s[h] = std::max(max_s[h], HorizontalMax(vmax[h]));
    SoftmaxRow(scratch + static_cast<size_t>(h) * n_pos, n_pos, max_s[h],
               partial_m ? partial_m + h : nullptr, partial_l ? partial_l + h : nullptr,
               /*round_f16=*/false);
  }
  for (int j = 0; j < nb; ++j) AccumulateVHeads<T>(kv, scratch, n_q, n_pos, j, out);
}

// Entry point of one ISA file: the dtype switch.
inline void AttendGroupQuantized(const PagedHeadKv& kv, const float* q, int n_q, int n_pos,
                                 float scale, float* scratch, float* out, float* partial_m,
                                 float* partial_l) {
  if (kv.dtype == KvDtype::kQ8_0) {
    AttendGroupQ<KvQ8_0>(kv, q, n_q, n_pos, scale, scratch, out, partial_m, partial_l);
  } else {
    AttendGroupQ<KvQ4_0>(kv, q, n_q, n_pos, scale, scratch, out, partial_m, partial_l);
  }
}

}  // namespace
}  // namespace semantic::kernels::cpu
