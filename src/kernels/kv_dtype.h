// Element types of paged K/V rows, shared by the KV pool (addressing) and attention (reading).
// The block types are GGML's: a row of n elements is n/32 blocks laid out as in GGUF files.
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

// Writes n f32 values (n a multiple of KvBlockElems(t)) as one K/V row of type t into dst
// (KvRowBytes(t, n) bytes, 2-byte aligned), rounded as llama.cpp writes its KV cache: f16 round to
// nearest even, q8_0 as its x86 quantize_row_q8_0, q4_0 as quantize_row_q4_0_ref.
void QuantizeKvRow(KvDtype t, const float* x, uint8_t* dst, int n);

}  // namespace semantic::kernels
