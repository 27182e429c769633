// Helpers for the CUDA op tests: skip without a device, copy to and from device memory.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kernels/cuda/runtime.h"

namespace semantic::kernels::cuda::testing {

// The device probe, once per process.
inline const Expected<DeviceInfo>& Device() {
  static const Expected<DeviceInfo> probe = Probe();
  return probe;
}

// In a TEST body: skips with "no CUDA device: <reason>" on machines without a usable GPU.
#define SKIP_WITHOUT_CUDA_DEVICE()                                               \
  do {                                                                           \
    if (!::semantic::kernels::cuda::testing::Device().ok())                      \
      GTEST_SKIP() << ::semantic::kernels::cuda::testing::Device().status().message(); \
  } while (0)

template <typename T>
DeviceBuffer ToDevice(const std::vector<T>& v) {
  auto b = DeviceBuffer::FromHost(v.data(), v.size() * sizeof(T));
  EXPECT_TRUE(b.ok()) << b.status().message();
  return b.ok() ? std::move(b).value() : DeviceBuffer();
}

template <typename T>
DeviceBuffer DeviceZeros(size_t n) {
  auto b = DeviceBuffer::Alloc(n * sizeof(T));
  EXPECT_TRUE(b.ok()) << b.status().message();
  if (b.ok()) {
    EXPECT_EQ(cudaMemset(b->get(), 0, n * sizeof(T)), cudaSuccess);
  }
  return b.ok() ? std::move(b).value() : DeviceBuffer();
}

// Waits for the device and returns the buffer's first n elements.
template <typename T>
std::vector<T> ToHost(const DeviceBuffer& b, size_t n) {
  std::vector<T> v(n);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const Status s = b.Download(v.data(), n * sizeof(T));
  EXPECT_TRUE(s.ok()) << s.message();
  return v;
}

}  // namespace semantic::kernels::cuda::testing
