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

// Byte-level BPE only (model.type "BPE" with a ByteLevel pre-tokenizer or decoder). The vocab is
// padded with unused "[PAD<id>]" tokens up to n_vocab (config.json vocab_size; 0: no padding).
// The pre-tokenizer name is inferred from its regex: "\p{N}{1,3}" -> llama-bpe, individual digits
// -> smollm, otherwise gpt-2.
Status AddHfTokenizerKeys(const std::string& dir, const nlohmann::json& config, int64_t n_vocab,
                          std::vector<std::pair<std::string, GgufValue>>* kv);

}  // namespace semantic::loader
