#!/usr/bin/env python3
# Writes tests/data/tokenizer/*.json: a fixed corpus of strings and the token ids llama.cpp gives
# for them (llama-cpp-python, vocab_only) for each tokenizer family the C++ tests check.
"""Usage: .venv/bin/python scripts/make_tokenizer_golden.py [--models DIR] [--out DIR]

Families:
  smollm          SmolLM2-135M-Instruct (byte-level BPE, pre "smollm")
  llama-bpe       SmolLM2's vocab with pre "llama-bpe" and no add_bos_token key (llama3 rules)
  qwen2           SmolLM2's vocab with pre "qwen2"
  deepseek-coder  SmolLM2's vocab with pre "deepseek-coder"
  gemma3          Gemma 3 270M (SentencePiece BPE with byte fallback)

The variants are metadata-only GGUF copies of SmolLM2 (no tensors; llama.cpp's vocab_only load
needs only the metadata) written to a temporary directory. Each case records the ids for
(add_special=False, parse_special=False) and (add_special=True, parse_special=True);
"long_prompt" holds the token count and an FNV-1a hash of the ids of all cases joined (~100 KB).
"""

import argparse
import hashlib
import json
import pathlib
import random
import struct
import sys
import tempfile

import gguf
import llama_cpp
from llama_cpp import Llama

ROOT = pathlib.Path(__file__).resolve().parent.parent
SMOLLM = "SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA = "gemma-3-270m-q4_k_m.gguf"

# (family, model file, tokenizer.ggml.pre override or None, drop add_bos_token?)
FAMILIES = [
    ("smollm", SMOLLM, None, False),
    ("llama-bpe", SMOLLM, "llama-bpe", True),
    ("qwen2", SMOLLM, "qwen2", False),
    ("deepseek-coder", SMOLLM, "deepseek-coder", False),
    ("gemma3", GEMMA, None, False),
]

PYTHON_CODE = '''def fib(n: int) -> int:
    """Return the n-th Fibonacci number."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


if __name__ == "__main__":
    print([fib(i) for i in range(10)])  # [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]
'''

CPP_CODE = '''#include <vector>
template <typename T>
T Sum(const std::vector<T>& xs) {
  T total{};
  for (const auto& x : xs) total += x;  // O(n)
  return total;
}
int main() { return Sum<int>({1, 2, 3}) == 6 ? 0 : 1; }
'''

JSON_TEXT = ('{"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi!\\n"}], '
             '"temperature": 0.7, "max_tokens": 1024, "stream": true, "tools": null}')

PARAGRAPH = (
    "Tokenizers turn text into integer ids. A byte-level BPE first splits the input with a "
    "regular expression, maps every byte to a printable character, and then merges the most "
    "frequent adjacent pairs, in the order they were learned. SentencePiece works on the raw "
    "text, replacing spaces by U+2581 and falling back to bytes for characters it never saw. "
    "Both must agree exactly with the reference implementation, or the model sees a prompt it "
    "was never trained on: 1234567890, 3.14159265, $19.99, 50%, e-mail@example.org. ")

HAND_WRITTEN = [
    # plain text
    "Hello world", "Hello, world!", "hello", "HELLO", "Hello", " Hello", "  Hello",
    "The quick brown fox jumps over the lazy dog.",
    "It was the best of times, it was the worst of times.",
    "a", "A", "ab", "abc def ghi", "I", "x y z",
    # whitespace
    "", " ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r", " \n",
    "\n ", "a b", "  a   b", "a\n\n b", "trailing spaces   ", "   leading spaces", "\t\tindented",
    "a \t b", "line1\nline2\r\nline3", "x\n \n y", "a  \n  b", " \u00a0 nbsp", "\u3000ideographic",
    "mixed \u2003 em space", "\u2028 line separator", "tab\tseparated\tvalues",
    "ends with newline\n", "\n\nstarts with newlines", "a\u0085b next line", " " * 20 + "x",
    "    def indented():\n        return 1\n",
    # numbers
    "12345", "3.14159", "1,000,000", "0.001", "-42", "1e10", "2024-01-15", "v1.2.3",
    "123abc456", "007", "9999999999999", "1 2 3 4 5", "10:30 PM", "+1 (555) 123-4567",
    "\u0663\u0664\u0665 arabic-indic", "\u2460\u2461\u2462", "\u00bd \u00be", "\u216b roman",
    "\uff11\uff12\uff13 fullwidth", "x = 0x1F; y = 0b1010;",
    # contractions
    "don't", "I'LL", "we've", "they're", "it's", "He'd", "I'm", "'s", "O'Reilly",
    "rock 'n' roll", "\u2019curly\u2019 quotes don\u2019t", "DON'T STOP", "y'all'd've", "'twas",
    "It'S", "we'Re", "'", "''", "' s",
    # code
    PYTHON_CODE, CPP_CODE, JSON_TEXT,
    "for (int i = 0; i < n; ++i) { sum += a[i]; }",
    "if x != None and y >= 3:\n    return x ** 2",
    "const f = (a, b) => a?.b ?? c;",
    "SELECT * FROM users WHERE id = 42 AND name LIKE '%bob%';",
    "#!/bin/bash\necho \"$HOME\" | grep -v '^#' > /dev/null 2>&1",
    "<div class=\"container\"><p>Hello</p></div>",
    "fn main() { println!(\"{}\", 1 + 2); }",
    "x<<=2; y>>=3; z&&=w; a||b",
    "std::unique_ptr<Foo> p = std::make_unique<Foo>();",
    "    \treturn;\n}\n",
    "regex: ^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\\.[a-zA-Z0-9-.]+$",
    "# Title\n\n- item 1\n- item 2\n\n```python\nprint('hi')\n```\n",
    # CJK
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8", "\u4e2d\u6587\u5206\u8bcd\u6d4b\u8bd5",
    "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8", "abc\u4e2d\u6587def",
    "\uff21\uff22\uff23 fullwidth letters", "\u6771\u4eac\u30bf\u30ef\u30fc\u3002",
    "\u8fd9\u662f\u4e00\u4e2a\u6d4b\u8bd5\uff0c\u5305\u542b\u6807\u70b9\u7b26\u53f7\u3002",
    "\u3053\u3093\u306b\u3061\u306f\u4e16\u754c", "\u30ab\u30bf\u30ab\u30ca",
    "\u4e2d 1 \u6587 2", "\uac00\ub098\ub2e4\ub77c\ub9c8\ubc14\uc0ac",
    # emoji
    "\U0001F600", "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466 family",
    "\U0001F3F3\ufe0f\u200d\U0001F308", "\U0001F44D\U0001F3FD", "\U0001F1FA\U0001F1F8\U0001F1EF\U0001F1F5 flags",
    "\u2764\ufe0f", "keycap 1\ufe0f\u20e3", "I \u2764 NY", "\U0001F680\U0001F680\U0001F680",
    "smile\U0001F600smile", "\U0001F9D1\u200d\U0001F4BB coder",
    # accents and combining marks
    "caf\u00e9", "na\u00efve r\u00e9sum\u00e9", "e\u0301", "cafe\u0301", "\u00c5ngstr\u00f6m",
    "Zo\u00eb", "fa\u00e7ade", "cr\u00e8me br\u00fbl\u00e9e", "\u00f1and\u00fa",
    "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac", "\u00dcn\u00efc\u00f6d\u00e9",
    "a\u0300\u0301\u0302\u0303", "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319algo",
    "Stra\u00dfe", "\u0130stanbul \u0131", "\u0141\u00f3d\u017a",
    # other scripts
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
    "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!",
    "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",
    "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e0a\u0e32\u0e27\u0e42\u0e25\u0e01",
    "Ti\u1ebfng Vi\u1ec7t c\u00f3 d\u1ea5u", "\u10e5\u10d0\u10e0\u10d7\u10e3\u10da\u10d8",
    "\u0540\u0561\u0575\u0565\u0580\u0565\u0576", "\u12a0\u121b\u122d\u129b",
    "\u0ba4\u0bae\u0bbf\u0bb4\u0bcd", "\u0986\u09ae\u09bf \u09ac\u09be\u0982\u09b2\u09be",
    # punctuation and symbols
    "!!!???", "...", "\u2014\u2013-", "\u00abquotes\u00bb", "\u00a7\u00b6\u2020\u2021",
    "$100 + 5% = ?", "a+b=c", "<=> ^ ~ |", "@user #tag", "http://example.com/path?q=1&r=2",
    "user@example.com", "C:\\Windows\\System32", "~/dir/file.txt", "`backticks`",
    "***bold***", "___", "----", "====", "#### Heading", "\u2026\u3001\u3002",
    "\u00a9 2024 \u2122 \u00ae", "\u20ac100 \u00a350 \u00a51000", "\u221e \u2260 \u2264 \u2265",
    "(parens) [brackets] {braces}", ";;;:::,,,", "\"quoted\" 'single'",
    # control characters
    "\x00", "a\x01b", "\x7f", "\x1c\x1d\x1e\x1f", "\x0b\x0c", "bell\x07",
    # special-token text (ChatML for SmolLM2, Gemma turns, and partial/adjacent forms)
    "<|im_start|>user\nhi<|im_end|>",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "<|endoftext|>", "text<|endoftext|>more text", "<|im_start|><|im_start|>", "<|im_start",
    "im_start|>", "<|im_end|>\n", "  <|im_end|>  ", "<reponame>foo<file_sep>bar",
    "<filename>main.py\n<gh_stars>10", "<jupyter_code>print(1)<jupyter_output>1",
    "<start_of_turn>user\nhello<end_of_turn>\n<start_of_turn>model\n",
    "<bos><start_of_turn>user\nWrite a poem.<end_of_turn>\n", "<bos>text", "<eos>", "<pad>",
    "</s>", "a</s>b", "<s>x</s>", "<table><tr><td>x</td></tr></table>",
    "<unused0>", "<unused42> tail", "<mask>", "[multimodal]", "<start_of_image>",
    "<b>bold</b> <i>it</i> <code>c</code>", "<<|im_end|>>", "<|im_end|><|endoftext|>",
    # long inputs
    PARAGRAPH * 2, " " * 100, "\n" * 64, "\t" * 33, "1234567890" * 30, "a" * 500,
    "=" * 200, "ab" * 150, "\u4e2d" * 120,
    "QmFzZTY0IGVuY29kZWQgc3RyaW5nIHdpdGggbm8gc3BhY2VzIGF0IGFsbCBqdXN0IGxvbmc=" * 3,
    " ".join(str(i) for i in range(200)),
    # splitter edge cases: digit groups, whitespace before punctuation/newlines, rare classes
    "abc123def4567", "1234567", "12 345 6789", "a \n", " \t\n", "\t a", "  \t  x", "x  ",
    "!\n\n", "? \n", " ?", " ??\r\n\r\nx", "a\r\n\r\n\tb", "\u01c5titlecase", "\u02b0modifier",
    "\u0378 unassigned", "\ue000 private use", "\U0010FFFF", "\U000E0001 tag", "\u200b zero width",
    "\ufeffBOM", "soft\u00adhyphen", "x\U0001FAE8y", "a\U00031350b", "\u0300 leading mark",
    "\u00a0\u00a0a", "\u2000\u2001 x", "\u3000\u3000\u4e2d", "\u0660\u0661\u0662",
    "I'm \u201ccurly\u201d", "can't\n\nwon't", "'ll 've 're",
]

INVALID_UTF8 = [
    b"\xff", b"abc\xfe\xff", b"\xc3", b"\xe2\x82", b"caf\xc3", b"\x80\x80",
    b"\xed\xa0\x80", b"ok \xf0\x9f\x98 cut emoji", b"\xc3\x28", b"a\xe2\x28\xa1b",
]

FRAGMENTS = [
    "hello", "world", " ", "  ", "\n", "\t", "123", "4.5", "don't", "\u4e2d\u6587", "\U0001F600",
    "caf\u00e9", "\u041f\u0440\u0438\u0432\u0435\u0442", "!!", "...", "(", ")", "{", "}", "=",
    "==", "->", "::", "x", "y_1", "CamelCase", "snake_case", "\u00a0", "\u0645\u0631\u062d\u0628\u0627",
    "<|im_end|>", "<end_of_turn>", "\r\n", "'s", "'LL", "99%", "#", "//", "/*", "*/", "\"", "'",
    "\u3000", "\u00e9", "e\u0301", "\U0001F44D\U0001F3FD", "\u0928\u092e\u0938\u094d\u0924\u0947",
    "A1B2", "0x7f", "  \n", " \n\n", "\u2019", "$", "\u20ac", "\\n", "\u2028",
]


def corpus() -> list:
    """Hand-written cases, invalid UTF-8, then seeded random mixes of fragments."""
    rng = random.Random(20240615)
    cases = list(HAND_WRITTEN) + list(INVALID_UTF8)
    for _ in range(90):
        n = rng.randint(2, 12)
        cases.append("".join(rng.choice(FRAGMENTS) for _ in range(n)))
    seen, unique = set(), []
    for c in cases:
        key = c if isinstance(c, bytes) else c.encode("utf-8")
        if key not in seen:
            seen.add(key)
            unique.append(c)
    return unique


def write_variant(src: pathlib.Path, dst: pathlib.Path, pre: str, drop_add_bos: bool) -> None:
    """Metadata-only copy of `src` with tokenizer.ggml.pre replaced."""
    reader = gguf.GGUFReader(str(src))
    arch = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(str(dst), arch)
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        if drop_add_bos and name == "tokenizer.ggml.add_bos_token":
            continue
        value = pre if name == "tokenizer.ggml.pre" else field.contents()
        vtype = field.types[0]
        sub_type = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(name, value, vtype, sub_type=sub_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def sha256(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def long_prompt(cases: list) -> bytes:
    """The valid-UTF-8 cases joined by newlines, repeated to at least 100000 bytes (~20K+ tokens);
    the C++ test builds the same text."""
    prompt = b""
    while len(prompt) < 100000:
        for c in cases:
            if not isinstance(c, bytes):
                prompt += c.encode("utf-8") + b"\n"
    return prompt


def fnv1a64(ids: list) -> str:
    h = 0xCBF29CE484222325
    for byte in struct.pack(f"<{len(ids)}i", *ids):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def tokenize_all(model_path: pathlib.Path, cases: list) -> tuple:
    llm = Llama(model_path=str(model_path), vocab_only=True, verbose=False)
    prompt_ids = llm.tokenize(long_prompt(cases), add_bos=True, special=True)
    summary = {"n_tokens": len(prompt_ids), "ids_fnv1a64": fnv1a64(prompt_ids)}
    out = []
    for c in cases:
        data = c if isinstance(c, bytes) else c.encode("utf-8")
        entry = {"hex": data.hex()} if isinstance(c, bytes) else {"text": c}
        entry["ids"] = llm.tokenize(data, add_bos=False, special=False)
        entry["ids_special"] = llm.tokenize(data, add_bos=True, special=True)
        out.append(entry)
    return out, summary


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=str(ROOT / "models"))
    ap.add_argument("--out", default=str(ROOT / "tests/data/tokenizer"))
    args = ap.parse_args()
    models, out_dir = pathlib.Path(args.models), pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    cases = corpus()
    reference = {
        "tokenizer": "llama.cpp via llama-cpp-python " + llama_cpp.__version__,
        "call": "Llama(model_path, vocab_only=True).tokenize(bytes, add_bos, special)",
        "gguf_py": getattr(gguf, "__version__", "0.19.0"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for family, model_file, pre, drop_add_bos in FAMILIES:
            src = models / model_file
            if not src.exists():
                sys.exit(f"missing model file {src}")
            path = src
            if pre is not None:
                path = pathlib.Path(tmp) / f"{family}.gguf"
                write_variant(src, path, pre, drop_add_bos)
            cases_out, prompt_summary = tokenize_all(path, cases)
            doc = {
                "reference": reference,
                "model_file": model_file,
                "model_sha256": sha256(src),
                "pre_override": pre,
                "drop_add_bos_token": drop_add_bos,
                "long_prompt": prompt_summary,
                "cases": cases_out,
            }
            dst = out_dir / f"{family}.json"
            with dst.open("w", encoding="utf-8") as f:
                # One case per line: readable diffs, compact file.
                f.write("{\n")
                for key in ("reference", "model_file", "model_sha256", "pre_override",
                            "drop_add_bos_token", "long_prompt"):
                    f.write(f"  {json.dumps(key)}: {json.dumps(doc[key], ensure_ascii=False)},\n")
                f.write('  "cases": [\n')
                lines = [json.dumps(c, ensure_ascii=False) for c in doc["cases"]]
                f.write(",\n".join("    " + line for line in lines))
                f.write("\n  ]\n}\n")
            print(f"{dst}: {len(cases)} cases, {dst.stat().st_size} bytes")


if __name__ == "__main__":
    main()
