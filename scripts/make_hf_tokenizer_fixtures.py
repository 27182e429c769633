#!/usr/bin/env python3
"""Write Gemma-style Hugging Face tokenizer.json fixtures and their reference token ids, computed by
the `tokenizers` package itself, for tests/models/hf_tokenizer_test.cpp:

  gemma-style/    a small BPE trained here with `tokenizers` (byte_fallback, fuse_unk, <unk>),
                  laid out as Gemma 3's tokenizer.json is (transformers' GemmaConverter): normalizer
                  Replace(" " -> "\u2581"), pre-tokenizer Split(" ", merged_with_previous) (a
                  no-op after the normalizer), decoder Replace("\u2581" -> " ") + ByteFallback +
                  Fuse, <0x00>..<0xFF> byte tokens in the vocab, <pad> <eos> <bos> <unk> <mask>
                  [multimodal] <start_of_turn> <end_of_turn> as special added tokens and "\\n"
                  runs, space runs, tabs and HTML tags as non-special added tokens (normalized
                  false), post-processor "<bos> $A".
  llama2-style/   the same vocab and merges with Llama 2's legacy layout: normalizer Prepend("\u2581")
                  + Replace, no pre-tokenizer, decoder with Strip(" ", 1, 0).
  mistral-style/  the same with LlamaConverter's non-legacy layout (Mistral v0.3, newer Llama 2
                  conversions): no normalizer, Metaspace(prepend_scheme "first", split false)
                  pre-tokenizer, the Strip decoder.
  metaspace-always/ the same with prepend_scheme "always".
  gemma3-vocab/   only when models/gemma-3-270m-q4_k_m.gguf is present: the real Gemma 3 vocab
                  (262144 pieces, scores, token types from the GGUF) converted as GemmaConverter
                  does: merges from every split of every piece into two vocab pieces, ordered by
                  the piece's score (then longer left half, longer right half), control and
                  user-defined pieces as added tokens.

Each folder holds tokenizer.json, tokenizer_config.json and cases.json: the test strings (the
gemma3 tokenizer golden's texts, tests/data/tokenizer/gemma3.json, plus seeded random mixes of
ASCII, whitespace runs, accents, CJK, emoji, byte-token look-alikes and special tokens) with
`tokenizers`' ids for encode(text, add_special_tokens=False) and its decode of them.

  tiny-gemma3-hftok-f16/      tiny-gemma3-hf-f16 (make_tiny_hf.py) with the gemma-style tokenizer
                              and a random embedding of exactly its vocab size;
  tiny-gemma3-hftok-oov-f16/  the same with 64 extra embedding rows (config vocab_size too), as
                              Gemma 3 checkpoints have 262208 rows for 262144 tokens.

    .venv/bin/python scripts/make_hf_tokenizer_fixtures.py models models/tiny/hf-tok
Deterministic: the same inputs give the same files.
"""
import argparse
import json
import os
import random
import struct
import sys

import numpy as np
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPACE = "\u2581"
CONTROL = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]
USER_DEFINED = ["[multimodal]", "\n", "\n\n", "\n\n\n", "  ", "   ", "    ", "\t", "\t\t",
                "<table>", "</table>", "<tr>", "<td>", "</td>", "<start_of_image>"]
TURN = ["<start_of_turn>", "<end_of_turn>"]  # special (GemmaConverter.special_tokens)
BYTES = [f"<0x{b:02X}>" for b in range(256)]

EXTRA_CORPUS = [
    "Ça va très bien, merci. Übermäßig große Äpfel; naïve café résumé.",
    "日本語のテキストを少し。東京は日本の首都です。中文也有一点。",
    "Привет, как дела? Всё хорошо.",
    "def add(a, b):\n    return a + b  # sum",
    "x = [1, 2, 3]; y = {'k': 42}; print(x, y)",
]


def corpus_lines():
    with open(os.path.join(ROOT, "tests/data/text/kv-quality.txt"), encoding="utf-8") as f:
        text = f.read()
    lines = [ln for ln in text.split("\n") if ln.strip()]
    return lines + EXTRA_CORPUS * 20


def golden_texts():
    with open(os.path.join(ROOT, "tests/data/tokenizer/gemma3.json"), encoding="utf-8") as f:
        g = json.load(f)
    return [c["text"] for c in g["cases"] if "text" in c]


def random_texts(n, seed=1234):
    rng = random.Random(seed)
    pool = (["the", " the", "Hello", " world", "token", "izer", "ing", " ", "  ", "   ", "\n",
             "\n\n", "\t", " \n", "é", "ß", "Ω", "日本", "語", "中文", "🙂", "👩‍💻", "🚀", "∑",
             "<0x41>", "<0x0A>", "<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>", "user\n",
             "<table>", "<td>", "[multimodal]", "<unk>", "123", "4567", ".", ",", "!", "?", "'s",
             "-", "_", "\u00a0", "\u3000", "\u2581", "▁▁", "{", "}", "()", "#", "\r\n"] +
            [chr(c) for c in range(0x20, 0x7f)])
    out = []
    for _ in range(n):
        k = rng.randint(1, 24)
        out.append("".join(rng.choice(pool) for _ in range(k)))
    return out


def train_gemma_style(vocab_size=900):
    """(vocab list in id order, merges) of a small byte-fallback BPE trained with `tokenizers`."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Replace(" ", SPACE)
    # Training splits words before each U+2581 (as SentencePiece's split_by_whitespace does);
    # the saved tokenizer has Gemma's whole-segment layout instead.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SPACE, prepend_scheme="never",
                                                 split=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False,
                                  special_tokens=[])
    tok.train_from_iterator(corpus_lines(), trainer=trainer)
    model = json.loads(tok.to_str())["model"]
    pieces = sorted(model["vocab"].items(), key=lambda kv: kv[1])
    merges = [m if isinstance(m, list) else m.split(" ") for m in model["merges"]]
    return [p for p, _ in pieces], merges


def gemma_json(vocab, merges, added, layout="gemma"):
    """tokenizer.json text. vocab: pieces in id order; added: (id, content, special); layout:
    gemma, llama2, metaspace-first or metaspace-always."""
    normalizer = {"type": "Replace", "pattern": {"String": " "}, "content": SPACE}
    pre = {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious",
           "invert": False}
    dec = [{"type": "Replace", "pattern": {"String": SPACE}, "content": " "},
           {"type": "ByteFallback"}, {"type": "Fuse"}]
    if layout != "gemma":
        dec.append({"type": "Strip", "content": " ", "start": 1, "stop": 0})
    if layout == "llama2":
        normalizer = {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": SPACE}, normalizer]}
        pre = None
    elif layout.startswith("metaspace-"):
        normalizer = None
        pre = {"type": "Metaspace", "replacement": SPACE,
               "prepend_scheme": layout[len("metaspace-"):], "split": False}
    bos = vocab.index("<bos>")
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": c, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": s}
                         for i, c, s in added],
        "normalizer": normalizer, "pre_tokenizer": pre,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<bos>", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "<bos>", "type_id": 0}},
                                    {"Sequence": {"id": "A", "type_id": 0}},
                                    {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"<bos>": {"id": "<bos>", "ids": [bos],
                                                        "tokens": ["<bos>"]}}},
        "decoder": {"type": "Sequence", "decoders": dec},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>",
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": {p: i for i, p in enumerate(vocab)}, "merges": merges},
    }


def write_tokenizer(folder, tj, texts, add_bos=True):
    os.makedirs(folder, exist_ok=True)
    text = json.dumps(tj, ensure_ascii=False)
    tok = Tokenizer.from_str(text)  # the reference; fails on a malformed file
    cases = []
    for t in texts:
        ids = tok.encode(t, add_special_tokens=False).ids
        cases.append({"text": t, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)})
    with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"add_bos_token": add_bos, "add_eos_token": False, "bos_token": "<bos>",
                   "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>"}, f, indent=1)
    with open(os.path.join(folder, "cases.json"), "w", encoding="utf-8") as f:
        json.dump({"reference": "tokenizers " + __import__("tokenizers").__version__,
                   "cases": cases}, f, ensure_ascii=False, indent=0)


def small_vocab():
    trained, merges = train_gemma_style()
    specials = CONTROL + USER_DEFINED + TURN
    vocab = CONTROL + ["[multimodal]"] + TURN + USER_DEFINED[1:] + BYTES
    vocab += [p for p in trained if p not in vocab and p not in specials]
    added = [(i, p, p in CONTROL or p in TURN) for i, p in enumerate(vocab) if p in specials]
    return vocab, merges, added


def gemma3_vocab(gguf_path):
    """The real Gemma 3 vocab as GemmaConverter turns tokenizer.model into tokenizer.json."""
    import gguf
    r = gguf.GGUFReader(gguf_path)
    tokens = r.fields["tokenizer.ggml.tokens"].contents()
    scores = r.fields["tokenizer.ggml.scores"].contents()
    types = r.fields["tokenizer.ggml.token_type"].contents()
    vocab = {t: i for i, t in enumerate(tokens)}
    if "\t" not in vocab:
        vocab["\t"] = vocab.get("<0x09>")
    merges = []
    for piece, score in zip(tokens, scores):
        local = []
        for k in range(1, len(piece)):
            left, right = piece[:k], piece[k:]
            if left in vocab and right in vocab:
                local.append((left, right, score))
        local.sort(key=lambda x: (vocab[x[0]], vocab[x[1]]))
        merges.extend(local)
    merges.sort(key=lambda m: (m[2], len(m[0]), len(m[1])), reverse=True)
    merges = [[a, b] for a, b, _ in merges]
    added = [(i, t, ty == 3 or t in TURN) for i, (t, ty) in enumerate(zip(tokens, types))
             if ty in (3, 4)]
    return list(tokens), merges, added


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    dt = {"F16": np.float16, "F32": np.float32}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[k] = np.frombuffer(data[a:b], dtype=dt[v["dtype"]]).reshape(v["shape"])
    return out


def tiny_gemma3_folders(src, outdir, n_vocab):
    """tiny-gemma3-hftok{,-oov}-f16 from tiny-gemma3-hf-f16 with a new random embedding."""
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import make_tiny_hf as th
    tensors = {}
    for name in sorted(os.listdir(src)):
        if name.endswith(".safetensors"):
            tensors.update(read_safetensors(os.path.join(src, name)))
    with open(os.path.join(src, "config.json")) as f:
        config = json.load(f)
    n_embd = config["hidden_size"]
    rng = np.random.default_rng(4242)
    embd = (rng.standard_normal((n_vocab + 64, n_embd)) * 0.02).astype(np.float16)
    tok_dir = os.path.join(outdir, "gemma-style")
    with open(os.path.join(tok_dir, "tokenizer.json"), encoding="utf-8") as f:
        tok = json.load(f)
    with open(os.path.join(tok_dir, "tokenizer_config.json"), encoding="utf-8") as f:
        tok_config = json.load(f)
    for suffix, rows in (("", n_vocab), ("-oov", n_vocab + 64)):
        t = dict(tensors)
        t["model.embed_tokens.weight"] = embd[:rows]
        cfg = dict(config, vocab_size=rows, bos_token_id=2, eos_token_id=1)
        th.write_folder(os.path.join(outdir, f"tiny-gemma3-hftok{suffix}-f16"), cfg, tok,
                        tok_config, t, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", help="the models folder (gemma-3-270m-q4_k_m.gguf, tiny/hf)")
    ap.add_argument("outdir")
    a = ap.parse_args()
    texts = golden_texts() + random_texts(250)
    vocab, merges, added = small_vocab()
    write_tokenizer(os.path.join(a.outdir, "gemma-style"), gemma_json(vocab, merges, added), texts)
    for name, layout in (("llama2-style", "llama2"), ("mistral-style", "metaspace-first"),
                         ("metaspace-always", "metaspace-always")):
        write_tokenizer(os.path.join(a.outdir, name), gemma_json(vocab, merges, added, layout),
                        texts)
    src = os.path.join(a.models, "tiny", "hf", "tiny-gemma3-hf-f16")
    if os.path.isdir(src):
        tiny_gemma3_folders(src, a.outdir, len(vocab))
    real = os.path.join(a.models, "gemma-3-270m-q4_k_m.gguf")
    if os.path.exists(real):
        v, m, ad = gemma3_vocab(real)
        write_tokenizer(os.path.join(a.outdir, "gemma3-vocab"), gemma_json(v, m, ad), texts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
