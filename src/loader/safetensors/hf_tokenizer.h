// tokenizer.json (+ tokenizer_config.json, config.json) of an HF checkpoint as the
// tokenizer.ggml.* keys a GGUF file carries, so the GGUF tokenizer path reads it unchanged.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "loader/gguf/gguf_file.h"

namespace semantic::loader {

// model.type "BPE" only. Byte-level BPE (a ByteLevel pre-tokenizer or decoder) becomes
// tokenizer.ggml.model "gpt2"; the pre-tokenizer name is inferred from its regex: "\p{N}{1,3}" ->
// llama-bpe, individual digits -> smollm, otherwise gpt-2. Byte-fallback BPE over SentencePiece
// pieces (Gemma, Llama 2: normalizer Replace " " -> U+2581, optionally Prepend U+2581, no
// pre-tokenizer; Mistral: Metaspace with split false) becomes model "llama" with pre "hf-merges"
// or "hf-metaspace-{first,always}" (merge ranks, not scores; <0xXX> byte tokens typed as bytes;
// add_space_prefix from Prepend or Metaspace). Other tokenizer.json kinds are refused.
// Added tokens are control tokens when "special", else user-defined. The vocab is padded with
// unused "[PAD<id>]" tokens up to n_vocab (config.json vocab_size; 0: no padding).
Status AddHfTokenizerKeys(const std::string& dir, const nlohmann::json& config, int64_t n_vocab,
                          std::vector<std::pair<std::string, GgufValue>>* kv);

}  // namespace semantic::loader
