#!/usr/bin/env python3
"""Write tiny Hugging Face / MLX checkpoint folders from a tiny F16 GGUF (llama, llama3, qwen2, qwen3,
deepseek2, deepseek2lite: models/tiny/tiny-<family>-F16.gguf, scripts/make_tiny_models.py;
deepseek2 is described in deepseek2_folders(); gemma3: tiny-gemma3-F16.gguf,
written by this script's --write-gemma3-gguf) for the safetensors loader tests
(tests/models/hf_checkpoint_test.cpp, tests/py/test_mlx_checkpoint.py):

  tiny-<arch>-hf-f16/      config.json, tokenizer.json, tokenizer_config.json and the same f16
                           weights (f32 norms and biases) as the GGUF in two safetensors shards
                           with an index; llama's Q/K rows un-permuted back to HF's rotate-half
                           order (inverse of convert_hf_to_gguf.py's LlamaModel.permute);
                           gemma3's RMSNorm weights stored as HF's w where the GGUF holds 1 + w
                           (Gemma scales by 1 + w; the converter adds the 1).
  tiny-<arch>-mlx-4bit/    the same, MLX affine-quantized as mlx-lm writes it: every linear and
                           the (tied) embedding as uint32 [out, in/8] + f16 scales/biases
                           [out, in/64]; norms and biases f16; config.json "quantization" {group_size 64, bits 4}.
  tiny-<arch>-mlx-4bit-ref/ the reference: those 4-bit weights dequantized (w = scale * q + bias,
                           in f32) and stored as f32, otherwise identical.

The quantizer is plain min/max affine (scale = (max - min) / 15, bias = min, q = round((w - bias) /
scale)); the packing is MLX's (value k of a row in bits [4k, 4k+4) of word k/8, LSB first).
tests/py/test_mlx_checkpoint.py checks that layout against the mlx package's own quantize/dequantize.
Deterministic: the same GGUF gives the same bytes.

    for a in llama llama3 qwen2 qwen3 deepseek2 deepseek2lite; do
      .venv/bin/python scripts/make_tiny_hf.py models/tiny/tiny-$a-F16.gguf models/tiny/hf; done
    .venv/bin/python scripts/make_tiny_hf.py --write-gemma3-gguf models/tiny/hf/tiny-gemma3-F16.gguf
    .venv/bin/python scripts/make_tiny_hf.py models/tiny/hf/tiny-gemma3-F16.gguf models/tiny/hf
"""
import argparse
import json
import os
import sys

import numpy as np
import gguf

GROUP, BITS = 64, 4


# The Split regex HF tokenizer.json files carry for these GGUF pre-tokenizer names (Qwen2's).
PRE_REGEX = {
    "llama-bpe": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+"
                 r"[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    "qwen2": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+"
             r"[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
}


# DeepSeek-Coder(-V2)'s tokenizer.json pre-tokenizer: a Sequence of Splits (newlines, letter runs
# with an optional leading space, ASCII/full-width punctuation runs, trailing spaces, CJK runs,
# digit runs). The letter class is cut down to Latin, Greek and Cyrillic here; the loader keys on
# the punctuation Split.
DEEPSEEK_CODER_SPLITS = [r"[\r\n]", r"\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯ]+",
                         r"\s?[!-/:-~！-／：-～‘-‟　-。]+", r"\s+$", r"[一-龥ࠀ-一가-퟿]+", r"\p{N}+"]


def byte_level_tokenizer(tokens, types, merges, pre):
    vocab = {t: i for i, t in enumerate(tokens) if types[i] != gguf.TokenType.CONTROL}
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True}
             for i, t in enumerate(tokens) if types[i] == gguf.TokenType.CONTROL]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": r}, "behavior": "Isolated", "invert": False}
            for r in DEEPSEEK_CODER_SPLITS] + [
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
             "use_regex": False}]} if pre == "deepseek-coder" else
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True} if pre not in PRE_REGEX else
        {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": PRE_REGEX[pre]}, "behavior": "Isolated",
             "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
             "use_regex": False}]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }


def unpermute(w, n_head):
    """GGUF (interleaved pairs) rows -> HF (rotate-half) rows; inverse of LlamaModel.permute."""
    hd = w.shape[0] // n_head
    return w.reshape(n_head, hd // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def quantize(w):
    """[out, in] f32 -> (packed uint32 [out, in*BITS/32], scales f16, biases f16 [out, in/GROUP])."""
    out, n = w.shape
    g = w.astype(np.float32).reshape(out, n // GROUP, GROUP)
    lo, hi = g.min(axis=2), g.max(axis=2)
    scale = ((hi - lo) / (2 ** BITS - 1)).astype(np.float16)
    bias = lo.astype(np.float16)
    s32 = np.where(scale == 0, 1, scale).astype(np.float32)
    q = np.clip(np.rint((g - bias.astype(np.float32)[..., None]) / s32[..., None]), 0,
                2 ** BITS - 1).astype(np.uint32).reshape(out, n)
    per = 32 // BITS
    q = q.reshape(out, n // per, per)
    packed = np.zeros((out, n // per), dtype=np.uint32)
    for k in range(per):
        packed |= q[:, :, k] << np.uint32(k * BITS)
    return packed, scale, bias


def dequantize(packed, scale, bias):
    out, words = packed.shape
    per = 32 // BITS
    q = np.stack([(packed >> np.uint32(k * BITS)) & np.uint32(2 ** BITS - 1) for k in range(per)],
                 axis=2).reshape(out, words * per).astype(np.float32)
    s = np.repeat(scale.astype(np.float32), GROUP, axis=1)
    b = np.repeat(bias.astype(np.float32), GROUP, axis=1)
    return s * q + b


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dt = {np.dtype(np.float16): "F16", np.dtype(np.float32): "F32",
              np.dtype(np.uint32): "U32"}[a.dtype]
        b = a.tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "mlx" if any(k.endswith(".scales") for k in tensors)
                              else "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_folder(folder, config, tok, tok_config, tensors, shards):
    os.makedirs(folder, exist_ok=True)
    names = sorted(tensors)
    weight_map = {}
    for s in range(shards):
        part = names[s::shards]
        fname = "model.safetensors" if shards == 1 else \
            f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        write_safetensors(os.path.join(folder, fname), {n: tensors[n] for n in part})
        weight_map.update({n: fname for n in part})
    if shards > 1:
        with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=1, sort_keys=True)
    for name, obj in (("config.json", config), ("tokenizer.json", tok),
                      ("tokenizer_config.json", tok_config)):
        with open(os.path.join(folder, name), "w") as f:
            json.dump(obj, f, indent=1, sort_keys=True, ensure_ascii=False)


# Tiny Gemma 3 (`gemma3`, as convert_hf_to_gguf.py's Gemma3Model writes it): 6 layers so that
# one (layer 5) is global and five slide, a window of 8 tokens (shorter than the tests' inputs),
# a head size other than n_embd / n_head, tied output. Norms are 1 + w (stored as the GGUF has them).
GEMMA3 = {"n_layers": 6, "n_embd": 256, "n_ff": 512, "n_head": 4, "n_head_kv": 2, "head_dim": 128,
          "sliding_window": 8, "rope_base": 1000000.0, "rope_base_swa": 10000.0, "eps": 1e-6,
          "n_ctx": 512}


def write_tiny_gemma3_gguf(path, seed=8000):
    """A random-weight F16 gemma3 GGUF with make_tiny_models.py's byte-level BPE vocabulary."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import make_tiny_models as tm
    g = GEMMA3
    rng = np.random.default_rng(seed)
    tokens, types = tm.vocab()
    w = gguf.GGUFWriter(path, "gemma3")
    w.add_name("tiny-gemma3-F16")
    w.add_context_length(g["n_ctx"])
    w.add_embedding_length(g["n_embd"])
    w.add_block_count(g["n_layers"])
    w.add_feed_forward_length(g["n_ff"])
    w.add_head_count(g["n_head"])
    w.add_head_count_kv(g["n_head_kv"])
    w.add_key_length(g["head_dim"])
    w.add_value_length(g["head_dim"])
    w.add_rope_freq_base(g["rope_base"])
    w.add_layer_norm_rms_eps(g["eps"])
    w.add_sliding_window(g["sliding_window"])
    w.add_file_type(int(gguf.LlamaFileType.MOSTLY_F16))
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(tm.MERGES)
    w.add_bos_token_id(len(tokens) - 1)
    w.add_eos_token_id(len(tokens) - 1)
    w.add_add_bos_token(False)

    def mat(name, rows, cols, std):
        w.add_tensor(name, (rng.standard_normal((rows, cols)) * std).astype(np.float16))

    def norm(name, n):
        w.add_tensor(name, (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32))

    e, hd = g["n_embd"], g["head_dim"]
    q_dim, kv_dim = g["n_head"] * hd, g["n_head_kv"] * hd
    # Smaller than make_tiny_models.py's EMBD_STD: Gemma multiplies embeddings by sqrt(n_embd), and
    # the tied output would otherwise make the random model so sure of itself (log-perplexity ~34)
    # that 4-bit quantization barely moves its perplexity.
    mat("token_embd.weight", len(tokens), e, tm.EMBD_STD / 2)
    for i in range(g["n_layers"]):
        b = f"blk.{i}."
        norm(b + "attn_norm.weight", e)
        mat(b + "attn_q.weight", q_dim, e, e ** -0.5)
        mat(b + "attn_k.weight", kv_dim, e, e ** -0.5)
        mat(b + "attn_v.weight", kv_dim, e, e ** -0.5)
        norm(b + "attn_q_norm.weight", hd)
        norm(b + "attn_k_norm.weight", hd)
        mat(b + "attn_output.weight", e, q_dim, q_dim ** -0.5)
        norm(b + "post_attention_norm.weight", e)
        norm(b + "ffn_norm.weight", e)
        mat(b + "ffn_gate.weight", g["n_ff"], e, e ** -0.5)
        mat(b + "ffn_up.weight", g["n_ff"], e, e ** -0.5)
        mat(b + "ffn_down.weight", e, g["n_ff"], g["n_ff"] ** -0.5)
        norm(b + "post_ffw_norm.weight", e)
    norm("output_norm.weight", e)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def llama3_rope_scaling(names):
    """Llama 3.1's rope_scaling for a GGUF with rope_freqs (tiny-llama3: make_tiny_models.py's
    LLAMA3_ROPE, which the GGUF holds only baked into rope_freqs), else None."""
    if "rope_freqs.weight" not in names:
        return None
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import make_tiny_models as tm
    return dict(tm.LLAMA3_ROPE, rope_type="llama3")


def write_mlx_folders(outdir, name, config, tok, tok_config, tensors, keep_f32=lambda k: False):
    """<name>-mlx-4bit (every matrix, or stack of them, whose rows are whole groups quantized;
    other tensors f16, or f32 where keep_f32) and <name>-mlx-4bit-ref (its dequantized f32 copy)."""
    q, ref = {}, {}
    for k, v in tensors.items():
        if v.ndim >= 2 and v.shape[-1] % GROUP == 0 and not keep_f32(k):
            base = k[:-len(".weight")]
            packed, scale, bias = quantize(v.reshape(-1, v.shape[-1]))
            lead = v.shape[:-1]
            q[k] = packed.reshape(*lead, -1)
            q[base + ".scales"] = scale.reshape(*lead, -1)
            q[base + ".biases"] = bias.reshape(*lead, -1)
            ref[k] = dequantize(packed, scale, bias).reshape(v.shape)
        else:
            q[k] = v.astype(np.float32 if keep_f32(k) else np.float16)
            ref[k] = q[k].astype(np.float32)
    qconfig = dict(config, quantization={"group_size": GROUP, "bits": BITS},
                   quantization_config={"group_size": GROUP, "bits": BITS})
    write_folder(os.path.join(outdir, f"{name}-mlx-4bit"), qconfig, tok, tok_config, q, 1)
    write_folder(os.path.join(outdir, f"{name}-mlx-4bit-ref"), config, tok, tok_config, ref, 1)


def deepseek2_folders(a, r, hp, field, get, names, tokens, types, merges, pre, eos):
    """DeepSeek-V2 (tiny-deepseek2*-F16.gguf): the inverse of DeepseekV2Model's conversion.
    attn_k_b [head][kv_lora][nope] and attn_v_b [head][v][kv_lora] join back into kv_b_proj
    [head * (nope + v), kv_lora]; the stacked ffn_*_exps become per-expert mlp.experts.E.*
    (HF) or stay stacked as mlp.switch_mlp.* (MLX, with [expert][out][in / 8] weights and
    [expert][out][in / 64] scales/biases, as mlx-lm's sanitize() stores them). The router
    (mlp.gate, not an nn.Linear in mlx-lm) stays float; kv_b_proj is quantized like any linear."""
    n_layers, n_head = hp("block_count"), hp("attention.head_count")
    kv_lora, rope = hp("attention.kv_lora_rank"), hp("rope.dimension_count")
    nope = hp("attention.key_length_mla") - rope
    v_dim = hp("attention.value_length_mla")
    n_exp, n_shared = hp("expert_count"), hp("expert_shared_count")
    q_lora = hp("attention.q_lora_rank") if "deepseek2.attention.q_lora_rank" in r.fields else None
    lead = hp("leading_dense_block_count")
    hf, mlx_stacks = {}, {}
    hf["model.embed_tokens.weight"] = get("token_embd.weight")
    hf["model.norm.weight"] = get("output_norm.weight")
    hf["lm_head.weight"] = get("output.weight")
    for i in range(n_layers):
        b, h = f"blk.{i}.", f"model.layers.{i}."
        hf[h + "input_layernorm.weight"] = get(b + "attn_norm.weight")
        if q_lora:
            hf[h + "self_attn.q_a_proj.weight"] = get(b + "attn_q_a.weight")
            hf[h + "self_attn.q_a_layernorm.weight"] = get(b + "attn_q_a_norm.weight")
            hf[h + "self_attn.q_b_proj.weight"] = get(b + "attn_q_b.weight")
        else:
            hf[h + "self_attn.q_proj.weight"] = get(b + "attn_q.weight")
        hf[h + "self_attn.kv_a_proj_with_mqa.weight"] = get(b + "attn_kv_a_mqa.weight")
        hf[h + "self_attn.kv_a_layernorm.weight"] = get(b + "attn_kv_a_norm.weight")
        k_b = get(b + "attn_k_b.weight")  # [head][kv_lora][nope]
        v_b = get(b + "attn_v_b.weight")  # [head][v][kv_lora]
        hf[h + "self_attn.kv_b_proj.weight"] = np.concatenate(
            [k_b.transpose(0, 2, 1), v_b], axis=1).reshape(n_head * (nope + v_dim), kv_lora)
        hf[h + "self_attn.o_proj.weight"] = get(b + "attn_output.weight")
        hf[h + "post_attention_layernorm.weight"] = get(b + "ffn_norm.weight")
        if i < lead:
            for p in ("gate", "up", "down"):
                hf[h + f"mlp.{p}_proj.weight"] = get(b + f"ffn_{p}.weight")
            continue
        hf[h + "mlp.gate.weight"] = get(b + "ffn_gate_inp.weight")
        for p in ("gate", "up", "down"):
            stack = get(b + f"ffn_{p}_exps.weight")
            mlx_stacks[h + f"mlp.switch_mlp.{p}_proj.weight"] = stack
            for e in range(n_exp):
                hf[h + f"mlp.experts.{e}.{p}_proj.weight"] = stack[e]
            if n_shared:
                hf[h + f"mlp.shared_experts.{p}_proj.weight"] = get(b + f"ffn_{p}_shexp.weight")
    yarn_log_mul = float(np.float32(hp("rope.scaling.yarn_log_multiplier")))
    config = {
        "architectures": ["DeepseekV2ForCausalLM"], "model_type": "deepseek_v2",
        "hidden_size": hp("embedding_length"), "intermediate_size": hp("feed_forward_length"),
        "moe_intermediate_size": hp("expert_feed_forward_length"),
        "num_hidden_layers": n_layers, "num_attention_heads": n_head,
        "num_key_value_heads": n_head, "n_routed_experts": n_exp, "n_shared_experts": n_shared,
        "num_experts_per_tok": hp("expert_used_count"), "first_k_dense_replace": lead,
        "moe_layer_freq": 1, "kv_lora_rank": kv_lora, "q_lora_rank": q_lora,
        "qk_rope_head_dim": rope, "qk_nope_head_dim": nope, "v_head_dim": v_dim,
        "routed_scaling_factor": float(hp("expert_weights_scale")), "norm_topk_prob": False,
        "topk_method": "greedy", "scoring_func": "softmax",
        "max_position_embeddings": hp("context_length"),
        "rms_norm_eps": float(np.float32(hp("attention.layer_norm_rms_epsilon"))),
        "rope_theta": float(hp("rope.freq_base")),
        "rope_scaling": {"type": "yarn", "factor": float(hp("rope.scaling.factor")),
                         "original_max_position_embeddings":
                             hp("rope.scaling.original_context_length"),
                         "beta_fast": 32, "beta_slow": 1, "mscale": yarn_log_mul / 0.1,
                         "mscale_all_dim": yarn_log_mul / 0.1},
        "tie_word_embeddings": False, "vocab_size": len(tokens), "torch_dtype": "float16",
        "bos_token_id": field("tokenizer.ggml.bos_token_id"),
        "eos_token_id": field("tokenizer.ggml.eos_token_id"), "hidden_act": "silu",
    }
    name = field("general.name").replace("-F16", "")
    tok = byte_level_tokenizer(tokens, types, merges, pre)
    tok_config = {"add_bos_token": False, "bos_token": eos, "eos_token": eos}
    write_folder(os.path.join(a.outdir, f"{name}-hf-f16"), config, tok, tok_config, hf, 2)
    mlx = {k: v for k, v in hf.items() if ".mlp.experts." not in k}
    mlx.update(mlx_stacks)
    write_mlx_folders(a.outdir, name, config, tok, tok_config, mlx,
                      keep_f32=lambda k: k.endswith("mlp.gate.weight"))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gguf")
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--write-gemma3-gguf", action="store_true",
                    help="write the tiny gemma3 F16 GGUF to the path given (the input of a later run)")
    a = ap.parse_args()
    if a.write_gemma3_gguf:
        write_tiny_gemma3_gguf(a.gguf)
        return 0
    r = gguf.GGUFReader(a.gguf)

    def field(k):
        f = r.fields[k]
        return f.contents()

    arch = field("general.architecture")
    assert arch in ("llama", "qwen2", "qwen3", "gemma3", "deepseek2"), arch
    pre = field("tokenizer.ggml.pre")
    assert pre in ("gpt-2", "qwen2", "deepseek-coder", "llama-bpe"), pre
    family = field("general.name").replace("-F16", "")  # tiny-<family>

    def hp(k):
        return field(f"{arch}.{k}")

    n_head, n_head_kv = hp("attention.head_count"), hp("attention.head_count_kv")
    # Only llama's Q/K rows are permuted by convert_hf_to_gguf.py; Qwen's are HF's as they are.
    qk = unpermute if arch == "llama" else (lambda w, n: w)
    # Gemma's RMSNorm scales by 1 + w: HF stores w, the converter writes 1 + w (exact in f32 for
    # these weights, all in [0.5, 2]).
    norm = (lambda w: w - np.float32(1)) if arch == "gemma3" else (lambda w: w)
    tokens = field("tokenizer.ggml.tokens")
    types = field("tokenizer.ggml.token_type")
    merges = field("tokenizer.ggml.merges")
    eos = tokens[field("tokenizer.ggml.eos_token_id")]
    names = {t.name: t for t in r.tensors}
    hf = {}

    def get(name):
        t = names[name]
        return np.array(t.data).reshape([int(x) for x in reversed(t.shape)])

    tied = "output.weight" not in names
    if arch == "deepseek2":
        return deepseek2_folders(a, r, hp, field, get, names, tokens, types, merges, pre, eos)
    hf["model.embed_tokens.weight"] = get("token_embd.weight")
    hf["model.norm.weight"] = norm(get("output_norm.weight"))
    if not tied:
        hf["lm_head.weight"] = get("output.weight")
    n_layers = hp("block_count")
    for i in range(n_layers):
        b, h = f"blk.{i}.", f"model.layers.{i}."
        hf[h + "input_layernorm.weight"] = norm(get(b + "attn_norm.weight"))
        hf[h + "self_attn.q_proj.weight"] = qk(get(b + "attn_q.weight"), n_head)
        hf[h + "self_attn.k_proj.weight"] = qk(get(b + "attn_k.weight"), n_head_kv)
        if arch == "qwen2":
            for p in "qkv":
                hf[h + f"self_attn.{p}_proj.bias"] = get(b + f"attn_{p}.bias")
        if arch in ("qwen3", "gemma3"):
            hf[h + "self_attn.q_norm.weight"] = norm(get(b + "attn_q_norm.weight"))
            hf[h + "self_attn.k_norm.weight"] = norm(get(b + "attn_k_norm.weight"))
        hf[h + "self_attn.v_proj.weight"] = get(b + "attn_v.weight")
        hf[h + "self_attn.o_proj.weight"] = get(b + "attn_output.weight")
        if arch == "gemma3":  # sandwich norms: post-attention, pre- and post-FFN
            hf[h + "post_attention_layernorm.weight"] = norm(get(b + "post_attention_norm.weight"))
            hf[h + "pre_feedforward_layernorm.weight"] = norm(get(b + "ffn_norm.weight"))
            hf[h + "post_feedforward_layernorm.weight"] = norm(get(b + "post_ffw_norm.weight"))
        else:
            hf[h + "post_attention_layernorm.weight"] = get(b + "ffn_norm.weight")
        hf[h + "mlp.gate_proj.weight"] = get(b + "ffn_gate.weight")
        hf[h + "mlp.up_proj.weight"] = get(b + "ffn_up.weight")
        hf[h + "mlp.down_proj.weight"] = get(b + "ffn_down.weight")
    # Matrices are F16 in the GGUF and stay so; norms stay F32 (the GGUF's), so this folder holds
    # exactly the GGUF's values. The MLX folders store norms in f16, as mlx-lm does.

    head_dim = hp("attention.key_length") if f"{arch}.attention.key_length" in r.fields \
        else hp("rope.dimension_count")
    config = {
        "architectures": [{"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM",
                           "qwen3": "Qwen3ForCausalLM", "gemma3": "Gemma3ForCausalLM"}[arch]],
        "model_type": "gemma3_text" if arch == "gemma3" else arch,
        "hidden_size": hp("embedding_length"),
        "intermediate_size": hp("feed_forward_length"),
        "head_dim": head_dim,
        "num_hidden_layers": n_layers, "num_attention_heads": n_head,
        "num_key_value_heads": n_head_kv,
        "max_position_embeddings": hp("context_length"),
        "rms_norm_eps": float(np.float32(hp("attention.layer_norm_rms_epsilon"))),
        "rope_theta": float(hp("rope.freq_base")), "rope_scaling": llama3_rope_scaling(names),
        "tie_word_embeddings": tied, "vocab_size": len(tokens), "torch_dtype": "float16",
        "bos_token_id": field("tokenizer.ggml.bos_token_id"),
        "eos_token_id": field("tokenizer.ggml.eos_token_id"),
        "hidden_act": "silu",
    }
    if arch == "gemma3":
        config.update(hidden_activation="gelu_pytorch_tanh", query_pre_attn_scalar=head_dim,
                      sliding_window=hp("attention.sliding_window"),
                      sliding_window_pattern=6, rope_local_base_freq=GEMMA3["rope_base_swa"],
                      final_logit_softcapping=None, attn_logit_softcapping=None)
        del config["hidden_act"]
        # The multimodal layout (Gemma3ForConditionalGeneration, as google/gemma-3-12b-it and
        # mlx-community's Gemma 3 4-bit ship): text hparams under text_config, tensors under
        # language_model.; the MLX folders use it, the f16 folder the text-only one.
        mm_config = {"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
                     "text_config": dict(config, model_type="gemma3_text"),
                     "vision_config": {"model_type": "siglip_vision_model"}}
    tok = byte_level_tokenizer(tokens, types, merges, pre)
    tok_config = {"add_bos_token": False, "bos_token": eos, "eos_token": eos,
                  "chat_template": "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}"
                                   "{% endfor %}{% if add_generation_prompt %}<|assistant|>"
                                   "{% endif %}"}
    write_folder(os.path.join(a.outdir, f"{family}-hf-f16"), config, tok, tok_config, hf, 2)

    if arch == "gemma3":
        config = mm_config
        hf = {"language_model." + k: v for k, v in hf.items()}
        # A vision tensor the loader must skip.
        hf["vision_tower.vision_model.post_layernorm.weight"] = np.ones(64, np.float32)
    write_mlx_folders(a.outdir, family, config, tok, tok_config, hf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
