// Google Benchmark micro-benchmarks per kernel: quantized matmul at decode (n_tok 1) and prefill
// (n_tok 64/256) shapes of SmolLM2 and Gemma 3, and paged attention at several depths.
// Run: build/bench/micro_kernels_bench [--benchmark_filter=Q4_1]
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "base/fp16.h"
#include "base/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/ops.h"
#include "quant/quantize.h"

namespace semantic {
namespace {

ThreadPool& Pool() {
  static ThreadPool pool(ThreadPool::DefaultThreads());
  return pool;
}

struct Matrix {
  std::vector<uint8_t> data;
  kernels::WeightView view;
};

Matrix MakeMatrix(quant::DType type, int64_t rows, int64_t cols) {
  std::mt19937 rng(42);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  Matrix m;
  const size_t rb = quant::RowBytes(type, cols);
  m.data.resize(rb * rows);
  std::vector<float> row(cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& x : row) x = nd(rng);
    quant::QuantizeRowRef(type, row.data(), m.data.data() + r * rb, cols);
  }
  m.view = {type, rows, cols, rb, m.data.data()};
  return m;
}

// args: dtype id, rows, cols, n_tok
void BM_MatMul(benchmark::State& state) {
  const auto type = static_cast<quant::DType>(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2), n_tok = state.range(3);
  Matrix m = MakeMatrix(type, rows, cols);
  std::vector<float> x(n_tok * cols, 0.5f), y(n_tok * rows);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * i);
  for (auto _ : state) {
    kernels::MatMul(m.view, x.data(), n_tok, y.data(), Pool());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * rows * cols * n_tok,
                                                 benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
  state.counters["weight_GB/s"] = benchmark::Counter(
      static_cast<double>(m.data.size()), benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
  state.SetLabel(std::string(quant::GetDTypeInfo(type)->name) + " " + kernels::ActiveIsa());
}

void MatMulArgs(benchmark::internal::Benchmark* b) {
  using quant::DType;
  for (DType t : {DType::kQ4_1, DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ5_K,
                  DType::kQ6_K, DType::kF16}) {
    const int64_t cols = (t == DType::kQ4_K || t == DType::kQ5_K || t == DType::kQ6_K) ? 768 : 576;
    for (int64_t n_tok : {1, 64, 256}) b->Args({static_cast<int64_t>(t), 1536, cols, n_tok});
  }
  b->Args({static_cast<int64_t>(DType::kQ8_0), 49152, 576, 1});  // SmolLM2 tied head, decode
}
BENCHMARK(BM_MatMul)->Apply(MatMulArgs)->UseRealTime()->Unit(benchmark::kMicrosecond);

// args: depth (positions attended), group size (query heads per KV head), head_dim
void BM_AttendGroup(benchmark::State& state) {
  const int n_pos = static_cast<int>(state.range(0)), n_q = static_cast<int>(state.range(1));
  const int hd = static_cast<int>(state.range(2)), bt = 16;
  const int n_blocks = (n_pos + bt - 1) / bt;
  std::vector<std::vector<uint16_t>> k(n_blocks), v(n_blocks);
  std::vector<const uint16_t*> kb, vb;
  for (int b = 0; b < n_blocks; ++b) {
    k[b].assign(bt * hd, Fp32ToFp16(0.01f * b));
    v[b].assign(bt * hd, Fp32ToFp16(0.02f));
    kb.push_back(k[b].data());
    vb.push_back(v[b].data());
  }
  std::vector<float> q(n_q * hd, 0.1f), out(n_q * hd), scratch(n_q * n_pos);
  kernels::PagedHeadKv kv{kb.data(), vb.data(), bt, hd, hd};
  for (auto _ : state) {
    kernels::AttendGroup(kv, q.data(), n_q, n_pos, 0.125f, scratch.data(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["KV_GB/s"] = benchmark::Counter(
      2.0 * 2 * n_pos * hd, benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
}
BENCHMARK(BM_AttendGroup)
    ->Args({512, 3, 64})
    ->Args({4096, 3, 64})
    ->Args({4096, 4, 256})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace semantic

BENCHMARK_MAIN();
