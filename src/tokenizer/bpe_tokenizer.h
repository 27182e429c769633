// Byte-level BPE (tokenizer.ggml.model "gpt2"): GPT-2 byte-to-unicode mapping, pre-tokenizer by
// tokenizer.ggml.pre, lowest-rank-first merges.
#pragma once

#include <memory>

#include "base/status.h"
#include "tokenizer/tokenizer.h"

namespace semantic::tokenizer {

Expected<std::unique_ptr<Tokenizer>> CreateBpeTokenizer(VocabData vocab);

}  // namespace semantic::tokenizer
