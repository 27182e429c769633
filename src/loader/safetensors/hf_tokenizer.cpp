// tokenizer.json -> tokenizer.ggml.* keys (hf_tokenizer.h).
#include "loader/safetensors/hf_tokenizer.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "loader/safetensors/json_get.h"

namespace semantic::loader {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// GGUF token types (llama_token_type).
constexpr int64_t kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6;

constexpr const char* kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's space

bool IsByteToken(const std::string& t) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); };
  return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && hex(t[3]) && hex(t[4]) && t[5] == '>';
}

// A tokenizer.json "pattern" {"String": s}: s, or "" for a regex or anything else.
std::string PatternString(const json& step) {
  if (!step.is_object() || !step.contains("pattern")) return "";
  return JsonString(step["pattern"], "String", "");
}

// SentencePiece-style BPE as Gemma's, Llama 2's and Mistral's tokenizer.json describe it:
// byte_fallback, and either a normalizer replacing " " by U+2581 (optionally prepending one) with
// no pre-tokenizer or one that only splits at " " (which the normalizer has already removed), or
// a Metaspace pre-tokenizer that does not split. Sets *space_prefix for Prepend, *pre to the
// tokenizer.ggml.pre name; returns an empty string when supported, else what is not.
std::string CheckSentencePieceBpe(const json& tj, const json& model, bool* space_prefix,
                                  std::string* pre_name) {
  if (JsonBool(model, "ignore_merges", false)) return "model.ignore_merges";
  for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(k) && !model[k].is_null() && model[k] != "")
      return std::string("model.") + k;
  }
  if (model.contains("dropout") && model["dropout"].is_number() &&
      model["dropout"].get<double>() > 0) {
    return "model.dropout";
  }
  const json none;
  const json& norm = tj.contains("normalizer") ? tj["normalizer"] : none;
  std::vector<json> steps;
  if (JsonString(norm, "type", "") == "Sequence" && norm.contains("normalizers") &&
      norm["normalizers"].is_array()) {
    for (const json& st : norm["normalizers"]) steps.push_back(st);
  } else if (!norm.is_null()) {
    steps.push_back(norm);
  }
  bool replace = false;
  *space_prefix = false;
  for (const json& st : steps) {
    const std::string type = JsonString(st, "type", "");
    if (type == "Replace" && PatternString(st) == " " &&
        JsonString(st, "content", "") == kSpaceMark && !replace) {
      replace = true;
    } else if (type == "Prepend" && JsonString(st, "prepend", "") == kSpaceMark && !replace &&
               !*space_prefix) {
      *space_prefix = true;
    } else {
      return "normalizer " + st.dump();
    }
  }
  const json& pre = tj.contains("pre_tokenizer") ? tj["pre_tokenizer"] : none;
  *pre_name = "hf-merges";
  if (JsonString(pre, "type", "") == "Metaspace") {
    // Replaces " " itself; prepends U+2581 to a segment not starting with one: every segment
    // ("always"), the one at the start of the text ("first"), none ("never"). split: true would
    // run BPE per U+2581-started word, which is not implemented.
    const std::string scheme = JsonString(pre, "prepend_scheme", "");
    if (JsonString(pre, "replacement", "") != kSpaceMark || JsonBool(pre, "split", true) ||
        (scheme != "first" && scheme != "always" && scheme != "never") || *space_prefix) {
      return "pre_tokenizer " + pre.dump();
    }
    if (scheme != "never") *pre_name = "hf-metaspace-" + scheme;
    return "";
  }
  if (!replace) return "a normalizer without Replace(\" \" -> \"\u2581\")";
  if (!pre.is_null() && !(JsonString(pre, "type", "") == "Split" && PatternString(pre) == " ")) {
    return "pre_tokenizer " + pre.dump();
  }
  return "";
}

json ReadJsonOrNull(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return json();
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
}

GgufValue StrArray(std::vector<std::string> items) {
  auto a = std::make_shared<GgufArray>();
  a->elem_type = GgufType::kString;
  for (std::string& s : items) a->items.push_back({GgufType::kString, std::move(s)});
  return {GgufType::kArray, a};
}

GgufValue IntArray(const std::vector<int64_t>& items) {
  auto a = std::make_shared<GgufArray>();
  a->elem_type = GgufType::kI32;
  for (int64_t v : items) a->items.push_back({GgufType::kI32, v});
  return {GgufType::kArray, a};
}

// tokenizer_config.json's "bos_token": a string or {"content": ...}.
std::string TokenText(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) {
    return j["content"].get<std::string>();
  }
  return "";
}

// tokenizer_config.json without "add_bos_token": whether the post-processor's single-sequence
// template (TemplateProcessing, possibly inside a Sequence) starts with the BOS token.
bool PostProcessorAddsBos(const json& tj, int64_t bos,
                          const std::map<std::string, int64_t>& id_of) {
  if (bos < 0 || !tj.contains("post_processor")) return false;
  const json& top = tj["post_processor"];
  std::vector<json> procs;
  if (JsonString(top, "type", "") == "Sequence" && top.contains("processors") &&
      top["processors"].is_array()) {
    for (const json& p : top["processors"]) procs.push_back(p);
  } else {
    procs.push_back(top);
  }
  for (const json& p : procs) {
    if (JsonString(p, "type", "") != "TemplateProcessing" || !p.contains("single") ||
        !p["single"].is_array() || p["single"].empty()) {
      continue;
    }
    const json& first = p["single"][0];
    if (!first.is_object() || !first.contains("SpecialToken")) return false;
    auto it = id_of.find(JsonString(first["SpecialToken"], "id", ""));
    return it != id_of.end() && it->second == bos;
  }
  return false;
}

}  // namespace

Status AddHfTokenizerKeys(const std::string& dir, const json& config, int64_t n_vocab,
                          std::vector<std::pair<std::string, GgufValue>>* kv) {
  const fs::path path = fs::path(dir) / "tokenizer.json";
  const json tj = ReadJsonOrNull(path);
  if (!tj.is_object()) return NotFound(path.string() + ": missing or not valid JSON");
  auto bad = [&](const std::string& what) { return InvalidArgument(path.string() + ": " + what); };
  const json& model = tj.contains("model") ? tj["model"] : json();
  if (!model.is_object() || JsonString(model, "type", "") != "BPE" || !model.contains("vocab") ||
      !model["vocab"].is_object() || !model.contains("merges") || !model["merges"].is_array()) {
    return Unimplemented(path.string() +
                         ": only BPE tokenizers (model.type \"BPE\") are supported");
  }
  const std::string pre_dump = tj.contains("pre_tokenizer") ? tj["pre_tokenizer"].dump() : "";
  const std::string dec_dump = tj.contains("decoder") ? tj["decoder"].dump() : "";
  const bool byte_level = pre_dump.find("\"ByteLevel\"") != std::string::npos ||
                          dec_dump.find("\"ByteLevel\"") != std::string::npos;
  bool space_prefix = false;
  std::string spm_pre;
  const bool spm = !byte_level && JsonBool(model, "byte_fallback", false);
  if (spm) {
    const std::string unsupported = CheckSentencePieceBpe(tj, model, &space_prefix, &spm_pre);
    if (!unsupported.empty()) {
      return Unimplemented(path.string() + ": byte-fallback BPE tokenizer with " + unsupported +
                           " is not supported (only Gemma / Llama 2 / Mistral style: Replace \" \" "
                           "by \"\u2581\", optionally Prepend \"\u2581\", and no pre-tokenizer; "
                           "or a Metaspace pre-tokenizer with split false)");
    }
  } else if (!byte_level) {
    return Unimplemented(path.string() +
                         ": only byte-level BPE and byte-fallback (SentencePiece-style) BPE "
                         "tokenizers are supported");
  }
  std::map<int64_t, std::pair<std::string, int64_t>> by_id;  // id -> (text, type)
  for (auto& [text, id] : model["vocab"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= (1 << 24)) {
      return bad("vocab entry '" + text + "' has a bad id");
    }
    by_id[id.get<int64_t>()] = {text, spm && IsByteToken(text) ? kByte : kNormal};
  }
  if (tj.contains("added_tokens") && tj["added_tokens"].is_array()) {
    for (const json& t : tj["added_tokens"]) {
      if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() ||
          !t.contains("content") || !t["content"].is_string() || t["id"].get<int64_t>() < 0 ||
          t["id"].get<int64_t>() >= (1 << 24)) {
        return bad("malformed added_tokens entry");
      }
      by_id[t["id"].get<int64_t>()] = {t["content"].get<std::string>(),
                                       JsonBool(t, "special", false) ? kControl : kUserDefined};
    }
  }
  const int64_t n = std::max<int64_t>(by_id.empty() ? 0 : by_id.rbegin()->first + 1, n_vocab);
  std::vector<std::string> tokens(n);
  std::vector<int64_t> types(n, kUnused);
  std::map<std::string, int64_t> id_of;
  for (int64_t i = 0; i < n; ++i) {
    auto it = by_id.find(i);
    if (it == by_id.end()) {
      tokens[i] = "[PAD" + std::to_string(i) + "]";
      continue;
    }
    tokens[i] = it->second.first;
    types[i] = it->second.second;
    id_of.emplace(tokens[i], i);
  }
  std::vector<std::string> merges;
  for (const json& m : model["merges"]) {
    if (m.is_string()) {
      merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    } else {
      return bad("malformed merges entry");
    }
  }
  std::string pre = spm ? spm_pre : "gpt-2";
  if (spm) {
    // "hf-merges": tokenizer/spm_tokenizer.cpp ranks pairs by the merges list, as `tokenizers`.
  } else if (pre_dump.find("\\\\p{N}{1,3}") != std::string::npos) {
    pre = "llama-bpe";
  } else if (pre_dump.find("[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}|") !=
             std::string::npos) {
    pre = "qwen2";  // llama3's pattern with single digits
  } else if (pre_dump.find("\"individual_digits\":true") != std::string::npos) {
    pre = "smollm";
  } else if (pre_dump.find("\\\\s?[!-/:-~") != std::string::npos) {
    pre = "deepseek-coder";  // DeepSeek-Coder(-V2)'s Split list: ASCII punctuation runs, CJK, ...
  }

  const json tc = ReadJsonOrNull(fs::path(dir) / "tokenizer_config.json");
  auto special_id = [&](const char* tc_key, const char* config_key) -> int64_t {
    if (tc.is_object() && tc.contains(tc_key)) {
      auto it = id_of.find(TokenText(tc[tc_key]));
      if (it != id_of.end()) return it->second;
    }
    if (config.contains(config_key)) {
      const json& v = config[config_key];
      if (v.is_number_integer()) return v.get<int64_t>();
      if (v.is_array() && !v.empty() && v[0].is_number_integer()) return v[0].get<int64_t>();
    }
    return -1;
  };
  kv->push_back({"tokenizer.ggml.model", {GgufType::kString, std::string(spm ? "llama" : "gpt2")}});
  kv->push_back({"tokenizer.ggml.pre", {GgufType::kString, pre}});
  kv->push_back({"tokenizer.ggml.tokens", StrArray(std::move(tokens))});
  kv->push_back({"tokenizer.ggml.token_type", IntArray(types)});
  kv->push_back({"tokenizer.ggml.merges", StrArray(std::move(merges))});
  const int64_t bos = special_id("bos_token", "bos_token_id");
  const int64_t eos = special_id("eos_token", "eos_token_id");
  if (bos >= 0 && bos < n)
    kv->push_back({"tokenizer.ggml.bos_token_id", {GgufType::kU32, static_cast<uint64_t>(bos)}});
  if (eos >= 0 && eos < n)
    kv->push_back({"tokenizer.ggml.eos_token_id", {GgufType::kU32, static_cast<uint64_t>(eos)}});
  const bool add_bos = JsonBool(tc, "add_bos_token", PostProcessorAddsBos(tj, bos, id_of));
  kv->push_back({"tokenizer.ggml.add_bos_token", {GgufType::kBool, add_bos}});
  if (spm) {
    // Metaspace: the encoder follows pre; add_space_prefix makes Decode drop the first space.
    const bool prefix = space_prefix || spm_pre.rfind("hf-metaspace-", 0) == 0;
    kv->push_back({"tokenizer.ggml.add_space_prefix", {GgufType::kBool, prefix}});
    const std::string unk = JsonString(model, "unk_token", "");
    auto it = id_of.find(unk);
    if (!unk.empty() && it != id_of.end())
      kv->push_back(
          {"tokenizer.ggml.unknown_token_id", {GgufType::kU32, static_cast<uint64_t>(it->second)}});
  }
  std::string tmpl;
  if (tc.is_object() && tc.contains("chat_template")) {
    const json& ct = tc["chat_template"];
    if (ct.is_string()) {
      tmpl = ct.get<std::string>();
    } else if (ct.is_array()) {
      for (const json& t : ct) {
        if (JsonString(t, "name", "") == "default" && t.contains("template") &&
            t["template"].is_string()) {
          tmpl = t["template"].get<std::string>();
        }
      }
    }
  }
  if (tmpl.empty()) {  // newer transformers: chat_template.jinja, or a processor's .json
    std::ifstream in(fs::path(dir) / "chat_template.jinja");
    std::stringstream ss;
    if (in) ss << in.rdbuf();
    tmpl = ss.str();
    if (tmpl.empty()) {
      tmpl = JsonString(ReadJsonOrNull(fs::path(dir) / "chat_template.json"), "chat_template", "");
    }
  }
  if (!tmpl.empty()) kv->push_back({"tokenizer.chat_template", {GgufType::kString, tmpl}});
  return Status::Ok();
}

}  // namespace semantic::loader
