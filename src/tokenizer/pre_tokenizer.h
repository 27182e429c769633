// Pre-tokenizers for byte-level BPE: hand-written splitters equivalent to the regex lists that
// llama.cpp applies for each tokenizer.ggml.pre value (no std::regex).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace semantic::tokenizer {

enum class PreTokenizerKind {
  kDefault,        // "default" or missing: punctuation runs, gpt-2, \p{N}+, [0-9]{3}
  kGpt2,           // gpt-2 pattern
  kSmollm,         // \p{N} then the gpt-2 pattern (smollm, starcoder, refact, command-r, ...)
  kLlama3,         // llama3 pattern with \p{N}{1,3}
  kQwen2,          // llama3 pattern with single \p{N}
  kDeepseekCoder,  // [\r\n], \s?\p{L}+, \s?\p{P}+, CJK runs, \p{N}
};

struct PreTokenizerConfig {
  PreTokenizerKind kind = PreTokenizerKind::kDefault;
  bool ignore_merges = false;  // a pre-token that is already a vocab entry is emitted whole
  bool add_bos = false;        // default for add_bos when the GGUF does not say
  bool no_bos_id = false;      // the pre-type clears the BOS id (chatglm)
};

// Maps a tokenizer.ggml.pre value to its splitter and loader defaults (llama.cpp's table);
// Unimplemented for pre-types this server does not know.
Expected<PreTokenizerConfig> PreTokenizerForName(std::string_view pre);

// Splits `cps` (code points of one text fragment) into pre-tokens. Appends the length in code
// points of each piece to `piece_lengths`; the pieces cover the input in order.
void PreTokenize(PreTokenizerKind kind, const std::vector<uint32_t>& cps,
                 std::vector<uint32_t>* piece_lengths);

}  // namespace semantic::tokenizer
