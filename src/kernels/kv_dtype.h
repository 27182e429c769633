// Element types of paged K/V rows, shared by the KV pool (addressing) and attention (reading).
// The block types are GGML's: a row of n elements is n/32 blocks laid out as in GGUF files.
// Quantized rows are stored Hadamard-rotated, as llama.cpp stores its quantized caches.
#pragma once

#include <cstddef>
#include <cstdint>

namespace semantic::kernels {

// kF16: IEEE half bits per element. kQ8_0: 34-byte blocks {d f16, qs[32] i8}, x = q * d.
// kQ4_0: 18-byte blocks {d f16, qs[16]}, x = (nibble - 8) * d, low nibbles = elements 0..15.
enum class KvDtype : unsigned char { kF16 = 0, kQ8_0, kQ4_0 };

// Elements per storage block: 1 for f16, 32 for the quantized types.
constexpr int KvBlockElems(KvDtype t) { return t == KvDtype::kF16 ? 1 : 32; }

// Bytes of n elements (n a multiple of KvBlockElems(t)).
constexpr size_t KvRowBytes(KvDtype t, size_t n) {
  switch (t) {
    case KvDtype::kQ8_0:
      return n / 32 * 34;
    case KvDtype::kQ4_0:
      return n / 32 * 18;
    default:
      return n * 2;
  }
}

constexpr const char* KvDtypeName(KvDtype t) {
  return t == KvDtype::kQ8_0 ? "q8_0" : t == KvDtype::kQ4_0 ? "q4_0" : "f16";
}

// Rotation of quantized K/V (llama.cpp's attn_rot_k / attn_rot_v, PR #21038): before they are
// quantized, K rows are multiplied chunk by chunk by the orthonormal Walsh-Hadamard matrix
// H_k (Sylvester order, scaled by 1/sqrt(k); k = the largest power of two >= 64 dividing
// head_dim) and V rows by H_64. H is symmetric with H^2 = I, so q.k is unchanged when q is
// rotated alike, and the attention output is rotated back with H_64. The rotation spreads
// outlier channels over the block, which quantizes better. No rotation for f16 or when head_dim
// is not a multiple of 64 (k = v = 0).
struct KvRotation {
  int k = 0;  // chunk size of the K (and q) rotation; 0: none
  int v = 0;  // chunk size of the V (and output) rotation; 0: none
};
KvRotation KvRotationFor(KvDtype t, int head_dim);

// x[0..n) = H_block x, chunk by chunk (n % block == 0, block a power of two; 0: no-op).
void HadamardRotate(float* x, int n, int block);

// Writes n f32 values (n a multiple of KvBlockElems(t)) as one K/V row of type t into dst
// (KvRowBytes(t, n) bytes, 2-byte aligned), rounded as llama.cpp writes its KV cache: f16 round to
// nearest even, q8_0 as its x86 quantize_row_q8_0, q4_0 as quantize_row_q4_0_ref. rot_block > 0
// rotates (a copy of) x with HadamardRotate first.
void QuantizeKvRow(KvDtype t, const float* x, uint8_t* dst, int n, int rot_block = 0);

}  // namespace semantic::kernels
