// MatMul driver: quantizes activations once per call into a reused per-thread scratch buffer,
// then splits the output into (row chunk x token chunk) work items shared by the pool threads.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "base/check.h"
#include "kernels/cpu/kernel_set.h"
#include "kernels/cpu/packed_layout.h"
#include "kernels/ref/matmul_ref.h"
#include "quant/dequantize.h"
#include "quant/quantize.h"

namespace semantic::kernels::cpu {
namespace {

using quant::DType;

constexpr size_t kAlign = 64;
size_t AlignUp(size_t v, size_t a) { return (v + a - 1) / a * a; }

// Grow-only 64-byte aligned buffer; one per calling thread, so steady state never allocates.
class Scratch {
 public:
  ~Scratch() { std::free(ptr_); }
  uint8_t* Get(size_t bytes) {
    if (bytes > cap_) {
      std::free(ptr_);
      cap_ = AlignUp(std::max(bytes, cap_ * 2), kAlign);
      ptr_ = static_cast<uint8_t*>(std::aligned_alloc(kAlign, cap_));
      CHECK(ptr_ != nullptr);
    }
    return ptr_;
  }

 private:
  uint8_t* ptr_ = nullptr;
  size_t cap_ = 0;
};
thread_local Scratch t_scratch;

}  // namespace

size_t LayoutPackedActs(DType act, int64_t n_tok, int64_t cols, uint8_t* base, PackedActs* a,
                        bool token_lanes) {
  a->type = act;
  a->n_tok = n_tok;
  a->cols = cols;
  a->n_tok_pad = (n_tok + 7) / 8 * 8;
  size_t off = 0;
  auto take = [&](size_t bytes) {
    uint8_t* p = base ? base + off : nullptr;
    off += AlignUp(bytes, kAlign);
    return p;
  };
  if (act == DType::kF32 || act == DType::kF16 || act == DType::kBF16) {
    a->nb = 0;
    a->f_stride = static_cast<size_t>(cols);
    if (act != DType::kF32) a->f = reinterpret_cast<float*>(take(4 * cols * n_tok));
    return off;
  }
  const int64_t block = act == DType::kQ8_K ? 256 : 32;
  a->nb = cols / block;
  a->qs_stride = AlignUp(static_cast<size_t>(cols), kAlign);
  // Token-lane packings keep n_tok_pad rows of quants (padding rows zero): an AMX tile loads
  // 8 token rows at a time.
  const int64_t qs_rows = token_lanes ? a->n_tok_pad : n_tok;
  a->qs = reinterpret_cast<int8_t*>(take(a->qs_stride * qs_rows));
  a->d = reinterpret_cast<float*>(take(4 * a->nb * a->n_tok_pad));
  if (act == DType::kQ8_1) a->s = reinterpret_cast<float*>(take(4 * a->nb * a->n_tok_pad));
  if (act != DType::kQ8_K) a->xsum = reinterpret_cast<int32_t*>(take(4 * a->nb * a->n_tok_pad));
  if (act == DType::kQ8_0) a->xoff = reinterpret_cast<int32_t*>(take(4 * a->nb * a->n_tok_pad));
  if (act == DType::kQ8_K) a->bsums = reinterpret_cast<int16_t*>(take(2 * 16 * a->nb * n_tok));
  a->qsi = nullptr;
  if (token_lanes && act != DType::kQ8_K)
    a->qsi = reinterpret_cast<int32_t*>(take(static_cast<size_t>(cols) * a->n_tok_pad));
  return off;
}

void InterleaveQuants(int64_t t0, int64_t t1, PackedActs* a) {
  const int64_t groups = a->cols / 4;
  for (int64_t t = t0; t < t1; ++t) {
    const int8_t* q = a->qs + t * a->qs_stride;
    int32_t* dst = a->qsi + t / 8 * groups * 8 + t % 8;
    for (int64_t g = 0; g < groups; ++g) std::memcpy(dst + 8 * g, q + 4 * g, 4);
  }
}

namespace {

// Below this many multiply-adds a call runs on the calling thread only (fork-join costs ~µs).
constexpr int64_t kMinParallelWork = 1 << 15;

// Scalar fallback: standard GGUF activation blocks, ref kernels, rows split across threads.
void MatMulScalar(const WeightView& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool) {
  const DType act = quant::ActivationType(w.type);
  const size_t act_row = quant::RowBytes(act, w.cols);
  uint8_t* buf = t_scratch.Get(act_row * n_tok);  // [n_tok][act_row] bytes
  for (int64_t t = 0; t < n_tok; ++t)
    quant::QuantizeActivationRow(act, x + t * w.cols, buf + t * act_row, w.cols);
  if (w.rows * w.cols * n_tok < kMinParallelWork || pool.size() == 1) {
    ref::MatMulRange(w, buf, act_row, 0, w.rows, 0, n_tok, y);
    return;
  }
  pool.ParallelFor(w.rows, [&](int64_t r0, int64_t r1) {
    ref::MatMulRange(w, buf, act_row, r0, r1, 0, n_tok, y);
  });
}

}  // namespace

void MatMulWith(const KernelSet* ks, const WeightView& w, const float* x, int64_t n_tok, float* y,
                ThreadPool& pool) {
  MatMulSharedWith(ks, &w, &y, 1, x, n_tok, pool);
}

void MatMulSharedWith(const KernelSet* ks, const WeightView* ws, float* const* ys, int n_w,
                      const float* x, int64_t n_tok, ThreadPool& pool) {
  if (n_w <= 0 || n_tok <= 0) return;
  const WeightView& w0 = ws[0];
  for (int k = 0; k < n_w; ++k) {
    CHECK(quant::IsSupportedWeightType(ws[k].type));
    CHECK(ws[k].cols % quant::GetDTypeInfo(ws[k].type)->block_elems == 0);
    CHECK(ws[k].row_bytes >= quant::RowBytes(ws[k].type, ws[k].cols));
  }
  bool same = true;  // one activation packing and one kernel serve every matrix
  for (int k = 1; k < n_w; ++k)
    same = same && ws[k].type == w0.type && ws[k].cols == w0.cols &&
           ws[k].row_bytes == w0.row_bytes && (ws[k].packed == nullptr) == (w0.packed == nullptr);
  const DType act = quant::ActivationType(w0.type);
  const uint32_t wid = static_cast<uint32_t>(w0.type), aid = static_cast<uint32_t>(act);
  const bool packed = ks != nullptr && w0.packed != nullptr && ks->tile_packed[wid] != nullptr;
  const TileFn tile = packed ? ks->tile_packed[wid] : ks ? ks->tile[wid] : nullptr;
  const QuantizeActsFn quantize = ks ? ks->quantize[aid] : nullptr;
  if (!same) {  // different packings: one call each
    for (int k = 0; k < n_w; ++k) MatMulSharedWith(ks, &ws[k], &ys[k], 1, x, n_tok, pool);
    return;
  }
  if (tile == nullptr || (quantize == nullptr && act != DType::kF32)) {
    for (int k = 0; k < n_w; ++k)
      if (ws[k].rows > 0) MatMulScalar(ws[k], x, n_tok, ys[k], pool);
    return;
  }
  int64_t total_rows = 0;
  for (int k = 0; k < n_w; ++k) total_rows += ws[k].rows;
  if (total_rows <= 0) return;

  PackedActs a;
  const bool lanes = !packed && n_tok >= 2 && ks->token_lanes[wid];
  const size_t bytes = LayoutPackedActs(act, n_tok, w0.cols, nullptr, &a, lanes);
  LayoutPackedActs(act, n_tok, w0.cols, t_scratch.Get(bytes), &a, lanes);
  const bool parallel = pool.size() > 1 && total_rows * w0.cols * n_tok >= kMinParallelWork;
  auto quantize_range = [&](int64_t t0, int64_t t1) {
    quantize(x, t0, t1, &a);
    if (lanes) InterleaveQuants(t0, t1, &a);
  };
  if (act == DType::kF32) {
    a.f = x;
  } else if (parallel && n_tok >= 4 && n_tok * w0.cols >= (1 << 14)) {
    pool.ParallelFor(n_tok, quantize_range);
  } else {
    quantize_range(0, n_tok);
  }
  if (lanes) {  // padding tokens' quants (their outputs are computed, then dropped)
    const int64_t groups = w0.cols / 4;
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t t = n_tok; t < a.n_tok_pad; ++t) a.qsi[(t / 8 * groups + g) * 8 + t % 8] = 0;
    std::memset(a.qs + n_tok * a.qs_stride, 0, (a.n_tok_pad - n_tok) * a.qs_stride);
  }
  for (int64_t b = 0; b < a.nb; ++b) {  // zero the padding tokens' per-block values
    for (int64_t t = n_tok; t < a.n_tok_pad; ++t) {
      const int64_t i = b * a.n_tok_pad + t;
      a.d[i] = 0.f;
      if (a.s) a.s[i] = 0.f;
      if (a.xsum) a.xsum[i] = 0;
    }
  }
  if (a.xoff != nullptr && packed) {  // packed kernels start a block's sum at -offset * sum(x)
    const int32_t off = PackedQuantOffset(w0.type);
    for (int64_t i = 0; i < a.nb * a.n_tok_pad; ++i) a.xoff[i] = -off * a.xsum[i];
  }
  if (!parallel) {
    for (int k = 0; k < n_w; ++k)
      if (ws[k].rows > 0) tile(ws[k], a, 0, ws[k].rows, 0, n_tok, ys[k]);
    return;
  }

  // Work items: decode (up to 16 tokens: batched decode) splits rows only, into 8 chunks per
  // thread over all matrices together so a 192-row matrix still balances; prefill tiles rows x
  // tokens so each weight chunk stays in L1/L2 while a chunk of tokens streams past it.
  const int n_threads = pool.size();
  int64_t row_chunk, tok_chunk;
  if (n_tok <= 16) {
    tok_chunk = n_tok;
    row_chunk = (total_rows + n_threads * 8 - 1) / (n_threads * 8);
    row_chunk = std::clamp<int64_t>((row_chunk + 15) / 16 * 16, 16, 512);
  } else {
    tok_chunk = 64;
    row_chunk = std::clamp<int64_t>(16384 / static_cast<int64_t>(w0.row_bytes), 8, 64) / 8 * 8;
    if (packed) row_chunk = std::max<int64_t>(16, row_chunk / 16 * 16);  // whole row groups
  }
  const int64_t n_tc = (n_tok + tok_chunk - 1) / tok_chunk;
  constexpr int kMaxShared = 8;
  CHECK(n_w <= kMaxShared);
  int64_t first_item[kMaxShared + 1];  // items of matrix k: [first_item[k], first_item[k + 1])
  first_item[0] = 0;
  for (int k = 0; k < n_w; ++k)
    first_item[k + 1] = first_item[k] + (ws[k].rows + row_chunk - 1) / row_chunk * n_tc;
  const int64_t items = first_item[n_w];
  // Each thread first works through its own contiguous share of the items in order (so its
  // weight rows stream sequentially, as the hardware prefetcher likes), then helps with the
  // others' shares; items are claimed from per-share counters, so every item runs exactly once
  // whichever threads join.
  constexpr int kMaxThreads = 64;
  const int n_shares = std::min(n_threads, kMaxThreads);
  struct alignas(64) Share {
    std::atomic<int64_t> next{0};
    int64_t end = 0;
  };
  Share shares[kMaxThreads];
  for (int s = 0; s < n_shares; ++s) {
    shares[s].next.store(items * s / n_shares, std::memory_order_relaxed);
    shares[s].end = items * (s + 1) / n_shares;
  }
  pool.Run([&](int thread, int) {
    int k = 0;
    for (int d = 0; d < n_shares; ++d) {
      Share& sh = shares[(thread + d) % n_shares];
      for (int64_t i = sh.next.fetch_add(1, std::memory_order_relaxed); i < sh.end;
           i = sh.next.fetch_add(1, std::memory_order_relaxed)) {
        if (i < first_item[k]) k = 0;  // a new share can start before the last one
        while (i >= first_item[k + 1]) ++k;
        const int64_t j = i - first_item[k];
        const int64_t rc = j / n_tc, tc = j % n_tc;
        const int64_t r0 = rc * row_chunk, t0 = tc * tok_chunk;
        tile(ws[k], a, r0, std::min(r0 + row_chunk, ws[k].rows), t0,
             std::min(t0 + tok_chunk, n_tok), ys[k]);
      }
    }
  });
}

}  // namespace semantic::kernels::cpu

namespace semantic::kernels {

void MatMul(const WeightView& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool) {
  cpu::MatMulWith(cpu::ActiveKernelSet(), w, x, n_tok, y, pool);
}

void MatMulShared(std::initializer_list<SharedOut> outs, const float* x, int64_t n_tok,
                  ThreadPool& pool) {
  constexpr int kMax = 8;
  CHECK(outs.size() <= kMax);
  WeightView ws[kMax];
  float* ys[kMax];
  int n = 0;
  for (const SharedOut& o : outs) {
    ws[n] = *o.w;
    ys[n++] = o.y;
  }
  cpu::MatMulSharedWith(cpu::ActiveKernelSet(), ws, ys, n, x, n_tok, pool);
}

void DequantizeRow(const WeightView& w, int64_t row, float* out) {
  CHECK(row >= 0 && row < w.rows);
  quant::DequantizeRowRef(w.type, static_cast<const uint8_t*>(w.data) + row * w.row_bytes, out,
                          w.cols);
}

}  // namespace semantic::kernels
