// Packs Q4_K / Q5_K / Q6_K rows into the packed K layout of packed_layout.h: each super-block's
// integer quants, scales and mins are read the GGUF way, then written 16 rows interleaved.
#include <cstring>

#include "base/check.h"
#include "kernels/cpu/packed_layout.h"
#include "quant/types.h"

namespace semantic::kernels::cpu {
namespace {

using quant::DType;

// One GGUF super-block as integers: q[256] unsigned quants, sc[16] scales (Q4_K/Q5_K: 8 u8,
// Q6_K: 16 i8 as their bytes), mn[8] mins (Q4_K/Q5_K).
struct SuperBlock {
  uint8_t q[256];
  uint8_t sc[16];
  uint8_t mn[8];
};

// The 6-bit scale and min of sub-block j of a Q4_K / Q5_K super-block (GGUF's 12 packed bytes).
void ScaleMinK4(int j, const uint8_t* s, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Bit `bit` of each of the 4 bytes of v, as bits 0..3.
inline uint32_t NibbleOfBit(uint32_t v, int bit) {
  const uint32_t b = (v >> bit) & 0x01010101u;
  return (b & 1) | ((b >> 7) & 2) | ((b >> 14) & 4) | ((b >> 21) & 8);
}

void Unpack(DType type, const uint8_t* blk, SuperBlock* sb) {
  if (type == DType::kQ6_K) {  // ql[128], qh[64], i8 scales[16], f16 d
    const uint8_t *ql = blk, *qh = blk + 128;
    for (int h = 0; h < 2; ++h)
      for (int l = 0; l < 32; ++l) {
        const uint8_t a = ql[64 * h + l], b = ql[64 * h + l + 32], hb = qh[32 * h + l];
        uint8_t* q = sb->q + 128 * h + l;
        q[0] = (a & 0xF) | ((hb & 3) << 4);
        q[32] = (b & 0xF) | (((hb >> 2) & 3) << 4);
        q[64] = (a >> 4) | (((hb >> 4) & 3) << 4);
        q[96] = (b >> 4) | (((hb >> 6) & 3) << 4);
      }
    std::memcpy(sb->sc, blk + 192, 16);
    return;
  }
  // Q4_K: f16 d, f16 dmin, scales[12], qs[128]; Q5_K: the same with qh[32] before qs.
  const bool five = type == DType::kQ5_K;
  const uint8_t* qs = blk + (five ? 48 : 16);
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      uint8_t lo = qs[32 * c + l] & 0xF, hi = qs[32 * c + l] >> 4;
      if (five) {
        lo |= ((blk[16 + l] >> (2 * c)) & 1) << 4;
        hi |= ((blk[16 + l] >> (2 * c + 1)) & 1) << 4;
      }
      sb->q[64 * c + l] = lo;
      sb->q[64 * c + 32 + l] = hi;
    }
  for (int j = 0; j < 8; ++j) ScaleMinK4(j, blk + 4, &sb->sc[j], &sb->mn[j]);
}

}  // namespace

void PackRowsK(const WeightView& w, int64_t g0, int64_t g1, uint8_t* out) {
  const PackedKLayout lay = PackedKOffsets(w.type);
  CHECK(lay.bytes != 0 && w.cols % 256 == 0);
  const int64_t nb = w.cols / 256;
  const size_t src_block = static_cast<size_t>(quant::GetDTypeInfo(w.type)->block_bytes);
  const bool six = w.type == DType::kQ6_K;
  const auto* src = static_cast<const uint8_t*>(w.data);
  std::memset(out + g0 * nb * lay.bytes, 0, (g1 - g0) * nb * lay.bytes);  // padding rows: zero
  SuperBlock sb;
  for (int64_t g = g0; g < g1; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* dst = out + (g * nb + b) * lay.bytes;
      for (int r = 0; r < kPackRows && g * kPackRows + r < w.rows; ++r) {
        const uint8_t* blk = src + (g * kPackRows + r) * w.row_bytes + b * src_block;
        Unpack(w.type, blk, &sb);
        for (int u = 0; u < 8; ++u) {
          for (int k = 0; k < 8; ++k) {  // 4 columns at a time, as one 32-bit word
            uint32_t q, packed;
            std::memcpy(&q, sb.q + 32 * u + 4 * k, 4);
            uint8_t* p = dst + 512 * (u / 2) + 64 * k + 4 * r;
            std::memcpy(&packed, p, 4);
            packed |= (q & 0x0F0F0F0Fu) << (4 * (u % 2));
            std::memcpy(p, &packed, 4);
            if (lay.masks >= 0) {  // bits 4r..4r+3 of word [u][k]: a nibble of byte r / 2
              uint8_t* mask = dst + lay.masks + 64 * u + 8 * k + r / 2;
              mask[0] |= static_cast<uint8_t>(NibbleOfBit(q, 4) << (4 * (r % 2)));
              if (six) mask[512] |= static_cast<uint8_t>(NibbleOfBit(q, 5) << (4 * (r % 2)));
            }
          }
        }
        if (six) {
          std::memcpy(dst + lay.d + 2 * r, blk + 208, 2);
          for (int s = 0; s < 16; ++s) dst[lay.sc + 32 * (s / 2) + 2 * r + s % 2] = sb.sc[s];
        } else {
          std::memcpy(dst + lay.d + 2 * r, blk, 2);
          std::memcpy(dst + lay.dmin + 2 * r, blk + 2, 2);
          for (int s = 0; s < 8; ++s) {
            dst[lay.sc + 16 * s + r] = sb.sc[s];
            dst[lay.m + 16 * s + r] = sb.mn[s];
          }
        }
      }
    }
  }
}

}  // namespace semantic::kernels::cpu
