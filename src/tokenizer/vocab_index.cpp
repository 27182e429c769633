// Vocab indexing with llama.cpp's load-time rules: default special ids, EOT/EOM/FIM/EOG detection
// by token text (which also forces those tokens to control type), and the special-token partition.
#include "tokenizer/vocab_index.h"

#include <algorithm>
#include <string>

namespace semantic::tokenizer {
namespace {

uint32_t AttrFromType(TokenType t) {
  switch (t) {
    case TokenType::kNormal:
      return kAttrNormal;
    case TokenType::kUnknown:
      return kAttrUnknown;
    case TokenType::kControl:
      return kAttrControl;
    case TokenType::kUserDefined:
      return kAttrUserDefined;
    case TokenType::kUnused:
      return kAttrUnused;
    case TokenType::kByte:
      return kAttrByte;
    default:
      return kAttrUndefined;
  }
}

// Texts by which llama.cpp recognises tokens the GGUF did not name.
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>",        "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<|end_of_text|>",   "<EOT>",      "_<EOT>",  "[EOT]",         "<｜end▁of▁sentence｜>",
    "<end_of_utterance>"};
constexpr std::string_view kEomTexts[] = {"<|eom_id|>"};
constexpr std::string_view kFimPreTexts[] = {"<|fim_prefix|>",  "<fim-prefix>", "<fim_prefix>",
                                             "<｜fim▁begin｜>", "<PRE>",        "▁<PRE>",
                                             "<|code_prefix|>", "<|prefix|>"};
constexpr std::string_view kFimSufTexts[] = {"<|fim_suffix|>",  "<fim-suffix>", "<fim_suffix>",
                                             "<｜fim▁hole｜>",  "<SUF>",        "▁<SUF>",
                                             "<|code_suffix|>", "<|suffix|>"};
constexpr std::string_view kFimMidTexts[] = {"<|fim_middle|>",  "<fim-middle>", "<fim_middle>",
                                             "<｜fim▁end｜>",   "<MID>",        "▁<MID>",
                                             "<|code_middle|>", "<|middle|>"};
constexpr std::string_view kFimPadTexts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>",
                                             "[PAD]"};
constexpr std::string_view kFimRepTexts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                             "<REPO>", "<reponame>"};
constexpr std::string_view kFimSepTexts[] = {"<|file_sep|>"};
constexpr std::string_view kEogTexts[] = {"<|eot_id|>",
                                          "<|im_end|>",
                                          "<|end|>",
                                          "<|return|>",
                                          "<|call|>",
                                          "<|flush|>",
                                          "<|calls|>",
                                          "<end_of_turn>",
                                          "<|endoftext|>",
                                          "</s>",
                                          "<|eom_id|>",
                                          "<EOT>",
                                          "_<EOT>",
                                          "[EOT]",
                                          "[EOS]",
                                          "<|end_of_text|>",
                                          "<end_of_utterance>",
                                          "<eos>",
                                          "<turn|>",
                                          "<|tool_response>",
                                          "<｜end▁of▁sentence｜>",
                                          "[e~["};
// gpt-oss: always rendered, so user-defined whatever the GGUF says.
constexpr std::string_view kAlwaysUserDefined[] = {"<|channel|>", "<|message|>", "<|start|>",
                                                   "<|constrain|>"};

int32_t InRangeOr(int32_t id, int32_t fallback, size_t n) {
  if (id >= 0 && static_cast<size_t>(id) < n) return id;
  return fallback >= 0 && static_cast<size_t>(fallback) < n ? fallback : -1;
}

}  // namespace

int ParseByteToken(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  int value = 0;
  for (char c : text.substr(3, 2)) {
    const int d = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                         : -1;
    if (d < 0) return -1;
    value = value * 16 + d;
  }
  return value;
}

Expected<TokenizerFlags> ResolveVocab(VocabData* v, bool is_spm, bool pre_add_bos,
                                      bool pre_no_bos) {
  const size_t n = v->tokens.size();
  if (n == 0) return InvalidArgument("tokenizer vocab is empty");
  if (!v->scores.empty() && v->scores.size() < n) {
    return InvalidArgument("tokenizer.ggml.scores has fewer entries than tokens");
  }
  if (!v->token_types.empty() && v->token_types.size() < n) {
    return InvalidArgument("tokenizer.ggml.token_type has fewer entries than tokens");
  }
  for (size_t i = 0; i < n; ++i) {
    if (v->tokens[i].empty()) v->tokens[i] = "[EMPTY_" + std::to_string(i) + "]";
  }
  // Loader defaults per model type, overridden by ids the GGUF gives (when in range).
  const int32_t def_bos = is_spm ? 1 : (pre_no_bos ? -1 : 11);
  const int32_t def_eos = is_spm ? 2 : 11;
  const int32_t def_unk = is_spm ? 0 : -1;
  v->bos_id = InRangeOr(v->bos_id, def_bos, n);
  v->eos_id = InRangeOr(v->eos_id, def_eos, n);
  v->unk_id = InRangeOr(v->unk_id, def_unk, n);
  for (int32_t* id :
       {&v->eot_id, &v->eom_id, &v->pad_id, &v->sep_id, &v->mask_id, &v->fim_pre_id, &v->fim_suf_id,
        &v->fim_mid_id, &v->fim_pad_id, &v->fim_rep_id, &v->fim_sep_id}) {
    *id = InRangeOr(*id, -1, n);
  }

  TokenizerFlags f;
  f.add_bos = v->add_bos >= 0 ? v->add_bos != 0 : (is_spm || pre_add_bos);
  f.add_eos = v->add_eos >= 0 ? v->add_eos != 0 : false;
  f.add_space_prefix = v->add_space_prefix >= 0 ? v->add_space_prefix != 0 : is_spm;
  if (f.add_bos && v->bos_id < 0) {
    return InvalidArgument("tokenizer.ggml.add_bos_token is true, but bos_token_id is not set");
  }
  if (f.add_eos && v->eos_id < 0) {
    return InvalidArgument("tokenizer.ggml.add_eos_token is true, but eos_token_id is not set");
  }
  return f;
}

Expected<std::shared_ptr<VocabIndex>> VocabIndex::Build(VocabData* v) {
  std::shared_ptr<VocabIndex> index(new VocabIndex());
  const size_t n = v->tokens.size();
  index->ids_.reserve(n * 2);
  index->attrs_.resize(n, kAttrNormal);
  index->texts_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& text = v->tokens[i];
    if (!index->ids_.emplace(text, static_cast<int32_t>(i)).second) {
      return InvalidArgument("duplicate token in vocabulary: '" + text + "'");
    }
    index->texts_[i] = text;
    if (!v->token_types.empty()) index->attrs_[i] = AttrFromType(v->token_types[i]);
  }
  auto& attrs = index->attrs_;

  // Missing EOT/EOM/FIM ids are found by text; a match that is not control-type becomes one.
  // (llama.cpp takes the first match in hash order; this takes the lowest id.)
  auto detect = [&](int32_t* id, auto const& texts) {
    if (*id >= 0) return;
    for (std::string_view t : texts) {
      const int32_t found = index->Find(t);
      if (found >= 0 && (*id < 0 || found < *id)) *id = found;
    }
    if (*id >= 0) attrs[*id] |= kAttrControl;
  };
  detect(&v->eot_id, kEotTexts);
  detect(&v->eom_id, kEomTexts);
  detect(&v->fim_pre_id, kFimPreTexts);
  detect(&v->fim_suf_id, kFimSufTexts);
  detect(&v->fim_mid_id, kFimMidTexts);
  detect(&v->fim_pad_id, kFimPadTexts);
  detect(&v->fim_rep_id, kFimRepTexts);
  detect(&v->fim_sep_id, kFimSepTexts);

  for (size_t i = 0; i < n; ++i) {
    if ((attrs[i] & kAttrControl) && v->tokens[i].find("unused") != std::string::npos) {
      attrs[i] |= kAttrUnused;
    }
  }

  std::vector<int32_t> eog;
  for (int32_t id : {v->fim_pad_id, v->fim_rep_id, v->fim_sep_id}) {
    if (id >= 0) eog.push_back(id);
  }
  for (std::string_view t : kEogTexts) {
    const int32_t id = index->Find(t);
    if (id < 0) continue;
    eog.push_back(id);
    attrs[id] |= kAttrControl;
  }
  for (std::string_view t : kAlwaysUserDefined) {
    const int32_t id = index->Find(t);
    if (id >= 0) attrs[id] = kAttrUserDefined;
  }
  for (int32_t id : {v->eos_id, v->eot_id, v->eom_id}) {
    if (id >= 0) eog.push_back(id);
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  auto eog_has = [&](std::string_view t) {
    const int32_t id = index->Find(t);
    return id >= 0 && std::binary_search(eog.begin(), eog.end(), id);
  };
  auto eog_drop = [&](std::string_view t, uint32_t new_attr) {
    const int32_t id = index->Find(t);
    eog.erase(std::remove(eog.begin(), eog.end(), id), eog.end());
    attrs[id] = new_attr;
  };
  // Harmony-style vocabs: "<|end|>" ends a message, not the generation.
  const bool has_call = eog_has("<|call|>") || eog_has("<|calls|>");
  if (eog_has("<|end|>") && has_call && (eog_has("<|return|>") || eog_has("<|flush|>"))) {
    eog_drop("<|end|>", kAttrUserDefined);
  }
  // Gemma 4: "</s>" is plain text there.
  if (eog_has("<|tool_response>") && eog_has("</s>")) eog_drop("</s>", kAttrNormal);
  index->eog_ids_ = std::move(eog);

  index->BuildSpecialMatcher(*v);
  return index;
}

void VocabIndex::BuildSpecialMatcher(const VocabData& v) {
  std::vector<int32_t> special;
  for (size_t i = 0; i < attrs_.size(); ++i) {
    if (attrs_[i] & (kAttrControl | kAttrUserDefined | kAttrUnknown)) {
      special.push_back(static_cast<int32_t>(i));
    }
  }
  // Longest first; llama.cpp leaves ties in sort order, we break them by id.
  std::stable_sort(special.begin(), special.end(),
                   [&](int32_t a, int32_t b) { return texts_[a].size() > texts_[b].size(); });
  node_token_.assign(1, -1);
  node_rank_.assign(1, 0);
  for (size_t rank = 0; rank < special.size(); ++rank) {
    const int32_t id = special[rank];
    int32_t node = 0;
    for (unsigned char c : texts_[id]) {
      const uint64_t key = (static_cast<uint64_t>(node) << 8) | c;
      auto it = edges_.find(key);
      if (it == edges_.end()) {
        it = edges_.emplace(key, static_cast<int32_t>(node_token_.size())).first;
        node_token_.push_back(-1);
        node_rank_.push_back(0);
      }
      node = it->second;
    }
    node_token_[node] = id;
    node_rank_[node] = static_cast<uint32_t>(rank);
    first_byte_[static_cast<unsigned char>(texts_[id][0])] = true;
  }
}

void VocabIndex::Partition(std::string_view text, bool parse_special,
                           std::vector<TextFragment>* out) const {
  out->clear();
  if (text.empty()) return;
  const uint32_t n = static_cast<uint32_t>(text.size());

  // Every occurrence of every allowed special token: (rank, start, token).
  struct Occurrence {
    uint32_t rank, start;
    int32_t token;
  };
  std::vector<Occurrence> occ;
  for (uint32_t start = 0; start < n; ++start) {
    if (!first_byte_[static_cast<unsigned char>(text[start])]) continue;
    int32_t node = 0;
    for (uint32_t k = start; k < n; ++k) {
      auto it =
          edges_.find((static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[k]));
      if (it == edges_.end()) break;
      node = it->second;
      const int32_t tok = node_token_[node];
      if (tok < 0) continue;
      if (!parse_special && (attrs_[tok] & (kAttrControl | kAttrUnknown))) continue;
      occ.push_back({node_rank_[node], start, tok});
    }
  }
  if (occ.empty()) {
    out->push_back({-1, 0, n});
    return;
  }
  // llama.cpp takes each token in rank order and cuts all its leftmost non-overlapping
  // occurrences out of the text that is still raw; accepting occurrences in (rank, start) order
  // when all their bytes are still raw gives the same cuts.
  std::sort(occ.begin(), occ.end(), [](const Occurrence& a, const Occurrence& b) {
    return a.rank != b.rank ? a.rank < b.rank : a.start < b.start;
  });
  enum : uint8_t { kRaw = 0, kTaken = 1, kDropped = 2 };
  std::vector<uint8_t> state(n, kRaw);
  std::vector<std::pair<uint32_t, int32_t>> accepted;  // (start, token)
  auto is_space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  for (const Occurrence& o : occ) {
    const uint32_t len = static_cast<uint32_t>(texts_[o.token].size());
    bool free = true;
    for (uint32_t k = o.start; k < o.start + len && free; ++k) free = state[k] == kRaw;
    if (!free) continue;
    std::fill(state.begin() + o.start, state.begin() + o.start + len, kTaken);
    accepted.emplace_back(o.start, o.token);
    if (attrs_[o.token] & kAttrLstrip) {
      for (uint32_t k = o.start; k > 0 && state[k - 1] == kRaw && is_space(text[k - 1]); --k) {
        state[k - 1] = kDropped;
      }
    }
    if (attrs_[o.token] & kAttrRstrip) {
      for (uint32_t k = o.start + len; k < n && state[k] == kRaw && is_space(text[k]); ++k) {
        state[k] = kDropped;
      }
    }
  }
  std::sort(accepted.begin(), accepted.end());
  uint32_t pos = 0;
  size_t next = 0;
  while (pos < n) {
    if (state[pos] == kTaken) {
      const int32_t tok = accepted[next++].second;
      out->push_back({tok, pos, static_cast<uint32_t>(texts_[tok].size())});
      pos += static_cast<uint32_t>(texts_[tok].size());
    } else if (state[pos] == kDropped) {
      ++pos;
    } else {
      uint32_t end = pos;
      while (end < n && state[end] == kRaw) ++end;
      out->push_back({-1, pos, end - pos});
      pos = end;
    }
  }
}

}  // namespace semantic::tokenizer
