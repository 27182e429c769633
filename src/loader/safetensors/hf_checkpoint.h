// Hugging Face checkpoint folders (config.json, tokenizer.json, tokenizer_config.json,
// model*.safetensors with or without model.safetensors.index.json) in f32/f16/bf16 or MLX affine
// quantization, presented as an in-memory GgufFile: <arch>.* keys from config.json,
// tokenizer.ggml.* keys from tokenizer.json, tensors under their GGUF names (llama's Q/K rows
// permuted to GGUF's interleaved RoPE order; MLX 4-bit weights repacked losslessly as Q4_1, other
// bit widths dequantized to f16), so every model and engine path works on it unchanged.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "loader/gguf/gguf_file.h"

namespace semantic::loader {

// Architectures: model_type "llama" (and "mistral" without sliding window; linear or Llama 3.1
// rope_scaling, the latter baked into rope_freqs), "qwen2", "qwen3",
// "gemma3_text" and the multimodal "gemma3" (text_config; language_model.* tensors; norms read
// as 1 + w), "deepseek_v2" (kv_b_proj split into attn_k_b / attn_v_b, experts stacked, YaRN).
// Tokenizers: byte-level BPE tokenizer.json.
Expected<std::unique_ptr<GgufFile>> OpenHfCheckpoint(const std::string& dir);

// A model argument: a .gguf file, a checkpoint folder, or a Hugging Face id "owner/name" found
// in the local cache ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub:
// models--owner--name/snapshots/<refs/main or the only snapshot>/). Nothing is downloaded.
Expected<std::string> ResolveModelPath(const std::string& path_or_id);
Expected<std::unique_ptr<GgufFile>> OpenModelFile(const std::string& path_or_id);

}  // namespace semantic::loader
