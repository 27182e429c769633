// Lookups shared by both tokenizer algorithms: token text -> id, per-token attributes after
// llama.cpp's load-time fix-ups, end-of-generation ids, and the special-token partition.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "tokenizer/vocab.h"

namespace semantic::tokenizer {

// Token attribute bits (llama_token_attr values).
enum TokenAttr : uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
  kAttrLstrip = 1u << 7,  // eat whitespace left of the token when partitioning
  kAttrRstrip = 1u << 8,  // ... and right of it
};

// Flags resolved from the vocab and the defaults of its model / pre-tokenizer type.
struct TokenizerFlags {
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;
};

// Applies the loader defaults (special ids per model type, add_bos/add_eos/add_space_prefix) to
// `vocab` in place: ids left at -1 get the model default, ids out of range fall back to it.
// `is_spm`: tokenizer.ggml.model "llama"; `pre_add_bos`/`pre_no_bos`: defaults of the BPE pre-type.
Expected<TokenizerFlags> ResolveVocab(VocabData* vocab, bool is_spm, bool pre_add_bos,
                                      bool pre_no_bos);

// Byte value of a "<0xXX>" byte token, -1 if `text` is not one.
int ParseByteToken(std::string_view text);

// A piece of input text: either a special token (token >= 0) or raw text to run the algorithm on.
struct TextFragment {
  int32_t token = -1;
  uint32_t offset = 0;
  uint32_t length = 0;
};

class VocabIndex {
 public:
  // Indexes `vocab` (which must outlive the index and not change) and auto-detects EOT/EOM/FIM
  // ids by their text, writing them back to `vocab`.
  static Expected<std::shared_ptr<VocabIndex>> Build(VocabData* vocab);

  int32_t n_vocab() const { return static_cast<int32_t>(attrs_.size()); }
  // Id of the token with exactly this text, -1 if none.
  int32_t Find(std::string_view text) const {
    auto it = ids_.find(text);
    return it == ids_.end() ? -1 : it->second;
  }
  uint32_t Attr(int32_t id) const { return attrs_[id]; }
  const std::vector<int32_t>& eog_ids() const { return eog_ids_; }

  // Cuts `text` at special-token strings, longest tokens first (llama.cpp's
  // tokenizer_st_partition). Control and unknown tokens count only with `parse_special`;
  // user-defined tokens always do.
  void Partition(std::string_view text, bool parse_special, std::vector<TextFragment>* out) const;

 private:
  VocabIndex() = default;
  void BuildSpecialMatcher(const VocabData& vocab);

  std::unordered_map<std::string_view, int32_t> ids_;  // views into VocabData::tokens
  std::vector<uint32_t> attrs_;                        // TokenAttr bits per id
  std::vector<std::string_view> texts_;
  std::vector<int32_t> eog_ids_;  // sorted

  // Trie over the texts of special tokens: node 0 is the root.
  std::vector<int32_t> node_token_;              // token ending at the node, or -1
  std::vector<uint32_t> node_rank_;              // its rank among special tokens (0 = longest)
  std::unordered_map<uint64_t, int32_t> edges_;  // (node << 8 | byte) -> child node
  std::array<bool, 256> first_byte_{};           // bytes that can start a special token
};

}  // namespace semantic::tokenizer
