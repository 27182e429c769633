// The f16 decode attention kernels of the two x86 sets against each other: AttendGroupAvx512 must
// give AttendGroupAvx2's bits (outputs, and the partial max / sum), so that a machine's choice of
// kernel set never changes a token and the tiled prefill kernel (which repeats AVX2's arithmetic)
// stays bit-identical to the decode call on AVX-512 machines too.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "attention_fixture.h"
#include "kernels/attention.h"
#include "kernels/cpu/attention_kernels.h"

namespace semantic::kernels {
namespace {

using testing::Fixture;

bool CpuHasAvx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// Both kernels on the fixture's data (q scaled by q_scale); every output bit equal.
void Compare(int hd, int n_q, int n_pos, int bt, uint32_t seed, bool partial, float q_scale) {
  Fixture f(hd, n_q, n_pos, bt, seed);
  for (float& x : f.q) x *= q_scale;
  const std::string what = "hd " + std::to_string(hd) + " n_q " + std::to_string(n_q) + " n_pos " +
                           std::to_string(n_pos) + " bt " + std::to_string(bt) +
                           (partial ? " partial" : "") + " q x" + std::to_string(q_scale);
  std::vector<float> s(static_cast<size_t>(n_q) * n_pos), a(n_q * hd, NAN), b(n_q * hd, NAN);
  std::vector<float> ma(n_q, NAN), la(n_q, NAN), mb(n_q, NAN), lb(n_q, NAN);
  cpu::AttendGroupAvx2(f.Kv(), f.q.data(), n_q, n_pos, 0.125f, s.data(), a.data(),
                       partial ? ma.data() : nullptr, partial ? la.data() : nullptr);
  cpu::AttendGroupAvx512(f.Kv(), f.q.data(), n_q, n_pos, 0.125f, s.data(), b.data(),
                         partial ? mb.data() : nullptr, partial ? lb.data() : nullptr);
  for (int i = 0; i < n_q * hd; ++i)
    ASSERT_EQ(std::memcmp(&a[i], &b[i], sizeof(float)), 0)
        << what << " i " << i << ": " << a[i] << " vs " << b[i];
  if (!partial) return;
  ASSERT_EQ(std::memcmp(ma.data(), mb.data(), n_q * sizeof(float)), 0) << what;
  ASSERT_EQ(std::memcmp(la.data(), lb.data(), n_q * sizeof(float)), 0) << what;
}

TEST(AttentionIsaTest, Avx512DecodeKernelEqualsAvx2Bitwise) {
  if (!CpuHasAvx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  // head_dim: remainders of 8 and 16 dims past the 64-dim passes; groups of 1..16 heads (threes,
  // pairs, singles); blocks that cut the groups of 8 positions; q = 0 (all scores zero: the
  // maximum's sign of zero found in position order).
  for (int hd : {8, 24, 40, 64, 72, 128, 256})
    for (int n_q : {1, 2, 3, 4, 5, 7, 16})
      for (int bt : {16, 1, 5, 12, 32})
        for (int n_pos : {1, 7, 8, 9, 16, 17, 100, 333})
          for (bool partial : {false, true})
            Compare(hd, n_q, n_pos, bt, hd * 7919 + n_q * 131 + bt * 17 + n_pos, partial, 1.0f);
  for (float q_scale : {0.0f, 100.0f})
    for (int n_pos : {9, 64, 1000}) Compare(64, 3, n_pos, 16, n_pos, false, q_scale);
}

}  // namespace
}  // namespace semantic::kernels
