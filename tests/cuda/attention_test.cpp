// Paged f16 attention on the GPU against kernels::ref::AttendGroup: blocks scattered in memory,
// a row stride larger than the head, GQA groups, context lengths across block boundaries.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <cstring>
#include <vector>

#include "base/fp16.h"
#include "kernels/attention.h"
#include "kernels/cuda/ops.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/kernels/kernel_test_util.h"

namespace semantic::kernels::cuda {
namespace {

using kernels::testing::RandomVector;
using testing::ToDevice;
using testing::ToHost;

TEST(CudaAttentionTest, F16MatchesReference) {
  SKIP_WITHOUT_CUDA_DEVICE();
  struct Case {
    int head_dim, n_q, n_pos, block_tokens;
  };
  for (const Case& c : {Case{64, 1, 1, 16}, Case{64, 3, 17, 16}, Case{128, 4, 300, 16},
                        Case{256, 2, 1000, 32}, Case{64, 8, 4096, 16}}) {
    SCOPED_TRACE(::testing::Message() << "head_dim " << c.head_dim << " n_q " << c.n_q
                                      << " n_pos " << c.n_pos << " block " << c.block_tokens);
    const int row_stride = c.head_dim * 2 + 64;  // other heads' rows lie between positions
    const int n_blocks = (c.n_pos + c.block_tokens - 1) / c.block_tokens;
    const size_t block_bytes = static_cast<size_t>(c.block_tokens) * row_stride;
    // K and V blocks in one arena, in shuffled order.
    std::vector<uint8_t> arena(2 * n_blocks * block_bytes);
    const auto vals = RandomVector(static_cast<int64_t>(arena.size() / 2), 71 + c.n_pos);
    for (size_t i = 0; i < arena.size() / 2; ++i) {
      const uint16_t h = Fp32ToFp16(vals[i]);
      std::memcpy(&arena[2 * i], &h, 2);
    }
    std::vector<int> slot(2 * n_blocks);
    std::iota(slot.begin(), slot.end(), 0);
    std::shuffle(slot.begin(), slot.end(), std::mt19937(c.n_pos));
    std::vector<const uint8_t*> hk(n_blocks), hv(n_blocks);
    std::vector<size_t> ok(n_blocks), ov(n_blocks);
    for (int b = 0; b < n_blocks; ++b) {
      ok[b] = slot[2 * b] * block_bytes, ov[b] = slot[2 * b + 1] * block_bytes;
      hk[b] = arena.data() + ok[b], hv[b] = arena.data() + ov[b];
    }
    PagedHeadKv kv;
    kv.k_blocks = hk.data(), kv.v_blocks = hv.data();
    kv.block_tokens = c.block_tokens, kv.row_stride = row_stride, kv.head_dim = c.head_dim;
    kv.dtype = KvDtype::kF16;
    const auto q = RandomVector(int64_t{c.n_q} * c.head_dim, 73 + c.n_q, 2.0f);
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    std::vector<float> want(q.size()), scratch(static_cast<size_t>(c.n_q) * c.n_pos);
    ref::AttendGroup(kv, q.data(), c.n_q, c.n_pos, scale, scratch.data(), want.data());

    DeviceBuffer darena = ToDevice(arena), dq = ToDevice(q);
    std::vector<const uint8_t*> dk(n_blocks), dv(n_blocks);
    for (int b = 0; b < n_blocks; ++b)
      dk[b] = darena.as<uint8_t>() + ok[b], dv[b] = darena.as<uint8_t>() + ov[b];
    DeviceBuffer ddk = ToDevice(dk), ddv = ToDevice(dv);
    DeviceBuffer dscratch = testing::DeviceZeros<float>(scratch.size());
    DeviceBuffer dout = testing::DeviceZeros<float>(q.size());
    PagedHeadKv dkv = kv;
    dkv.k_blocks = ddk.as<const uint8_t*>(), dkv.v_blocks = ddv.as<const uint8_t*>();
    const Status st = AttendGroupF16(dkv, dq.as<float>(), c.n_q, c.n_pos, scale,
                                     dscratch.as<float>(), dout.as<float>());
    ASSERT_TRUE(st.ok()) << st.message();
    const auto got = ToHost<float>(dout, q.size());
    // The softmax weights are rounded to f16: a weight an ulp apart in f32 can round one f16
    // step (2^-11 relative) apart, so outputs (weighted means of |v| <~ 4) may differ by ~1e-3.
    int bad = 0;
    for (size_t i = 0; i < want.size() && bad < 5; ++i) {
      if (!(std::fabs(got[i] - want[i]) <= 2e-3f)) {
        ADD_FAILURE() << "out[" << i << "]: cuda " << got[i] << " vs ref " << want[i];
        ++bad;
      }
    }
  }
}

}  // namespace
}  // namespace semantic::kernels::cuda
