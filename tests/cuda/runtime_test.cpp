// The device probe: a device with a name and compute capability >= 8.0 (the archs we build),
// or a clear "no CUDA device: <reason>" — never a crash on machines without GPU or driver.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "kernels/cuda/ops.h"
#include "tests/cuda/cuda_test_util.h"

namespace semantic::kernels::cuda {
namespace {

TEST(CudaRuntimeTest, ProbeNamesDeviceOrReason) {
  const auto& dev = testing::Device();
  if (!dev.ok()) {
    EXPECT_EQ(dev.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(dev.status().message().rfind("no CUDA device: ", 0), 0u) << dev.status().message();
    std::printf("[ cuda     ] %s\n", dev.status().message().c_str());
    return;
  }
  EXPECT_FALSE(dev->name.empty());
  EXPECT_GE(dev->cc_major, 8) << "built for sm_80 and sm_90 only";
  EXPECT_GT(dev->total_bytes, 0u);
  std::printf("[ cuda     ] device 0: %s, sm_%d%d, %d SMs, %.1f GiB\n", dev->name.c_str(),
              dev->cc_major, dev->cc_minor, dev->sm_count,
              static_cast<double>(dev->total_bytes) / (1 << 30));
}

TEST(CudaRuntimeTest, BufferRoundTrip) {
  SKIP_WITHOUT_CUDA_DEVICE();
  std::vector<int32_t> v(1000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int32_t>(i * 7919);
  DeviceBuffer b = testing::ToDevice(v);
  EXPECT_EQ(testing::ToHost<int32_t>(b, v.size()), v);
  std::vector<int32_t> big(2000);
  EXPECT_FALSE(b.Upload(big.data(), big.size() * sizeof(int32_t)).ok());
}

// Host-side argument checks: answered without touching a device.
TEST(CudaRuntimeTest, UnsupportedArgumentsAreRefused) {
  WeightView w{quant::DType::kQ4_K, 4, 256, quant::RowBytes(quant::DType::kQ4_K, 256), nullptr};
  EXPECT_FALSE(MatMulSupports(quant::DType::kQ4_K));
  const Status s = MatMul(w, nullptr, 1, nullptr, nullptr);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("Q4_K"), std::string::npos) << s.message();
  EXPECT_TRUE(MatMulSupports(quant::DType::kQ4_1));
  WeightView q41{quant::DType::kQ4_1, 8, 64, quant::RowBytes(quant::DType::kQ4_1, 64), nullptr};
  EXPECT_EQ(MatMulScratchBytes(q41, 3), 3 * quant::RowBytes(quant::DType::kQ8_1, 64));
  EXPECT_EQ(QuantizeActivations(quant::DType::kQ8_0, nullptr, 1, 33, nullptr).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(TopKRows(nullptr, 1, 10, 11, nullptr, nullptr).code(), StatusCode::kInvalidArgument);
  RopeArgs ra;
  ra.n_heads = 1, ra.head_dim = 64, ra.n_rot = 66;
  EXPECT_EQ(Rope(nullptr, 1, nullptr, ra).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace semantic::kernels::cuda
