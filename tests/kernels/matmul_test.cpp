// MatMul correctness: the scalar reference against f64 matmuls over independently dequantized
// weights and activations, every fast kernel set against the reference (shapes, misalignment,
// threads), and the documented accuracy of activation quantization against plain f32.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "base/fp16.h"
#include "base/thread_pool.h"
#include "kernel_test_util.h"
#include "kernels/cpu/kernel_set.h"
#include "kernels/cpu/packed_layout.h"
#include "kernels/ops.h"
#include "kernels/packed_weights.h"
#include "kernels/ref/matmul_ref.h"
#include "quant/blocks.h"

namespace semantic::kernels {
namespace {

using quant::DType;
using testing::MakeMatrix;
using testing::RandomVector;
using testing::TestMatrix;

const DType kAllTypes[] = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ4_0,
                           DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0,
                           DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kIQ4_NL,
                           DType::kMXFP4};

std::string Name(DType t) { return std::string(quant::GetDTypeInfo(t)->name); }

struct Shape {
  int64_t rows, cols, n_tok;
  int misalign;
};

// Small shapes: odd rows, 1-4 blocks of columns, several token counts; then large columns.
std::vector<Shape> Shapes(DType t) {
  const int64_t blk = std::max<int64_t>(quant::GetDTypeInfo(t)->block_elems, 32);
  std::vector<Shape> out;
  for (int64_t rows : {1, 3, 7, 33})
    for (int64_t nblk : {1, 2, 3, 4})
      for (int64_t n_tok : {1, 2, 5, 8, 11, 16, 17, 64})
        out.push_back({rows, nblk * blk, n_tok, static_cast<int>((rows + nblk + n_tok) % 4)});
  for (int64_t rows : {7, 33})
    for (int64_t n_tok : {1, 17, 64})
      out.push_back({rows, 4096, n_tok, static_cast<int>(rows % 4)});
  if (quant::GetDTypeInfo(t)->block_elems ==
      1) {  // float types: columns that are not a multiple of 8
    for (int64_t cols : {1, 7, 13, 100})
      for (int64_t n_tok : {1, 3, 6}) out.push_back({9, cols, n_tok, static_cast<int>(cols % 4)});
  }
  return out;
}

// The activations exactly as the reference sees them: x quantized to the activation format and
// reconstructed as q * d (f32 for F32 weights, f16/bf16-rounded values for F16/BF16).
std::vector<float> QuantizedActivations(DType w_type, const std::vector<float>& x, int64_t cols) {
  const DType act = quant::ActivationType(w_type);
  const int64_t n_tok = static_cast<int64_t>(x.size()) / cols;
  std::vector<float> out(x.size());
  std::vector<uint8_t> row(quant::RowBytes(act, cols));
  for (int64_t t = 0; t < n_tok; ++t) {
    const float* xt = x.data() + t * cols;
    float* o = out.data() + t * cols;
    quant::QuantizeActivationRow(act, xt, row.data(), cols);
    if (act == DType::kQ8_1) {
      const auto* b = reinterpret_cast<const quant::BlockQ8_1*>(row.data());
      for (int64_t c = 0; c < cols; ++c) o[c] = Fp16ToFp32(b[c / 32].d) * b[c / 32].qs[c % 32];
    } else if (act == DType::kQ8_K) {
      const auto* b = reinterpret_cast<const quant::BlockQ8_K*>(row.data());
      for (int64_t c = 0; c < cols; ++c) o[c] = b[c / 256].d * b[c / 256].qs[c % 256];
    } else {  // Q8_0, F16, BF16, F32 are weight types too
      quant::DequantizeRowRef(act, row.data(), o, cols);
    }
  }
  return out;
}

// Allowed |ref - exact| for output (t, r): f32 rounding of block sums, plus for Q8_1 the
// rounding of s = fp16(d * sum q) (differs from fp16(d) * sum q by < 2^-10 relative), times the
// weight min, bounded by the block's max |w|.
double Slack(DType w_type, const TestMatrix& m, const std::vector<float>& xq, int64_t r, int64_t t,
             double abs_sum) {
  double slack = 2e-6 * abs_sum + 1e-6;
  if (quant::ActivationType(w_type) == DType::kQ8_1) {
    const int64_t cols = m.view.cols;
    for (int64_t b = 0; b < cols / 32; ++b) {
      double wmax = 0, xsum = 0;
      for (int64_t c = b * 32; c < b * 32 + 32; ++c) {
        wmax = std::max(wmax, std::fabs(static_cast<double>(m.dequant[r * cols + c])));
        xsum += xq[t * cols + c];
      }
      slack += wmax * std::fabs(xsum) * (1.0 / 1024) + wmax * 1e-7;
    }
  }
  return slack;
}

// Largest ratio |y - exact| / slack over all outputs (<= 1 passes), with exact computed in f64
// from `wdeq` (dequantized weights) and the quantized activations.
double WorstRatio(DType type, const TestMatrix& m, const std::vector<float>& wdeq,
                  const std::vector<float>& xq, int64_t n_tok, const std::vector<float>& y) {
  std::vector<double> exact, abs_sum;
  testing::MatMulF64(wdeq, m.view.rows, m.view.cols, xq.data(), n_tok, &exact, &abs_sum);
  double worst = 0;
  for (int64_t t = 0; t < n_tok; ++t)
    for (int64_t r = 0; r < m.view.rows; ++r) {
      const size_t i = static_cast<size_t>(t * m.view.rows + r);
      worst = std::max(worst, std::fabs(y[i] - exact[i]) / Slack(type, m, xq, r, t, abs_sum[i]));
    }
  return worst;
}

TEST(MatMulRef, MatchesDequantizedWeightsAndActivations) {
  for (DType type : kAllTypes) {
    uint32_t seed = 1;
    for (const Shape& s : Shapes(type)) {
      SCOPED_TRACE(Name(type) + " rows=" + std::to_string(s.rows) +
                   " cols=" + std::to_string(s.cols) + " n_tok=" + std::to_string(s.n_tok));
      const TestMatrix m = MakeMatrix(type, s.rows, s.cols, ++seed, s.misalign);
      const auto x = RandomVector(s.n_tok * s.cols, ++seed);
      std::vector<float> y(static_cast<size_t>(s.rows * s.n_tok));
      ref::MatMul(m.view, x.data(), s.n_tok, y.data());
      const auto xq = QuantizedActivations(type, x, s.cols);
      ASSERT_LE(WorstRatio(type, m, m.dequant, xq, s.n_tok, y), 1.0);
    }
  }
}

// The tolerance above is tight enough to see a wrong nibble order: swapping the two nibbles of
// every quant byte (an easy layout bug) must fail it by a wide margin.
TEST(MatMulRef, ToleranceCatchesSwappedNibbles) {
  for (DType type : {DType::kQ4_0, DType::kQ4_1, DType::kQ4_K}) {
    const int64_t rows = 3, cols = 256, n_tok = 2;
    TestMatrix m = MakeMatrix(type, rows, cols, 11);
    const auto x = RandomVector(n_tok * cols, 12);
    std::vector<float> y(rows * n_tok);
    ref::MatMul(m.view, x.data(), n_tok, y.data());
    const auto xq = QuantizedActivations(type, x, cols);
    // Dequantize a nibble-swapped copy: what a kernel with the wrong nibble order would compute.
    const size_t header = type == DType::kQ4_0 ? 2 : (type == DType::kQ4_1 ? 4 : 16);
    const size_t block_bytes = static_cast<size_t>(quant::GetDTypeInfo(type)->block_bytes);
    std::vector<uint8_t> swapped(
        static_cast<const uint8_t*>(m.view.data),
        static_cast<const uint8_t*>(m.view.data) + rows * m.view.row_bytes);
    for (size_t i = 0; i < swapped.size(); ++i)
      if (i % block_bytes >= header)
        swapped[i] = static_cast<uint8_t>((swapped[i] << 4) | (swapped[i] >> 4));
    std::vector<float> wrong(rows * cols);
    for (int64_t r = 0; r < rows; ++r)
      quant::DequantizeRowRef(type, swapped.data() + r * m.view.row_bytes, wrong.data() + r * cols,
                              cols);
    EXPECT_LE(WorstRatio(type, m, m.dequant, xq, n_tok, y), 1.0) << Name(type);
    EXPECT_GT(WorstRatio(type, m, wrong, xq, n_tok, y), 100.0) << Name(type);
  }
}

// Quantizing activations costs accuracy against a plain f32 matmul of the same (dequantized)
// weights. Documented tolerance, relative L2 over all outputs: 1e-2 for the 8-bit formats
// (measured ~0.75% for Gaussian data with 6x outliers) but 2.5e-2 for Q8_K, whose single scale
// per 256 values is set by the outliers (measured ~1.6%); 1e-3 for f16, 1e-2 for bf16.
TEST(MatMulRef, ActivationQuantizationAccuracy) {
  for (DType type : kAllTypes) {
    const int64_t rows = 64, cols = 1024, n_tok = 8;
    const TestMatrix m = MakeMatrix(type, rows, cols, 21);
    const auto x = RandomVector(n_tok * cols, 22);
    std::vector<float> y(rows * n_tok);
    ref::MatMul(m.view, x.data(), n_tok, y.data());
    std::vector<double> exact, abs_sum;
    testing::MatMulF64(m.dequant, rows, cols, x.data(), n_tok, &exact, &abs_sum);
    double err = 0, norm = 0;
    for (size_t i = 0; i < y.size(); ++i)
      err += (y[i] - exact[i]) * (y[i] - exact[i]), norm += exact[i] * exact[i];
    const double rel = std::sqrt(err / norm);
    const DType act = quant::ActivationType(type);
    const double tol = act == DType::kF32    ? 1e-6
                       : act == DType::kF16  ? 1e-3
                       : act == DType::kQ8_K ? 2.5e-2  // one scale per 256: outliers cost more
                                             : 1e-2;
    EXPECT_LT(rel, tol) << Name(type);
    std::printf("  %-7s activation quantization error vs f32: %.2e (tol %.1e)\n",
                Name(type).c_str(), rel, tol);
  }
}

// Each kernel set (scalar threaded, avx2, avx512 where this CPU has them) against the reference.
TEST(MatMulFast, MatchesReference) {
  std::vector<std::pair<std::string, const cpu::KernelSet*>> sets = {{"scalar", nullptr}};
  for (const char* isa : {"avx2", "avx512", "amx"})
    if (const cpu::KernelSet* ks = cpu::KernelSetFor(isa)) sets.push_back({isa, ks});
  ThreadPool pool1(1), pool2(2);
  for (const auto& [isa, ks] : sets) {
    for (DType type : kAllTypes) {
      uint32_t seed = 100;
      int variant = 0;
      for (const Shape& s : Shapes(type)) {
        ++variant;
        const size_t row_pad = variant % 5 == 0 ? 7 : 0;  // some rows with a gap between them
        SCOPED_TRACE(isa + " " + Name(type) + " rows=" + std::to_string(s.rows) +
                     " cols=" + std::to_string(s.cols) + " n_tok=" + std::to_string(s.n_tok) +
                     " misalign=" + std::to_string(s.misalign));
        const TestMatrix m = MakeMatrix(type, s.rows, s.cols, ++seed, s.misalign, row_pad);
        // x starts one float past an aligned boundary so vector loads are unaligned too.
        const auto xv = RandomVector(s.n_tok * s.cols + 1, ++seed);
        const float* x = xv.data() + 1;
        std::vector<float> want(static_cast<size_t>(s.rows * s.n_tok));
        ref::MatMul(m.view, x, s.n_tok, want.data());
        std::vector<double> exact, abs_sum;
        const std::vector<float> xs(x, x + s.n_tok * s.cols);
        testing::MatMulF64(m.dequant, s.rows, s.cols, QuantizedActivations(type, xs, s.cols).data(),
                           s.n_tok, &exact, &abs_sum);
        for (ThreadPool* pool : {&pool1, &pool2}) {
          std::vector<float> got(want.size(), -1e30f);
          cpu::MatMulWith(ks, m.view, x, s.n_tok, got.data(), *pool);
          for (size_t i = 0; i < got.size(); ++i)
            ASSERT_NEAR(got[i], want[i], 1e-5 * abs_sum[i] + 1e-6)
                << "threads=" << pool->size() << " t=" << i / s.rows << " r=" << i % s.rows;
        }
      }
    }
  }
}

// The token-lane tiles (2+ tokens of Q4_0, Q4_1, Q8_0) and the AMX tiles (17+ tokens) do the
// same f32 operations per block as the single-token tile, so a batch must equal, bit for bit,
// one MatMul call per token: n_tok 2..16 and 17..40 (partial 8-token tiles), odd rows,
// misaligned and padded rows, 1 and 2 threads.
TEST(MatMulFast, TokenLanesMatchSingleTokenBitwise) {
  ThreadPool pool1(1), pool2(2);
  for (const char* isa : {"avx2", "avx512", "amx"}) {
    const cpu::KernelSet* ks = cpu::KernelSetFor(isa);
    if (ks == nullptr) continue;
    for (DType type : {DType::kQ4_0, DType::kQ4_1, DType::kQ8_0}) {
      ASSERT_TRUE(ks->token_lanes[static_cast<int>(type)]) << isa << " " << Name(type);
      uint32_t seed = 500;
      for (int64_t n_tok : {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 23, 24, 33,
                            40}) {
        const int64_t rows = n_tok % 2 ? 37 : 203, cols = 32 * (1 + n_tok % 5) * (n_tok % 3 + 1);
        const int misalign = static_cast<int>(n_tok % 4);
        SCOPED_TRACE(std::string(isa) + " " + Name(type) + " rows=" + std::to_string(rows) +
                     " cols=" + std::to_string(cols) + " n_tok=" + std::to_string(n_tok));
        const TestMatrix m = MakeMatrix(type, rows, cols, ++seed, misalign, n_tok % 3 ? 0 : 5);
        const auto x = RandomVector(n_tok * cols, ++seed);
        std::vector<float> want(static_cast<size_t>(rows * n_tok)), one(rows);
        for (int64_t t = 0; t < n_tok; ++t) {
          cpu::MatMulWith(ks, m.view, x.data() + t * cols, 1, one.data(), pool1);
          std::copy(one.begin(), one.end(), want.begin() + t * rows);
        }
        for (ThreadPool* pool : {&pool1, &pool2}) {
          std::vector<float> got(want.size(), -1e30f);
          cpu::MatMulWith(ks, m.view, x.data(), n_tok, got.data(), *pool);
          for (size_t i = 0; i < got.size(); ++i)
            ASSERT_EQ(got[i], want[i])
                << "threads=" << pool->size() << " t=" << i / rows << " r=" << i % rows;
        }
      }
    }
  }
}

// Packed weights (packed_layout.h; the avx512 and amx sets' VNNI kernels) do each block's f32
// operations as the unpacked kernels do, so they must give the same
// bits: row counts that leave a partial 16-row group, 1..17 and prefill token counts, misaligned
// and padded source rows, 1 and 2 threads, and Q/K/V-style shared calls.
TEST(MatMulFast, PackedWeightsMatchUnpackedBitwise) {
  ThreadPool pool1(1), pool2(2);
  int sets = 0;
  for (const char* isa : {"avx2", "avx512", "amx"}) {
    const cpu::KernelSet* ks = cpu::KernelSetFor(isa);
    if (ks == nullptr) continue;
    ++sets;
    const bool avx2 = std::string(isa) == "avx2";  // packs Q4_0, Q4_1 and Q8_0 only
    for (DType type : {DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0,
                       DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
      const bool k_quant = type == DType::kQ4_K || type == DType::kQ5_K || type == DType::kQ6_K;
      if (avx2 && (type == DType::kQ5_0 || type == DType::kQ5_1 || k_quant)) {
        EXPECT_EQ(ks->tile_packed[static_cast<int>(type)], nullptr) << Name(type);
        continue;
      }
      ASSERT_NE(ks->tile_packed[static_cast<int>(type)], nullptr) << isa << " " << Name(type);
      uint32_t seed = 700;
      for (int64_t n_tok : {1, 2, 3, 4, 5, 7, 8, 9, 13, 15, 16, 17, 24, 40, 64}) {
        const int64_t rows = n_tok % 2 ? 37 : 208,
                      cols =
                          k_quant ? 256 * (1 + n_tok % 3) : 32 * (1 + n_tok % 5) * (n_tok % 3 + 1);
        SCOPED_TRACE(std::string(isa) + " " + Name(type) + " rows=" + std::to_string(rows) +
                     " cols=" + std::to_string(cols) + " n_tok=" + std::to_string(n_tok));
        const TestMatrix m =
            MakeMatrix(type, rows, cols, ++seed, static_cast<int>(n_tok % 4), n_tok % 3 ? 0 : 5);
        std::vector<uint8_t> packed(cpu::PackedBytes(m.view) + 64);
        uint8_t* p = packed.data() + (64 - reinterpret_cast<uintptr_t>(packed.data()) % 64) % 64;
        cpu::PackRows(m.view, 0, (rows + 15) / 16, p);
        WeightView pv = m.view;
        pv.packed = p;
        const auto x = RandomVector(n_tok * cols, ++seed);
        std::vector<float> want(static_cast<size_t>(rows * n_tok));
        cpu::MatMulWith(ks, m.view, x.data(), n_tok, want.data(), pool1);
        for (ThreadPool* pool : {&pool1, &pool2}) {
          std::vector<float> got(want.size(), -1e30f), got2(want.size(), -1e30f);
          cpu::MatMulWith(ks, pv, x.data(), n_tok, got.data(), *pool);
          for (size_t i = 0; i < got.size(); ++i)
            ASSERT_EQ(got[i], want[i])
                << "threads=" << pool->size() << " t=" << i / rows << " r=" << i % rows;
          // Shared with an unpacked matrix: falls back to one call each.
          const WeightView ws[2] = {pv, m.view};
          float* ys[2] = {got.data(), got2.data()};
          cpu::MatMulSharedWith(ks, ws, ys, 2, x.data(), n_tok, *pool);
          ASSERT_EQ(got, want);
          ASSERT_EQ(got2, want);
        }
      }
    }
  }
  if (sets == 0) GTEST_SKIP() << "no AVX2 on this CPU";
}

// PackedWeights packs the types the active set has packed kernels for and leaves others alone;
// the GGUF bytes stay where they were.
TEST(MatMulFast, PackedWeightsPacksOnlyWhatTheActiveSetRuns) {
  const cpu::KernelSet* ks = cpu::ActiveKernelSet();
  TestMatrix q41 = MakeMatrix(DType::kQ4_1, 40, 64, 1), q4k = MakeMatrix(DType::kQ4_K, 40, 512, 2),
             f16 = MakeMatrix(DType::kF16, 40, 256, 3);
  const void* data = q41.view.data;
  PackedWeights store;
  store.Pack(&q41.view);
  store.Pack(&q4k.view);
  store.Pack(&f16.view);
  EXPECT_EQ(q41.view.data, data);
  EXPECT_EQ(f16.view.packed, nullptr);  // no packed kernels for F16 anywhere
  size_t want = 0;
  if (ks == nullptr || ks->tile_packed[static_cast<int>(DType::kQ4_1)] == nullptr) {
    EXPECT_EQ(q41.view.packed, nullptr);
  } else {
    ASSERT_NE(q41.view.packed, nullptr);
    want += 3u * 2 * 320;  // 3 groups of 16 rows x 2 blocks
  }
  if (ks == nullptr || ks->tile_packed[static_cast<int>(DType::kQ4_K)] == nullptr) {
    EXPECT_EQ(q4k.view.packed, nullptr);
  } else {
    ASSERT_NE(q4k.view.packed, nullptr);
    want += 3u * 2 * 2368;  // 3 groups x 2 super-blocks
  }
  EXPECT_EQ(store.bytes(), want);
}

// The copies are 64-byte aligned inside 2 MB-aligned chunks (so the kernel can back them with
// transparent huge pages), many small matrices share a chunk, and moving the store keeps them
// where they are.
TEST(MatMulFast, PackedWeightsShareAlignedChunksAndSurviveAMove) {
  const cpu::KernelSet* ks = cpu::ActiveKernelSet();
  if (ks == nullptr || ks->tile_packed[static_cast<int>(DType::kQ4_1)] == nullptr)
    GTEST_SKIP() << "no packed Q4_1 kernels on this CPU";
  std::vector<TestMatrix> ms;
  for (int i = 0; i < 5; ++i) ms.push_back(MakeMatrix(DType::kQ4_1, 40 + 16 * i, 96, 10 + i));
  PackedWeights store;
  for (TestMatrix& m : ms) store.Pack(&m.view);
  const uintptr_t chunk = reinterpret_cast<uintptr_t>(ms[0].view.packed);
  EXPECT_EQ(chunk % (2u << 20), 0u);
  for (size_t i = 0; i < ms.size(); ++i) {
    const auto p = reinterpret_cast<uintptr_t>(ms[i].view.packed);
    EXPECT_EQ(p % 64, 0u) << i;
    EXPECT_LT(p - chunk, 64u << 20) << i;  // all in the first chunk
    if (i > 0)
      EXPECT_GE(
          p, reinterpret_cast<uintptr_t>(ms[i - 1].view.packed) + cpu::PackedBytes(ms[i - 1].view));
  }
  const size_t bytes = store.bytes();
  PackedWeights moved(std::move(store));
  EXPECT_EQ(moved.bytes(), bytes);
  ThreadPool pool(1);
  const auto x = RandomVector(3 * 96, 77);
  for (const TestMatrix& m : ms) {  // the copies still hold the weights after the move
    WeightView unpacked = m.view;
    unpacked.packed = nullptr;
    std::vector<float> want(m.view.rows * 3), got(m.view.rows * 3);
    cpu::MatMulWith(ks, unpacked, x.data(), 3, want.data(), pool);
    cpu::MatMulWith(ks, m.view, x.data(), 3, got.data(), pool);
    EXPECT_EQ(got, want);
  }
}

// MatMulShared (Q/K/V, gate/up over one input) must equal one MatMul per matrix bit for bit:
// matrices of one type share the activation packing and one fork-join, mixed types fall back;
// 1..3 matrices of uneven heights, decode and prefill token counts, 1 and 2 threads.
TEST(MatMulFast, SharedInputMatchesSeparateCallsBitwise) {
  ThreadPool pool1(1), pool2(2);
  std::vector<std::pair<std::string, const cpu::KernelSet*>> sets = {{"scalar", nullptr}};
  for (const char* isa : {"avx2", "avx512", "amx"})
    if (const cpu::KernelSet* ks = cpu::KernelSetFor(isa)) sets.push_back({isa, ks});
  const int64_t cols = 256;
  uint32_t seed = 900;
  for (const auto& [isa, ks] : sets) {
    for (const std::vector<DType>& types :
         {std::vector<DType>{DType::kQ4_1, DType::kQ4_1, DType::kQ4_1},
          std::vector<DType>{DType::kQ8_0, DType::kQ8_0}, std::vector<DType>{DType::kQ4_K},
          std::vector<DType>{DType::kQ4_0, DType::kQ6_K, DType::kQ4_0}}) {
      for (int64_t n_tok : {1, 3, 8, 13, 40}) {
        SCOPED_TRACE(isa + " " + Name(types[0]) + " x" + std::to_string(types.size()) +
                     " n_tok=" + std::to_string(n_tok));
        std::vector<TestMatrix> ms;
        std::vector<WeightView> ws;
        const int64_t heights[] = {576, 192, 67};
        for (size_t k = 0; k < types.size(); ++k) {
          ms.push_back(MakeMatrix(types[k], heights[k], cols, ++seed, static_cast<int>(k)));
        }
        for (const TestMatrix& m : ms) ws.push_back(m.view);
        const auto x = RandomVector(n_tok * cols, ++seed);
        for (ThreadPool* pool : {&pool1, &pool2}) {
          std::vector<std::vector<float>> want(ms.size()), got(ms.size());
          std::vector<float*> ys;
          for (size_t k = 0; k < ms.size(); ++k) {
            want[k].assign(static_cast<size_t>(heights[k] * n_tok), 0.f);
            got[k].assign(want[k].size(), -1e30f);
            cpu::MatMulWith(ks, ws[k], x.data(), n_tok, want[k].data(), *pool);
            ys.push_back(got[k].data());
          }
          cpu::MatMulSharedWith(ks, ws.data(), ys.data(), static_cast<int>(ws.size()), x.data(),
                                n_tok, *pool);
          for (size_t k = 0; k < ms.size(); ++k)
            for (size_t i = 0; i < want[k].size(); ++i)
              ASSERT_EQ(got[k][i], want[k][i]) << "threads=" << pool->size() << " matrix " << k
                                               << " t=" << i / heights[k] << " r=" << i % heights[k];
        }
      }
    }
  }
}

TEST(MatMulFast, PublicEntryPointsAgree) {
  ThreadPool pool(2);
  const TestMatrix m = MakeMatrix(DType::kQ4_1, 100, 576, 5, 2);
  const auto x = RandomVector(3 * 576, 6);
  std::vector<float> got(300), want(300);
  MatMul(m.view, x.data(), 3, got.data(), pool);
  ref::MatMul(m.view, x.data(), 3, want.data());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-4) << i;
  std::vector<float> shared_a(300), shared_b(300);
  MatMulShared({{&m.view, shared_a.data()}, {&m.view, shared_b.data()}}, x.data(), 3, pool);
  EXPECT_EQ(shared_a, got);
  EXPECT_EQ(shared_b, got);
  std::vector<float> row(576);
  DequantizeRow(m.view, 42, row.data());
  for (int c = 0; c < 576; ++c) EXPECT_EQ(row[c], m.dequant[42 * 576 + c]);
  std::printf("  active kernels: %s\n", ActiveIsa());
}

}  // namespace
}  // namespace semantic::kernels
