// Scalar reference (oracle) for the quantized matmul: activations quantized to the weight type's
// dot format (quant::ActivationType), exact integer dot products per block, scaled by d_w * d_x.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ops.h"

namespace semantic::kernels::ref {

// Dot product of one weight row (w_type, `cols` elements, any alignment) with one activation row
// already in format quant::ActivationType(w_type). Block contributions are summed in double.
float VecDot(quant::DType w_type, const void* w_row, const void* act_row, int64_t cols);

// Rows [r0, r1) x tokens [t0, t1) of y ([n_tok][w.rows] f32) from pre-quantized activations
// act ([n_tok] rows of act_row_bytes bytes each, format ActivationType(w.type)).
void MatMulRange(const WeightView& w, const uint8_t* act, size_t act_row_bytes, int64_t r0,
                 int64_t r1, int64_t t0, int64_t t1, float* y);

// Whole matmul, single-threaded: quantizes x ([n_tok][cols] f32) and calls MatMulRange.
void MatMul(const WeightView& w, const float* x, int64_t n_tok, float* y);

}  // namespace semantic::kernels::ref
