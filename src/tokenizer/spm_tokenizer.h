// SentencePiece-style BPE (tokenizer.ggml.model "llama": Llama 2, Gemma): highest-score merges over
// the vocab pieces, spaces as U+2581, byte fallback through <0xXX> tokens.
#pragma once

#include <memory>

#include "base/status.h"
#include "tokenizer/tokenizer.h"

namespace semantic::tokenizer {

Expected<std::unique_ptr<Tokenizer>> CreateSpmTokenizer(VocabData vocab);

}  // namespace semantic::tokenizer
