// Paged K/V fixtures for the attention kernel tests: random K/V rows stored in blocks of a
// two-KV-head cache in a chosen dtype, plus their f32 values and random queries.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/attention.h"
#include "quant/dequantize.h"

namespace semantic::kernels::testing {

inline constexpr KvDtype kAll[] = {KvDtype::kF16, KvDtype::kQ8_0, KvDtype::kQ4_0};

inline quant::DType QuantType(KvDtype t) {
  return t == KvDtype::kQ8_0   ? quant::DType::kQ8_0
         : t == KvDtype::kQ4_0 ? quant::DType::kQ4_0
                               : quant::DType::kF16;
}

struct Fixture {
  int hd, n_q, n_pos, bt, n_kv_heads = 2, kvh = 1;
  KvDtype dt;
  size_t row;                                          // bytes per position (all KV heads)
  std::vector<std::vector<uint8_t>> k_store, v_store;  // per block [bt][row] bytes
  std::vector<const uint8_t*> kb, vb;                  // KV head kvh of each block
  std::vector<float> k32, v32;                         // [n_pos][hd] f32 values of head kvh
  std::vector<float> q;                                // [n_q][hd]

  Fixture(int hd_, int n_q_, int n_pos_, int bt_, uint32_t seed, KvDtype dt_ = KvDtype::kF16)
      : hd(hd_), n_q(n_q_), n_pos(n_pos_), bt(bt_), dt(dt_) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    row = KvRowBytes(dt, static_cast<size_t>(n_kv_heads) * hd);
    const KvRotation rot = KvRotationFor(dt, hd);
    const size_t head = KvRowBytes(dt, hd);
    const int n_blocks = (n_pos + bt - 1) / bt;
    std::vector<float> x(static_cast<size_t>(n_kv_heads) * hd);
    for (int b = 0; b < n_blocks; ++b) {
      k_store.emplace_back(bt * row);
      v_store.emplace_back(bt * row);
      for (int i = 0; i < bt; ++i) {
        for (auto* store : {&k_store, &v_store}) {
          for (auto& e : x) e = nd(rng);
          QuantizeKvRow(dt, x.data(), store->back().data() + i * row, n_kv_heads * hd,
                        store == &k_store ? rot.k : rot.v);
          if (b * bt + i < n_pos) {
            auto& dst = store == &k_store ? k32 : v32;
            dst.insert(dst.end(), x.begin() + kvh * hd, x.begin() + (kvh + 1) * hd);
          }
        }
      }
    }
    for (int b = 0; b < n_blocks; ++b) {
      kb.push_back(k_store[b].data() + kvh * head);
      vb.push_back(v_store[b].data() + kvh * head);
    }
    q.resize(static_cast<size_t>(n_q) * hd);
    for (auto& e : q) e = 2.0f * nd(rng);
  }
  PagedHeadKv Kv() const { return {kb.data(), vb.data(), bt, static_cast<int>(row), hd, dt}; }
  // Dequantized K or V row of head kvh at position p (in the cache's rotated space).
  std::vector<float> Row(const std::vector<const uint8_t*>& blocks, int p) const {
    std::vector<float> out(hd);
    quant::DequantizeRowRef(QuantType(dt), blocks[p / bt] + (p % bt) * row, out.data(), hd);
    return out;
  }
};

}  // namespace semantic::kernels::testing
