// CUDA runtime helpers for the kernels in this folder: device probe, error -> Status, and a
// device buffer. cudart is linked statically and loads the driver (libcuda) only when first
// called, so a binary built with CUDA starts on machines with no GPU and no driver; Probe()
// then answers "no CUDA device: <reason>".
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "base/status.h"

namespace semantic::kernels::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int cc_major = 0, cc_minor = 0;  // compute capability
  size_t total_bytes = 0;
  int sm_count = 0;
};

// Device 0, or "no CUDA device: <cudaGetErrorString>" (driver missing, too old, no GPU).
Expected<DeviceInfo> Probe();

// "<what>: <cudaGetErrorString(err)>" as kInternal, or Ok for cudaSuccess.
Status FromCuda(cudaError_t err, const char* what);

// The launch status of the last kernel (cudaGetLastError), as FromCuda.
Status LaunchStatus(const char* kernel);

// Device memory of `bytes` bytes; moves, frees on destruction.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { Reset(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)),
                                            bytes_(std::exchange(o.bytes_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      Reset();
      ptr_ = std::exchange(o.ptr_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  static Expected<DeviceBuffer> Alloc(size_t bytes);
  // Alloc + synchronous copy of host data.
  static Expected<DeviceBuffer> FromHost(const void* src, size_t bytes);

  Status Upload(const void* src, size_t bytes);      // host -> device, synchronous
  Status Download(void* dst, size_t bytes) const;    // device -> host, synchronous

  void* get() const { return ptr_; }
  template <typename T>
  T* as() const { return static_cast<T*>(ptr_); }
  size_t bytes() const { return bytes_; }
  void Reset();

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace semantic::kernels::cuda
