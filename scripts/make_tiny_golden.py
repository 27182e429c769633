#!/usr/bin/env python3
"""Golden fixtures for the tiny random-weight models (scripts/make_tiny_models.py), with llama.cpp
(llama-cpp-python) as the oracle, in the format of scripts/make_golden.py: per sequence the top-5
logits at every position (teacher forcing, one batch), llama.cpp's own top-1 when decoding one
token at a time, and a greedy continuation with the top-1/top-2 gap of each step. The sequences
are fixed random token ids (the tiny vocabulary has no meaningful text). Rerun after changing the
tiny models:

    .venv/bin/python scripts/make_tiny_models.py models/tiny
    .venv/bin/python scripts/make_tiny_golden.py models/tiny tests/data/golden [--models tiny-qwen3-F16]

Writes tests/data/golden/tiny-<family>-<dtype>.json for every file make_tiny_models.py writes
(or only the --models named).
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_tiny_models import FAMILIES  # noqa: E402

NAMES = [f"tiny-{fam.name}-{dt[0]}" for fam in FAMILIES for dt in fam.dtypes]
SEQ_LENS = [80, 96, 96]  # 272 teacher-forced positions per model
N_CTX = 512


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def one_model(model, out, greedy_n, threads):
    import llama_cpp
    from llama_cpp import Llama

    llm = Llama(model_path=model, n_ctx=N_CTX, n_batch=512, n_threads=threads, logits_all=True,
                verbose=False, seed=0)
    solo = Llama(model_path=model, n_ctx=N_CTX, n_batch=1, n_ubatch=1, n_threads=threads,
                 logits_all=True, verbose=False, seed=0)
    n_vocab = llm.n_vocab()
    rng = np.random.default_rng(7)  # the same sequences for every model
    cases, decisive, self_agree, positions = [], 0, 0, 0
    for n in SEQ_LENS:
        ids = [int(t) for t in rng.integers(0, n_vocab - 1, n)]  # any token but <|endoftext|>
        llm.reset()
        llm.eval(ids)
        scores = np.array(llm.scores[:n], dtype=np.float32)
        top = []
        for row in scores:
            idx = np.argsort(-row, kind="stable")[:5]
            top.append([[int(i), round(float(row[i]), 5)] for i in idx])
            decisive += row[idx[0]] - row[idx[1]] >= 0.25
        # Greedy continuation; a random model has no end of text, so it never stops early.
        out_ids, gaps = [], []
        for _ in range(greedy_n):
            row = llm.scores[llm.n_tokens - 1]
            nxt = int(np.argmax(row))
            out_ids.append(nxt)
            gaps.append(round(float(row[nxt] - np.partition(row, -2)[-2]), 4))
            llm.eval([nxt])
        solo.reset()
        self_top1 = []
        for t in ids:
            solo.eval([t])
            self_top1.append(int(np.argmax(solo.scores[solo.n_tokens - 1])))
        self_agree += sum(a == r[0][0] for a, r in zip(self_top1, top))
        positions += n
        cases.append({"tokens": ids, "top5": top, "greedy": out_ids, "greedy_gap": gaps,
                      "decode_path_top1": self_top1})
    golden = {
        "reference": f"llama-cpp-python {llama_cpp.__version__}",
        "settings": {"n_ctx": N_CTX, "n_batch": 512, "threads": threads, "kv": "f16 (default)"},
        "model": os.path.basename(model),
        "model_sha256": sha256(model),
        "model_bytes": os.path.getsize(model),
        "cases": cases,
    }
    with open(out, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")
    print(f"{os.path.basename(out)}: {positions} positions, {decisive} decisive, decode path "
          f"agrees {self_agree}/{positions}, {os.path.getsize(out)} bytes", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--models", nargs="*", default=NAMES, help="tiny-<family>-<dtype> names")
    ap.add_argument("--greedy", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    for name in args.models:
        one_model(os.path.join(args.model_dir, f"{name}.gguf"),
                  os.path.join(args.out_dir, f"{name}.json"), args.greedy, args.threads)


if __name__ == "__main__":
    main()
