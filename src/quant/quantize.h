// Scalar quantizers: activations to the 8-bit dot formats (Q8_0, Q8_1, Q8_K) bit-exactly as
// llama.cpp's x86 CPU backend does it, and simple f32 -> weight-type quantizers for tests.
#pragma once

#include <cstdint>

#include "quant/blocks.h"
#include "quant/types.h"

namespace semantic::quant {

// x: [n] f32, n % 32 == 0; y: [n/32] blocks. d = amax/127 (stored fp16), q = rne(x * 127/amax).
void QuantizeRowQ8_0(const float* x, BlockQ8_0* y, int64_t n);
// ggml's quantize_row_q4_0_ref (used by llama.cpp to write a q4_0 KV cache): max = the element of
// largest |x| (first on ties), d = max / -8 (f32; stored fp16), q = min(15, trunc(x/d + 8.5)).
void QuantizeRowQ4_0(const float* x, BlockQ4_0* y, int64_t n);
// As Q8_0, plus s = fp16(d * sum(q)) with the unrounded f32 d.
void QuantizeRowQ8_1(const float* x, BlockQ8_1* y, int64_t n);
// x: [n] f32, n % 256 == 0. max = the element of largest |x| (first one on ties),
// iscale = -127/max, q = min(127, rne(iscale * x)), d = 1/iscale (f32), bsums over 16.
void QuantizeRowQ8_K(const float* x, BlockQ8_K* y, int64_t n);
// Round-to-nearest-even conversion of [n] f32 to IEEE half / bfloat16 bit patterns.
void QuantizeRowF16(const float* x, uint16_t* y, int64_t n);
void QuantizeRowBF16(const float* x, uint16_t* y, int64_t n);

// Activation row of `n` elements in format `act` (Q8_0, Q8_1, Q8_K, F16, BF16 or F32) into dst
// (RowBytes(act, n) bytes).
void QuantizeActivationRow(DType act, const float* x, void* dst, int64_t n);

// Test helper: quantizes [n] f32 to weight type `type` (any supported type) into
// RowBytes(type, n) bytes at dst. Simple round-to-nearest schemes, not llama.cpp's optimizers.
void QuantizeRowRef(DType type, const float* x, void* dst, int64_t n);

}  // namespace semantic::quant
