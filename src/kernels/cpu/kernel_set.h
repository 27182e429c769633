// Internal interface between the MatMul driver (threads, scratch, dispatch) and the per-ISA
// kernel files (*_avx2.cpp, *_avx512.cpp): the packed activation layout and the function table.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ops.h"

namespace semantic::kernels::cpu {

// Activations of one MatMul call, quantized to quant::ActivationType(w.type). Values are exactly
// those of the scalar quantizers in quant/quantize.h (fp16 scales stored as their f32 value), in
// a layout that lets a tile load the scales of several tokens at once.
struct PackedActs {
  quant::DType type = quant::DType::kF32;  // activation format
  int64_t n_tok = 0;
  int64_t cols = 0;
  int64_t n_tok_pad = 0;     // n_tok rounded up to a multiple of 8; padding scales are 0
  int64_t nb = 0;            // blocks per row (32 or 256 elements); 0 for float formats
  int8_t* qs = nullptr;      // Q8_*: [n_tok][cols] i8 quants, rows 64-byte aligned (n_tok_pad
                             // rows, the padding zero, where qsi is packed)
  float* d = nullptr;        // Q8_*: [nb][n_tok_pad] f32 block scales
  float* s = nullptr;        // Q8_1: [nb][n_tok_pad] f32 fp16(d*sum(q)) as f32; else null
  int32_t* xsum = nullptr;   // Q8_0/Q8_1: [nb][n_tok_pad] i32 sum of the block's quants
  int32_t* xoff = nullptr;   // Q8_0 for packed Q4_0/Q5_0/Q8_0 weights: [nb][n_tok_pad]
                             // -PackedQuantOffset(w.type) * xsum (else null)
  int16_t* bsums = nullptr;  // Q8_K: [n_tok][nb][16] i16 sums of 16 quants; else null
  int32_t* qsi = nullptr;    // token-lane tiles only: [n_tok_pad / 8][cols / 4][8] 4 quants each
  const float* f = nullptr;  // F32/F16/BF16: [n_tok][cols] f32 (rounded to f16/bf16 values)
  size_t qs_stride = 0;      // bytes between token rows of qs
  size_t f_stride = 0;       // floats between token rows of f
};

// Carves the buffers of `a` for `act` activations out of `base` (64-byte aligned; nullptr only
// computes the size) and returns the bytes needed. F32 leaves a->f for the caller to point at x.
// `token_lanes` (Q8_0/Q8_1 only) also carves a->qsi.
size_t LayoutPackedActs(quant::DType act, int64_t n_tok, int64_t cols, uint8_t* base, PackedActs* a,
                        bool token_lanes = false);

// Fills a->qsi for tokens [t0, t1) from a->qs: quants 4g..4g+3 of token t go to
// qsi[(t / 8 * (cols / 4) + g) * 8 + t % 8], so an 8-token tile reads one contiguous stretch.
void InterleaveQuants(int64_t t0, int64_t t1, PackedActs* a);

// Quantizes activation rows [t0, t1) of x ([n_tok][cols] f32) into a (buffers preallocated).
using QuantizeActsFn = void (*)(const float* x, int64_t t0, int64_t t1, PackedActs* a);

// Writes y[t * w.rows + r] for r in [r0, r1), t in [t0, t1).
using TileFn = void (*)(const WeightView& w, const PackedActs& a, int64_t r0, int64_t r1,
                        int64_t t0, int64_t t1, float* y);

constexpr int kMaxTypeId = 40;

struct KernelSet {
  const char* name = "scalar";
  bool avx512 = false;  // built on the AVX-512 VNNI kernels (the "avx512" and "amx" sets)
  TileFn tile[kMaxTypeId] = {};              // by weight DType id; null = not implemented
  QuantizeActsFn quantize[kMaxTypeId] = {};  // by activation DType id
  bool token_lanes[kMaxTypeId] = {};  // by weight DType id: tile wants PackedActs::qsi at 2+ tokens
  // By weight DType id: kernels reading WeightView::packed (packed_layout.h; r0 a multiple of
  // 16), used instead of `tile` when the matrix has packed weights.
  TileFn tile_packed[kMaxTypeId] = {};
  // Element-wise kernels (null = scalar): see ops.h SiluMul, RmsNormRows, F32ToF16,
  // ExpShifted.
  void (*silu_mul)(float* gate, const float* up, int64_t n) = nullptr;
  void (*rms_norm)(const float* x, const float* w, int64_t n_tok, int64_t n, float eps,
                   float* out) = nullptr;
  void (*f32_to_f16)(const float* x, uint16_t* y, int64_t n) = nullptr;
  void (*exp_shifted)(const float* x, int64_t n, float shift, float divisor, float* y) = nullptr;
};

// Per-ISA tables (defined in the ISA files; each fills the entries it implements).
void FillKernelSetAvx2(KernelSet* ks);
void FillKernelSetAvx512(KernelSet* ks);
// Packed-weight Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q8_0 kernels (q32_packed_avx512.cpp).
void FillQ32PackedAvx512(KernelSet* ks);
// AMX-INT8 tiles for batched Q4_0 / Q4_1 / Q8_0 (q32_amx.cpp), over an AVX-512 set.
void FillQ32Amx(KernelSet* ks);
// AMX-TILE and AMX-INT8 in cpuid and the kernel granted this process the tile data state.
bool AmxUsable();

// The kernel set for an ISA name ("amx", "avx512", "avx2"), or nullptr when this CPU lacks it.
const KernelSet* KernelSetFor(const char* isa);
// The best kernel set for this CPU (nullptr = scalar): amx, else avx512, else avx2.
// SEMANTIC_KERNELS=avx512|avx2|scalar picks a lower one.
const KernelSet* ActiveKernelSet();
// F16C (vcvtph2ps) via cpuid: clang 14's __builtin_cpu_supports does not know "f16c".
bool CpuHasF16c();

// MatMul with an explicit kernel set (nullptr = scalar reference, threaded). Used by tests.
void MatMulWith(const KernelSet* ks, const WeightView& w, const float* x, int64_t n_tok, float* y,
                ThreadPool& pool);
// MatMul of n_w matrices over the same input x: ys[k] = ws[k] x. Matrices of one type and width
// share one activation packing and one fork-join (the work items of all of them are spread over
// the threads together); others fall back to one MatMulWith each. n_w <= 8.
void MatMulSharedWith(const KernelSet* ks, const WeightView* ws, float* const* ys, int n_w,
                      const float* x, int64_t n_tok, ThreadPool& pool);

}  // namespace semantic::kernels::cpu
