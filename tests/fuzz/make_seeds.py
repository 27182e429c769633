#!/usr/bin/env python3
"""Writes the seed files of the fuzz corpora (tests/fuzz/corpus/<target>/seed_*): tiny GGUF files
(every metadata type, nested arrays, a byte-level BPE and an SPM vocab with a chat template, small
tensors), KV block files in kv_block_fuzz's layout, agent session records, OpenAI and Anthropic
request bodies like the API tests send, the chat templates of tests/data/chat_templates and the
tokenizer fixture strings. Deterministic; files the fuzzers add later (crash reproducers, new
coverage kept by scripts/fuzz.sh --merge) sit beside them. Run from the repository root:
.venv/bin/python tests/fuzz/make_seeds.py"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
import gguf

ROOT = Path(__file__).resolve().parent / "corpus"


def write_gguf(path, build):
    w = gguf.GGUFWriter(str(path), "llama")
    build(w)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def all_types(w):
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -5)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -3000)
    w.add_uint32("t.u32", 4000000000)
    w.add_int32("t.i32", -7)
    w.add_float32("t.f32", 1.5)
    w.add_bool("t.bool", True)
    w.add_string("t.str", "h\u00e9llo")
    w.add_uint64("t.u64", 2**63)
    w.add_int64("t.i64", -(2**40))
    w.add_float64("t.f64", 2.25)
    w.add_array("t.arr_i", [1, 2, 3])
    w.add_array("t.arr_s", ["a", "bc"])
    w.add_key_value("t.arr_nested", [[1, 2], [3]], gguf.GGUFValueType.ARRAY,
                    sub_type=gguf.GGUFValueType.ARRAY)


def bpe_vocab(w):
    # gpt2 byte-level pieces: bytes 0..32 print as U+0100.., printable ASCII as itself.
    tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + [chr(0x100 + b) for b in range(33)] + \
        [chr(b) for b in range(33, 127)] + ["he", "ll", "hell", "hello", "\u0120w", "\u0120wo"]
    w.add_tokenizer_model("gpt2")
    w.add_string("tokenizer.ggml.pre", "smollm")
    w.add_token_list(tokens)
    w.add_token_types([3, 3, 3] + [1] * (len(tokens) - 3))
    w.add_token_merges(["h e", "l l", "he ll", "hell o", "\u0120 w", "\u0120w o"])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_chat_template("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}"
                        "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>"
                        "assistant\n{% endif %}")


def spm_vocab(w):
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + \
        ["\u2581", "\u2581h", "\u2581he", "llo", "\u2581hello", "<start_of_turn>", "<end_of_turn>"]
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * 259 + [-1.0, -2.0, -3.0, -4.0, -0.5, 0.0, 0.0])
    w.add_token_types([2, 3, 3] + [6] * 256 + [1] * 5 + [3, 3])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_space_prefix(True)


def tensors(w):
    w.add_tensor("a.weight", np.arange(8, dtype=np.float32).reshape(2, 4))
    w.add_tensor("b.weight", np.ones((2, 2), dtype=np.float16))
    q = np.zeros((1, 34), dtype=np.uint8)  # one Q8_0 block: f16 scale + 32 int8
    w.add_tensor("c.weight", q, raw_shape=(1, 34), raw_dtype=gguf.GGMLQuantizationType.Q8_0)


def kv_block(path, tokens, fill, version=1):
    # kv_block_fuzz layout: 2 layers, 1 head, head_dim 8, 4 tokens, f16 -> 16-byte rows.
    n_layers, n_heads, head_dim, block_tokens, row_bytes = 2, 1, 8, 4, 16
    payload = struct.pack("<4i", *tokens) + bytes([fill]) * (n_layers * 2 * block_tokens * row_bytes)
    header = b"SMKVBLK1" + struct.pack("<IIQQQIIIIIIQQQQ", version, 96, 0x5eed0f00dcafe123,
                                       0, 0, block_tokens, 0, n_layers, n_heads, head_dim,
                                       row_bytes, len(payload), 0, 0, 0)
    assert len(header) == 96
    # First byte: kv_block_fuzz flags (7: repair both checksums and the key).
    path.write_bytes(bytes([7]) + header + payload)


def main():
    g = ROOT / "gguf"
    g.mkdir(parents=True, exist_ok=True)
    write_gguf(g / "seed_types.gguf", all_types)
    write_gguf(g / "seed_bpe_vocab.gguf", bpe_vocab)
    write_gguf(g / "seed_spm_vocab.gguf", spm_vocab)
    write_gguf(g / "seed_tensors.gguf", tensors)
    k = ROOT / "kv_block"
    k.mkdir(parents=True, exist_ok=True)
    kv_block(k / "seed_block", [1, 2, 3, 4], 0x3c)
    kv_block(k / "seed_block_ids", [49152, -1, 0, 7], 0x00)
    kv_block(k / "seed_version2", [5, 6, 7, 8], 0x11, version=2)
    text_seeds()
    safetensors_seeds()
    return 0


def safetensors(tensors, metadata=None):
    """A safetensors file: u64 header length, JSON header, then the tensors' bytes in order."""
    header, blob = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob


def safetensors_seeds():
    f32 = np.arange(6, dtype=np.float32).tobytes()
    put("safetensors", "f32.safetensors", safetensors({"w": ("F32", [2, 3], f32)}, {"format": "pt"}))
    put("safetensors", "mixed.safetensors", safetensors({
        "model.embed_tokens.weight": ("F16", [4, 2], np.ones(8, dtype=np.float16).tobytes()),
        "model.norm.weight": ("BF16", [2], b"\x80\x3f\x80\x3f"),
        "lm_head.weight": ("U32", [2, 1], struct.pack("<2I", 0x12345678, 0x9abcdef0)),
        "lm_head.scales": ("F16", [2, 1], np.ones(2, dtype=np.float16).tobytes()),
        "mask": ("BOOL", [3], b"\x01\x00\x01"),
        "ids": ("I64", [1], struct.pack("<q", 7)),
        "empty": ("F32", [0, 4], b""),
        "scalar": ("F64", [], struct.pack("<d", 2.5))}))


def put(target, name, data):
    d = ROOT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / ("seed_" + name)).write_bytes(data if isinstance(data, bytes) else data.encode())


def body(flags, obj):
    return bytes([flags]) + json.dumps(obj, ensure_ascii=False).encode()


WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}


def text_seeds():
    fp = "5eed0f00dcafe123"
    session = {"format": "semantic-agent-session", "version": 1, "model_fingerprint": fp,
               "id": "agent-1", "n_tokens": 70, "created_ms": 1764000000000,
               "last_use_ms": 1764000001000, "ttl_ms": 0, "pinned": False, "hold_until_ms": 0,
               "requests": 3, "cached_tokens": 64, "prompt_tokens": 210,
               "keys": ["00000000000000a1", "ffffffffffffffff"]}
    put("agent_session", "session.json", json.dumps(session))
    put("agent_session", "pinned.json", json.dumps(dict(session, id="team.lead_2", pinned=True,
                                                       ttl_ms=3600000, keys=[])))
    put("agent_session", "old.json", json.dumps({k: v for k, v in session.items()
                                                 if k not in ("hold_until_ms", "requests")}))

    user = [{"role": "user", "content": "Say hi"}]
    put("openai_request", "chat.json", body(0, {"model": "smollm2", "messages": user,
                                                "max_tokens": 8, "temperature": 0}))
    put("openai_request", "chat_full.json", body(0, {
        "model": "smollm2", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]},
            {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Again"}],
        "stream": True, "stream_options": {"include_usage": True}, "stop": ["\n", "END"],
        "top_p": 0.9, "top_k": 40, "min_p": 0.05, "seed": 7, "presence_penalty": 0.5,
        "frequency_penalty": 0.1, "repeat_penalty": 1.1, "logprobs": True, "top_logprobs": 3,
        "max_completion_tokens": 16, "user": "agent-7", "session_id": "s1", "cache_salt": "x",
        "n": 1, "logit_bias": {"42": -100}, "response_format": {"type": "text"}}))
    put("openai_request", "chat_tools.json", body(2, {
        "model": "smollm2", "tools": [WEATHER], "tool_choice": "required",
        "parallel_tool_calls": False, "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "21C"},
            {"role": "user", "content": "And Rome?"}]}))
    put("openai_request", "chat_named_tool.json", body(4, {
        "model": "smollm2", "tools": [WEATHER], "messages": user,
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}))
    put("openai_request", "completion.json", body(1, {"model": "smollm2", "prompt": "Once upon",
                                                      "max_tokens": 4, "echo": True}))
    put("openai_request", "completion_ids.json", body(1, {"model": "smollm2",
                                                          "prompt": [1, 504, 3060, 49151],
                                                          "echo": True, "logprobs": 2}))

    q = [{"role": "user", "content": "Say hi"}]
    put("anthropic_request", "messages.json", body(0, {"model": "claude-3-5-haiku", "max_tokens": 8,
                                                       "messages": q}))
    put("anthropic_request", "count_tokens.json", body(1, {"model": "smollm2", "messages": q,
                                                           "system": "Be brief."}))
    put("anthropic_request", "full.json", body(0, {
        "model": "smollm2", "max_tokens": 16, "stream": True, "temperature": 0.5, "top_p": 0.9,
        "top_k": 20, "stop_sequences": ["END"], "metadata": {"user_id": "agent-3"},
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi",
                      "cache_control": {"type": "ephemeral", "ttl": "1h"}}]},
                     {"role": "assistant", "content": [{"type": "thinking", "thinking": "hmm",
                      "signature": "x"}, {"type": "text", "text": "Hello"}]},
                     {"role": "user", "content": "Again"},
                     {"role": "assistant", "content": "Sure:"}]}))
    put("anthropic_request", "tools.json", body(2, {
        "model": "smollm2", "max_tokens": 32,
        "tools": [{"name": "get_weather", "description": "Weather",
                   "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
                  {"name": "later", "input_schema": {"type": "object"}, "defer_loading": True}],
        "tool_choice": {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
        "messages": [{"role": "user", "content": "Weather in Paris?"},
                     {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1",
                      "name": "get_weather", "input": {"city": "Paris"}}]},
                     {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                      "content": [{"type": "text", "text": "21C"}]}, {"type": "text", "text": "Rome?"}]},
                     {"role": "system", "content": "reminder"}]}))
    put("anthropic_request", "tool_any.json", body(4, {
        "model": "smollm2", "max_tokens": 0, "tools": [{"name": "f", "input_schema": {}}],
        "tool_choice": {"type": "any"}, "messages": q}))

    data = Path(__file__).resolve().parents[1] / "data"
    for t in sorted((data / "chat_templates").glob("*.jinja")):
        put("chat_template", t.name, t.read_bytes())
    for name, src in {
        "features.jinja": "{% set ns = namespace(n=0) %}{% macro m(x, y=2) %}{{ x ~ y }}{% endmacro %}"
                          "{% for msg in messages if msg.role != 'tool' %}{{ loop.index }}{{ m(msg.role) }}"
                          "{{ msg.content | trim | upper | replace('A', 'b') }}{% set ns.n = ns.n + 1 %}"
                          "{% else %}none{% endfor %}{{ ns.n }}{{ tools | tojson(indent=2) }}"
                          "{{ messages[1:3] | map(attribute='role') | join(',') }}"
                          "{{ '%s-%d' % ('a', 3) }}{{ range(3) | list }}{{ strftime_now('%Y') }}"
                          "{% if bos_token is defined and not false %}{{ bos_token }}{% elif true %}x{% endif %}"
                          "{%- raw %}{{ raw }}{% endraw -%}{# comment #}",
        "filters.jinja": "{{ messages | length }}{{ messages | selectattr('role', 'equalto', 'user') | list | count }}"
                         "{{ 'abc' | capitalize }}{{ [3,1,2] | sort | reverse | first }}{{ {'b':1,'a':2} | dictsort }}"
                         "{{ 'x,y'.split(',') }}{{ 'Hi'.startswith('H') }}{{ messages[0].content.strip() }}"
                         "{{ 1.5 | int }}{{ '3' | float }}{{ none | default('d') }}{{ 'a\nb' | indent(2) }}"
                         "{{ [1,[2]] | tojson }}{{ (1, 2) }}{{ 7 // 2 }}{{ 7 % 3 }}{{ 2 ** 3 }}{{ 'ab' * 2 }}",
        "raise.jinja": "{% if messages[0].role != 'user' %}{{ raise_exception('first must be user') }}{% endif %}",
    }.items():
        put("chat_template", name, src)

    cases = json.loads((data / "tokenizer" / "smollm.json").read_text())
    texts = [c["text"] for c in cases.get("cases", cases)[:40] if isinstance(c, dict) and "text" in c]
    for i, text in enumerate(texts):
        put("tokenizer", f"text_{i:02d}", text)
    put("tokenizer", "special", "<|im_start|>user\nHi<|im_end|>\n<|endoftext|>")
    put("tokenizer", "bad_utf8", b"ok \xff\xfe \xc3 \xe2\x82 end \xf0\x9f\x98\x80")


if __name__ == "__main__":
    sys.exit(main())
