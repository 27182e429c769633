// GGUF quantization block layouts (byte-exact with GGML files) and the per-type constants shared
// by the scalar reference code and the SIMD kernels. All fp16 fields are IEEE half bit patterns.
#pragma once

#include <cstdint>
#include <cstring>

namespace semantic::quant {

constexpr int kQK = 32;    // elements per legacy block (Q4_0 .. Q8_1, IQ4_NL)
constexpr int kQKK = 256;  // elements per K-quant super-block

// x = (q - 8) * d; qs[j] low nibble = element j, high nibble = element j + 16.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// x = q * d + m; same nibble order as Q4_0.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// x = (q5 - 16) * d; bit j of qh (little-endian u32) is bit 4 of element j (j < 32).
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// x = q5 * d + m.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// x = q * d.
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_0) == 34);

// Activations only: s = fp16(d * sum(qs)), so a weight min m contributes m * s.
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_1) == 36);

// x = d * sc_j * q - dmin * m_j for sub-block j (32 elements); 6-bit sc/m packed in scales[12]
// (see UnpackScaleMinK4). Chunk c (64 elements) uses qs[32c .. 32c+31]: low nibbles are
// sub-block 2c, high nibbles sub-block 2c+1.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[kQKK / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// Q4_K plus a 5th bit: element l of sub-block 2c has it in bit 2c of qh[l], element l of
// sub-block 2c+1 in bit 2c+1 of qh[l] (l < 32).
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kQKK / 8];
  uint8_t qs[kQKK / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

// x = d * scales[s] * (q - 32), 16 sub-blocks of 16. Per 128-element half h (ql += 64h,
// qh += 32h), for l < 32: element l     = ql[l] low  | (qh[l] bits 0-1) << 4
//                         element l+32  = ql[l+32] low | (qh[l] bits 2-3) << 4
//                         element l+64  = ql[l] high | (qh[l] bits 4-5) << 4
//                         element l+96  = ql[l+32] high | (qh[l] bits 6-7) << 4
struct BlockQ6_K {
  uint8_t ql[kQKK / 2];
  uint8_t qh[kQKK / 4];
  int8_t scales[kQKK / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// Activations only: d is f32; bsums[g] = sum of qs[16g .. 16g+15].
struct BlockQ8_K {
  float d;
  int8_t qs[kQKK];
  int16_t bsums[kQKK / 16];
};
static_assert(sizeof(BlockQ8_K) == 292);

// x = d * kIq4nlValues[nibble]; same nibble order as Q4_0.
struct BlockIQ4_NL {
  uint16_t d;
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockIQ4_NL) == 18);

// Non-linear 4-bit codebook of IQ4_NL (GGML's kvalues_iq4nl; a format constant).
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

// MXFP4 (OCP microscaling FP4): x = E8M0ToFp32Half(e) * kMxfp4Values[nibble], where the table
// holds twice the E2M1 values so the scale carries the 1/2; same nibble order as Q4_0. The scale
// byte comes first (17-byte blocks, no f16 field).
struct BlockMXFP4 {
  uint8_t e;
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockMXFP4) == 17);

// E2M1 values {0, 0.5, 1, 1.5, 2, 3, 4, 6} and their negatives, doubled (GGML's kvalues_mxfp4).
inline constexpr int8_t kMxfp4Values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// 2^(e - 128) as f32 bits (GGML's ggml_e8m0_to_fp32_half): subnormal for e < 2; e = 255 is
// treated as 2^127 like GGML does, not as NaN.
inline float E8M0ToFp32Half(uint8_t e) {
  const uint32_t bits = e < 2 ? 0x00200000u << e : static_cast<uint32_t>(e - 1) << 23;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Scale j (0..7) and min j of a Q4_K / Q5_K `scales[12]` array, both 6-bit.
//   j < 4: sc = s[j] & 63,                         m = s[j+4] & 63
//   j >= 4: sc = (s[j+4] & 15) | (s[j-4] >> 6) << 4, m = (s[j+4] >> 4) | (s[j] >> 6) << 4
inline void UnpackScaleMinK4(const uint8_t* s, int j, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

// Inverse of UnpackScaleMinK4 for 8 scales and 8 mins (each < 64).
inline void PackScaleMinK4(const uint8_t sc[8], const uint8_t m[8], uint8_t s[12]) {
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>(m[j] | ((m[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4));
  }
}

}  // namespace semantic::quant
