// model.device: cpu runs everywhere; cuda is checked at start-up (a CUDA build and a usable GPU)
// and refused with the reason otherwise. The model load then checks the architecture, weight
// and KV types (models/cuda).
#include <string>

#include "tools/semantic/commands.h"
#ifdef SEMANTIC_HAVE_CUDA
#include "kernels/cuda/runtime.h"
#endif

namespace semantic::cli {

Status CheckDevice(config::Device device) {
  if (device == config::Device::kCpu) return Status::Ok();
#ifndef SEMANTIC_HAVE_CUDA
  return Unimplemented(
      "this build has no CUDA support (configured without a CUDA compiler or with "
      "-DSEMANTIC_CUDA=OFF; see docs/cuda.md)");
#else
  auto dev = kernels::cuda::Probe();
  if (!dev.ok()) return dev.status();
  return Status::Ok();
#endif
}

}  // namespace semantic::cli
