// Argmax and top-k on the GPU against std::max_element / std::partial_sort (value descending,
// index ascending), with planted ties.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "kernels/cuda/ops.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/kernels/kernel_test_util.h"

namespace semantic::kernels::cuda {
namespace {

using kernels::testing::RandomVector;
using testing::ToDevice;
using testing::ToHost;

std::vector<float> Logits(int64_t rows, int64_t n, uint32_t seed) {
  auto x = RandomVector(rows * n, seed, 3.0f);
  for (int64_t r = 0; r < rows; ++r) {  // ties: the row's max copied to a later index, and more
    float* xr = x.data() + r * n;
    const int64_t m = std::max_element(xr, xr + n) - xr;
    xr[(m + n / 2) % n] = xr[m];
    for (int64_t i = 3; i < n; i += 101) xr[i] = xr[i - 3];
  }
  return x;
}

TEST(CudaSamplingTest, ArgmaxMatchesCpu) {
  SKIP_WITHOUT_CUDA_DEVICE();
  for (int64_t n : {1, 7, 1000, 49152}) {
    const int64_t rows = 4;
    const auto x = Logits(rows, n, 51 + n);
    DeviceBuffer dx = ToDevice(x);
    DeviceBuffer di = testing::DeviceZeros<int32_t>(rows);
    ASSERT_TRUE(ArgmaxRows(dx.as<float>(), rows, n, di.as<int32_t>()).ok());
    const auto got = ToHost<int32_t>(di, rows);
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x.data() + r * n;
      EXPECT_EQ(got[r], std::max_element(xr, xr + n) - xr) << "n " << n << " row " << r;
    }
  }
}

TEST(CudaSamplingTest, TopKMatchesCpu) {
  SKIP_WITHOUT_CUDA_DEVICE();
  for (int64_t n : {8, 1000, 49152}) {
    for (int k : {1, 8, 40}) {
      if (k > n) continue;
      const int64_t rows = 3;
      const auto x = Logits(rows, n, 61 + n + k);
      DeviceBuffer dx = ToDevice(x);
      DeviceBuffer di = testing::DeviceZeros<int32_t>(rows * k);
      DeviceBuffer dv = testing::DeviceZeros<float>(rows * k);
      ASSERT_TRUE(TopKRows(dx.as<float>(), rows, n, k, di.as<int32_t>(), dv.as<float>()).ok());
      const auto idx = ToHost<int32_t>(di, rows * k);
      const auto val = ToHost<float>(dv, rows * k);
      for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x.data() + r * n;
        std::vector<int32_t> order(n);
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
          return xr[a] > xr[b] || (xr[a] == xr[b] && a < b);
        });
        for (int j = 0; j < k; ++j) {
          EXPECT_EQ(idx[r * k + j], order[j]) << "n " << n << " k " << k << " row " << r;
          EXPECT_EQ(val[r * k + j], xr[order[j]]);
        }
      }
    }
  }
}

}  // namespace
}  // namespace semantic::kernels::cuda
