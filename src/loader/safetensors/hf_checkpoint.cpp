// HF / MLX checkpoint folder -> in-memory GgufFile (hf_checkpoint.h): config.json hparams,
// safetensors tensors renamed to GGUF names, MLX affine weights repacked or dequantized.
#include "loader/safetensors/hf_checkpoint.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "base/fp16.h"
#include "loader/safetensors/hf_tokenizer.h"
#include "loader/safetensors/json_get.h"
#include "loader/safetensors/safetensors_file.h"
#include "quant/dequantize.h"
#include "quant/mlx_affine.h"

namespace semantic::loader {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Everything the tensors of the GgufFile point into.
struct Storage {
  std::vector<std::unique_ptr<SafetensorsFile>> files;
  std::vector<std::vector<uint8_t>> buffers;
};

GgufValue U32(int64_t v) { return {GgufType::kU32, static_cast<uint64_t>(v)}; }
GgufValue F32(double v) { return {GgufType::kF32, v}; }

float ElemF32(const StTensor& t, int64_t i) {
  switch (t.dtype) {
    case StDType::kF32: {
      float f;
      std::memcpy(&f, t.data + 4 * i, 4);
      return f;
    }
    case StDType::kF16:
    case StDType::kBF16: {
      uint16_t h;
      std::memcpy(&h, t.data + 2 * i, 2);
      return t.dtype == StDType::kF16 ? Fp16ToFp32(h) : Bf16ToFp32(h);
    }
    default:
      return 0.0f;
  }
}

bool IsFloat(StDType t) { return t == StDType::kF32 || t == StDType::kF16 || t == StDType::kBF16; }
quant::DType DTypeOf(StDType t) {
  return t == StDType::kF32   ? quant::DType::kF32
         : t == StDType::kF16 ? quant::DType::kF16
                              : quant::DType::kBF16;
}

class Converter {
 public:
  Converter(std::string dir, const json& config) : dir_(std::move(dir)), config_(config) {}

  Status OpenWeights() {
    std::vector<std::string> names;
    const fs::path index = fs::path(dir_) / "model.safetensors.index.json";
    std::error_code ec;
    if (fs::exists(index, ec)) {
      ASSIGN_OR_RETURN(json j, ReadJson(index.string()));
      if (!j.contains("weight_map") || !j["weight_map"].is_object()) {
        return InvalidArgument(index.string() + ": no weight_map object");
      }
      std::set<std::string> files;
      for (auto& [k, v] : j["weight_map"].items()) {
        if (!v.is_string() || v.get<std::string>().find('/') != std::string::npos) {
          return InvalidArgument(index.string() + ": bad file name for tensor '" + k + "'");
        }
        files.insert(v.get<std::string>());
      }
      names.assign(files.begin(), files.end());
    } else {
      for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().extension() == ".safetensors") names.push_back(it->path().filename());
      }
      std::sort(names.begin(), names.end());
    }
    if (names.empty()) return NotFound(dir_ + ": no *.safetensors files");
    for (const std::string& n : names) {
      ASSIGN_OR_RETURN(auto f, SafetensorsFile::Open((fs::path(dir_) / n).string()));
      for (const auto& [name, t] : f->tensors()) {
        if (!tensors_.emplace(name, &t).second) {
          return InvalidArgument(dir_ + ": tensor '" + name + "' appears in two files");
        }
      }
      storage_->files.push_back(std::move(f));
    }
    return Status::Ok();
  }

  static Expected<json> ReadJson(const std::string& path) {
    std::ifstream in(path);
    if (!in) return NotFound(path + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return InvalidArgument(path + ": not valid JSON");
    return j;
  }

  Expected<int64_t> Int(const char* key, int64_t def = -1) const {
    if (!config_.contains(key) || config_[key].is_null()) {
      if (def >= 0) return def;
      return InvalidArgument(dir_ + "/config.json: missing '" + key + "'");
    }
    if (!config_[key].is_number_integer() || config_[key].get<int64_t>() <= 0 ||
        config_[key].get<int64_t>() > (1 << 24)) {
      return InvalidArgument(dir_ + "/config.json: '" + key + "' must be a positive integer");
    }
    return config_[key].get<int64_t>();
  }
  double Float(const char* key, double def) const {
    return config_.contains(key) && config_[key].is_number() ? config_[key].get<double>() : def;
  }

  Status CheckArchitecture() const {
    const std::string type = JsonString(config_, "model_type", "");
    if (type != "llama" && type != "mistral" && type != "qwen2" && type != "qwen3" &&
        type != "gemma3_text" && type != "deepseek_v2") {
      return Unimplemented(dir_ + "/config.json: model_type '" + type +
                           "' is not supported for safetensors checkpoints yet (llama, mistral, "
                           "qwen2, qwen3, gemma3, gemma3_text, deepseek_v2)");
    }
    if (type == "mistral" && config_.contains("sliding_window") &&
        !config_["sliding_window"].is_null()) {
      return Unimplemented(dir_ + "/config.json: mistral sliding_window is not supported");
    }
    return Status::Ok();
  }

  Status Hparams() {
    const std::string type = JsonString(config_, "model_type", "");
    arch_ = type == "mistral"       ? "llama"
            : type == "gemma3_text" ? "gemma3"
            : type == "deepseek_v2" ? "deepseek2"
                                    : type;
    gemma_ = arch_ == "gemma3";
    deepseek_ = arch_ == "deepseek2";
    const std::string a = arch_ + ".";
    ASSIGN_OR_RETURN(n_embd_, Int("hidden_size"));
    ASSIGN_OR_RETURN(int64_t n_ff, Int("intermediate_size"));
    ASSIGN_OR_RETURN(n_layers_, Int("num_hidden_layers"));
    ASSIGN_OR_RETURN(n_head_, Int("num_attention_heads"));
    ASSIGN_OR_RETURN(n_head_kv_, Int("num_key_value_heads", n_head_));
    // Gemma3TextConfig's defaults: google/gemma-3-*-it configs leave head_dim and others out.
    ASSIGN_OR_RETURN(head_dim_, Int("head_dim", gemma_ ? 256 : n_embd_ / n_head_));
    ASSIGN_OR_RETURN(int64_t n_ctx, Int("max_position_embeddings", gemma_ ? 131072 : 2048));
    if (head_dim_ % 2 != 0) return InvalidArgument(dir_ + "/config.json: odd head size");
    double rope_factor = 0.0;
    if (config_.contains("rope_scaling") && !config_["rope_scaling"].is_null() && !deepseek_) {
      const json& rs = config_["rope_scaling"];
      const std::string rt = JsonString(rs, "rope_type", JsonString(rs, "type", ""));
      const bool llama3 = rt == "llama3" && arch_ == "llama";
      if ((rt != "linear" && !llama3) || !rs.contains("factor") || !rs["factor"].is_number()) {
        return Unimplemented(dir_ + "/config.json: rope_scaling type '" + rt +
                             "' is not supported for safetensors checkpoints yet");
      }
      if (llama3) {
        RETURN_IF_ERROR(Llama3RopeFactors(rs));
      } else {
        rope_factor = rs["factor"].get<double>();
      }
    }
    RETURN_IF_ERROR(FindPrefix());
    tied_ = JsonBool(config_, "tie_word_embeddings", gemma_) || !tensors_.count(head_name_);
    const std::string name =
        JsonString(config_, "_name_or_path", fs::path(dir_).filename().string());
    kv_.push_back({"general.architecture", {GgufType::kString, arch_}});
    kv_.push_back({"general.name", {GgufType::kString, name}});
    kv_.push_back({a + "context_length", U32(n_ctx)});
    kv_.push_back({a + "embedding_length", U32(n_embd_)});
    kv_.push_back({a + "block_count", U32(n_layers_)});
    kv_.push_back({a + "feed_forward_length", U32(n_ff)});
    kv_.push_back({a + "attention.head_count", U32(n_head_)});
    if (deepseek_) {
      RETURN_IF_ERROR(DeepseekHparams());
    } else {
      kv_.push_back({a + "attention.head_count_kv", U32(n_head_kv_)});
      kv_.push_back({a + "attention.key_length", U32(head_dim_)});
      kv_.push_back({a + "attention.value_length", U32(head_dim_)});
    }
    // Gemma3Model writes no rope.dimension_count (all of key_length rotates).
    if (!gemma_ && !deepseek_) kv_.push_back({a + "rope.dimension_count", U32(head_dim_)});
    kv_.push_back({a + "rope.freq_base", F32(Float("rope_theta", gemma_ ? 1e6 : 10000.0))});
    if (rope_factor > 0) kv_.push_back({a + "rope.scaling.factor", F32(rope_factor)});
    kv_.push_back({a + "attention.layer_norm_rms_epsilon", F32(Float("rms_norm_eps", 1e-6))});
    if (gemma_) RETURN_IF_ERROR(GemmaHparams());
    return Status::Ok();
  }

  // Llama 3.1's rope_scaling as convert_hf_to_gguf.py's LlamaModel.generate_extra_tensors bakes
  // it: an F32 rope_freqs [head_dim / 2] dividing each rotary frequency (1 for high frequencies,
  // `factor` for low ones, a smooth blend between), computed in f32 like the converter.
  Status Llama3RopeFactors(const json& rs) {
    auto num = [&](const char* k, double def) {
      return rs.contains(k) && rs[k].is_number() ? rs[k].get<double>() : def;
    };
    const float factor = static_cast<float>(num("factor", 8.0));
    const float low = static_cast<float>(num("low_freq_factor", 1.0));
    const float high = static_cast<float>(num("high_freq_factor", 4.0));
    const float orig = static_cast<float>(num("original_max_position_embeddings", 8192));
    if (!(factor > 0) || !(high > low) || !(orig > 0)) {
      return InvalidArgument(dir_ + "/config.json: bad llama3 rope_scaling");
    }
    const double low_wavelen = orig / static_cast<double>(low),
                 high_wavelen = orig / static_cast<double>(high);
    const float base = static_cast<float>(Float("rope_theta", 10000.0));
    const int64_t n = head_dim_ / 2;
    std::vector<float> f(n);
    for (int64_t i = 0; i < n; ++i) {
      const float freq =
          1.0f / std::pow(base, static_cast<float>(2 * i) / static_cast<float>(head_dim_));
      const float wavelen = static_cast<float>(2 * M_PI) / freq;
      if (wavelen < high_wavelen) {
        f[i] = 1.0f;
      } else if (wavelen > low_wavelen) {
        f[i] = factor;
      } else {
        const float smooth = (orig / wavelen - low) / (high - low);
        f[i] = 1.0f / ((1.0f - smooth) / factor + smooth);
      }
    }
    auto [g, dst] = NewTensor("rope_freqs.weight", quant::DType::kF32, 4 * n);
    g->n_dims = 1;
    g->ne[0] = n;
    std::memcpy(dst, f.data(), 4 * n);
    return Status::Ok();
  }

  // Gemma 3's extras (Gemma3TextConfig defaults where absent). What the model code fixes rather
  // than reads (gemma3.cpp, as llama.cpp: a global layer every 6th, q scaled by 1/sqrt(head_dim)
  // except the 27B's n_embd / n_head) is checked against config.json instead.
  Status GemmaHparams() {
    const std::string a = arch_ + ".";
    auto unsupported = [&](const std::string& what) {
      return Unimplemented(dir_ + "/config.json: gemma3 " + what + " is not supported");
    };
    ASSIGN_OR_RETURN(int64_t window, Int("sliding_window", 4096));
    kv_.push_back({a + "attention.sliding_window", U32(window)});
    kv_.push_back({a + "rope.freq_base_swa", F32(Float("rope_local_base_freq", 10000.0))});
    const double softcap = Float("final_logit_softcapping", 0.0);
    if (softcap > 0) kv_.push_back({a + "final_logit_softcapping", F32(softcap)});
    if (Float("attn_logit_softcapping", 0.0) > 0) return unsupported("attn_logit_softcapping");
    const int64_t scalar = n_layers_ == 62 ? n_embd_ / n_head_ : head_dim_;
    ASSIGN_OR_RETURN(int64_t query_scalar, Int("query_pre_attn_scalar", 256));
    if (query_scalar != scalar) {
      return unsupported("query_pre_attn_scalar " + std::to_string(query_scalar) + " (only " +
                         std::to_string(scalar) + " for this shape)");
    }
    if (JsonSmallInt(config_, "sliding_window_pattern", 6) != 6) {
      return unsupported("sliding_window_pattern other than 6");
    }
    if (config_.contains("layer_types") && config_["layer_types"].is_array()) {
      const json& lt = config_["layer_types"];
      bool ok = static_cast<int64_t>(lt.size()) == n_layers_;
      for (size_t i = 0; ok && i < lt.size(); ++i) {
        ok = lt[i] == (i % 6 == 5 ? "full_attention" : "sliding_attention");
      }
      if (!ok) return unsupported("layer_types other than 5 sliding + 1 full");
    }
    return Status::Ok();
  }

  // DeepSeek-V2 as DeepseekV2Model writes it: MLA as one KV head of kv_lora_rank + rope dims
  // (the MHA sizes in *_mla), MoE counts, YaRN. Only V2's softmax top-k routing ("greedy").
  Status DeepseekHparams() {
    const std::string a = arch_ + ".";
    auto unsupported = [&](const std::string& what) {
      return Unimplemented(dir_ + "/config.json: deepseek_v2 " + what + " is not supported");
    };
    ASSIGN_OR_RETURN(kv_lora_, Int("kv_lora_rank"));
    ASSIGN_OR_RETURN(rope_dims_, Int("qk_rope_head_dim"));
    ASSIGN_OR_RETURN(nope_dims_, Int("qk_nope_head_dim"));
    ASSIGN_OR_RETURN(v_dims_, Int("v_head_dim"));
    ASSIGN_OR_RETURN(n_expert_, Int("n_routed_experts"));
    ASSIGN_OR_RETURN(int64_t n_used, Int("num_experts_per_tok"));
    ASSIGN_OR_RETURN(int64_t expert_ff, Int("moe_intermediate_size"));
    n_shared_ = JsonSmallInt(config_, "n_shared_experts", 0);
    n_dense_lead_ = JsonSmallInt(config_, "first_k_dense_replace", 0);
    if (JsonString(config_, "topk_method", "greedy") != "greedy") return unsupported("topk_method");
    if (JsonString(config_, "scoring_func", "softmax") != "softmax") {
      return unsupported("scoring_func");
    }
    if (JsonSmallInt(config_, "moe_layer_freq", 1) != 1) return unsupported("moe_layer_freq");
    if (config_.contains("q_lora_rank") && !config_["q_lora_rank"].is_null()) {
      ASSIGN_OR_RETURN(q_lora_, Int("q_lora_rank"));
      kv_.push_back({a + "attention.q_lora_rank", U32(q_lora_)});
    }
    kv_.push_back({a + "attention.head_count_kv", U32(1)});
    kv_.push_back({a + "attention.key_length", U32(kv_lora_ + rope_dims_)});
    kv_.push_back({a + "attention.value_length", U32(kv_lora_)});
    kv_.push_back({a + "attention.key_length_mla", U32(nope_dims_ + rope_dims_)});
    kv_.push_back({a + "attention.value_length_mla", U32(v_dims_)});
    kv_.push_back({a + "rope.dimension_count", U32(rope_dims_)});
    kv_.push_back({a + "attention.kv_lora_rank", U32(kv_lora_)});
    kv_.push_back({a + "leading_dense_block_count", U32(n_dense_lead_)});
    kv_.push_back({a + "expert_feed_forward_length", U32(expert_ff)});
    kv_.push_back({a + "expert_count", U32(n_expert_)});
    kv_.push_back({a + "expert_used_count", U32(n_used)});
    if (n_shared_ > 0) kv_.push_back({a + "expert_shared_count", U32(n_shared_)});
    kv_.push_back({a + "expert_weights_scale", F32(Float("routed_scaling_factor", 1.0))});
    kv_.push_back(
        {a + "expert_weights_norm", {GgufType::kBool, JsonBool(config_, "norm_topk_prob", false)}});
    if (config_.contains("rope_scaling") && !config_["rope_scaling"].is_null()) {
      const json& rs = config_["rope_scaling"];
      const std::string rt = JsonString(rs, "rope_type", JsonString(rs, "type", ""));
      if (rt != "yarn" || !rs.contains("factor") || !rs["factor"].is_number()) {
        return unsupported("rope_scaling type '" + rt + "'");
      }
      kv_.push_back({a + "rope.scaling.type", {GgufType::kString, std::string("yarn")}});
      kv_.push_back({a + "rope.scaling.factor", F32(rs["factor"].get<double>())});
      kv_.push_back({a + "rope.scaling.original_context_length",
                     U32(JsonSmallInt(rs, "original_max_position_embeddings", 4096))});
      const double mscale_all = rs.contains("mscale_all_dim") && rs["mscale_all_dim"].is_number()
                                    ? rs["mscale_all_dim"].get<double>()
                                    : 0.0;
      kv_.push_back({a + "rope.scaling.yarn_log_multiplier", F32(0.1 * mscale_all)});
    }
    return Status::Ok();
  }

  // Where the language model's tensors live: model.* (Gemma3ForCausalLM, llama, qwen), or the
  // multimodal Gemma3ForConditionalGeneration's language_model.model.* (transformers < 4.52,
  // mlx-community) or model.language_model.* (newer); vision tensors are never read.
  Status FindPrefix() {
    for (const auto& [body, head] :
         {std::pair<const char*, const char*>{"model.", "lm_head.weight"},
          {"language_model.model.", "language_model.lm_head.weight"},
          {"model.language_model.", "lm_head.weight"}}) {
      if (tensors_.count(std::string(body) + "embed_tokens.weight")) {
        prefix_ = body;
        head_name_ = head;
        return Status::Ok();
      }
    }
    return NotFound(dir_ + ": missing tensor 'model.embed_tokens.weight'");
  }

  // A Gemma RMSNorm weight: HF's w scales by (1 + w); GGUF holds 1 + w in f32, as the converter
  // writes it (Gemma3Model.modify_tensors), and MLX keeps HF's w.
  Status AddGemmaNorm(const std::string& hf, const std::string& gguf_name) {
    auto it = tensors_.find(hf);
    if (it == tensors_.end()) return NotFound(dir_ + ": missing tensor '" + hf + "'");
    const StTensor& t = *it->second;
    if (!IsFloat(t.dtype) || t.shape.size() != 1) {
      return InvalidArgument(dir_ + ": tensor '" + hf + "' must be a 1-D float vector");
    }
    const int64_t n = t.shape[0];
    std::vector<uint8_t>& buf = storage_->buffers.emplace_back(4 * n);
    for (int64_t i = 0; i < n; ++i) {
      const float v = ElemF32(t, i) + 1.0f;
      std::memcpy(buf.data() + 4 * i, &v, 4);
    }
    GgufTensor g;
    g.name = gguf_name;
    g.type = quant::DType::kF32;
    g.n_dims = 1;
    g.ne[0] = n;
    g.nbytes = buf.size();
    g.data = buf.data();
    out_.push_back(std::move(g));
    return Status::Ok();
  }

  Status AddNorm(const std::string& hf, const std::string& gguf_name) {
    return gemma_ ? AddGemmaNorm(hf, gguf_name) : Add(hf, gguf_name);
  }

  Status Quantization() {
    for (const char* key : {"quantization", "quantization_config"}) {
      if (!config_.contains(key) || !config_[key].is_object()) continue;
      quant_ = config_[key];
      const std::string mode = JsonString(quant_, "mode", "affine");
      if (mode != "affine" || !quant_.contains("bits")) {
        return Unimplemented(dir_ + "/config.json: quantization mode '" + mode +
                             "' is not supported (MLX affine only)");
      }
      return Status::Ok();
    }
    return Status::Ok();
  }

  // Adds the GGUF tensor `gguf_name` from HF tensor `hf` (".weight"); permute_heads > 0 reorders
  // the rows of each of that many heads from rotate-half to interleaved RoPE order.
  Status Add(const std::string& hf, const std::string& gguf_name, int64_t permute_heads = 0) {
    auto it = tensors_.find(hf);
    if (it == tensors_.end()) return NotFound(dir_ + ": missing tensor '" + hf + "'");
    const StTensor& t = *it->second;
    const std::string suffix = ".weight";
    const bool is_weight = hf.size() > suffix.size() &&
                           hf.compare(hf.size() - suffix.size(), suffix.size(), suffix) == 0;
    const std::string module = is_weight ? hf.substr(0, hf.size() - suffix.size()) : hf;
    auto scales = is_weight ? tensors_.find(module + ".scales") : tensors_.end();
    if (scales != tensors_.end())
      return AddQuantized(t, *scales->second, module, gguf_name, permute_heads);
    if (!IsFloat(t.dtype) || t.shape.empty() || t.shape.size() > 3) {
      return Unimplemented(dir_ + ": tensor '" + hf + "' has dtype " + StDTypeName(t.dtype) +
                           " and " + std::to_string(t.shape.size()) + " dims");
    }
    GgufTensor g;
    g.name = gguf_name;
    g.type = DTypeOf(t.dtype);
    g.n_dims = static_cast<int>(t.shape.size());
    for (int d = 0; d < g.n_dims; ++d) g.ne[d] = t.shape[g.n_dims - 1 - d];
    g.nbytes = t.nbytes;
    g.data = t.data;
    if (permute_heads > 0) {
      const int64_t rows = g.ne[1];
      RETURN_IF_ERROR(CheckHeads(hf, rows, permute_heads));
      g.data = PermuteRows(t.data, rows, t.nbytes / rows, permute_heads);
    }
    out_.push_back(std::move(g));
    return Status::Ok();
  }

  Status CheckHeads(const std::string& hf, int64_t rows, int64_t heads) const {
    if (rows != heads * head_dim_) {
      return InvalidArgument(dir_ + ": tensor '" + hf + "' has " + std::to_string(rows) +
                             " rows, expected " + std::to_string(heads) + " heads of " +
                             std::to_string(head_dim_));
    }
    return Status::Ok();
  }

  // HF row h*hd + j*hd/2 + i goes to GGUF row h*hd + 2*i + j (convert_hf_to_gguf's permute).
  int64_t SourceRow(int64_t r) const {
    const int64_t hd = head_dim_, h = r / hd, i = (r % hd) / 2, j = r % 2;
    return h * hd + j * (hd / 2) + i;
  }

  const uint8_t* PermuteRows(const uint8_t* src, int64_t rows, size_t row_bytes, int64_t heads) {
    std::vector<uint8_t>& buf = storage_->buffers.emplace_back(rows * row_bytes);
    for (int64_t r = 0; r < rows; ++r) {
      std::memcpy(buf.data() + r * row_bytes, src + SourceRow(r) * row_bytes, row_bytes);
    }
    return buf.data();
  }

  Status AddQuantized(const StTensor& w, const StTensor& scales, const std::string& module,
                      const std::string& gguf_name, int64_t permute_heads) {
    auto bad = [&](const std::string& what) {
      return InvalidArgument(dir_ + ": quantized module '" + module + "': " + what);
    };
    json params = quant_;
    if (quant_.contains(module) && quant_[module].is_object()) params = quant_[module];
    if (!params.contains("bits") || !params["bits"].is_number_integer()) {
      return bad("no quantization bits in config.json");
    }
    const int bits = params["bits"].get<int>();
    const int group = static_cast<int>(JsonSmallInt(params, "group_size", 64));
    auto biases_it = tensors_.find(module + ".biases");
    if (biases_it == tensors_.end()) return bad("missing .biases");
    const StTensor& biases = *biases_it->second;
    // 3-D: mlx-lm's stacked experts (switch_mlp) [n_expert, out, in*bits/32].
    if (w.dtype != StDType::kU32 || w.shape.size() < 2 || w.shape.size() > 3) {
      return bad("weight is not a 2-D or 3-D u32");
    }
    if (bits <= 0 || bits > 8) return bad("bits " + std::to_string(bits));
    const int64_t n_mat = w.shape.size() == 3 ? w.shape[0] : 1;
    const int64_t rows = n_mat * w.shape[w.shape.size() - 2], cols = w.shape.back() * 32 / bits;
    if (!quant::IsSupportedMlxAffine(bits, group, cols)) {
      return Unimplemented(dir_ + ": quantized module '" + module + "': " + std::to_string(bits) +
                           "-bit groups of " + std::to_string(group) + " are not supported");
    }
    const int64_t n_groups = cols / group;
    for (const StTensor* s : {&scales, &biases}) {
      if (!IsFloat(s->dtype) || s->shape.size() != w.shape.size() ||
          s->n_elements() != rows * n_groups || s->shape.back() != n_groups) {
        return bad("scales/biases must be float [" + std::to_string(rows) + ", " +
                   std::to_string(n_groups) + "]");
      }
    }
    if (permute_heads > 0) RETURN_IF_ERROR(CheckHeads(module, rows, permute_heads));
    const bool as_q4_1 = bits == 4 && group % quant::kQK == 0;
    GgufTensor g;
    g.name = gguf_name;
    g.type = as_q4_1 ? quant::DType::kQ4_1 : quant::DType::kF16;
    g.n_dims = static_cast<int>(w.shape.size());
    g.ne[0] = cols;
    g.ne[1] = rows / n_mat;
    g.ne[2] = n_mat;
    const size_t row_bytes = quant::RowBytes(g.type, cols);
    std::vector<uint8_t>& buf = storage_->buffers.emplace_back(rows * row_bytes);
    std::vector<float> s(n_groups), b(n_groups), tmp(cols);
    const size_t packed_words = static_cast<size_t>(w.shape.back());
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t src = permute_heads > 0 ? SourceRow(r) : r;
      for (int64_t k = 0; k < n_groups; ++k) {
        s[k] = ElemF32(scales, src * n_groups + k);
        b[k] = ElemF32(biases, src * n_groups + k);
      }
      std::vector<uint32_t> packed(packed_words);  // copied: mappings need not be 4-aligned
      std::memcpy(packed.data(), w.data + src * packed_words * 4, packed_words * 4);
      uint8_t* dst = buf.data() + r * row_bytes;
      if (as_q4_1) {
        quant::MlxQ4RowToQ4_1(packed.data(), s.data(), b.data(), cols, group,
                              reinterpret_cast<quant::BlockQ4_1*>(dst));
      } else {
        quant::DequantizeMlxAffineRow(packed.data(), s.data(), b.data(), cols, group, bits,
                                      tmp.data());
        for (int64_t k = 0; k < cols; ++k) {
          const uint16_t h = Fp32ToFp16(tmp[k]);
          std::memcpy(dst + 2 * k, &h, 2);
        }
      }
    }
    g.data = buf.data();
    g.nbytes = buf.size();
    out_.push_back(std::move(g));
    return Status::Ok();
  }

  const StTensor* Find(const std::string& name) const {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : it->second;
  }

  // A new GgufTensor over a fresh buffer of `bytes`; the caller fills buffer and shape.
  std::pair<GgufTensor*, uint8_t*> NewTensor(const std::string& name, quant::DType type,
                                             size_t bytes) {
    std::vector<uint8_t>& buf = storage_->buffers.emplace_back(bytes);
    GgufTensor& g = out_.emplace_back();
    g.name = name;
    g.type = type;
    g.nbytes = bytes;
    g.data = buf.data();
    return {&g, buf.data()};
  }

  // HF's per-expert mlp.experts.E.<proj>.weight stacked into one [n_expert][out][in] tensor (what
  // the GGUF converter does); mlx-lm's switch_mlp.<proj> is stacked already.
  Status AddExperts(const std::string& layer, const std::string& proj, const std::string& gg) {
    const std::string stacked = layer + "mlp.switch_mlp." + proj + ".weight";
    if (Find(stacked)) return Add(stacked, gg);
    const StTensor* first = Find(layer + "mlp.experts.0." + proj + ".weight");
    if (!first) return NotFound(dir_ + ": missing tensor '" + stacked + "'");
    if (!IsFloat(first->dtype) || first->shape.size() != 2) {
      return Unimplemented(dir_ + ": expert tensors must be 2-D float or MLX switch_mlp");
    }
    auto [g, dst] = NewTensor(gg, DTypeOf(first->dtype), first->nbytes * n_expert_);
    g->n_dims = 3;
    g->ne[0] = first->shape[1];
    g->ne[1] = first->shape[0];
    g->ne[2] = n_expert_;
    for (int64_t e = 0; e < n_expert_; ++e) {
      const std::string name = layer + "mlp.experts." + std::to_string(e) + "." + proj + ".weight";
      const StTensor* t = Find(name);
      if (!t || t->dtype != first->dtype || t->shape != first->shape) {
        return InvalidArgument(dir_ + ": expert tensor '" + name + "' missing or unlike expert 0");
      }
      std::memcpy(dst + e * first->nbytes, t->data, first->nbytes);
    }
    return Status::Ok();
  }

  // kv_b_proj [n_head * (nope + v), kv_lora] split per head as DeepseekV2Model does: attn_k_b
  // [n_head][kv_lora][nope] (k_nope's rows, transposed) and attn_v_b [n_head][v][kv_lora]. Float
  // weights keep their dtype (a transpose moves elements unchanged); MLX-quantized ones are
  // dequantized to f32 (the transpose breaks the row groups).
  Status AddKvB(const std::string& hf, const std::string& gg) {
    const StTensor* t = Find(hf);
    if (!t) return NotFound(dir_ + ": missing tensor '" + hf + "'");
    const int64_t per_head = nope_dims_ + v_dims_, rows = n_head_ * per_head;
    const uint8_t* src = t->data;
    size_t es = t->dtype == StDType::kF32 ? 4 : 2;
    quant::DType type = IsFloat(t->dtype) ? DTypeOf(t->dtype) : quant::DType::kF32;
    std::vector<float> deq;
    const std::string module = hf.substr(0, hf.size() - std::string(".weight").size());
    if (const StTensor* scales = Find(module + ".scales")) {
      RETURN_IF_ERROR(AddQuantized(*t, *scales, module, "tmp.kv_b", 0));
      const GgufTensor q = out_.back();
      out_.pop_back();
      if (q.ne[1] != rows || q.ne[0] != kv_lora_) return InvalidArgument(dir_ + ": bad " + hf);
      deq.resize(rows * kv_lora_);
      const size_t row_bytes = quant::RowBytes(q.type, kv_lora_);
      for (int64_t r = 0; r < rows; ++r) {
        quant::DequantizeRowRef(q.type, q.data + r * row_bytes, deq.data() + r * kv_lora_,
                                kv_lora_);
      }
      storage_->buffers.pop_back();  // the repacked copy, no longer needed
      src = reinterpret_cast<const uint8_t*>(deq.data());
      es = 4;
      type = quant::DType::kF32;
    } else if (!IsFloat(t->dtype) || t->shape.size() != 2 || t->shape[0] != rows ||
               t->shape[1] != kv_lora_) {
      return InvalidArgument(dir_ + ": tensor '" + hf + "' must be float [" + std::to_string(rows) +
                             ", " + std::to_string(kv_lora_) + "]");
    }
    auto [k, kd] = NewTensor(gg + "attn_k_b.weight", type, es * n_head_ * kv_lora_ * nope_dims_);
    k->n_dims = 3;
    k->ne = {nope_dims_, kv_lora_, n_head_, 1};
    auto [v, vd] = NewTensor(gg + "attn_v_b.weight", type, es * n_head_ * v_dims_ * kv_lora_);
    v->n_dims = 3;
    v->ne = {kv_lora_, v_dims_, n_head_, 1};
    for (int64_t h = 0; h < n_head_; ++h) {
      for (int64_t c = 0; c < kv_lora_; ++c) {
        for (int64_t j = 0; j < nope_dims_; ++j) {
          std::memcpy(kd + es * ((h * kv_lora_ + c) * nope_dims_ + j),
                      src + es * ((h * per_head + j) * kv_lora_ + c), es);
        }
      }
      std::memcpy(vd + es * h * v_dims_ * kv_lora_,
                  src + es * (h * per_head + nope_dims_) * kv_lora_, es * v_dims_ * kv_lora_);
    }
    return Status::Ok();
  }

  // mlx-lm's MultiLinear [n_head][rows][cols] (embed_q: [n_head][kv_lora][nope], unembed_out:
  // [n_head][v][kv_lora], what its sanitize() cuts from kv_b_proj) is already attn_k_b / attn_v_b.
  Status AddPerHead(const std::string& hf, const std::string& gg, int64_t cols, int64_t rows) {
    RETURN_IF_ERROR(Add(hf, gg));
    const GgufTensor& t = out_.back();
    if (t.n_dims != 3 || t.ne[0] != cols || t.ne[1] != rows || t.ne[2] != n_head_) {
      return InvalidArgument(dir_ + ": tensor '" + hf + "' must be [" + std::to_string(n_head_) +
                             ", " + std::to_string(rows) + ", " + std::to_string(cols) + "]");
    }
    return Status::Ok();
  }

  // One deepseek2 layer after attn_norm: MLA, ffn_norm, a dense FFN or the MoE.
  Status DeepseekLayer(int64_t i, const std::string& hf, const std::string& gg) {
    if (q_lora_ > 0) {
      RETURN_IF_ERROR(Add(hf + "self_attn.q_a_proj.weight", gg + "attn_q_a.weight"));
      RETURN_IF_ERROR(Add(hf + "self_attn.q_a_layernorm.weight", gg + "attn_q_a_norm.weight"));
      RETURN_IF_ERROR(Add(hf + "self_attn.q_b_proj.weight", gg + "attn_q_b.weight"));
    } else {
      RETURN_IF_ERROR(Add(hf + "self_attn.q_proj.weight", gg + "attn_q.weight"));
    }
    RETURN_IF_ERROR(Add(hf + "self_attn.kv_a_proj_with_mqa.weight", gg + "attn_kv_a_mqa.weight"));
    RETURN_IF_ERROR(Add(hf + "self_attn.kv_a_layernorm.weight", gg + "attn_kv_a_norm.weight"));
    if (Find(hf + "self_attn.embed_q.weight")) {  // newer mlx-lm: kv_b_proj split per head
      RETURN_IF_ERROR(AddPerHead(hf + "self_attn.embed_q.weight", gg + "attn_k_b.weight",
                                 nope_dims_, kv_lora_));
      RETURN_IF_ERROR(AddPerHead(hf + "self_attn.unembed_out.weight", gg + "attn_v_b.weight",
                                 kv_lora_, v_dims_));
    } else {
      RETURN_IF_ERROR(AddKvB(hf + "self_attn.kv_b_proj.weight", gg));
    }
    RETURN_IF_ERROR(Add(hf + "self_attn.o_proj.weight", gg + "attn_output.weight"));
    RETURN_IF_ERROR(Add(hf + "post_attention_layernorm.weight", gg + "ffn_norm.weight"));
    if (i < n_dense_lead_) return DenseFfn(hf, gg);
    RETURN_IF_ERROR(Add(hf + "mlp.gate.weight", gg + "ffn_gate_inp.weight"));
    for (const char* p : {"gate", "up", "down"}) {
      RETURN_IF_ERROR(AddExperts(hf, std::string(p) + "_proj", gg + "ffn_" + p + "_exps.weight"));
      if (n_shared_ > 0) {
        RETURN_IF_ERROR(Add(hf + "mlp.shared_experts." + p + "_proj.weight",
                            gg + "ffn_" + p + "_shexp.weight"));
      }
    }
    return Status::Ok();
  }

  Status DenseFfn(const std::string& hf, const std::string& gg) {
    RETURN_IF_ERROR(Add(hf + "mlp.gate_proj.weight", gg + "ffn_gate.weight"));
    RETURN_IF_ERROR(Add(hf + "mlp.up_proj.weight", gg + "ffn_up.weight"));
    return Add(hf + "mlp.down_proj.weight", gg + "ffn_down.weight");
  }

  Status Tensors() {
    RETURN_IF_ERROR(Add(prefix_ + "embed_tokens.weight", "token_embd.weight"));
    RETURN_IF_ERROR(AddNorm(prefix_ + "norm.weight", "output_norm.weight"));
    if (!tied_) RETURN_IF_ERROR(Add(head_name_, "output.weight"));
    for (int64_t i = 0; i < n_layers_; ++i) {
      const std::string hf = prefix_ + "layers." + std::to_string(i) + ".";
      const std::string gg = "blk." + std::to_string(i) + ".";
      RETURN_IF_ERROR(AddNorm(hf + "input_layernorm.weight", gg + "attn_norm.weight"));
      RETURN_IF_ERROR(deepseek_ ? DeepseekLayer(i, hf, gg) : Layer(hf, gg));
    }
    return Status::Ok();
  }

  // One llama / qwen / gemma3 layer after attn_norm.
  Status Layer(const std::string& hf, const std::string& gg) {
    // Only llama's Q/K are permuted by the GGUF converter (model-formats.md §2.1).
    const bool permute = arch_ == "llama";
    RETURN_IF_ERROR(
        Add(hf + "self_attn.q_proj.weight", gg + "attn_q.weight", permute ? n_head_ : 0));
    RETURN_IF_ERROR(
        Add(hf + "self_attn.k_proj.weight", gg + "attn_k.weight", permute ? n_head_kv_ : 0));
    if (arch_ == "qwen2") {
      for (const char* p : {"q", "k", "v"}) {
        RETURN_IF_ERROR(Add(hf + "self_attn." + p + "_proj.bias", gg + "attn_" + p + ".bias"));
      }
    }
    if (arch_ == "qwen3" || gemma_) {
      RETURN_IF_ERROR(AddNorm(hf + "self_attn.q_norm.weight", gg + "attn_q_norm.weight"));
      RETURN_IF_ERROR(AddNorm(hf + "self_attn.k_norm.weight", gg + "attn_k_norm.weight"));
    }
    RETURN_IF_ERROR(Add(hf + "self_attn.v_proj.weight", gg + "attn_v.weight"));
    RETURN_IF_ERROR(Add(hf + "self_attn.o_proj.weight", gg + "attn_output.weight"));
    if (gemma_) {  // sandwich norms around attention and FFN
      RETURN_IF_ERROR(
          AddNorm(hf + "post_attention_layernorm.weight", gg + "post_attention_norm.weight"));
      RETURN_IF_ERROR(AddNorm(hf + "pre_feedforward_layernorm.weight", gg + "ffn_norm.weight"));
      RETURN_IF_ERROR(
          AddNorm(hf + "post_feedforward_layernorm.weight", gg + "post_ffw_norm.weight"));
    } else {
      RETURN_IF_ERROR(Add(hf + "post_attention_layernorm.weight", gg + "ffn_norm.weight"));
    }
    RETURN_IF_ERROR(Add(hf + "mlp.gate_proj.weight", gg + "ffn_gate.weight"));
    RETURN_IF_ERROR(Add(hf + "mlp.up_proj.weight", gg + "ffn_up.weight"));
    RETURN_IF_ERROR(Add(hf + "mlp.down_proj.weight", gg + "ffn_down.weight"));
    return Status::Ok();
  }

  Expected<std::unique_ptr<GgufFile>> Finish() {
    for (GgufTensor& t : out_) {
      if (t.n_dims >= 2 && quant::RowBytes(t.type, t.ne[0]) * t.ne[1] * t.ne[2] != t.nbytes) {
        return InvalidArgument(dir_ + ": tensor '" + t.name + "' has inconsistent size");
      }
    }
    return GgufFile::FromParts(dir_, std::move(kv_), std::move(out_), std::move(storage_));
  }

  std::vector<std::pair<std::string, GgufValue>>& kv() { return kv_; }
  bool gemma() const { return gemma_; }

  // Gemma 3's embed_tokens (and so its tied head) has 262208 rows for a 262144-token vocab;
  // llama.cpp's converter (Gemma3Model.modify_tensors) keeps only the vocab's rows, so do we.
  void TrimVocabRows(int64_t n_tokens) {
    for (GgufTensor& t : out_) {
      if ((t.name == "token_embd.weight" || t.name == "output.weight") && t.n_dims == 2 &&
          t.ne[1] > n_tokens && n_tokens > 0) {
        t.ne[1] = n_tokens;
        t.nbytes = quant::RowBytes(t.type, t.ne[0]) * n_tokens;
      }
    }
  }

 private:
  std::string dir_, arch_ = "llama", prefix_ = "model.", head_name_ = "lm_head.weight";
  json config_, quant_;
  std::shared_ptr<Storage> storage_ = std::make_shared<Storage>();
  std::map<std::string, const StTensor*> tensors_;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<GgufTensor> out_;
  int64_t n_embd_ = 0, n_layers_ = 0, n_head_ = 0, n_head_kv_ = 0, head_dim_ = 0;
  int64_t kv_lora_ = 0, q_lora_ = 0, rope_dims_ = 0, nope_dims_ = 0, v_dims_ = 0, n_expert_ = 0,
          n_shared_ = 0, n_dense_lead_ = 0;
  bool tied_ = false, gemma_ = false, deepseek_ = false;
};

// The multimodal Gemma 3 config (model_type gemma3, Gemma3ForConditionalGeneration): its
// text_config, as a gemma3_text config, keeping the top-level MLX quantization and name.
json TextConfig(const json& config) {
  if (JsonString(config, "model_type", "") != "gemma3") return config;
  json text = config.contains("text_config") && config["text_config"].is_object()
                  ? config["text_config"]
                  : json::object();
  text["model_type"] = "gemma3_text";
  for (const char* k : {"quantization", "quantization_config", "_name_or_path"}) {
    if (config.contains(k) && !text.contains(k)) text[k] = config[k];
  }
  return text;
}

}  // namespace

Expected<std::unique_ptr<GgufFile>> OpenHfCheckpoint(const std::string& dir) {
  ASSIGN_OR_RETURN(json config, Converter::ReadJson((fs::path(dir) / "config.json").string()));
  if (!config.is_object()) return InvalidArgument(dir + "/config.json: not a JSON object");
  config = TextConfig(config);
  Converter c(dir, config);
  RETURN_IF_ERROR(c.CheckArchitecture());
  RETURN_IF_ERROR(c.OpenWeights());
  RETURN_IF_ERROR(c.Hparams());
  RETURN_IF_ERROR(c.Quantization());
  RETURN_IF_ERROR(c.Tensors());
  // Other families' vocabs are padded up to vocab_size (as the converter does); Gemma 3's
  // embedding is cut down to its vocab instead.
  const int64_t n_vocab = c.gemma() ? 0 : JsonSmallInt(config, "vocab_size", 0);
  RETURN_IF_ERROR(AddHfTokenizerKeys(dir, config, n_vocab, &c.kv()));
  if (c.gemma()) {
    for (const auto& [key, value] : c.kv()) {
      if (key != "tokenizer.ggml.tokens") continue;
      c.TrimVocabRows(
          static_cast<int64_t>(std::get<std::shared_ptr<GgufArray>>(value.v)->items.size()));
    }
  }
  return c.Finish();
}

}  // namespace semantic::loader
