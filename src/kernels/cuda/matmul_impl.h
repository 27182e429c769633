// Internal: the per-type matmul launchers behind cuda::MatMul (matmul.cu).
#pragma once

#include <cuda_runtime_api.h>

#include "base/status.h"
#include "kernels/ops.h"

namespace semantic::kernels::cuda::detail {

// y = W x for Q4_0 / Q8_0 / Q4_1 weights and activations already quantized to
// ActivationType(w.type) (act: [n_tok] rows of act_row_bytes).
Status MatMulQuantized(const WeightView& w, const void* act, size_t act_row_bytes, int64_t n_tok,
                       float* y, cudaStream_t stream);
// The same for n (1 to 3) weights of one type and width in one launch: ys[i] = ws[i] x.
Status MatMulQuantizedMulti(const WeightView* const* ws, float* const* ys, int n,
                            const void* act, size_t act_row_bytes, int64_t n_tok,
                            cudaStream_t stream);
// y = W x for F16 weights, x rounded to f16.
Status MatMulF16(const WeightView& w, const float* x, int64_t n_tok, float* y,
                 cudaStream_t stream);

}  // namespace semantic::kernels::cuda::detail
