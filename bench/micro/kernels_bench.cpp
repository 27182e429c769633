// Google Benchmark micro-benchmarks per kernel: quantized matmul at decode (n_tok 1), batched
// decode (n_tok 8/16) and prefill (n_tok 64/256) shapes of SmolLM2 and Gemma 3, and paged
// attention at several depths.
// Run: build/bench/micro_kernels_bench [--benchmark_filter=Q4_1]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include "base/fp16.h"
#include "base/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/ops.h"
#include "kernels/packed_weights.h"
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
  kernels::PackedWeights packed;  // as a model loads it (SEMANTIC_PACKED_WEIGHTS=0: none)
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
  m.packed.Pack(&m.view);
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
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * rows * cols * n_tok, benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
  state.counters["weight_GB/s"] = benchmark::Counter(static_cast<double>(m.data.size()),
                                                     benchmark::Counter::kIsIterationInvariantRate,
                                                     benchmark::Counter::kIs1000);
  state.SetLabel(std::string(quant::GetDTypeInfo(type)->name) + " " + kernels::ActiveIsa() +
                 (m.view.packed ? " packed" : ""));
}

void MatMulArgs(benchmark::internal::Benchmark* b) {
  using quant::DType;
  for (DType t : {DType::kQ4_1, DType::kQ8_0, DType::kQ4_0, DType::kQ5_0, DType::kQ4_K,
                  DType::kQ5_K, DType::kQ6_K, DType::kF16}) {
    const int64_t cols = (t == DType::kQ4_K || t == DType::kQ5_K || t == DType::kQ6_K) ? 768 : 576;
    for (int64_t n_tok : {1, 8, 16, 64, 256}) b->Args({static_cast<int64_t>(t), 1536, cols, n_tok});
  }
  b->Args({static_cast<int64_t>(DType::kQ8_0), 49152, 576, 1});  // SmolLM2 tied head, decode
  b->Args({static_cast<int64_t>(DType::kQ8_0), 49152, 576, 8});  // ... batched decode
  // Q4_1 matrices too big for L2 (weights stream from L3 / RAM as in a real decode step)
  for (int64_t n_tok : {1, 8}) b->Args({static_cast<int64_t>(DType::kQ4_1), 49152, 576, n_tok});
}
BENCHMARK(BM_MatMul)->Apply(MatMulArgs)->UseRealTime()->Unit(benchmark::kMicrosecond);

// The matmuls of SmolLM2-135M decode steps (30 layers of Q/K/V, O, gate/up, down; Q4_1, 66 MB
// of weights, more than L2 holds) at n_tok tokens: the kernels with weights streaming in from L3
// or RAM and one fork-join per matrix group, as in a real step without the attention.
// args: n_tok
void BM_DecodeLayers(benchmark::State& state) {
  const int64_t n_tok = state.range(0), d = 576, ff = 1536, kv = 192;
  struct Layer {
    Matrix q, k, v, o, gate, up, down;
  };
  static std::vector<Layer> layers = [&] {
    std::vector<Layer> ls(30);
    for (Layer& l : ls) {
      l.q = MakeMatrix(quant::DType::kQ4_1, d, d);
      l.k = MakeMatrix(quant::DType::kQ4_1, kv, d);
      l.v = MakeMatrix(quant::DType::kQ4_1, kv, d);
      l.o = MakeMatrix(quant::DType::kQ4_1, d, d);
      l.gate = MakeMatrix(quant::DType::kQ4_1, ff, d);
      l.up = MakeMatrix(quant::DType::kQ4_1, ff, d);
      l.down = MakeMatrix(quant::DType::kQ4_1, d, ff);
    }
    return ls;
  }();
  std::vector<float> x(n_tok * ff), a(n_tok * ff), b(n_tok * ff), c(n_tok * ff);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * i);
  size_t bytes = 0;
  for (const Layer& l : layers)
    for (const Matrix* m : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down})
      bytes += m->data.size();
  for (auto _ : state) {
    for (const Layer& l : layers) {
      kernels::MatMulShared({{&l.q.view, a.data()}, {&l.k.view, b.data()}, {&l.v.view, c.data()}},
                            x.data(), n_tok, Pool());
      kernels::MatMul(l.o.view, x.data(), n_tok, a.data(), Pool());
      kernels::MatMulShared({{&l.gate.view, a.data()}, {&l.up.view, b.data()}}, x.data(), n_tok,
                            Pool());
      kernels::MatMul(l.down.view, x.data(), n_tok, c.data(), Pool());
    }
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["weight_GB/s"] = benchmark::Counter(
      static_cast<double>(bytes), benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
  state.SetLabel(std::string(kernels::ActiveIsa()) + (layers[0].q.view.packed ? " packed" : ""));
}
BENCHMARK(BM_DecodeLayers)->Arg(1)->Arg(8)->Arg(16)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Paged K/V of n_pos positions for one KV head: per block [bt][row] bytes of K and of V.
struct BenchKv {
  std::vector<std::vector<uint8_t>> k, v;
  std::vector<const uint8_t*> kb, vb;
  size_t row = 0;

  BenchKv(int n_pos, int hd, int bt, kernels::KvDtype dt) : row(kernels::KvRowBytes(dt, hd)) {
    const int n_blocks = (n_pos + bt - 1) / bt;
    k.resize(n_blocks);
    v.resize(n_blocks);
    std::vector<float> x(hd);
    for (int b = 0; b < n_blocks; ++b) {
      k[b].resize(bt * row);
      v[b].resize(bt * row);
      for (int i = 0; i < bt; ++i) {
        for (int j = 0; j < hd; ++j) x[j] = 0.01f * b + 0.001f * j;
        kernels::QuantizeKvRow(dt, x.data(), k[b].data() + i * row, hd);
        for (int j = 0; j < hd; ++j) x[j] = 0.02f - 0.0005f * j;
        kernels::QuantizeKvRow(dt, x.data(), v[b].data() + i * row, hd);
      }
      kb.push_back(k[b].data());
      vb.push_back(v[b].data());
    }
  }
};

// args: depth (positions attended), group size (query heads per KV head), head_dim, KV dtype
void BM_AttendGroup(benchmark::State& state) {
  const int n_pos = static_cast<int>(state.range(0)), n_q = static_cast<int>(state.range(1));
  const int hd = static_cast<int>(state.range(2)), bt = 16;
  const auto dt = static_cast<kernels::KvDtype>(state.range(3));
  BenchKv b(n_pos, hd, bt, dt);
  std::vector<float> q(n_q * hd, 0.1f), out(n_q * hd), scratch(n_q * n_pos);
  kernels::PagedHeadKv kv{b.kb.data(), b.vb.data(), bt, static_cast<int>(b.row), hd, dt};
  for (auto _ : state) {
    kernels::AttendGroup(kv, q.data(), n_q, n_pos, 0.125f, scratch.data(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["KV_GB/s"] =
      benchmark::Counter(2.0 * n_pos * b.row, benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
  state.SetLabel(std::string(kernels::KvDtypeName(dt)) + " " + kernels::ActiveIsa());
}
BENCHMARK(BM_AttendGroup)
    ->ArgsProduct({{512, 4096}, {3}, {64}, {0, 1, 2}})
    ->Args({4096, 4, 256, 0})
    ->Args({4096, 4, 256, 1})
    ->Unit(benchmark::kMicrosecond);

// Prefill: 16 consecutive query tokens at depth d (positions d+1 .. d+16), f16 K/V, group 3,
// head_dim 64. args: depth, tile tokens (0: one AttendGroup call per token, the path before
// tiling). Time per 16 tokens.
void BM_AttendPrefill(benchmark::State& state) {
  const int depth = static_cast<int>(state.range(0)), tile_tok = static_cast<int>(state.range(1));
  const int n_q = 3, hd = 64, bt = 16, n_tok = 16;
  BenchKv b(depth + n_tok, hd, bt, kernels::KvDtype::kF16);
  kernels::PagedHeadKv kv{b.kb.data(), b.vb.data(),           bt, static_cast<int>(b.row),
                          hd,          kernels::KvDtype::kF16};
  std::vector<float> q(n_tok * n_q * hd, 0.1f), out(n_tok * n_q * hd);
  std::vector<const float*> qs;
  std::vector<float*> outs, nul(n_tok, nullptr);
  std::vector<int> n_pos;
  for (int t = 0; t < n_tok; ++t) {
    qs.push_back(q.data() + t * n_q * hd);
    outs.push_back(out.data() + t * n_q * hd);
    n_pos.push_back(depth + t + 1);
  }
  const kernels::QueryTile all{n_tok,       n_q,        qs.data(), n_pos.data(),
                               outs.data(), nul.data(), nul.data()};
  std::vector<float> scratch(kernels::AttendTileScratch(kv, all));
  for (auto _ : state) {
    for (int t0 = 0; t0 < n_tok; t0 += std::max(1, tile_tok)) {
      if (tile_tok == 0) {
        kernels::AttendGroup(kv, qs[t0], n_q, n_pos[t0], 0.125f, scratch.data(), outs[t0]);
        continue;
      }
      const kernels::QueryTile tile{tile_tok,         n_q,        qs.data() + t0, n_pos.data() + t0,
                                    outs.data() + t0, nul.data(), nul.data()};
      kernels::AttendTile(kv, tile, 0.125f, scratch.data());
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(std::string("f16 ") + kernels::ActiveIsa());
}
BENCHMARK(BM_AttendPrefill)
    ->ArgsProduct({{512, 4096, 8192}, {0, 4, 8, 16}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace semantic

BENCHMARK_MAIN();
