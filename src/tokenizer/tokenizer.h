// Text <-> token ids for byte-level BPE (gpt2-style, with the pre-tokenizer named by
// tokenizer.ggml.pre) and SentencePiece-style BPE with byte fallback (Gemma, Llama 2).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/vocab.h"

namespace semantic::tokenizer {

class VocabIndex;  // tokenizer/vocab_index.h

// Encode/TokenToPiece/Decode are const and safe to call from several threads at once.
class Tokenizer {
 public:
  // tokenizer.ggml.model "gpt2" -> byte-level BPE, "llama" -> SentencePiece-style BPE. The ids in
  // vocab() are resolved: model defaults applied, missing EOT/EOM/FIM ids found by their text.
  static Expected<std::unique_ptr<Tokenizer>> Create(VocabData vocab);
  virtual ~Tokenizer() = default;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // add_special: prepend BOS (and append EOS) where the vocab says so.
  // parse_special: text of control/special tokens (e.g. "<|im_start|>") becomes that one id.
  virtual std::vector<int32_t> Encode(std::string_view text, bool add_special,
                                      bool parse_special) const = 0;
  // Raw bytes of one token (byte tokens decoded, "Ġ"/"▁" mapped back to spaces). Control tokens
  // give their text only when `special` is true.
  virtual std::string TokenToPiece(int32_t id, bool special = false) const = 0;
  // Concatenated pieces. With add_space_prefix (SPM vocabs such as Llama 2) the space the encoder
  // put before the first word is dropped again, so Decode(Encode(s)) == s. No other clean-up.
  std::string Decode(const std::vector<int32_t>& ids, bool special = false) const;

  const VocabData& vocab() const { return vocab_; }
  int32_t n_vocab() const { return static_cast<int32_t>(vocab_.tokens.size()); }
  int32_t bos_id() const { return vocab_.bos_id; }
  int32_t eos_id() const { return vocab_.eos_id; }
  bool add_bos() const { return add_bos_; }
  // End-of-generation: eos/eot/eom ids plus known end tokens (<|im_end|>, <end_of_turn>, ...).
  bool IsEog(int32_t id) const;
  const std::vector<int32_t>& eog_ids() const { return eog_ids_; }
  // Id of a token by exact text, -1 if none.
  int32_t FindToken(std::string_view text) const;
  // Control/unknown tokens: rendered only with special=true, matched only with parse_special.
  bool IsControl(int32_t id) const;
  bool add_space_prefix() const { return add_space_prefix_; }

 protected:
  explicit Tokenizer(VocabData vocab) : vocab_(std::move(vocab)) {}
  // Resolves defaults and builds index_, add_*_ and eog_ids_ (called by the concrete factories).
  Status InitCommon(bool is_spm, bool pre_add_bos, bool pre_no_bos);

  VocabData vocab_;
  bool add_bos_ = false;
  bool add_eos_ = false;
  bool add_space_prefix_ = false;
  std::vector<int32_t> eog_ids_;
  std::shared_ptr<const VocabIndex> index_;  // text -> id, attributes, special-token partition
};

// Turns a stream of token ids into text, never emitting a partial or ill-formed UTF-8 sequence:
// a character split across tokens is held back until complete; bytes that can never form one
// become U+FFFD. Pieces are passed through as they are (no space-prefix stripping).
class StreamingDetokenizer {
 public:
  explicit StreamingDetokenizer(const Tokenizer& tok, bool special = false)
      : tok_(tok), special_(special) {}
  // Text that became complete with this token (possibly empty).
  std::string Push(int32_t id);
  // Whatever is still held back (invalid trailing bytes are replaced by U+FFFD).
  std::string Flush();

 private:
  const Tokenizer& tok_;
  bool special_;
  std::string pending_;
};

}  // namespace semantic::tokenizer
