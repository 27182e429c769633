// CUDA runtime helpers (see runtime.h).
#include "kernels/cuda/runtime.h"

#include <cuda_runtime_api.h>

namespace semantic::kernels::cuda {

Status FromCuda(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return Status::Ok();
  return Internal(std::string(what) + ": " + cudaGetErrorString(err));
}

Status LaunchStatus(const char* kernel) { return FromCuda(cudaGetLastError(), kernel); }

Expected<DeviceInfo> Probe() {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls report their own
    return NotFound(std::string("no CUDA device: ") + cudaGetErrorString(err));
  }
  if (n == 0) return NotFound("no CUDA device: the driver reports 0 devices");
  cudaDeviceProp prop{};
  if (Status s = FromCuda(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties"); !s.ok())
    return s;
  DeviceInfo info;
  info.index = 0;
  info.name = prop.name;
  info.cc_major = prop.major;
  info.cc_minor = prop.minor;
  info.total_bytes = prop.totalGlobalMem;
  info.sm_count = prop.multiProcessorCount;
  return info;
}

Expected<DeviceBuffer> DeviceBuffer::Alloc(size_t bytes) {
  DeviceBuffer b;
  if (bytes == 0) return b;
  if (Status s = FromCuda(cudaMalloc(&b.ptr_, bytes), "cudaMalloc"); !s.ok()) {
    b.ptr_ = nullptr;
    cudaGetLastError();  // clear it: later launch checks must not report this failure again
    return s;
  }
  b.bytes_ = bytes;
  return b;
}

Expected<DeviceBuffer> DeviceBuffer::FromHost(const void* src, size_t bytes) {
  auto b = Alloc(bytes);
  if (!b.ok()) return b.status();
  if (Status s = b->Upload(src, bytes); !s.ok()) return s;
  return b;
}

Status DeviceBuffer::Upload(const void* src, size_t bytes) {
  if (bytes > bytes_) return InvalidArgument("DeviceBuffer::Upload: more bytes than allocated");
  if (bytes == 0) return Status::Ok();
  return FromCuda(cudaMemcpy(ptr_, src, bytes, cudaMemcpyHostToDevice), "cudaMemcpy H2D");
}

Status DeviceBuffer::Download(void* dst, size_t bytes) const {
  if (bytes > bytes_) return InvalidArgument("DeviceBuffer::Download: more bytes than allocated");
  if (bytes == 0) return Status::Ok();
  return FromCuda(cudaMemcpy(dst, ptr_, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
}

void DeviceBuffer::Reset() {
  if (ptr_) cudaFree(ptr_);
  ptr_ = nullptr;
  bytes_ = 0;
}

}  // namespace semantic::kernels::cuda
