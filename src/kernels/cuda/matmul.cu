// cuda::MatMul: quantizes the activations (quantize_act.cu) and calls the weight type's kernel
// (matmul_q.cu, matmul_f16.cu).
#include "kernels/cuda/matmul_impl.h"
#include "kernels/cuda/ops.h"
#include "kernels/cuda/runtime.h"
#include <string>

#include "quant/types.h"

namespace semantic::kernels::cuda {

bool MatMulSupports(quant::DType type) {
  switch (type) {
    case quant::DType::kQ4_0: case quant::DType::kQ8_0: case quant::DType::kQ4_1:
    case quant::DType::kF16:
      return true;
    default:
      return false;
  }
}

size_t MatMulScratchBytes(const WeightView& w, int64_t n_tok) {
  if (w.type == quant::DType::kF16) return 0;
  return quant::RowBytes(quant::ActivationType(w.type), w.cols) * static_cast<size_t>(n_tok);
}

Status MatMul(const WeightView& w, const float* x, int64_t n_tok, float* y, void* scratch,
              cudaStream_t stream) {
  if (!MatMulSupports(w.type))
    return Unimplemented(std::string("cuda::MatMul: weight type ") +
                         std::string(quant::GetDTypeInfo(w.type)->name) + " has no CUDA kernel yet");
  if (n_tok <= 0 || w.rows <= 0) return Status::Ok();
  if (n_tok > 65535) return InvalidArgument("cuda::MatMul: n_tok > 65535 (grid y); split it");
  if (w.type == quant::DType::kF16) return detail::MatMulF16(w, x, n_tok, y, stream);
  const quant::DType act = quant::ActivationType(w.type);
  if (Status s = QuantizeActivations(act, x, n_tok, w.cols, scratch, stream); !s.ok()) return s;
  return detail::MatMulQuantized(w, scratch, quant::RowBytes(act, w.cols), n_tok, y, stream);
}

Status MatMulShared(std::initializer_list<SharedOut> outs, const float* x, int64_t n_tok,
                    void* scratch, cudaStream_t stream) {
  if (outs.size() == 0) return Status::Ok();
  const WeightView& w0 = *outs.begin()->w;
  bool same = w0.type != quant::DType::kF16 && MatMulSupports(w0.type);
  for (const SharedOut& o : outs) same = same && o.w->type == w0.type && o.w->cols == w0.cols;
  if (!same || n_tok <= 0 || n_tok > 65535) {
    for (const SharedOut& o : outs) RETURN_IF_ERROR(MatMul(*o.w, x, n_tok, o.y, scratch, stream));
    return Status::Ok();
  }
  const quant::DType act = quant::ActivationType(w0.type);
  RETURN_IF_ERROR(QuantizeActivations(act, x, n_tok, w0.cols, scratch, stream));
  // One launch for up to three weights (Q, K, V; gate and up).
  const WeightView* ws[3];
  float* ys[3];
  int n = 0;
  for (const SharedOut& o : outs) {
    ws[n] = o.w;
    ys[n] = o.y;
    if (++n == 3) {
      RETURN_IF_ERROR(detail::MatMulQuantizedMulti(ws, ys, n, scratch,
                                                   quant::RowBytes(act, w0.cols), n_tok, stream));
      n = 0;
    }
  }
  if (n > 0) {
    RETURN_IF_ERROR(detail::MatMulQuantizedMulti(ws, ys, n, scratch,
                                                 quant::RowBytes(act, w0.cols), n_tok, stream));
  }
  return Status::Ok();
}

}  // namespace semantic::kernels::cuda
