#!/usr/bin/env python3
"""Produce golden fixtures for the model tests with llama.cpp (llama-cpp-python) as the oracle.

For each prompt it records llama.cpp's token ids, the top-5 next-token logits at every position
(teacher forcing, whole prompt in one batch), the top-1 at every position when the same tokens are
decoded one at a time (llama.cpp's own batch-vs-decode consistency, the yardstick for near-ties),
and a greedy continuation with the top-1/top-2 logit gap of each step. Run it again whenever a model or format is added:

    .venv/bin/pip install -r scripts/requirements-reference.txt
    .venv/bin/python scripts/make_golden.py models/SmolLM2-135M-Instruct.Q4_1.gguf \
        tests/data/golden/smollm2-135m-q4_1.json

With --kv-dtype q8_0 or q4_0 llama.cpp keeps its KV cache in that type (K and V; flash attention
on, which llama.cpp needs for a quantized V): the oracle for semantic's model.kv_dtype.
"""
import argparse
import hashlib
import json
import sys

import numpy as np

PROMPTS = [
    "The capital of France is",
    "Once upon a time, in a small village at the edge of a great forest, there lived an old "
    "clockmaker who had never once left the valley. Every morning he opened his shop, wound the "
    "hundred clocks that lined the walls, and waited for customers who rarely came. One winter",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    if n < 2:\n"
    "        return n\n    a, b = 0, 1\n    for _ in range(n - 1):\n        a, b = b, a + b\n"
    "    return b\n\n\ndef main():\n    for i in range(10):\n        print(i, fibonacci(i))\n",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
    "<|im_end|>\n<|im_start|>user\nGive me three tips for writing clear technical documentation."
    "<|im_end|>\n<|im_start|>assistant\n",
    "Photosynthesis is the process by which green plants and some other organisms use sunlight "
    "to synthesize foods from carbon dioxide and water. In plants, it generally involves the "
    "green pigment chlorophyll and generates oxygen as a by-product. The light reactions",
    "Shopping list for the week:\n1. 2 kg of apples\n2. 1.5 litres of milk\n3. 12 eggs\n"
    "4. 500 g of pasta\n5.",
    "La tour Eiffel est une tour de fer puddlé de 330 mètres de hauteur située à Paris, à "
    "l'extrémité nord-ouest du parc du Champ-de-Mars en bordure de la Seine. Elle",
]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--greedy", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--kv-dtype", choices=["f16", "q8_0", "q4_0"], default="f16")
    args = ap.parse_args()

    import llama_cpp
    from llama_cpp import Llama

    kv = {}
    if args.kv_dtype != "f16":
        t = {"q8_0": llama_cpp.GGML_TYPE_Q8_0, "q4_0": llama_cpp.GGML_TYPE_Q4_0}[args.kv_dtype]
        kv = {"type_k": t, "type_v": t, "flash_attn": True}
    llm = Llama(model_path=args.model, n_ctx=2048, n_batch=512, n_threads=args.threads,
                logits_all=True, verbose=False, seed=0, **kv)
    solo = Llama(model_path=args.model, n_ctx=2048, n_batch=1, n_ubatch=1, n_threads=args.threads,
                 logits_all=True, verbose=False, seed=0, **kv)
    cases = []
    for text in PROMPTS:
        ids = llm.tokenize(text.encode("utf-8"), add_bos=llm._model.add_bos_token(), special=True)
        llm.reset()
        llm.eval(ids)
        scores = np.array(llm.scores[: len(ids)], dtype=np.float32)
        top = []
        for row in scores:
            idx = np.argsort(-row, kind="stable")[:5]
            top.append([[int(i), float(row[i])] for i in idx])
        # Greedy continuation: argmax, feed back, repeat (stops at end-of-generation tokens).
        out, gaps = [], []
        for _ in range(args.greedy):
            row = llm.scores[llm.n_tokens - 1]
            nxt = int(np.argmax(row))
            if llama_cpp.llama_vocab_is_eog(llm._model.vocab, nxt):
                break
            second = np.partition(row, -2)[-2]
            out.append(nxt)
            gaps.append(round(float(row[nxt] - second), 4))
            llm.eval([nxt])
        # llama.cpp against itself: the same positions decoded one token at a time.
        solo.reset()
        self_top1 = []
        for t in ids:
            solo.eval([t])
            self_top1.append(int(np.argmax(solo.scores[solo.n_tokens - 1])))
        cases.append({"text": text, "tokens": [int(t) for t in ids], "top5": top,
                      "greedy": out, "greedy_gap": gaps, "decode_path_top1": self_top1})
        print(f"{len(ids):4d} tokens, greedy: {llm.detokenize(out).decode('utf-8', 'replace')!r}",
              file=sys.stderr)
    golden = {
        "reference": f"llama-cpp-python {llama_cpp.__version__}",
        "settings": {"n_ctx": 2048, "n_batch": 512, "threads": args.threads,
                     "kv": "f16 (default)" if args.kv_dtype == "f16"
                     else f"{args.kv_dtype} K and V, flash attention"},
        "model_sha256": sha256(args.model),
        "cases": cases,
    }
    with open(args.out, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {args.out}: {sum(len(c['tokens']) for c in cases)} positions", file=sys.stderr)


if __name__ == "__main__":
    main()
