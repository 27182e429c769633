// CUDA ops, host API: each mirrors a CPU op (models/layers.h, kernels/ops.h, the sampler) on
// device pointers, enqueues on `stream` (nullptr: the default stream) and returns the launch
// status. One .cu file per op in this folder; tests/cuda compares each with the CPU reference.
// Not yet here: q8_0/q4_0 KV attention, sliding windows, a tensor-core prefill matmul, K-quants.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <initializer_list>

#include "base/status.h"
#include "kernels/attention.h"
#include "kernels/ops.h"

namespace semantic::kernels::cuda {

// models::RmsNorm: out[t][i] = x[t][i] / sqrt(mean(x[t]^2) + eps) * w[i]; x, out [n_tok][n]
// (may alias), w [n].
Status RmsNorm(const float* x, const float* w, int64_t n_tok, int64_t n, float eps, float* out,
               cudaStream_t stream = nullptr);
// A residual add and the next norm in one launch: x += d, then out = RmsNorm(x) * w; the same
// results as Add then RmsNorm. d may alias out.
Status AddRmsNorm(float* x, const float* d, const float* w, int64_t n_tok, int64_t n, float eps,
                  float* out, cudaStream_t stream = nullptr);

// models::Rope on x [n_tok][n_heads][head_dim] in place; pos [n_tok] on the device. The
// frequency table is built on the host as the CPU code builds it (freq_factors and yarn are HOST
// pointers, nullable), so both rotate by the same f32 angles. n_rot <= 512.
struct RopeArgs {
  int n_heads = 0, head_dim = 0, n_rot = 0;
  float freq_base = 10000.0f, freq_scale = 1.0f;
  bool neox = false;                    // half-split pairs (NEOX) or adjacent pairs (NORM)
  const float* freq_factors = nullptr;  // host, [n_rot/2]
  bool yarn = false;
  float yarn_low = 0.0f, yarn_high = 0.0f, yarn_ext_factor = 1.0f, yarn_mscale = 1.0f;
};
Status Rope(float* x, int64_t n_tok, const int32_t* pos, const RopeArgs& args,
            cudaStream_t stream = nullptr);
// Rope of x (args.n_heads heads per token) and y (y_heads heads, same head size and angles: k
// beside q) in one launch; the same results as two Rope calls.
Status RopeQK(float* x, float* y, int y_heads, int64_t n_tok, const int32_t* pos,
              const RopeArgs& args, cudaStream_t stream = nullptr);

// models::SwiGlu / models::GeluTanhGlu: gate[i] = act(gate[i]) * up[i] for i < n (GELU with the
// f16 roundings llama.cpp's CPU backend applies).
Status SwiGlu(float* gate, const float* up, int64_t n, cudaStream_t stream = nullptr);
Status GeluTanhGlu(float* gate, const float* up, int64_t n, cudaStream_t stream = nullptr);

// Row-wise softmax in place: x[r][i] = exp(scale*x[r][i] - max) / sum; x [n_rows][n].
Status SoftmaxRows(float* x, int64_t n_rows, int64_t n, float scale,
                   cudaStream_t stream = nullptr);

// quant::QuantizeActivationRow for act = Q8_0 or Q8_1, bit-exact: x [n_tok][cols] f32,
// cols % 32 == 0; out [n_tok] rows of quant::RowBytes(act, cols) bytes.
Status QuantizeActivations(quant::DType act, const float* x, int64_t n_tok, int64_t cols,
                           void* out, cudaStream_t stream = nullptr);

// kernels::MatMul with w.data on the device: y [n_tok][w.rows] = W x. Types: Q4_0, Q8_0 (x
// quantized to Q8_0), Q4_1 (x to Q8_1), integer dot products with dp4a, f32 accumulation; F16
// (x rounded to f16, f32 accumulation). scratch: MatMulScratchBytes(w, n_tok) device bytes.
// n_tok <= 65535 per call.
bool MatMulSupports(quant::DType type);
size_t MatMulScratchBytes(const WeightView& w, int64_t n_tok);
Status MatMul(const WeightView& w, const float* x, int64_t n_tok, float* y, void* scratch,
              cudaStream_t stream = nullptr);

// kernels::MatMulShared on the device: several matmuls over the same x (Q, K, V; gate, up), x
// quantized once when the weights share a quantized type and width (else one MatMul each). The
// same results as one MatMul each. scratch: MatMulScratchBytes of the first weight.
Status MatMulShared(std::initializer_list<SharedOut> outs, const float* x, int64_t n_tok,
                    void* scratch, cudaStream_t stream = nullptr);

// Sampling helpers on logits [n_rows][n]: the index of each row's maximum (lowest index on
// ties), and each row's k largest (value descending, then index ascending; k <= n, k <= 256)
// into idx/val [n_rows][k]. NaN is never chosen; a row with fewer than k other values gets
// idx -1, val -inf in the slots left over.
Status ArgmaxRows(const float* x, int64_t n_rows, int64_t n, int32_t* idx,
                  cudaStream_t stream = nullptr);
Status TopKRows(const float* x, int64_t n_rows, int64_t n, int k, int32_t* idx, float* val,
                cudaStream_t stream = nullptr);

// kernels::AttendGroup for f16 K/V (same rounding steps) with everything in device memory:
// kv.k_blocks / kv.v_blocks are device arrays of device pointers; q, out [n_q][head_dim];
// scratch n_q * n_pos floats. Attends positions [0, n_pos).
Status AttendGroupF16(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                      float* scratch, float* out, cudaStream_t stream = nullptr);

// y[i] += x[i] for i < n (residual connections).
Status Add(float* y, const float* x, int64_t n, cudaStream_t stream = nullptr);
// models::AddBias: x[t][i] += b[i]; x [n_tok][n], b [n].
Status AddBias(float* x, const float* b, int64_t n_tok, int64_t n, cudaStream_t stream = nullptr);

// The device mirror of a kv::KvPool with f16 K/V and no sliding layers: the same bytes at the
// same offsets (kv::KvPool::K / V / RowOffset), base being the pool's first byte. Block b, layer
// l, slab w (0: K, 1: V) starts at ((l * n_blocks + b) * 2 + w) * block_tokens * kv_dim * 2;
// within it KV head h's row at in-block position s at (h * block_tokens + s) * head_dim * 2.
struct PagedKvDevice {
  uint8_t* base = nullptr;
  int n_blocks = 0, block_tokens = 0, n_kv_heads = 0, head_dim = 0;
};

// models::StoreKv for f16: token t's K and V rows (k, v [n_tok][kv_dim] f32) rounded to f16 into
// block[t] at in-block position slot[t] of `layer` (block, slot: device [n_tok]). stage (device,
// nullable) also gets the f16 rows as [n_tok][2][kv_dim] (K then V), for the host pool's copy.
Status StoreKvF16(const PagedKvDevice& g, int layer, const float* k, const float* v, int64_t n_tok,
                  const int32_t* block, const int32_t* slot, uint16_t* stage,
                  cudaStream_t stream = nullptr);

// models::Attention (causal, f16 K/V, no window, no sinks) for every query token of a batch in
// one launch: token t attends positions [0, n_pos[t]) of the sequence whose block ids start at
// blocks[table[t]] (n_pos, table, blocks: device). q, out: [n_tok][n_head][head_dim]; query heads
// share KV heads in groups of n_head / n_kv_heads; max_pos >= every n_pos[t]. A token's positions
// are split over min(32, ceil(n_pos / 64)) thread blocks and merged (scratch:
// AttendPagedScratchFloats floats); the split depends only on the token's own n_pos, so a token's
// result does not depend on the rest of the batch.
size_t AttendPagedScratchFloats(const PagedKvDevice& g, int64_t n_tok, int n_head, int max_pos);
// Thread blocks per (token, head) in the launch: its grid depends on max_pos only through this.
int AttendPagedSplits(int max_pos);
Status AttendPagedF16(const PagedKvDevice& g, int layer, int n_head, const float* q,
                      int64_t n_tok, const int32_t* n_pos, const int32_t* table,
                      const int32_t* blocks, int max_pos, float scale, float* scratch, float* out,
                      cudaStream_t stream = nullptr);

}  // namespace semantic::kernels::cuda
