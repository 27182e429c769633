#!/usr/bin/env python3
"""llama.cpp against itself: max |dlogit| over the batched path's top-5 between its batched and
its one-token-at-a-time paths, per prompt of a make_golden.py prompt set. This is the yardstick
for the f16 |dlogit| bound of the golden tests (docs/correctness.md):

    .venv/bin/python scripts/golden_self_delta.py models/gemma-3-270m-q4_k_m.gguf gemma
"""
import importlib.util
import os
import sys

import numpy as np


def main():
    model, prompt_set = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "default"
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("make_golden", os.path.join(here, "make_golden.py"))
    mg = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mg)
    from llama_cpp import Llama

    common = dict(model_path=model, n_ctx=2048, n_threads=2, logits_all=True, verbose=False, seed=0)
    llm = Llama(n_batch=512, **common)
    solo = Llama(n_batch=1, n_ubatch=1, **common)
    overall = 0.0
    for text in mg.PROMPT_SETS[prompt_set]:
        ids = llm.tokenize(text.encode("utf-8"), add_bos=llm._model.add_bos_token(), special=True)
        llm.reset()
        llm.eval(ids)
        batched = np.array(llm.scores[: len(ids)])
        solo.reset()
        worst = 0.0
        for p, t in enumerate(ids):
            solo.eval([t])
            row = np.array(solo.scores[solo.n_tokens - 1])
            top = np.argsort(-batched[p], kind="stable")[:5]
            worst = max(worst, float(np.max(np.abs(batched[p][top] - row[top]))))
        overall = max(overall, worst)
        print(f"{len(ids):4d} tokens: max |dlogit| (top-5) {worst:.4f}", flush=True)
    print(f"overall {overall:.4f}")


if __name__ == "__main__":
    main()
