// The Llama-family decoder (llama, qwen2, qwen3: models/llama.h, models/qwen.h) on a CUDA GPU:
// the weights are uploaded once, the forward pass runs on the device (kernels/cuda), and the KV
// blocks live in a device mirror of the host pool (DeviceKvMirror) that the host pool stays the
// master copy of, so the RAM and disk tiers, prefix sharing and restores work unchanged.
#pragma once

#include <memory>

#include "base/status.h"
#include "models/model.h"

namespace semantic::models::cuda {

// Wraps a loaded CPU model (its GGUF must outlive both). Unimplemented, with the reason, for
// architectures or weight types the CUDA path does not cover yet (docs/cuda.md), and
// Unavailable when no CUDA device is usable.
Expected<std::unique_ptr<Model>> MoveToCuda(std::unique_ptr<Model> cpu_model);

}  // namespace semantic::models::cuda
