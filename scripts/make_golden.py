#!/usr/bin/env python3
"""Produce golden fixtures for the model tests with llama.cpp (llama-cpp-python) as the oracle.

For each prompt it records llama.cpp's token ids, the top-5 next-token logits at every position
(teacher forcing, whole prompt in one batch), the top-1 at every position when the same tokens are
decoded one at a time (llama.cpp's own batch-vs-decode consistency, the yardstick for near-ties),
and a greedy continuation with the top-1/top-2 logit gap of each step. Run it again whenever a model or format is added:

    .venv/bin/pip install -r scripts/requirements-reference.txt
    .venv/bin/python scripts/make_golden.py models/SmolLM2-135M-Instruct.Q4_1.gguf \
        tests/data/golden/smollm2-135m-q4_1.json

With --prompts gemma the SmolLM2 chat prompt is replaced by a Gemma chat turn and a prompt longer
than Gemma 3's 512-token sliding window is added (positions past the window exercise the local
layers' masking):

    .venv/bin/python scripts/make_golden.py --prompts gemma models/gemma-3-270m-q4_k_m.gguf \
        tests/data/golden/gemma-3-270m-q4_k_m.json

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

# Longer than 512 tokens with Gemma's tokenizer (about 700), so that later positions see only part
# of the context in the sliding-window layers.
LONG_PROMPT = (
    "The history of the lighthouse keeper's logbook\n\n"
    "For more than a century the lighthouse on the northern cape was tended by a succession of "
    "keepers, each of whom kept a logbook of the weather, the ships that passed and the small "
    "events of life on the rock. The first keeper, a former sailor named Thomas Reid, wrote in a "
    "careful hand about the fog that rolled in every evening in late summer, the storms of "
    "October that shook the lantern room, and the seabirds that nested on the ledges below the "
    "gallery. He recorded the oil consumed each night, the hours the lamp was lit and "
    "extinguished, and the names of the supply boats that brought coal, flour and letters from "
    "the mainland. When the weather was calm he walked the path around the island and counted "
    "the seals on the southern rocks; when it was not, he polished the brass and trimmed the "
    "wicks and wrote long entries about the sea.\n\n"
    "His successor, Margaret Hale, had grown up in the village on the mainland and knew the "
    "fishermen by name. Her entries are shorter but full of detail: which boats went out before "
    "dawn, which came back late, and what they caught. She noted the first frost of each year, "
    "the day the swallows left, and the day they returned. In the winter of the great storm she "
    "wrote that the waves broke over the gallery rail, forty metres above the sea, and that the "
    "keeper's cottage was flooded to the height of the kitchen table. She kept the light burning "
    "through three nights without sleep, and the logbook for those days is stained with salt "
    "water and lamp oil.\n\n"
    "In the years that followed the light was converted from oil to paraffin vapour, then to "
    "electricity, and finally to an automatic beacon that needed no keeper at all. Each change "
    "is recorded in the logbook: the engineers who came to install the new equipment, the "
    "trials of the new lamp, the complaints about the noise of the generator. The last keeper, "
    "a quiet man called David Morrow, wrote his final entry on a clear spring morning. He "
    "described the sunrise over the headland, the colour of the water, the gannets diving "
    "offshore, and the small boat that came to take him and his belongings to the mainland. He "
    "wrote that the light would go on shining without him, and that he hoped whoever read the "
    "logbook in the future would understand what it had meant to keep it.\n\n"
    "Today the logbooks are kept in the county archive, where historians use them to study "
    "changes in the climate, the decline of the fishing fleet and the daily life of a remote "
    "community. The entries about the weather have proved especially valuable: because the "
    "keepers recorded the wind, the temperature and the state of the sea at the same hours "
    "every day for more than a hundred years, their notes form one of the longest continuous "
    "weather records on this part of the coast. Researchers have compared them with modern "
    "measurements and found that the autumn storms now arrive later in the year, that the "
    "winters are milder, and that the fog of late summer has become less frequent.\n\n"
    "The archive has recently begun to transcribe the logbooks so that anyone can read them. "
    "Volunteers from the village, many of them descendants of the fishermen mentioned in "
    "Margaret Hale's entries, have spent evenings deciphering the faded handwriting. One of "
    "them said that reading the logbooks felt like listening to a conversation that had lasted "
    "a hundred years. When the transcription is finished, the archive plans to"
)

PROMPT_SETS = {
    "default": PROMPTS,
    "gemma": PROMPTS[:3] + [
        "<start_of_turn>user\nGive me three tips for writing clear technical documentation."
        "<end_of_turn>\n<start_of_turn>model\n"] + PROMPTS[4:] + [LONG_PROMPT],
}


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
    ap.add_argument("--prompts", choices=sorted(PROMPT_SETS), default="default")
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
    for text in PROMPT_SETS[args.prompts]:
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
