// The shared layers: scalar implementations (vectorized by the compiler where it can), RMS norm
// and SiLU through the element-wise kernels (kernels/ops.h).
#include "models/layers.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/fp16.h"
#include "kernels/attention.h"
#include "kernels/ops.h"

namespace semantic::models {
void RmsNorm(const float* x, const float* w, int64_t n_tok, int64_t n, float eps, float* out) {
  kernels::RmsNormRows(x, w, n_tok, n, eps, out);
}

RopeYarn YarnCorrDims(int n_rot, int n_ctx_orig, float freq_base, float beta_fast,
                      float beta_slow) {
  constexpr float kPi = 3.14159265358979323846f;
  auto corr_dim = [&](float n_rotations) {
    return n_rot * std::log(n_ctx_orig / (n_rotations * 2 * kPi)) / (2 * std::log(freq_base));
  };
  RopeYarn y;
  y.low = std::max(0.0f, std::floor(corr_dim(beta_fast)));
  y.high = std::min(static_cast<float>(n_rot - 1), std::ceil(corr_dim(beta_slow)));
  return y;
}

namespace {

// cos / sin of every (token, rotary pair) of one Rope call's positions and parameters. A forward
// pass rotates q and k of every layer at the same positions, so the last few tables are kept
// (per thread; matched by value, never by address) and reused: the same floats, computed once.
struct RopeTable {
  int n_rot = 0;
  float freq_base = 0.0f, freq_scale = 0.0f;
  std::vector<float> factors;  // freq_factors' values, empty when none
  bool has_yarn = false;
  RopeYarn yarn;
  std::vector<int32_t> pos;
  std::vector<float> cs, sn;  // [n_tok][n_rot / 2]

  bool Matches(int64_t n_tok, int n_rot_, const int32_t* pos_, float base, float scale,
               const float* factors_, const RopeYarn* yarn_) const {
    const int half = n_rot_ / 2;
    if (n_rot != n_rot_ || freq_base != base || freq_scale != scale) return false;
    if (factors.empty() != (factors_ == nullptr)) return false;
    if (factors_ && !std::equal(factors.begin(), factors.end(), factors_, factors_ + half))
      return false;
    if (has_yarn != (yarn_ != nullptr)) return false;
    if (yarn_ && (yarn.low != yarn_->low || yarn.high != yarn_->high ||
                  yarn.ext_factor != yarn_->ext_factor || yarn.mscale != yarn_->mscale))
      return false;
    return static_cast<int64_t>(pos.size()) == n_tok && std::equal(pos.begin(), pos.end(), pos_);
  }
};

const RopeTable& RopeTableFor(int64_t n_tok, int n_rot, const int32_t* pos, float freq_base,
                              float freq_scale, const float* freq_factors, const RopeYarn* yarn) {
  constexpr int kTables = 4;  // q and k share one; Gemma 3 alternates two bases
  thread_local RopeTable tables[kTables];
  thread_local int next = 0;
  for (const RopeTable& t : tables)
    if (t.Matches(n_tok, n_rot, pos, freq_base, freq_scale, freq_factors, yarn)) return t;
  RopeTable& t = tables[next];
  next = (next + 1) % kTables;
  const int half = n_rot / 2;
  t.n_rot = n_rot;
  t.freq_base = freq_base;
  t.freq_scale = freq_scale;
  t.factors.assign(freq_factors, freq_factors ? freq_factors + half : nullptr);
  t.has_yarn = yarn != nullptr;
  t.yarn = yarn ? *yarn : RopeYarn{};
  t.pos.assign(pos, pos + n_tok);
  t.cs.resize(static_cast<size_t>(n_tok) * half);
  t.sn.resize(t.cs.size());

  std::vector<float> inv_freq(half);
  const float theta_scale = std::pow(freq_base, -2.0f / n_rot);
  float f = 1.0f;
  for (int i = 0; i < half; ++i) {  // same recurrence as ggml: theta_i = pos * scale^i
    inv_freq[i] = freq_factors ? f / freq_factors[i] : f;
    f *= theta_scale;
  }
  std::vector<float> ramp(half, 0.0f);  // YaRN: weight of the extrapolated angle per pair
  float mscale = 1.0f;
  if (yarn) {
    for (int i = 0; i < half; ++i) {
      const float y = (i - yarn->low) / std::max(0.001f, yarn->high - yarn->low);
      ramp[i] = (1.0f - std::min(1.0f, std::max(0.0f, y))) * yarn->ext_factor;
    }
    mscale = yarn->mscale;
  }
  for (int64_t tok = 0; tok < n_tok; ++tok) {
    float* cs = t.cs.data() + tok * half;
    float* sn = t.sn.data() + tok * half;
    for (int i = 0; i < half; ++i) {
      const float extrap = static_cast<float>(pos[tok]) * inv_freq[i];
      const float interp = extrap * freq_scale;
      const float theta = yarn ? interp * (1.0f - ramp[i]) + extrap * ramp[i] : interp;
      cs[i] = std::cos(theta) * mscale;
      sn[i] = std::sin(theta) * mscale;
    }
  }
  return t;
}

}  // namespace

void Rope(float* x, int64_t n_tok, int n_heads, int head_dim, int n_rot, const int32_t* pos,
          float freq_base, float freq_scale, RopeMode mode, const float* freq_factors,
          const RopeYarn* yarn) {
  const int half = n_rot / 2;
  const RopeTable& table =
      RopeTableFor(n_tok, n_rot, pos, freq_base, freq_scale, freq_factors, yarn);
  for (int64_t t = 0; t < n_tok; ++t) {
    const float* cs = table.cs.data() + t * half;
    const float* sn = table.sn.data() + t * half;
    for (int h = 0; h < n_heads; ++h) {
      float* v = x + (t * n_heads + h) * head_dim;
      for (int i = 0; i < half; ++i) {
        const int a = mode == RopeMode::kNorm ? 2 * i : i;
        const int b = mode == RopeMode::kNorm ? 2 * i + 1 : i + half;
        const float x0 = v[a], x1 = v[b];
        v[a] = x0 * cs[i] - x1 * sn[i];
        v[b] = x0 * sn[i] + x1 * cs[i];
      }
    }
  }
}

void AddBias(float* x, const float* b, int64_t n_tok, int64_t n) {
  for (int64_t t = 0; t < n_tok; ++t) {
    for (int64_t i = 0; i < n; ++i) x[t * n + i] += b[i];
  }
}

void SwiGlu(float* gate, const float* up, int64_t n) { kernels::SiluMul(gate, up, n); }

void SwiGluFfn(const kernels::WeightView& gate, const kernels::WeightView& up,
               const kernels::WeightView& down, const float* x, int64_t n_tok, float* gate_buf,
               float* up_buf, float* y, ThreadPool& pool) {
  kernels::MatMulShared({{&gate, gate_buf}, {&up, up_buf}}, x, n_tok, pool);
  GatedActivation(SwiGlu, gate_buf, up_buf, n_tok * gate.rows, pool);
  kernels::MatMul(down, gate_buf, n_tok, y, pool);
}

namespace {

// GELU (tanh form) of every f16 value, rounded to f16, as f32: ggml's table (its CPU GELU
// rounds the input and the result to f16). 64 Ki entries, built once.
const float* GeluTanhTable() {
  static const std::vector<float> table = [] {
    constexpr float kSqrt2OverPi = 0.79788456080286535588f, kCoef = 0.044715f;
    std::vector<float> t(1 << 16);
    for (uint32_t h = 0; h < t.size(); ++h) {
      const float x = Fp16ToFp32(static_cast<uint16_t>(h));
      t[h] = Fp16ToFp32(
          Fp32ToFp16(0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kCoef * x * x)))));
    }
    return t;
  }();
  return table.data();
}

}  // namespace

void GeluTanhGlu(float* gate, const float* up, int64_t n) {
  const float* table = GeluTanhTable();
  constexpr int64_t kChunk = 256;
  uint16_t h[kChunk];
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int64_t m = std::min(kChunk, n - i0);
    kernels::F32ToF16(gate + i0, h, m);  // vectorized, round to nearest even as Fp32ToFp16
    for (int64_t j = 0; j < m; ++j) {
      const float g = gate[i0 + j];
      const float y = g <= -10.0f ? 0.0f : g >= 10.0f ? g : table[h[j]];
      gate[i0 + j] = y * up[i0 + j];
    }
  }
}

void GatedActivation(void (*act)(float*, const float*, int64_t), float* gate, const float* up,
                     int64_t n, ThreadPool& pool) {
  constexpr int64_t kMinParallel = 1 << 14, kChunk = 4096;
  if (n < kMinParallel || pool.size() == 1) {
    act(gate, up, n);
    return;
  }
  pool.ParallelFor((n + kChunk - 1) / kChunk, [&](int64_t c0, int64_t c1) {
    const int64_t i0 = c0 * kChunk, i1 = std::min(n, c1 * kChunk);
    act(gate + i0, up + i0, i1 - i0);
  });
}

void StoreKv(kv::KvPool& pool, const kv::SequenceKv& seq, int layer, int start, int n_tok,
             const float* k, const float* v) {
  const kv::KvLayout& L = pool.layout();
  const int bt = L.block_tokens, hd = L.head_dim, kv_dim = L.kv_dim();
  const kernels::KvRotation rot = kernels::KvRotationFor(L.dtype, hd);
  for (int t = 0; t < n_tok; ++t) {
    const int p = start + t;
    const int32_t block = seq.blocks[p / bt];
    for (int h = 0; h < L.n_kv_heads; ++h) {
      const size_t src = static_cast<size_t>(t) * kv_dim + h * hd;
      const size_t dst = kv::KvPool::RowOffset(L, h, p % bt);
      kernels::QuantizeKvRow(L.dtype, k + src, pool.K(block, layer) + dst, hd, rot.k);
      if (!L.v_from_k) {
        kernels::QuantizeKvRow(L.dtype, v + src, pool.V(block, layer) + dst, hd, rot.v);
      }
    }
  }
}

namespace {

// Contexts longer than this are split into segments of this many positions (rounded to whole
// blocks), attended in parallel and merged. The split depends only on the position count, so a
// sequence's result does not depend on the batch it is in or on the thread count.
constexpr int kSegmentPositions = 1024;

// Consecutive query tokens of one sequence attended together (kernels::AttendTile), so each K/V
// row is loaded once per tile instead of once per token. Per token the arithmetic is that of a
// single-token call, so tiling does not change any result.
constexpr int kTileTokens = 16;

struct TokenRange {
  int lo, end;     // positions [lo, end): causal, or the sliding window's last positions
  int n_seg;       // segments (1: the whole range, normalized directly)
  size_t partial;  // offset of its partial outputs if split: [n_kv_heads][n_seg] items
  bool split;      // partial outputs merged afterwards: n_seg > 1, or attention sinks
};

struct AttentionItem {
  int arg, t0, t1, kvh;  // tokens [t0, t1) of args[arg] (those with a segment sgi), one KV head
  int sgi;               // segment index
  int64_t cost;          // tokens x positions, to hand out the largest items first
};

}  // namespace

void Attention(const AttentionArgs* args, int n_args, ThreadPool& pool) {
  // Work items: (arg, tile of tokens, kv head, segment); each covers the query heads of one GQA
  // group. Tokens whose window starts after position 0 form tiles of one (ranges differ).
  std::vector<std::vector<TokenRange>> ranges(n_args);
  std::vector<AttentionItem> items;
  size_t partial_floats = 0;
  for (int a = 0; a < n_args; ++a) {
    const AttentionArgs& A = args[a];
    const kv::KvLayout& L = A.pool->layout();
    const int group = A.n_head / L.n_kv_heads;
    const int seg_len = std::max(1, kSegmentPositions / L.block_tokens) * L.block_tokens;
    const int tile_tokens = std::max(1, std::min(kTileTokens, kernels::kMaxTileRows / group));
    for (int t = 0; t < A.n_tok; ++t) {
      const int end = A.start + t + 1;  // one past the query's position
      const int lo = A.window > 0 ? std::max(0, end - A.window) : 0;
      const int n_pos = end - lo;
      const int n_seg = n_pos > seg_len ? (n_pos + seg_len - 1) / seg_len : 1;
      const bool split = n_seg > 1 || A.sinks != nullptr;
      ranges[a].push_back({lo, end, n_seg, partial_floats, split});
      if (split)
        partial_floats += static_cast<size_t>(L.n_kv_heads) * n_seg * group * (L.head_dim + 2);
    }
    for (int t0 = 0, t1; t0 < A.n_tok; t0 = t1) {
      t1 = t0 + 1;
      while (t1 < A.n_tok && t1 - t0 < tile_tokens && ranges[a][t0].lo == 0 &&
             ranges[a][t1].lo == 0)
        ++t1;
      for (int kvh = 0; kvh < L.n_kv_heads; ++kvh) {
        for (int sgi = 0; sgi < ranges[a][t1 - 1].n_seg; ++sgi) {  // n_seg grows with t
          int ts = t0;
          while (ranges[a][ts].n_seg <= sgi) ++ts;
          const int p0 = ranges[a][ts].lo + sgi * seg_len;
          const int64_t n = std::min(ranges[a][t1 - 1].end, p0 + seg_len) - p0;
          items.push_back({a, ts, t1, kvh, sgi, n * (t1 - ts)});
        }
      }
    }
  }
  // Largest first, so that the threads' last chunks of items are small ones (dynamic balance).
  std::stable_sort(items.begin(), items.end(),
                   [](const AttentionItem& x, const AttentionItem& y) { return x.cost > y.cost; });
  std::vector<float> partial(partial_floats);  // per token, kv head, segment: [group][hd] out, m, l
  pool.ParallelFor(static_cast<int64_t>(items.size()), [&](int64_t begin, int64_t end) {
    std::vector<float> scratch;
    std::vector<const uint8_t*> k_blocks, v_blocks;
    std::vector<const float*> qs;
    std::vector<float*> outs, ms, ls;
    std::vector<int> n_pos;
    for (int64_t i = begin; i < end; ++i) {
      const AttentionItem& it = items[i];
      const AttentionArgs& A = args[it.arg];
      const kv::KvLayout& L = A.pool->layout();
      const int hd = L.head_dim, group = A.n_head / L.n_kv_heads, bt = L.block_tokens;
      const int seg_len = std::max(1, kSegmentPositions / bt) * bt;
      const TokenRange* r = ranges[it.arg].data();
      // Every token of the tile starts at p0 (one token, or all with lo == 0).
      const int p0 = r[it.t0].lo + it.sgi * seg_len;
      const int p1 = std::min(r[it.t1 - 1].end, p0 + seg_len);
      qs.clear();
      outs.clear();
      ms.clear();
      ls.clear();
      n_pos.clear();
      for (int t = it.t0; t < it.t1; ++t) {
        const size_t q_off = (static_cast<size_t>(t) * A.n_head + it.kvh * group) * hd;
        qs.push_back(A.q + q_off);
        n_pos.push_back(std::min(r[t].end, p0 + seg_len) - p0);
        if (!r[t].split) {
          outs.push_back(A.out + q_off);
          ms.push_back(nullptr);
          ls.push_back(nullptr);
        } else {
          float* o = partial.data() + r[t].partial +
                     static_cast<size_t>(it.kvh * r[t].n_seg + it.sgi) * group * (hd + 2);
          outs.push_back(o);
          ms.push_back(o + group * hd);
          ls.push_back(o + group * hd + group);
        }
      }
      // Whole blocks from p0's block on; or, when a sliding window starts inside a block, one
      // row per position (a view with one-token blocks), so no position before p0 is read.
      const bool aligned = p0 % bt == 0;
      const int view_bt = aligned ? bt : 1;
      const int v0 = p0 / view_bt, v1 = (p1 + view_bt - 1) / view_bt;
      k_blocks.resize(v1 - v0);
      v_blocks.resize(v1 - v0);
      for (int b = v0; b < v1; ++b) {
        const int p = b * view_bt;  // first position of this view block
        const size_t off = kv::KvPool::RowOffset(L, it.kvh, p % bt);
        k_blocks[b - v0] = A.pool->K(A.seq->blocks[p / bt], A.layer) + off;
        v_blocks[b - v0] = A.pool->V(A.seq->blocks[p / bt], A.layer) + off;
      }
      kernels::PagedHeadKv kv{
          k_blocks.data(), v_blocks.data(), view_bt, static_cast<int>(L.head_bytes()), hd, L.dtype};
      const kernels::QueryTile tile{it.t1 - it.t0, group,     qs.data(), n_pos.data(),
                                    outs.data(),   ms.data(), ls.data()};
      scratch.resize(kernels::AttendTileScratch(kv, tile));
      kernels::AttendTile(kv, tile, A.scale, scratch.data());
    }
  });
  // Merge the segments of each split (arg, token, kv head). An attention sink is one more
  // segment: logit sinks[h] with value 0 (l = 1, out = 0), so it joins only the denominator.
  std::vector<float> outs, ms, ls;
  for (int a = 0; a < n_args; ++a) {
    const AttentionArgs& A = args[a];
    const int hd = A.pool->layout().head_dim, n_kv = A.pool->layout().n_kv_heads;
    const int group = A.n_head / n_kv;
    for (int t = 0; t < A.n_tok; ++t) {
      const TokenRange& r = ranges[a][t];
      if (!r.split) continue;
      const int n_merge = r.n_seg + (A.sinks != nullptr ? 1 : 0);
      outs.resize(static_cast<size_t>(n_merge) * group * hd);
      ms.resize(static_cast<size_t>(n_merge) * group);
      ls.resize(ms.size());
      for (int kvh = 0; kvh < n_kv; ++kvh) {
        for (int sgi = 0; sgi < r.n_seg; ++sgi) {
          const float* o = partial.data() + r.partial +
                           static_cast<size_t>(kvh * r.n_seg + sgi) * group * (hd + 2);
          std::copy(o, o + group * hd, outs.data() + static_cast<size_t>(sgi) * group * hd);
          std::copy(o + group * hd, o + group * hd + group, ms.data() + sgi * group);
          std::copy(o + group * hd + group, o + group * hd + 2 * group, ls.data() + sgi * group);
        }
        if (A.sinks != nullptr) {
          const int s = r.n_seg;
          std::fill(outs.begin() + static_cast<size_t>(s) * group * hd, outs.end(), 0.0f);
          for (int h = 0; h < group; ++h) {
            ms[s * group + h] = A.sinks[kvh * group + h];
            ls[s * group + h] = 1.0f;
          }
        }
        const size_t q_off = (static_cast<size_t>(t) * A.n_head + kvh * group) * hd;
        kernels::MergePartials(outs.data(), ms.data(), ls.data(), n_merge, group, hd,
                               A.out + q_off);
      }
    }
  }
}

}  // namespace semantic::models
