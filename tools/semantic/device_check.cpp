// model.device: cpu runs everywhere; cuda is checked at start-up and refused with the reason.
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
  return Unimplemented("found " + dev->name +
                       ", but the engine does not run on CUDA yet: only the CUDA op tests do "
                       "(scripts/cuda_check.sh; docs/cuda.md). Use device = cpu.");
#endif
}

}  // namespace semantic::cli
