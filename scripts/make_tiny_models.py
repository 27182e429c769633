#!/usr/bin/env python3
"""Write tiny random-weight GGUF files for the golden tests of formats and architectures we have no
real model for (tests/models/tiny_golden_test.cpp, scripts/make_tiny_golden.py): per family
(`llama` in every weight dtype; `llama3`, `qwen2`, `qwen3` in a float and a K-quant dtype;
`deepseek2`, `qwen3moe` in F16 and Q8_0; `gptoss` with MXFP4 experts) a file tiny-<family>-<dtype>.gguf with the metadata and tensor names
llama.cpp's converter writes for it.

Deterministic (fixed seeds, gguf-py's writer and quantizers): every run writes the same bytes, and
tests/data/golden/tiny-models.sha256 records them. `--check` regenerates into a temporary folder
and compares, so a change in gguf-py (or here) that would invalidate the fixtures is caught:

    .venv/bin/python scripts/make_tiny_models.py models/tiny
    .venv/bin/python scripts/make_tiny_models.py --check
"""
import argparse
import hashlib
import os
import sys
import tempfile

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q

SHA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                        "golden", "tiny-models.sha256")

# Shape: K-quant rows must be multiples of 256 elements, and ffn_down rows are n_ff long.
N_EMBD, N_FF, N_HEAD, N_HEAD_KV, N_LAYERS, N_CTX = 256, 512, 4, 2, 2, 512
HEAD_DIM = N_EMBD // N_HEAD
ROPE_BASE, NORM_EPS = 10000.0, 1e-5

# Per file: weight dtype of every layer matrix, dtype of token_embd, and of output.weight
# (None = tied to token_embd). Tied and untied outputs, and embeddings in the same dtype as the
# layers or another one, are each covered by several files.
LLAMA_DTYPES = [
    ("F32", Q.F32, Q.F32, Q.F32),
    ("F16", Q.F16, Q.F16, None),
    ("BF16", Q.BF16, Q.BF16, Q.F16),
    ("Q8_0", Q.Q8_0, Q.Q8_0, None),
    ("Q4_0", Q.Q4_0, Q.Q8_0, Q.Q4_0),
    ("Q4_1", Q.Q4_1, Q.Q4_1, None),
    ("Q5_0", Q.Q5_0, Q.F16, Q.Q8_0),
    ("Q5_1", Q.Q5_1, Q.Q5_1, Q.Q5_1),
    ("Q4_K", Q.Q4_K, Q.Q4_K, Q.Q6_K),
    ("Q5_K", Q.Q5_K, Q.Q5_K, None),
    ("Q6_K", Q.Q6_K, Q.Q8_0, Q.Q6_K),
]
# The other families: a float file (tight bounds) and a K-quant one laid out like a Q4_K_M file.
FAMILY_DTYPES = [("F16", Q.F16, Q.F16, None), ("Q4_K", Q.Q4_K, Q.Q4_K, Q.Q6_K)]


class Family:
    """What a family's files carry beyond the `llama` layout. llama3: Llama 3.1's rope scaling,
    baked by convert_hf_to_gguf.py (LlamaModel.generate_extra_tensors) into an F32 rope_freqs
    tensor that divides each rotary frequency; qwen2: q/k/v biases, NEOX RoPE; qwen3: per-head
    RMSNorm of q and k (attn_q_norm / attn_k_norm [head_dim]) and a head size other than
    n_embd / n_head (attention.key_length)."""

    def __init__(self, name, arch, pre, dtypes, seed, rope_base=ROPE_BASE, eps=NORM_EPS,
                 head_dim=HEAD_DIM, llama3_rope=None, qkv_bias=False, qk_norm=False, mla=None,
                 moe=None, n_layers=N_LAYERS):
        self.name, self.arch, self.pre, self.dtypes, self.seed = name, arch, pre, dtypes, seed
        self.rope_base, self.eps, self.head_dim = rope_base, eps, head_dim
        self.llama3_rope, self.qkv_bias, self.qk_norm = llama3_rope, qkv_bias, qk_norm
        self.mla, self.moe, self.n_layers = mla, moe, n_layers


# Llama 3.1's rope_scaling (factor 8, low_freq_factor 1, high_freq_factor 4) with the original
# context scaled down from 8192 to 128 so that, at the fixtures' positions (< 128), the scaled
# frequencies turn the vectors by up to ~1 rad less than unscaled ones: a model that ignores
# rope_freqs fails the golden test.
LLAMA3_ROPE = {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 128}

# DeepSeek-V2 (`deepseek2`) scaled down, laid out as the current converter writes it
# (DeepseekV2Model: kv_b split per head into attn_k_b / attn_v_b, key_length = kv_lora_rank + rope
# dims with one KV head, the MHA head sizes in key_length_mla / value_length_mla): MLA with a
# compressed latent, YaRN rope scaling (original context scaled down to 64 so it acts at the
# fixtures' positions), MoE with top-k softmax routing, a shared expert and leading dense layers.
# q goes through a low-rank q_a / q_a_norm / q_b as in V2. Routed weights are scaled
# (expert_weights_scale), not renormalized. deepseek2lite: V2-Lite's plain attn_q, which
# llama.cpp reads only from 27-layer files (its V2-Lite test), hence 27 layers with smaller
# experts to keep the file small; every expert is used (top-4 of 4): with top-2 routing in 26
# layers so many tokens meet a routing near-tie somewhere that llama.cpp's own one-token path
# differs from its batched one at 14 of 272 top-1s (routing is tested by `deepseek2`).
DEEPSEEK2 = {"q_lora_rank": 96, "kv_lora_rank": 64, "rope_dims": 16,
             "nope_dims": 32, "v_dims": 32, "n_expert": 4, "n_expert_used": 2,
             "n_expert_shared": 1, "expert_ff": 128, "leading_dense": 1, "weights_scale": 2.0,
             "yarn_factor": 4.0, "yarn_orig_ctx": 64, "yarn_log_mul": 0.1 * 0.707}

# Qwen3-MoE (`qwen3moe`): the qwen3 attention, every FFN a MoE of routed experts only, whose
# top-k weights llama.cpp always renormalizes (norm_topk_prob).
QWEN3MOE = {"n_expert": 4, "n_expert_used": 2, "n_expert_shared": 0, "expert_ff": 128}

DEEPSEEK2_LITE = dict(DEEPSEEK2, q_lora_rank=0, expert_ff=64, n_expert_used=4)

# OpenAI gpt-oss (`gpt-oss`), laid out as convert_hf_to_gguf.py's GptOssModel writes it: q/k/v/o
# biases, per-head attention sinks (attn_sinks.weight [n_head]), post_attention_norm before the
# MoE, router and expert biases, experts in MXFP4 (as in the released files) and the rest in
# F16; head size 32 (q_dim 128 != n_embd, as in the real model); sliding window 24 on the even
# layers (so it acts at the fixtures' positions), YaRN with the original context scaled down to
# 64. The sinks' std (SINK_STD) makes a model that ignores them far off. Seed 8500: of the seeds
# tried (8000-8500 in steps of 100), 8000, 8100 and 8200 each had one token whose 2nd and 3rd
# router logits were within ~0.1 in some layer (a routing near-tie: max |dlogit| 1.8-3.7 at that
# one token, see tiny_golden_test.cpp); 8300-8500 have none.
GPT_OSS = {"n_expert": 4, "n_expert_used": 2, "n_expert_shared": 0, "expert_ff": 128,
           "sliding_window": 24, "yarn_factor": 4.0, "yarn_orig_ctx": 64,
           "expert_dtype": Q.MXFP4}
SINK_STD = 1.5

FAMILIES = [
    Family("llama", "llama", "gpt-2", LLAMA_DTYPES, 1000),
    Family("llama3", "llama", "llama-bpe", FAMILY_DTYPES, 2000, rope_base=500000.0,
           llama3_rope=LLAMA3_ROPE),
    Family("qwen2", "qwen2", "qwen2", FAMILY_DTYPES, 3000, rope_base=1000000.0, eps=1e-6,
           qkv_bias=True),
    Family("qwen3", "qwen3", "qwen2", FAMILY_DTYPES, 4000, rope_base=1000000.0, eps=1e-6,
           head_dim=128, qk_norm=True),
    Family("deepseek2", "deepseek2", "deepseek-coder", [("F16", Q.F16, Q.F16, Q.F16),
                                                        ("Q8_0", Q.Q8_0, Q.Q8_0, Q.Q8_0)], 5000,
           eps=1e-6, mla=DEEPSEEK2, n_layers=3),
    Family("deepseek2lite", "deepseek2", "deepseek-coder", [("F16", Q.F16, Q.F16, Q.F16)],
           7000, eps=1e-6, mla=DEEPSEEK2_LITE, n_layers=27),
    Family("qwen3moe", "qwen3moe", "qwen2", [("F16", Q.F16, Q.F16, None),
                                             ("Q8_0", Q.Q8_0, Q.Q8_0, Q.Q8_0)], 6000,
           rope_base=1000000.0, eps=1e-6, head_dim=128, qk_norm=True, moe=QWEN3MOE),
    Family("gptoss", "gpt-oss", "gpt-4o", [("MXFP4", Q.F16, Q.F16, Q.F16)], 8500,
           rope_base=150000.0, head_dim=32, moe=GPT_OSS, n_layers=4),
]


def llama3_rope_factors(base, n_rot, rope):
    """rope_freqs.weight as convert_hf_to_gguf.py's LlamaModel.generate_extra_tensors computes it:
    per rotary pair i, 1 (high frequencies), `factor` (low ones) or a smooth blend between."""
    factor, low, high = rope["factor"], rope["low_freq_factor"], rope["high_freq_factor"]
    orig = rope["original_max_position_embeddings"]
    low_wavelen, high_wavelen = orig / low, orig / high
    freqs = 1.0 / (base ** (np.arange(0, n_rot, 2, dtype=np.float32) / n_rot))
    out = []
    for freq in freqs:
        wavelen = 2 * np.pi / freq
        if wavelen < high_wavelen:
            out.append(1.0)
        elif wavelen > low_wavelen:
            out.append(factor)
        else:
            smooth = (orig / wavelen - low) / (high - low)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)

# Embedding / output rows: std 0.2 over n_embd = 256 gives logits with std ~3 (decisive top-1s,
# not a near-uniform distribution).
EMBD_STD = 0.2
# q/k/v biases (qwen2): of the order of the projections' outputs (std ~1 after the RMSNorm), so
# that a model that drops them is far off.
BIAS_STD = 0.5
# deepseek2 router logits' std. The choice between the k-th and (k+1)-th expert is a discontinuity:
# where their router logits are within the Q8_0 activation noise (~1% of the hidden state by the
# last layer) llama.cpp and we may route a token differently, and its logits then differ by ~1.
# Logits of std ~6 make such near-ties rare while the second expert's weight still matters.
ROUTER_STD = 6.0


def gpt2_byte_chars():
    """GPT-2's byte -> printable unicode character table (the byte-level BPE alphabet)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + \
        list(range(0xAE, 0xFF + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


# A handful of merges; each merged token is appended to the vocabulary in this order.
MERGES = ["Ġ t", "Ġ a", "h e", "i n", "r e", "o n", "Ġt he", "e r", "Ġ s", "a t", "Ġ w", "Ġ o",
          "e n", "Ġ c", "i t", "i s", "a n", "o r", "e s", "Ġ b", "e d", "Ġ f", "in g", "Ġ p",
          "o u", "Ġa n", "a l", "a r", "Ġt o", "Ġ m", "Ġo f", "Ġ in", "Ġ d", "Ġ h", "Ġan d",
          "i c", "a s", "l e", "Ġt h", "i on", "Ġ l", "Ċ Ċ", "Ġ Ġ"]
EOS = "<|endoftext|>"


def vocab():
    table = gpt2_byte_chars()
    tokens = [table[b] for b in range(256)]
    for m in MERGES:
        a, b = m.split(" ")
        assert a in tokens and b in tokens and a + b not in tokens, m
        tokens.append(a + b)
    tokens.append(EOS)
    types = [gguf.TokenType.NORMAL] * (len(tokens) - 1) + [gguf.TokenType.CONTROL]
    return tokens, types


def k_quant_blocks(rng, qtype, rows, cols, std):
    """Random but valid Q4_K / Q5_K / Q6_K rows ([rows][bytes] uint8) whose dequantized weights
    are roughly zero-mean with the given std. gguf-py has no quantizer for these types."""
    nb = rows * cols // 256
    f16 = lambda a: np.asarray(a, dtype=np.float16).view(np.uint8).reshape(nb, 2)
    jitter = rng.uniform(0.75, 1.25, nb)  # per super-block variation of d
    if qtype in (Q.Q4_K, Q.Q5_K):
        levels = 16 if qtype == Q.Q4_K else 32
        mid = (levels - 1) / 2
        sc = rng.integers(1, 64, (nb, 8))
        # Uniform q has mean mid: dmin = d * (mid + 0.5) and m ~= sc * mid / (mid + 0.5) centre
        # each sub-block (within a few d); the +-1 jitter keeps the low bits of m random.
        m = np.clip(np.rint(sc * mid / (mid + 0.5)) + rng.integers(-1, 2, (nb, 8)), 0, 63)
        sc, m = sc.astype(np.uint8), m.astype(np.uint8)
        q_std = np.sqrt((levels ** 2 - 1) / 12.0)
        d = std / (np.sqrt(np.mean(sc.astype(np.float64) ** 2, axis=1)) * q_std) * jitter
        dmin = d * (mid + 0.5)
        s = np.zeros((nb, 12), dtype=np.uint8)  # 6-bit scales/mins, GGML's K4 packing
        s[:, 0:4] = sc[:, 0:4] | ((sc[:, 4:8] >> 4) << 6)
        s[:, 4:8] = m[:, 0:4] | ((m[:, 4:8] >> 4) << 6)
        s[:, 8:12] = (sc[:, 4:8] & 0xF) | ((m[:, 4:8] & 0xF) << 4)
        parts = [f16(d), f16(dmin), s]
        if qtype == Q.Q5_K:
            parts.append(rng.integers(0, 256, (nb, 32), dtype=np.uint8))  # qh
        parts.append(rng.integers(0, 256, (nb, 128), dtype=np.uint8))  # qs
    else:  # Q6_K: x = d * scale * (q - 32), q uniform in 0..63, signed 8-bit scales
        sc = rng.integers(-127, 128, (nb, 16)).astype(np.int8)
        q_std = np.sqrt((64 ** 2 - 1) / 12.0)
        d = std / (np.sqrt(np.mean(sc.astype(np.float64) ** 2, axis=1)) * q_std) * jitter
        parts = [rng.integers(0, 256, (nb, 128), dtype=np.uint8),  # ql
                 rng.integers(0, 256, (nb, 64), dtype=np.uint8),  # qh
                 sc.view(np.uint8), f16(d)]
    blocks = np.concatenate(parts, axis=1)
    assert blocks.shape[1] == gguf.GGML_QUANT_SIZES[qtype][1]
    return blocks.reshape(rows, -1)


def tensor(rng, qtype, rows, cols, std, n_mat=0):
    """A [rows][cols] weight (or n_mat of them stacked, [n_mat][rows][cols], when n_mat > 0) of
    dtype qtype (numpy array ready for GGUFWriter.add_tensor) and its dequantized values."""
    shape = (n_mat, rows, cols) if n_mat else (rows, cols)
    if qtype in (Q.Q4_K, Q.Q5_K, Q.Q6_K):
        assert not n_mat
        data = k_quant_blocks(rng, qtype, rows, cols, std)
    else:
        w = (rng.standard_normal(shape) * std).astype(np.float32)
        data = w if qtype == Q.F32 else gguf.quants.quantize(w, qtype)
    deq = gguf.quants.dequantize(data, qtype).reshape(shape)
    return data, deq


def write_model(path, fam, name, wtype, etype, otype, seed):
    rng = np.random.default_rng(seed)
    tokens, types = vocab()
    n_vocab = len(tokens)
    head_dim = fam.head_dim
    w = gguf.GGUFWriter(path, fam.arch)
    w.add_name(f"tiny-{fam.name}-{name}")
    w.add_context_length(N_CTX)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(fam.n_layers)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    mla = fam.mla
    if mla:
        add_mla_keys(w, mla)
    else:
        w.add_head_count_kv(N_HEAD_KV)
        if head_dim != N_EMBD // N_HEAD:
            w.add_key_length(head_dim)
            w.add_value_length(head_dim)
        w.add_rope_dimension_count(head_dim)
        if fam.moe:
            add_moe_keys(w, fam.moe)
        if fam.arch == "gpt-oss":
            w.add_sliding_window(fam.moe["sliding_window"])
            w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
            w.add_rope_scaling_factor(fam.moe["yarn_factor"])
            w.add_rope_scaling_orig_ctx_len(fam.moe["yarn_orig_ctx"])
    w.add_rope_freq_base(fam.rope_base)
    w.add_layer_norm_rms_eps(fam.eps)
    w.add_vocab_size(n_vocab)
    w.add_file_type(int(gguf.LlamaFileType.MOSTLY_MXFP4_MOE) if fam.arch == "gpt-oss"
                    else int(wtype))
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(fam.pre)
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(MERGES)
    w.add_bos_token_id(n_vocab - 1)
    w.add_eos_token_id(n_vocab - 1)
    w.add_add_bos_token(False)

    stats = []

    def add(tname, qtype, rows, cols, std, n_mat=0):
        data, deq = tensor(rng, qtype, rows, cols, std, n_mat)
        w.add_tensor(tname, data, raw_dtype=None if qtype == Q.F32 else qtype)
        stats.append((tname, float(deq.std()) / std, float(np.abs(deq.mean())) / std))

    def norm(tname, n=N_EMBD):
        w.add_tensor(tname, (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32))

    def bias(tname, n):  # F32, as the converter keeps 1-D tensors
        w.add_tensor(tname, (BIAS_STD * rng.standard_normal(n)).astype(np.float32))

    q_dim, kv_dim = N_HEAD * head_dim, N_HEAD_KV * head_dim
    add("token_embd.weight", etype, n_vocab, N_EMBD, EMBD_STD)
    if fam.llama3_rope:
        w.add_tensor("rope_freqs.weight", llama3_rope_factors(fam.rope_base, head_dim,
                                                              fam.llama3_rope))
    for i in range(fam.n_layers):
        b = f"blk.{i}."
        norm(b + "attn_norm.weight")
        if mla:
            add_mla_layer(b, wtype, mla, i >= mla["leading_dense"], add, norm)
            continue
        if fam.arch == "gpt-oss":
            add_gpt_oss_layer(rng, w, b, wtype, fam.moe, q_dim, kv_dim, add, norm, bias)
            continue
        add(b + "attn_q.weight", wtype, q_dim, N_EMBD, N_EMBD ** -0.5)
        add(b + "attn_k.weight", wtype, kv_dim, N_EMBD, N_EMBD ** -0.5)
        add(b + "attn_v.weight", wtype, kv_dim, N_EMBD, N_EMBD ** -0.5)
        if fam.qkv_bias:
            bias(b + "attn_q.bias", q_dim)
            bias(b + "attn_k.bias", kv_dim)
            bias(b + "attn_v.bias", kv_dim)
        if fam.qk_norm:
            norm(b + "attn_q_norm.weight", head_dim)
            norm(b + "attn_k_norm.weight", head_dim)
        add(b + "attn_output.weight", wtype, N_EMBD, q_dim, q_dim ** -0.5)
        norm(b + "ffn_norm.weight")
        if fam.moe:
            add_moe_ffn(b, wtype, fam.moe, add)
            continue
        add(b + "ffn_gate.weight", wtype, N_FF, N_EMBD, N_EMBD ** -0.5)
        add(b + "ffn_up.weight", wtype, N_FF, N_EMBD, N_EMBD ** -0.5)
        add(b + "ffn_down.weight", wtype, N_EMBD, N_FF, N_FF ** -0.5)
    norm("output_norm.weight")
    if otype is not None:
        add("output.weight", otype, n_vocab, N_EMBD, EMBD_STD)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return stats


def add_mla_keys(w, mla):
    """deepseek2 hparams: MLA ranks and head sizes, MoE counts, YaRN (as DeepseekV2Model writes)."""
    rope, kv_lora = mla["rope_dims"], mla["kv_lora_rank"]
    w.add_head_count_kv(1)
    w.add_key_length(kv_lora + rope)
    w.add_value_length(kv_lora)
    w.add_key_length_mla(mla["nope_dims"] + rope)
    w.add_value_length_mla(mla["v_dims"])
    w.add_rope_dimension_count(rope)
    if mla["q_lora_rank"]:
        w.add_q_lora_rank(mla["q_lora_rank"])
    w.add_kv_lora_rank(kv_lora)
    w.add_leading_dense_block_count(mla["leading_dense"])
    add_moe_keys(w, mla)
    w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    w.add_rope_scaling_factor(mla["yarn_factor"])
    w.add_rope_scaling_orig_ctx_len(mla["yarn_orig_ctx"])
    w.add_rope_scaling_yarn_log_mul(mla["yarn_log_mul"])


def add_mla_layer(b, wtype, mla, moe, add, norm):
    """One deepseek2 layer after attn_norm: MLA attention, ffn_norm, then a dense or MoE FFN."""
    rope, nope, v, kv_lora = mla["rope_dims"], mla["nope_dims"], mla["v_dims"], mla["kv_lora_rank"]
    q_dim, q_lora = N_HEAD * (nope + rope), mla["q_lora_rank"]
    if q_lora:
        add(b + "attn_q_a.weight", wtype, q_lora, N_EMBD, N_EMBD ** -0.5)
        norm(b + "attn_q_a_norm.weight", q_lora)
        add(b + "attn_q_b.weight", wtype, q_dim, q_lora, q_lora ** -0.5)
    else:  # V2-Lite
        add(b + "attn_q.weight", wtype, q_dim, N_EMBD, N_EMBD ** -0.5)
    add(b + "attn_kv_a_mqa.weight", wtype, kv_lora + rope, N_EMBD, N_EMBD ** -0.5)
    norm(b + "attn_kv_a_norm.weight", kv_lora)
    add(b + "attn_k_b.weight", wtype, kv_lora, nope, nope ** -0.5, N_HEAD)  # per head k_nope <- c
    add(b + "attn_v_b.weight", wtype, v, kv_lora, kv_lora ** -0.5, N_HEAD)  # per head v <- c
    bs = mla.get("branch_scale", 1.0)
    add(b + "attn_output.weight", wtype, N_EMBD, N_HEAD * v, bs * (N_HEAD * v) ** -0.5)
    norm(b + "ffn_norm.weight")
    if not moe:
        add(b + "ffn_gate.weight", wtype, N_FF, N_EMBD, N_EMBD ** -0.5)
        add(b + "ffn_up.weight", wtype, N_FF, N_EMBD, N_EMBD ** -0.5)
        add(b + "ffn_down.weight", wtype, N_EMBD, N_FF, bs * N_FF ** -0.5)
        return
    add_moe_ffn(b, wtype, mla, add)


def add_gpt_oss_layer(rng, w, b, wtype, moe, q_dim, kv_dim, add, norm, bias):
    """One gpt-oss layer after attn_norm: biased attention with sinks, post_attention_norm, MoE
    with router and expert biases (F32, as the converter keeps them)."""
    add(b + "attn_q.weight", wtype, q_dim, N_EMBD, N_EMBD ** -0.5)
    add(b + "attn_k.weight", wtype, kv_dim, N_EMBD, N_EMBD ** -0.5)
    add(b + "attn_v.weight", wtype, kv_dim, N_EMBD, N_EMBD ** -0.5)
    bias(b + "attn_q.bias", q_dim)
    bias(b + "attn_k.bias", kv_dim)
    bias(b + "attn_v.bias", kv_dim)
    add(b + "attn_output.weight", wtype, N_EMBD, q_dim, q_dim ** -0.5)
    bias(b + "attn_output.bias", N_EMBD)
    w.add_tensor(b + "attn_sinks.weight", (SINK_STD * rng.standard_normal(N_HEAD)).astype(np.float32))
    norm(b + "post_attention_norm.weight")
    n_exp, ff, et = moe["n_expert"], moe["expert_ff"], moe["expert_dtype"]
    add(b + "ffn_gate_inp.weight", Q.F32, n_exp, N_EMBD, ROUTER_STD * N_EMBD ** -0.5)
    bias(b + "ffn_gate_inp.bias", n_exp)
    for part, rows, cols in (("gate", ff, N_EMBD), ("up", ff, N_EMBD), ("down", N_EMBD, ff)):
        add(b + f"ffn_{part}_exps.weight", et, rows, cols, cols ** -0.5, n_exp)
        w.add_tensor(b + f"ffn_{part}_exps.bias",
                     (BIAS_STD * rng.standard_normal((n_exp, rows))).astype(np.float32))


def add_moe_keys(w, moe):
    w.add_expert_feed_forward_length(moe["expert_ff"])
    w.add_expert_count(moe["n_expert"])
    w.add_expert_used_count(moe["n_expert_used"])
    if moe["n_expert_shared"]:
        w.add_expert_shared_count(moe["n_expert_shared"])
    if moe.get("weights_scale"):
        w.add_expert_weights_scale(moe["weights_scale"])


def add_moe_ffn(b, wtype, moe, add):
    """A MoE FFN after ffn_norm: router, stacked experts, shared experts (if any)."""
    n_exp, ff, shared_ff = moe["n_expert"], moe["expert_ff"], moe["expert_ff"] * moe["n_expert_shared"]
    bs = moe.get("branch_scale", 1.0)
    # Router kept in F32 (llama-quantize never quantizes ffn_gate_inp); see ROUTER_STD.
    add(b + "ffn_gate_inp.weight", Q.F32, n_exp, N_EMBD, ROUTER_STD * N_EMBD ** -0.5)
    add(b + "ffn_gate_exps.weight", wtype, ff, N_EMBD, N_EMBD ** -0.5, n_exp)
    add(b + "ffn_up_exps.weight", wtype, ff, N_EMBD, N_EMBD ** -0.5, n_exp)
    add(b + "ffn_down_exps.weight", wtype, N_EMBD, ff, bs * ff ** -0.5, n_exp)
    if shared_ff:
        add(b + "ffn_gate_shexp.weight", wtype, shared_ff, N_EMBD, N_EMBD ** -0.5)
        add(b + "ffn_up_shexp.weight", wtype, shared_ff, N_EMBD, N_EMBD ** -0.5)
        add(b + "ffn_down_shexp.weight", wtype, N_EMBD, shared_ff, bs * shared_ff ** -0.5)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def generate(outdir, verbose, families=None):
    os.makedirs(outdir, exist_ok=True)
    sums = {}
    for fam in FAMILIES:
        if families and fam.name not in families:
            continue
        for seed, (name, wtype, etype, otype) in enumerate(fam.dtypes):
            fname = f"tiny-{fam.name}-{name}.gguf"
            path = os.path.join(outdir, fname)
            stats = write_model(path, fam, name, wtype, etype, otype, fam.seed + seed)
            sums[fname] = sha256(path)
            if verbose:
                dev = max(abs(s[1] - 1) for s in stats)
                bias = max(s[2] for s in stats)
                print(f"{fname}: {os.path.getsize(path)} bytes, embd {etype.name}, output "
                      f"{'tied' if otype is None else otype.name}; dequantized weight std within "
                      f"{100 * dev:.0f}% of target, |mean| <= {bias:.3f} std", file=sys.stderr)
    return sums


def read_sums():
    sums = {}
    with open(SHA_FILE) as f:
        for line in f:
            if line.strip():
                digest, fname = line.split()
                sums[fname] = digest
    return sums


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("outdir", nargs="?", help="folder for tiny-<family>-<dtype>.gguf")
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary folder and compare with the recorded sha256s")
    ap.add_argument("--families", nargs="+", help="only these families (no --check/--write-sums)")
    ap.add_argument("--write-sums", action="store_true",
                    help=f"record the sha256s of the generated files in {SHA_FILE}")
    args = ap.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            got = generate(tmp, verbose=False)
        want = read_sums()
        bad = sorted(f for f in set(got) | set(want) if got.get(f) != want.get(f))
        for f in bad:
            print(f"MISMATCH {f}: recorded {want.get(f)}, generated {got.get(f)}", file=sys.stderr)
        print(f"{len(got) - len(bad)}/{len(got)} tiny models byte-identical to "
              f"{os.path.relpath(SHA_FILE)}", file=sys.stderr)
        return 1 if bad else 0
    if not args.outdir:
        ap.error("OUTDIR is required unless --check")
    sums = generate(args.outdir, verbose=True, families=args.families)
    if args.write_sums:
        with open(SHA_FILE, "w") as f:
            for fname in sorted(sums):
                f.write(f"{sums[fname]}  {fname}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
