// Vocabulary description, independent of the file format it came from (GGUF metadata is turned
// into this by engine/vocab_from_gguf.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace semantic::tokenizer {

enum class TokenType : int32_t {
  kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5,
  kByte = 6,
};

struct VocabData {
  std::string model;  // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SPM)
  std::string pre;    // tokenizer.ggml.pre: "smollm", "gpt-2", "llama-bpe", "qwen2", ...
  std::vector<std::string> tokens;
  std::vector<float> scores;          // SPM piece scores (may be empty for BPE)
  std::vector<TokenType> token_types; // may be empty: all normal
  std::vector<std::string> merges;    // "A B", rank = index (BPE)
  int32_t bos_id = -1, eos_id = -1, eot_id = -1, eom_id = -1, unk_id = -1, pad_id = -1;
  int32_t sep_id = -1, mask_id = -1;
  // Fill-in-the-middle ids (tokenizer.ggml.fim_*_token_id); pad/rep/sep also end generation.
  int32_t fim_pre_id = -1, fim_suf_id = -1, fim_mid_id = -1;
  int32_t fim_pad_id = -1, fim_rep_id = -1, fim_sep_id = -1;
  int add_bos = -1;           // -1: model/pre default, 0/1: explicit
  int add_eos = -1;
  int add_space_prefix = -1;
};

}  // namespace semantic::tokenizer
