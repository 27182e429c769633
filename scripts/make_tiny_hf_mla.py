#!/usr/bin/env python3
"""Write tiny DeepSeek-V2 checkpoints in newer mlx-lm's attention layout, for
tests/models/hf_checkpoint_test.cpp (DeepseekMlaSplit*): mlx-lm's deepseek_v2 sanitize() cuts
kv_b_proj [n_head * (nope + v), kv_lora] per head into self_attn.embed_q (MultiLinear
[n_head, kv_lora, nope]: the k_nope rows, transposed) and self_attn.unembed_out ([n_head, v,
kv_lora]: the v rows) and stores those instead.

  tiny-deepseek2-mla-hf-f16/        tiny-deepseek2-hf-f16 (make_tiny_hf.py) with each kv_b_proj
                                    replaced by embed_q + unembed_out (same f16 values).
  tiny-deepseek2-mla-mlx-4bit/      that, MLX 4-bit as make_tiny_hf.py's write_mlx_folders does
                                    (experts stacked as switch_mlp, router float); embed_q's rows
                                    (nope = 32) are not a whole group of 64 and stay f16, as mlx's
                                    quantize predicate leaves them; unembed_out is quantized.
  tiny-deepseek2-mla-mlx-4bit-ref/  its dequantized f32 reference.

    .venv/bin/python scripts/make_tiny_hf_mla.py models/tiny/hf models/tiny/hf-var
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tiny_hf as th  # noqa: E402
from make_hf_tokenizer_fixtures import read_safetensors  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("hfdir", help="the folder holding tiny-deepseek2-hf-f16")
    ap.add_argument("outdir")
    a = ap.parse_args()
    src = os.path.join(a.hfdir, "tiny-deepseek2-hf-f16")
    tensors = {}
    for name in sorted(os.listdir(src)):
        if name.endswith(".safetensors"):
            tensors.update(read_safetensors(os.path.join(src, name)))
    files = {}
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        with open(os.path.join(src, name), encoding="utf-8") as f:
            files[name] = json.load(f)
    config = files["config.json"]
    n_head, kv_lora = config["num_attention_heads"], config["kv_lora_rank"]
    nope, v_dim = config["qk_nope_head_dim"], config["v_head_dim"]
    out = {}
    for k, w in tensors.items():
        if not k.endswith("self_attn.kv_b_proj.weight"):
            out[k] = w
            continue
        base = k[:-len("kv_b_proj.weight")]
        per_head = w.reshape(n_head, nope + v_dim, kv_lora)
        out[base + "embed_q.weight"] = np.ascontiguousarray(per_head[:, :nope, :].swapaxes(1, 2))
        out[base + "unembed_out.weight"] = np.ascontiguousarray(per_head[:, nope:, :])
    name = "tiny-deepseek2-mla"
    th.write_folder(os.path.join(a.outdir, f"{name}-hf-f16"), config, files["tokenizer.json"],
                    files["tokenizer_config.json"], out, 2)
    # MLX: experts stacked into switch_mlp, as make_tiny_hf.py's deepseek2_folders writes them.
    mlx, stacks = {}, {}
    for k, w in out.items():
        if ".mlp.experts." not in k:
            mlx[k] = w
            continue
        layer, rest = k.split(".mlp.experts.")
        e, proj = rest.split(".", 1)
        stacks.setdefault(f"{layer}.mlp.switch_mlp.{proj}", {})[int(e)] = w
    for k, by_e in stacks.items():
        mlx[k] = np.stack([by_e[e] for e in sorted(by_e)])
    th.write_mlx_folders(a.outdir, name, config, files["tokenizer.json"],
                         files["tokenizer_config.json"], mlx,
                         keep_f32=lambda k: k.endswith("mlp.gate.weight"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
