// GGUF tokenizer metadata -> VocabData: strings, scores, token types, merges, special ids and
// add-BOS/EOS/space-prefix flags (keys as llama.cpp's llama_vocab loader reads them).
#include "engine/vocab_from_gguf.h"

#include <cstdint>
#include <string>

namespace semantic::engine {
namespace {

constexpr char kPrefix[] = "tokenizer.ggml.";

std::string Key(const char* name) { return std::string(kPrefix) + name; }

// An id key: absent -> unchanged, present -> its value (negative or huge values become -1 and
// let the tokenizer fall back to the model default).
Status ReadId(const loader::GgufFile& gguf, const char* name, int32_t* id) {
  if (!gguf.Find(Key(name))) return Status::Ok();
  auto v = gguf.GetInt(Key(name));
  if (!v.ok()) return v.status();
  *id = (*v >= 0 && *v <= INT32_MAX) ? static_cast<int32_t>(*v) : -1;
  return Status::Ok();
}

// A flag key: absent -> -1, present -> 0/1.
Status ReadFlag(const loader::GgufFile& gguf, const char* name, int* flag) {
  if (!gguf.Find(Key(name))) return Status::Ok();
  auto v = gguf.GetBool(Key(name));
  if (!v.ok()) return v.status();
  *flag = *v ? 1 : 0;
  return Status::Ok();
}

tokenizer::TokenType TypeFromInt(int64_t t) {
  if (t < 0 || t > static_cast<int64_t>(tokenizer::TokenType::kByte)) {
    return tokenizer::TokenType::kUndefined;
  }
  return static_cast<tokenizer::TokenType>(t);
}

}  // namespace

Expected<tokenizer::VocabData> VocabFromGguf(const loader::GgufFile& gguf) {
  tokenizer::VocabData v;
  ASSIGN_OR_RETURN(v.model, gguf.GetString(Key("model")));
  if (gguf.Find(Key("pre"))) {
    ASSIGN_OR_RETURN(v.pre, gguf.GetString(Key("pre")));
  }
  ASSIGN_OR_RETURN(v.tokens, gguf.GetStringArray(Key("tokens")));
  const size_t n = v.tokens.size();

  if (gguf.Find(Key("scores"))) {
    ASSIGN_OR_RETURN(std::vector<double> scores, gguf.GetFloatArray(Key("scores")));
    if (scores.size() < n) {
      return InvalidArgument(gguf.path() + ": tokenizer.ggml.scores has " +
                             std::to_string(scores.size()) + " entries for " + std::to_string(n) +
                             " tokens");
    }
    v.scores.assign(scores.begin(), scores.begin() + n);
  }
  if (gguf.Find(Key("token_type"))) {
    ASSIGN_OR_RETURN(std::vector<int64_t> types, gguf.GetIntArray(Key("token_type")));
    if (types.size() < n) {
      return InvalidArgument(gguf.path() + ": tokenizer.ggml.token_type has " +
                             std::to_string(types.size()) + " entries for " + std::to_string(n) +
                             " tokens");
    }
    v.token_types.reserve(n);
    for (size_t i = 0; i < n; ++i) v.token_types.push_back(TypeFromInt(types[i]));
  }
  if (gguf.Find(Key("merges"))) {
    ASSIGN_OR_RETURN(v.merges, gguf.GetStringArray(Key("merges")));
  } else if (v.model == "gpt2") {
    return InvalidArgument(gguf.path() + ": BPE tokenizer without tokenizer.ggml.merges");
  }

  struct IdKey {
    const char* name;
    int32_t* id;
  };
  // The deprecated prefix/suffix/middle keys come first so the fim_* keys win.
  const IdKey ids[] = {
      {"bos_token_id", &v.bos_id},         {"eos_token_id", &v.eos_id},
      {"eot_token_id", &v.eot_id},         {"eom_token_id", &v.eom_id},
      {"unknown_token_id", &v.unk_id},     {"padding_token_id", &v.pad_id},
      {"seperator_token_id", &v.sep_id},   {"mask_token_id", &v.mask_id},
      {"prefix_token_id", &v.fim_pre_id},  {"suffix_token_id", &v.fim_suf_id},
      {"middle_token_id", &v.fim_mid_id},  {"fim_pre_token_id", &v.fim_pre_id},
      {"fim_suf_token_id", &v.fim_suf_id}, {"fim_mid_token_id", &v.fim_mid_id},
      {"fim_pad_token_id", &v.fim_pad_id}, {"fim_rep_token_id", &v.fim_rep_id},
      {"fim_sep_token_id", &v.fim_sep_id},
  };
  for (const IdKey& k : ids) RETURN_IF_ERROR(ReadId(gguf, k.name, k.id));
  RETURN_IF_ERROR(ReadFlag(gguf, "add_bos_token", &v.add_bos));
  RETURN_IF_ERROR(ReadFlag(gguf, "add_eos_token", &v.add_eos));
  RETURN_IF_ERROR(ReadFlag(gguf, "add_space_prefix", &v.add_space_prefix));
  return v;
}

}  // namespace semantic::engine
