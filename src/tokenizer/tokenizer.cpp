// Tokenizer factory and the parts shared by both algorithms: defaults, lookups, Decode, EOG.
#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/vocab_index.h"

namespace semantic::tokenizer {

Expected<std::unique_ptr<Tokenizer>> Tokenizer::Create(VocabData vocab) {
  if (vocab.model == "gpt2") return CreateBpeTokenizer(std::move(vocab));
  if (vocab.model == "llama") return CreateSpmTokenizer(std::move(vocab));
  return Unimplemented("unsupported tokenizer.ggml.model '" + vocab.model + "'");
}

Status Tokenizer::InitCommon(bool is_spm, bool pre_add_bos, bool pre_no_bos) {
  auto flags = ResolveVocab(&vocab_, is_spm, pre_add_bos, pre_no_bos);
  if (!flags.ok()) return flags.status();
  add_bos_ = flags->add_bos;
  add_eos_ = flags->add_eos;
  add_space_prefix_ = flags->add_space_prefix;
  auto index = VocabIndex::Build(&vocab_);
  if (!index.ok()) return index.status();
  index_ = std::move(index).value();
  eog_ids_ = index_->eog_ids();
  return Status::Ok();
}

std::string Tokenizer::Decode(const std::vector<int32_t>& ids, bool special) const {
  std::string text;
  // SentencePiece vocabs that prefix a space on encode drop it again from the first word.
  bool strip_space = add_space_prefix_;
  for (int32_t id : ids) {
    std::string piece = TokenToPiece(id, special);
    if (strip_space && !piece.empty() && !IsControl(id)) {
      if (piece[0] == ' ') piece.erase(0, 1);
      strip_space = false;
    }
    text += piece;
  }
  return text;
}

bool Tokenizer::IsEog(int32_t id) const {
  return std::binary_search(eog_ids_.begin(), eog_ids_.end(), id);
}

int32_t Tokenizer::FindToken(std::string_view text) const { return index_->Find(text); }

bool Tokenizer::IsControl(int32_t id) const {
  if (id < 0 || id >= n_vocab()) return false;
  return (index_->Attr(id) & (kAttrControl | kAttrUnknown)) != 0;
}

}  // namespace semantic::tokenizer
