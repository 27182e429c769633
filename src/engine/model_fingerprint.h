// A model's identity for the KV cache: two files get the same fingerprint only if they have the
// same architecture and hyper-parameters, tokenizer, tensor names/shapes/dtypes and the same
// bytes at sampled places of every tensor (start, middle, end). A fine-tune of the same shape,
// a re-quantization or a different tokenizer all change it, so their caches never mix.
#pragma once

#include <cstdint>

#include "loader/gguf/gguf_file.h"

namespace semantic::engine {

uint64_t ModelFingerprint(const loader::GgufFile& gguf);

}  // namespace semantic::engine
