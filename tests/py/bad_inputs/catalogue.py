"""The bad-input catalogue: requests no client should send, each with the answer it must get.

Every case names its category, the request (a JSON-able body, raw body bytes, or a whole raw
request) and what must come back: "4xx" (any client error in the route's dialect error shape,
naming `param` when given), "2xx" (the input is merely unusual and is served), a status or tuple
of statuses, or "closed" (the server may end the connection without a status, e.g. a stalled
request line). Never a 5xx, never a reset. tests/py/test_bad_inputs.py sends them all.

The server the catalogue expects (test_bad_inputs.py starts it): SmolLM2 with --context 2048,
--max-body 1MiB, --server-max-messages 256, --max-output-tokens 512, --server-read-timeout 1s,
an admin key ADMIN_KEY, agents "victim" and "known" present.
"""
from dataclasses import dataclass, field
import json

M = "default"
CLAUDE = "claude-sonnet-5"
U = [{"role": "user", "content": "hi"}]
ADMIN_KEY = "catalogue-admin-key"
MAX_BODY = 1 << 20
MAX_MESSAGES = 256
MAX_OUTPUT_TOKENS = 512
CONTEXT = 2048

CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
MESSAGES = "/v1/messages"
COUNT = "/v1/messages/count_tokens"


@dataclass
class Case:
    id: str
    category: str
    path: str = CHAT
    body: object = None          # dict/list/str/number: sent as JSON; bytes: sent as is
    method: str = "POST"
    headers: list = field(default_factory=list)  # (name, value) pairs, duplicates allowed
    raw: object = None           # bytes or a list of pieces: the whole request as written
    pause: float = 0.0           # seconds between raw pieces (a slow client)
    expect: object = "4xx"       # "4xx" | "2xx" | "closed" | int | tuple of ints
    param: str = None            # the field the error must name
    code: str = None             # OpenAI error.code the error must carry
    note: str = ""               # why the documented answer is what it is

    def body_bytes(self):
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()

    def dialect(self):
        return "anthropic" if self.path.startswith("/v1/messages") else "openai"


def chat(**kw):
    return {"model": M, "messages": U, "max_tokens": 4, **kw}


def completion(**kw):
    return {"model": M, "prompt": "hi", "max_tokens": 4, **kw}


def msg(**kw):
    return {"model": CLAUDE, "max_tokens": 4, "messages": U, **kw}


def count(**kw):
    return {"model": CLAUDE, "messages": U, **kw}


def drop(d, key):
    return {k: v for k, v in d.items() if k != key}


CASES = []


def add(*cases):
    for c in cases:
        CASES.append(c)


# ---------------------------------------------------------------------------------------------
# 1. Bodies that are not JSON, or not a JSON object.
NOT_JSON = {
    "empty": b"",
    "space": b"   \r\n ",
    "garbage": b"{not json",
    "truncated": b'{"model": "default", "messages": [',
    "trailing-garbage": b'{"model": "default"} trailing',
    "two-objects": b'{"model": "default"}{"model": "default"}',
    "array": b"[1, 2, 3]",
    "string": b'"hello"',
    "number": b"42",
    "null": b"null",
    "nan-literal": b'{"model": "default", "temperature": NaN}',
    "infinity-literal": b'{"model": "default", "temperature": Infinity}',
    "comment": b'{"model": "default" /* c */}',
    "single-quotes": b"{'model': 'default'}",
    "unquoted-key": b"{model: 1}",
    "trailing-comma": b'{"model": "default",}',
    "bom": b'\xef\xbb\xbf{"model": "default", "messages": []}',
    "utf16": '{"model": "default"}'.encode("utf-16"),
    "nul-bytes": b'{"model": "def\x00ault"}',
    "raw-control-char": b'{"model": "a\x01b"}',
    "invalid-utf8": b'\xff\xfe\x00garbage',
    "bad-escape": b'{"model": "\\q"}',
    "short-unicode-escape": b'{"model": "\\u12"}',
    "number-overflow-exponent": b'{"model": "default", "messages": [], "temperature": 1e99999}',
}
for name, body in NOT_JSON.items():
    for path in (CHAT, MESSAGES):
        add(Case(f"not-json/{name}{'-anthropic' if path == MESSAGES else ''}", "not_json", path,
                 body))
for path in (COMPLETIONS, COUNT, "/v1/agents/known/ttl"):
    add(Case(f"not-json/garbage{path.replace('/', '-')}", "not_json", path, b"{garbage"))
add(Case("not-json/garbage-event-logging", "not_json", "/api/event_logging/batch", b"{garbage",
         expect="2xx", note="Claude Code telemetry: accepted and dropped unread"))

# ---------------------------------------------------------------------------------------------
# 2. Invalid UTF-8 and odd Unicode inside JSON strings (a JSON text must be UTF-8).
BAD_UTF8 = {
    "ff": b"\xff",
    "lone-continuation": b"\x80",
    "overlong-slash": b"\xc0\xaf",
    "overlong-nul": b"\xc0\x80",
    "truncated-2byte": b"\xc3",
    "truncated-3byte": b"\xe2\x82",
    "utf8-surrogate": b"\xed\xa0\x80",
    "above-10ffff": b"\xf4\x90\x80\x80",
}
for name, bad in BAD_UTF8.items():
    add(Case(f"utf8/content-{name}", "invalid_utf8", CHAT,
             b'{"model": "default", "max_tokens": 4, "messages": [{"role": "user", "content": "a'
             + bad + b'b"}]}'))
    add(Case(f"utf8/anthropic-content-{name}", "invalid_utf8", MESSAGES,
             b'{"model": "claude-x", "max_tokens": 4, "messages": [{"role": "user", "content": "a'
             + bad + b'b"}]}'))
add(Case("utf8/model-name", "invalid_utf8", CHAT,
         b'{"model": "def\xffault", "messages": [{"role": "user", "content": "hi"}]}'),
    Case("utf8/stop", "invalid_utf8", CHAT,
         b'{"model": "default", "messages": [{"role": "user", "content": "hi"}], "stop": "\xfe"}'),
    Case("utf8/lone-high-surrogate-escape", "invalid_utf8", CHAT,
         b'{"model": "default", "messages": [{"role": "user", "content": "\\ud800"}]}'),
    Case("utf8/lone-low-surrogate-escape", "invalid_utf8", MESSAGES,
         b'{"model": "claude-x", "max_tokens": 4, "messages": [{"role": "user", '
         b'"content": "\\udc00x"}]}'),
    Case("utf8/escaped-nul-in-content", "invalid_utf8", CHAT,
         chat(messages=[{"role": "user", "content": "a\u0000b"}]), expect="2xx",
         note="U+0000 is valid JSON; it is text like any other"),
    Case("utf8/noncharacters", "invalid_utf8", CHAT,
         chat(messages=[{"role": "user", "content": "\ufffe\uffff\U0010ffff"}]), expect="2xx",
         note="noncharacters are valid Unicode scalar values"),
    Case("utf8/rtl-and-zero-width", "invalid_utf8", MESSAGES,
         msg(messages=[{"role": "user", "content": "\u202e\u200b\u2066abc"}]), expect="2xx"),
    Case("utf8/agent-header", "invalid_utf8", CHAT, chat(),
         headers=[("X-Agent-ID", b"ag\xffent")], param="X-Agent-ID"),
    Case("utf8/agent-header-anthropic", "invalid_utf8", MESSAGES, msg(),
         headers=[("X-Agent-ID", b"\xc3\xa9t\xc3\xa9")], param="X-Agent-ID"),
    Case("utf8/session-id-field", "invalid_utf8", CHAT, chat(session_id="caf\u00e9"),
         param="session_id"),
    Case("utf8/tool-name", "invalid_utf8", CHAT,
         b'{"model": "default", "messages": [{"role": "user", "content": "hi"}], "tools": '
         b'[{"type": "function", "function": {"name": "t\xff"}}]}'),
)

# ---------------------------------------------------------------------------------------------
# 3. Wrong JSON types for every field, on every generating route.
KINDS = {"str": "x", "int": 7, "float": 2.5, "bool": True, "arr": [1], "obj": {"a": 1}}


def wrong_types(path, base, fields):
    """fields: name -> kinds the server accepts (a kind listed as accepted is not sent)."""
    for name, ok in fields.items():
        for kind, value in KINDS.items():
            if kind in ok:
                continue
            body = dict(base)
            body[name] = value
            add(Case(f"type{path.replace('/', '-')}/{name}-{kind}", "wrong_type", path, body,
                     param=name))


NUM = ("int", "float")
wrong_types(CHAT, chat(), {
    "model": ("str",), "messages": (), "temperature": NUM, "top_p": NUM,
    "presence_penalty": NUM, "frequency_penalty": NUM, "max_tokens": ("int",),
    "max_completion_tokens": ("int",), "seed": ("int",), "n": ("int",), "top_k": ("int",),
    "stream": ("bool",), "logprobs": ("bool",), "parallel_tool_calls": ("bool",),
    "user": ("str",), "session_id": ("str",), "cache_salt": ("str",), "stop": ("str",),
    "tools": (), "tool_choice": (), "stream_options": ("obj",), "top_logprobs": (),
})
wrong_types(COMPLETIONS, completion(), {
    "model": ("str",), "prompt": ("str", "arr"), "max_tokens": ("int",), "temperature": NUM,
    "echo": ("bool",), "logprobs": ("int",), "stream": ("bool",), "stop": ("str",),
    "seed": ("int",), "user": ("str",),
})
wrong_types(MESSAGES, msg(), {
    "model": ("str",), "max_tokens": ("int",), "messages": (), "system": ("str",),
    "temperature": NUM, "top_p": NUM, "top_k": ("int",), "stream": ("bool",),
    "stop_sequences": (), "metadata": ("obj",), "tools": (), "tool_choice": (), "thinking": (),
})
wrong_types(COUNT, count(), {"model": ("str",), "messages": (), "system": ("str",), "tools": ()})

# ---------------------------------------------------------------------------------------------
# 4. Numbers: huge, negative, fractional, out of range.
NUMBERS = [
    (CHAT, "max_tokens", 0), (CHAT, "max_tokens", -1), (CHAT, "max_tokens", 2 ** 31),
    (CHAT, "max_tokens", 2 ** 63), (CHAT, "max_tokens", 2 ** 64 + 1), (CHAT, "max_tokens", 1e300),
    (CHAT, "max_tokens", 4.0000001), (CHAT, "max_completion_tokens", -(2 ** 63)),
    (CHAT, "temperature", -0.001), (CHAT, "temperature", 2.0001), (CHAT, "temperature", 1e308),
    (CHAT, "temperature", -1e308), (CHAT, "top_p", -1), (CHAT, "top_p", 1.0000001),
    (CHAT, "presence_penalty", 2.5), (CHAT, "frequency_penalty", -1e10),
    (CHAT, "seed", 2 ** 64), (CHAT, "seed", 1.5), (CHAT, "n", 0), (CHAT, "n", 2),
    (CHAT, "top_k", -1), (CHAT, "top_k", 2 ** 40), (COMPLETIONS, "logprobs", 6),
    (COMPLETIONS, "logprobs", -1), (COMPLETIONS, "max_tokens", 10 ** 30),
    (MESSAGES, "max_tokens", -1), (MESSAGES, "max_tokens", 2 ** 62), (MESSAGES, "max_tokens", 1.5),
    (MESSAGES, "temperature", 1.5), (MESSAGES, "temperature", -0.5), (MESSAGES, "top_p", 2),
    (MESSAGES, "top_k", -5), (MESSAGES, "top_k", 1e20),
]
for path, name, value in NUMBERS:
    base = {CHAT: chat(), COMPLETIONS: completion(), MESSAGES: msg()}[path]
    add(Case(f"number{path.replace('/', '-')}/{name}={value}", "numbers", path,
             {**base, name: value}, param=name))
add(Case("number/top-logprobs-21", "numbers", CHAT, chat(logprobs=True, top_logprobs=21),
         param="top_logprobs"),
    Case("number/prompt-token-negative", "numbers", COMPLETIONS, completion(prompt=[1, -2]),
         param="prompt"),
    Case("number/prompt-token-beyond-vocab", "numbers", COMPLETIONS,
         completion(prompt=[1, 10 ** 9]), param="prompt"),
    Case("number/prompt-token-huge", "numbers", COMPLETIONS, completion(prompt=[2 ** 64 - 1]),
         param="prompt"),
    Case("number/prompt-token-float", "numbers", COMPLETIONS, completion(prompt=[1, 2.5]),
         param="prompt"),
    Case("number/thinking-budget-negative", "numbers", MESSAGES,
         msg(thinking={"type": "enabled", "budget_tokens": -1}), param="thinking.budget_tokens"),
    Case("number/ttl-negative", "numbers", "/v1/agents/known/ttl", {"ttl_seconds": -5},
         param="ttl_seconds"),
    Case("number/ttl-huge", "numbers", "/v1/agents/known/ttl", {"ttl_seconds": 1e300},
         param="ttl_seconds"),
    Case("number/max-tokens-zero-anthropic", "numbers", MESSAGES, msg(max_tokens=0),
         expect="2xx", note="max_tokens 0 is a documented cache warm-up"),
    Case("number/negative-zero-temperature", "numbers", CHAT, chat(temperature=-0.0),
         expect="2xx", note="-0.0 equals 0"),
)

# ---------------------------------------------------------------------------------------------
# 5. Deep nesting: refused before parsing (server.max_json_depth, default 64).
def nested(depth, leaf="1"):
    return ("[" * depth + leaf + "]" * depth).encode()


for path in (CHAT, MESSAGES, COMPLETIONS, COUNT, "/v1/agents"):
    add(Case(f"depth/top-100000{path.replace('/', '-')}", "deep_nesting", path,
             b'{"x": ' + nested(100000) + b"}", code="json_too_deep"))
add(Case("depth/65-in-content", "deep_nesting", CHAT,
         b'{"model": "default", "messages": [{"role": "user", "content": ' + nested(62, '"x"')
         + b"}]}", code="json_too_deep"),
    Case("depth/objects-10000", "deep_nesting", CHAT,
         b'{"a":' * 10000 + b"1" + b"}" * 10000, code="json_too_deep"),
    Case("depth/unclosed-100000", "deep_nesting", MESSAGES, b"[" * 100000, code="json_too_deep"),
    Case("depth/in-tool-parameters", "deep_nesting", CHAT,
         b'{"model": "default", "messages": [{"role": "user", "content": "hi"}], "tools": [{"type":'
         b' "function", "function": {"name": "f", "parameters": ' + b'{"p":' * 100 + b"1"
         + b"}" * 100 + b"}}]}", code="json_too_deep"),
    Case("depth/in-metadata", "deep_nesting", MESSAGES,
         b'{"model": "claude-x", "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}],'
         b' "metadata": ' + nested(200) + b"}", code="json_too_deep"),
    Case("depth/brackets-in-strings-do-not-count", "deep_nesting", CHAT,
         chat(messages=[{"role": "user", "content": "[" * 300 + "{" * 300}]), expect="2xx",
         note="brackets inside strings are text"),
    Case("depth/deep-tool-call-arguments-string", "deep_nesting", CHAT,
         chat(messages=[{"role": "user", "content": "hi"},
                        {"role": "assistant", "content": None, "tool_calls": [
                            {"id": "c1", "type": "function",
                             "function": {"name": "f", "arguments": "[" * 100000 + "]" * 100000}}]},
                        {"role": "tool", "tool_call_id": "c1", "content": "ok"}],
              tools=[{"type": "function", "function": {"name": "f"}}]),
         expect=(200, 400), note="arguments nested deeper than the limit stay text"),
)

# ---------------------------------------------------------------------------------------------
# 6. Empty, missing and duplicate fields.
add(Case("empty/object-chat", "empty_duplicate", CHAT, {}, param="model"),
    Case("empty/object-completions", "empty_duplicate", COMPLETIONS, {}, param="model"),
    Case("empty/object-messages", "empty_duplicate", MESSAGES, {}, param="model"),
    Case("empty/object-count", "empty_duplicate", COUNT, {}, param="model"),
    Case("empty/model-string", "empty_duplicate", CHAT, chat(model=""), param="model"),
    Case("empty/model-string-anthropic", "empty_duplicate", MESSAGES, msg(model=""),
         param="model"),
    Case("empty/messages-missing", "empty_duplicate", CHAT, drop(chat(), "messages"),
         param="messages"),
    Case("empty/messages-missing-anthropic", "empty_duplicate", MESSAGES,
         drop(msg(), "messages"), param="messages"),
    Case("empty/max-tokens-missing-anthropic", "empty_duplicate", MESSAGES,
         drop(msg(), "max_tokens"), param="max_tokens"),
    Case("empty/messages-array", "empty_duplicate", CHAT, chat(messages=[]), param="messages"),
    Case("empty/messages-array-anthropic", "empty_duplicate", MESSAGES, msg(messages=[]),
         param="messages"),
    Case("empty/message-object", "empty_duplicate", CHAT, chat(messages=[{}]),
         param="messages[0].role"),
    Case("empty/message-object-anthropic", "empty_duplicate", MESSAGES, msg(messages=[{}]),
         param="messages.0"),
    Case("empty/role-string", "empty_duplicate", CHAT,
         chat(messages=[{"role": "", "content": "x"}]), param="messages[0].role"),
    Case("empty/content-string", "empty_duplicate", CHAT,
         chat(messages=[{"role": "user", "content": ""}]), expect=(200, 400),
         note="an empty message renders to a template-only prompt"),
    Case("empty/content-array-anthropic", "empty_duplicate", MESSAGES,
         msg(messages=[{"role": "user", "content": []}]), expect=(200, 400)),
    Case("empty/prompt-string", "empty_duplicate", COMPLETIONS, completion(prompt=""),
         expect=(200, 400), note="an empty prompt still holds BOS for some models"),
    Case("empty/prompt-array", "empty_duplicate", COMPLETIONS, completion(prompt=[]),
         param="prompt"),
    Case("empty/stop-list", "empty_duplicate", CHAT, chat(stop=[]), expect="2xx"),
    Case("empty/stop-string", "empty_duplicate", CHAT, chat(stop=""), expect="2xx",
         note="an empty stop string never matches"),
    Case("empty/tools-array", "empty_duplicate", CHAT, chat(tools=[]), expect="2xx"),
    Case("empty/tool-name", "empty_duplicate", CHAT,
         chat(tools=[{"type": "function", "function": {"name": ""}}]),
         param="tools[0].function.name"),
    Case("empty/agent-id-header", "empty_duplicate", CHAT, chat(), headers=[("X-Agent-ID", "")],
         expect="2xx", note="the HTTP library drops a header without a value: no agent id"),
    Case("empty/agents-post-body", "empty_duplicate", "/v1/agents", b"", expect="2xx",
         note="every field of POST /v1/agents is optional"),
    Case("empty/ttl-body", "empty_duplicate", "/v1/agents/known/ttl", {}, param="ttl_seconds"),
    Case("empty/fork-agent-id", "empty_duplicate", "/v1/agents/known/fork", {"agent_id": ""},
         param="agent_id"),
    Case("empty/all-null-fields", "empty_duplicate", CHAT,
         chat(temperature=None, top_p=None, stop=None, tools=None, tool_choice=None, seed=None,
              user=None, stream=None), expect="2xx", note="null means absent"),
    Case("duplicate/model-key", "empty_duplicate", CHAT,
         b'{"model": 5, "model": "default", "max_tokens": 4, "messages": [{"role": "user", '
         b'"content": "hi"}]}', expect="2xx", note="the last of duplicate keys wins"),
    Case("duplicate/model-key-last-bad", "empty_duplicate", CHAT,
         b'{"model": "default", "model": 5, "messages": [{"role": "user", "content": "hi"}]}',
         param="model"),
    Case("duplicate/messages-key", "empty_duplicate", MESSAGES,
         b'{"model": "claude-x", "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}],'
         b' "messages": "nope"}', param="messages"),
    Case("duplicate/role-key", "empty_duplicate", CHAT,
         b'{"model": "default", "messages": [{"role": "user", "role": "wizard", "content": "x"}]}',
         param="messages[0].role"),
    Case("duplicate/agent-headers-differ", "empty_duplicate", CHAT, chat(),
         headers=[("X-Agent-ID", "dup-a"), ("X-Agent-ID", "../dup")], expect=(200, 400),
         note="the first X-Agent-ID header is used"),
    Case("duplicate/content-length-conflict", "empty_duplicate", raw=(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}"),
        expect=(400, 408)),
    Case("duplicate/unknown-fields", "empty_duplicate", CHAT,
         chat(frobnicate=1, logit_bias={"1": 100}, response_format={"type": "text"},
              metadata={"a": "b"}, service_tier="auto"), expect="2xx",
         note="unknown and unsupported optional fields are ignored, as OpenAI's SDKs expect"),
)

# ---------------------------------------------------------------------------------------------
# 7. Roles and content blocks.
add(Case("role/unknown", "roles_content", CHAT,
         chat(messages=[{"role": "wizard", "content": "x"}]), param="messages[0].role"),
    Case("role/upper-case", "roles_content", CHAT,
         chat(messages=[{"role": "USER", "content": "x"}]), param="messages[0].role"),
    Case("role/null", "roles_content", CHAT, chat(messages=[{"role": None, "content": "x"}]),
         param="messages[0].role"),
    Case("role/number", "roles_content", CHAT, chat(messages=[{"role": 1, "content": "x"}]),
         param="messages[0].role"),
    Case("role/unknown-anthropic", "roles_content", MESSAGES,
         msg(messages=[{"role": "wizard", "content": "x"}]), param="messages.0.role"),
    Case("role/system-in-messages-anthropic", "roles_content", MESSAGES,
         msg(messages=[{"role": "user", "content": "x"}, {"role": "system", "content": "y"}]),
         expect="2xx", note="a mid-conversation system message is rendered (Claude Code sends it)"),
    Case("role/tool-anthropic", "roles_content", MESSAGES,
         msg(messages=[{"role": "tool", "content": "x"}]), param="messages.0.role"),
    Case("role/function-legacy", "roles_content", CHAT,
         chat(messages=[{"role": "function", "name": "f", "content": "x"}]),
         param="messages[0].role"),
    Case("content/number", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": 5}]), param="messages[0].content"),
    Case("content/object", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": {"text": "x"}}]),
         param="messages[0].content"),
    Case("content/missing", "roles_content", CHAT, chat(messages=[{"role": "user"}]),
         param="messages[0].content"),
    Case("content/part-not-object", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": ["x"]}]), param="messages[0].content[0]"),
    Case("content/part-image", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": [
             {"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]}]),
         param="messages[0].content[0].type"),
    Case("content/part-text-missing", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": [{"type": "text"}]}]),
         param="messages[0].content[0].text"),
    Case("content/part-text-number", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": [{"type": "text", "text": 1}]}]),
         param="messages[0].content[0].text"),
    Case("content/part-type-missing", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": [{"text": "x"}]}]),
         param="messages[0].content[0]"),
    Case("content/nested-arrays", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": [[{"type": "text", "text": "x"}]]}]),
         param="messages[0].content[0]"),
    Case("content/anthropic-block-unknown", "roles_content", MESSAGES,
         msg(messages=[{"role": "user", "content": [{"type": "hologram", "text": "x"}]}]),
         param="messages.0.content.0"),
    Case("content/anthropic-block-not-object", "roles_content", MESSAGES,
         msg(messages=[{"role": "user", "content": [7]}]), param="messages.0.content.0"),
    Case("content/anthropic-text-missing", "roles_content", MESSAGES,
         msg(messages=[{"role": "user", "content": [{"type": "text"}]}]),
         param="messages.0.content.0.text"),
    Case("content/anthropic-image", "roles_content", MESSAGES,
         msg(messages=[{"role": "user", "content": [
             {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                          "data": "AAAA"}}]}]), param="messages.0.content.0"),
    Case("content/anthropic-tool-use-no-id", "roles_content", MESSAGES,
         msg(messages=[{"role": "user", "content": "hi"},
                       {"role": "assistant", "content": [
                           {"type": "tool_use", "name": "f", "input": {}}]}]),
         param="messages.1.content.0"),
    Case("content/anthropic-tool-use-input-string", "roles_content", MESSAGES,
         msg(messages=[{"role": "user", "content": "hi"},
                       {"role": "assistant", "content": [
                           {"type": "tool_use", "id": "t1", "name": "f", "input": "{}"}]}]),
         param="messages.1.content.0"),
    Case("content/anthropic-tool-result-content-number", "roles_content", MESSAGES,
         msg(messages=[{"role": "user", "content": [
             {"type": "tool_result", "tool_use_id": "t1", "content": 5}]}]),
         param="messages.0.content.0"),
    Case("content/anthropic-tool-result-orphan", "roles_content", MESSAGES,
         msg(messages=[{"role": "user", "content": [
             {"type": "tool_result", "tool_use_id": "nope", "content": "r"}]}]),
         expect=(200, 400), note="a result without its call renders as text"),
    Case("content/anthropic-system-array-bad", "roles_content", MESSAGES,
         msg(system=[{"type": "image"}]), param="system"),
    Case("content/anthropic-system-block-number", "roles_content", MESSAGES, msg(system=[1]),
         param="system"),
    Case("content/assistant-tool-calls-not-array", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": "hi"},
                        {"role": "assistant", "content": None, "tool_calls": "call"}]),
         param="messages[1].tool_calls"),
    Case("content/assistant-tool-calls-garbage", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": "hi"},
                        {"role": "assistant", "content": None,
                         "tool_calls": [1, {"function": 5}, {"function": {"arguments": 7}}]}]),
         param="messages[1].tool_calls[0]"),
    Case("content/tool-call-function-number", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": "hi"},
                        {"role": "assistant", "content": None, "tool_calls": [{"function": 5}]}]),
         param="messages[1].tool_calls[0].function"),
    Case("content/tool-call-name-missing", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": "hi"},
                        {"role": "assistant", "content": None,
                         "tool_calls": [{"function": {"arguments": "{}"}}]}]),
         param="messages[1].tool_calls[0].function.name"),
    Case("content/tool-call-arguments-number", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": "hi"},
                        {"role": "assistant", "content": None,
                         "tool_calls": [{"function": {"name": "f", "arguments": 7}}]}]),
         param="messages[1].tool_calls[0].function.arguments"),
    Case("content/tool-call-type-wrong", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": "hi"},
                        {"role": "assistant", "content": None, "tool_calls": [
                            {"type": "retrieval", "function": {"name": "f", "arguments": "{}"}}]}]),
         param="messages[1].tool_calls[0].type"),
    Case("content/tool-call-arguments-not-json", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": "hi"},
                        {"role": "assistant", "content": None, "tool_calls": [
                            {"id": "c", "type": "function",
                             "function": {"name": "f", "arguments": "{not json"}}]}]),
         expect=(200, 400), note="arguments that are not JSON are kept as text"),
    Case("content/message-name-object", "roles_content", CHAT,
         chat(messages=[{"role": "user", "name": {"x": 1}, "content": "hi"}]),
         param="messages[0].name"),
    Case("content/tool-call-id-number", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": "hi"},
                        {"role": "tool", "tool_call_id": 5, "content": "r"}]),
         param="messages[1].tool_call_id"),
    Case("content/only-assistant", "roles_content", MESSAGES,
         msg(messages=[{"role": "assistant", "content": "prefill"}]), expect=(200, 400),
         note="an assistant-only history is a prefill"),
    Case("content/prompt-too-long", "roles_content", CHAT,
         chat(messages=[{"role": "user", "content": "word " * 3000}]), param="messages",
         code="context_length_exceeded"),
    Case("content/prompt-too-long-anthropic", "roles_content", MESSAGES,
         msg(messages=[{"role": "user", "content": "word " * 3000}])),
)

# ---------------------------------------------------------------------------------------------
# 8. Tools and tool_choice.
T = [{"type": "function", "function": {"name": "get", "parameters": {"type": "object"}}}]
AT = [{"name": "get", "input_schema": {"type": "object"}}]
add(Case("tools/not-function-type", "tools", CHAT, chat(tools=[{"type": "retrieval"}]),
         param="tools[0]"),
    Case("tools/function-missing", "tools", CHAT, chat(tools=[{"type": "function"}]),
         param="tools[0].function"),
    Case("tools/name-number", "tools", CHAT,
         chat(tools=[{"type": "function", "function": {"name": 3}}]),
         param="tools[0].function.name"),
    Case("tools/parameters-string", "tools", CHAT,
         chat(tools=[{"type": "function", "function": {"name": "f", "parameters": "object"}}]),
         expect=(200, 400)),
    Case("tools/choice-unknown-string", "tools", CHAT, chat(tools=T, tool_choice="sometimes"),
         param="tool_choice"),
    Case("tools/choice-required-no-tools", "tools", CHAT, chat(tool_choice="required"),
         param="tool_choice"),
    Case("tools/choice-named-missing", "tools", CHAT,
         chat(tools=T, tool_choice={"type": "function", "function": {"name": "nope"}}),
         param="tool_choice.function.name"),
    Case("tools/choice-object-no-function", "tools", CHAT,
         chat(tools=T, tool_choice={"type": "function"}), param="tool_choice"),
    Case("tools/many-tools", "tools", CHAT,
         chat(tools=[{"type": "function", "function": {"name": f"t{i}"}} for i in range(2000)]),
         expect=400, param="messages", note="2,000 tools do not fit a 2,048-token context"),
    Case("tools/anthropic-not-array", "tools", MESSAGES, msg(tools={"name": "x"}),
         param="tools"),
    Case("tools/anthropic-tool-not-object", "tools", MESSAGES, msg(tools=[1]),
         param="tools.0"),
    Case("tools/anthropic-name-missing", "tools", MESSAGES,
         msg(tools=[{"input_schema": {"type": "object"}}]), param="tools.0"),
    Case("tools/anthropic-schema-string", "tools", MESSAGES,
         msg(tools=[{"name": "f", "input_schema": "object"}]), expect=(200, 400)),
    Case("tools/anthropic-choice-unknown-type", "tools", MESSAGES,
         msg(tools=AT, tool_choice={"type": "sometimes"}), param="tool_choice.type"),
    Case("tools/anthropic-choice-tool-no-name", "tools", MESSAGES,
         msg(tools=AT, tool_choice={"type": "tool"}), param="tool_choice.name"),
    Case("tools/anthropic-choice-tool-unknown-name", "tools", MESSAGES,
         msg(tools=AT, tool_choice={"type": "tool", "name": "nope"}), param="tool_choice.name"),
    Case("tools/anthropic-choice-any-no-tools", "tools", MESSAGES,
         msg(tool_choice={"type": "any"}), param="tool_choice"),
    Case("tools/anthropic-choice-string", "tools", MESSAGES, msg(tools=AT, tool_choice="auto"),
         param="tool_choice"),
    Case("tools/anthropic-thinking-unknown", "tools", MESSAGES, msg(thinking={"type": "deep"}),
         param="thinking.type"),
)

# ---------------------------------------------------------------------------------------------
# 9. Sizes and counts past the limits.
BIG = b'{"model": "default", "messages": [{"role": "user", "content": "' + b"a" * MAX_BODY + b'"}]}'
add(Case("limit/body-over-max", "limits", CHAT, BIG, expect=413, code="request_too_large"),
    Case("limit/body-over-max-anthropic", "limits", MESSAGES, BIG, expect=413),
    Case("limit/body-over-max-agents", "limits", "/v1/agents", BIG, expect=413),
    Case("limit/content-length-over-max-no-body", "limits", raw=(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Length: 99999999999\r\n\r\n"), expect=413),
    Case("limit/messages-over-max", "limits", CHAT,
         chat(messages=[{"role": "user", "content": "a"}] * (MAX_MESSAGES + 1)),
         param="messages", code="too_many_messages"),
    Case("limit/messages-over-max-anthropic", "limits", MESSAGES,
         msg(messages=[{"role": "user", "content": "a"}] * (MAX_MESSAGES + 1)), param="messages"),
    Case("limit/messages-over-max-count-tokens", "limits", COUNT,
         count(messages=[{"role": "user", "content": "a"}] * (MAX_MESSAGES + 1)),
         param="messages"),
    Case("limit/max-tokens-over-cap", "limits", CHAT, chat(max_tokens=MAX_OUTPUT_TOKENS + 1),
         param="max_tokens", code="max_tokens_exceeded"),
    Case("limit/max-completion-tokens-over-cap", "limits", CHAT,
         chat(max_completion_tokens=100000), param="max_completion_tokens"),
    Case("limit/max-tokens-over-cap-anthropic", "limits", MESSAGES, msg(max_tokens=32000),
         param="max_tokens"),
    Case("limit/max-tokens-over-cap-completions", "limits", COMPLETIONS,
         completion(max_tokens=MAX_OUTPUT_TOKENS * 2), param="max_tokens"),
    Case("limit/stop-5", "limits", CHAT, chat(stop=["a", "b", "c", "d", "e"]), param="stop"),
    Case("limit/stop-sequences-65", "limits", MESSAGES,
         msg(stop_sequences=[str(i) for i in range(65)]), param="stop_sequences"),
    Case("limit/huge-string-field", "limits", CHAT, chat(user="u" * 900000), expect="2xx",
         note="a long user name is hashed into an agent id"),
    Case("limit/headers-over-max", "limits", CHAT, chat(),
         headers=[(f"X-Pad-{i}", "p" * 4000) for i in range(10)], expect=431,
         code="headers_too_large"),
    Case("limit/headers-over-max-anthropic", "limits", MESSAGES, msg(),
         headers=[(f"X-Pad-{i}", "p" * 4000) for i in range(10)], expect=431),
    Case("limit/many-tiny-headers", "limits", "/v1/models", method="GET",
         headers=[(f"X-{i}", "1") for i in range(5000)], expect=431),
    Case("limit/header-line-over-8k", "limits", "/v1/models", method="GET",
         headers=[("X-Big", "b" * 9000)], expect=400),
    Case("limit/uri-over-8k", "limits", "/v1/models?q=" + "q" * 9000, method="GET", expect=414),
    Case("limit/agent-path-over-8k", "limits", "/v1/agents/" + "a" * 9000, method="GET",
         expect=414),
)

# ---------------------------------------------------------------------------------------------
# 10. Header abuse (written on the wire as given).
def raw_post(path, body, *header_lines):
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode()
    for line in header_lines:
        head += line + b"\r\n"
    return head + b"\r\n" + body


J = json.dumps(chat()).encode()
AJ = json.dumps(msg()).encode()
CL = f"Content-Length: {len(J)}".encode()
add(Case("header/crlf-injected-agent", "headers", CHAT, chat(),
         headers=[("X-Agent-ID", b"a\r\nX-Injected: 1")], expect=(200, 400),
         note="the bytes after CRLF form a separate header; the agent id is 'a'"),
    Case("header/bare-lf-line-endings", "headers", raw=(
        b"POST /v1/chat/completions HTTP/1.1\nHost: x\nConnection: close\nContent-Length: "
        + str(len(J)).encode() + b"\n\n" + J), expect=("2xx", 400)),
    Case("header/no-colon", "headers", raw=raw_post(CHAT, J, CL, b"NoColonHere"),
         expect=("2xx", 400), note="the HTTP library skips a header line without a colon"),
    Case("header/space-before-colon", "headers", raw=raw_post(CHAT, J, CL, b"X-Agent-ID : a"),
         expect=("2xx", 400)),
    Case("header/obs-fold", "headers", raw=raw_post(CHAT, J, CL, b"X-A: a", b" folded"),
         expect=("2xx", 400)),
    Case("header/nul-in-value", "headers", raw=raw_post(CHAT, J, CL, b"X-Agent-ID: a\x00b"),
         expect=("2xx", 400), param="X-Agent-ID",
         note="the HTTP library ends a header value at NUL: agent id 'a'"),
    Case("header/content-length-negative", "headers",
         raw=raw_post(CHAT, J, b"Content-Length: -5")),
    Case("header/content-length-text", "headers",
         raw=raw_post(CHAT, J, b"Content-Length: ten")),
    Case("header/content-length-overflow", "headers",
         raw=raw_post(CHAT, J, b"Content-Length: 99999999999999999999999"), expect=(400, 413)),
    Case("header/content-length-short", "headers",
         raw=raw_post(CHAT, J, b"Content-Length: 10"), param=None, code="invalid_json"),
    Case("header/content-length-long-stalls", "headers",
         raw=raw_post(CHAT, J, f"Content-Length: {len(J) + 50}".encode()), expect=408,
         code="request_timeout", note="the body never completes: server.read_timeout"),
    Case("header/no-content-length", "headers", raw=raw_post(CHAT, J), expect=(400, 408),
         note="without a length the body ends only at read_timeout"),
    Case("header/chunked-bad-size", "headers",
         raw=raw_post(CHAT, b"zz\r\nabc\r\n0\r\n\r\n", b"Transfer-Encoding: chunked")),
    Case("header/chunked-truncated", "headers",
         raw=raw_post(CHAT, b"ffff\r\nabc", b"Transfer-Encoding: chunked"), expect=(400, 408)),
    Case("header/chunked-valid", "headers",
         raw=raw_post(CHAT, hex(len(J))[2:].encode() + b"\r\n" + J + b"\r\n0\r\n\r\n",
                      b"Transfer-Encoding: chunked"), expect="2xx",
         note="chunked request bodies are HTTP/1.1"),
    Case("header/te-and-cl", "headers",
         raw=raw_post(CHAT, b"5\r\n{}   \r\n0\r\n\r\n", b"Transfer-Encoding: chunked",
                      b"Content-Length: 3"), expect="4xx"),
    Case("header/content-type-text", "headers", CHAT, chat(),
         headers=[("Content-Type", "text/plain")], expect="2xx",
         note="the body is read as JSON whatever the Content-Type"),
    Case("header/content-type-form", "headers", CHAT, b"model=default&messages=hi",
         headers=[("Content-Type", "application/x-www-form-urlencoded")], code="invalid_json"),
    Case("header/content-type-multipart", "headers", CHAT, b"--x\r\n\r\n--x--",
         headers=[("Content-Type", "multipart/form-data; boundary=x")]),
    Case("header/content-encoding-gzip-lie", "headers", CHAT, J,
         headers=[("Content-Encoding", "gzip")], expect=(400, 415), param="Content-Encoding"),
    Case("header/content-encoding-unknown", "headers", CHAT, J,
         headers=[("Content-Encoding", "zstd-9000")], expect=("2xx", 400, 415)),
    Case("header/expect-100", "headers", CHAT, chat(), headers=[("Expect", "100-continue")],
         expect=("2xx", 417)),
    Case("header/request-id-crlf", "headers", CHAT, chat(),
         headers=[("X-Request-ID", b"abc%0d%0aSet-Cookie:x")], expect="2xx",
         note="an insane request id is replaced by a generated one"),
    Case("header/request-id-long", "headers", CHAT, chat(), headers=[("X-Request-ID", "r" * 5000)],
         expect="2xx"),
    Case("header/authorization-garbage", "headers", CHAT, chat(),
         headers=[("Authorization", b"Bearer \xff\xfe"), ("Authorization", "Basic x")],
         expect="2xx", note="no api_keys configured: authorization is not checked"),
    Case("header/anthropic-version-garbage", "headers", MESSAGES, msg(),
         headers=[("anthropic-version", "\u2603"), ("anthropic-beta", "x" * 3000)],
         expect="2xx"),
    Case("header/origin-evil", "headers", CHAT, chat(), headers=[("Origin", "http://evil")],
         expect="2xx", note="no CORS configured: no CORS headers, request served"),
    Case("header/host-missing", "headers", raw=(
        b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"), expect="2xx"),
    Case("header/http-1.0", "headers", raw=b"GET /health HTTP/1.0\r\n\r\n", expect="2xx"),
    Case("header/http-2-version", "headers", raw=b"GET /health HTTP/2.0\r\nHost: x\r\n\r\n",
         expect=("2xx", 400, 505, "closed")),
    Case("header/http-garbage-version", "headers", raw=b"GET /health FOO/9\r\nHost: x\r\n\r\n",
         expect=(400, "closed")),
    Case("header/tls-hello", "headers", raw=b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 4,
         expect=(400, "closed")),
    Case("header/empty-request-line", "headers", raw=b"\r\n\r\n", expect=(400, "closed")),
    Case("header/method-lower-case", "headers", raw=b"get /health HTTP/1.1\r\nHost: x\r\n\r\n",
         expect=(400, 404, 405, "closed")),
    Case("header/method-unknown", "headers", raw=b"BREW /health HTTP/1.1\r\nHost: x\r\n\r\n",
         expect=(400, 404, 405, "closed")),
    Case("header/absolute-uri", "headers", raw=(
        b"GET http://evil.example/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
         expect=("2xx", 400, 404)),
    Case("header/asterisk-target", "headers", raw=(
        b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
         expect=("2xx", 400, 404, 405)),
    Case("header/slow-request-line", "headers", raw=[b"GET /hea", b"lth HTTP/1.1\r\n"],
         pause=0.3, expect=("closed", 400, 408),
         note="the request line never ends: the connection closes after read_timeout"),
)

# ---------------------------------------------------------------------------------------------
# 11. Agent ids in headers, bodies and URL paths: traversal and odd bytes.
BAD_IDS = ["../etc/passwd", "..", ".", "a/b", "a\\b", "%2e%2e%2f", "a b", "a:b", "a\tb",
           "x" * 257, "caf\u00e9", "a*", "<script>", "a;rm -rf", "~root", "$HOME"]
for i, bad in enumerate(BAD_IDS):
    add(Case(f"agent/header-{i}-{bad[:12]!r}", "agent_ids", CHAT if i % 2 else MESSAGES,
             chat() if i % 2 else msg(), headers=[("X-Agent-ID", bad)], param="X-Agent-ID"))
for i, bad in enumerate(["../x", "..", "a/b", "x" * 300]):
    add(Case(f"agent/session-id-field-{i}", "agent_ids", CHAT, chat(session_id=bad),
             param="session_id"),
        Case(f"agent/create-{i}", "agent_ids", "/v1/agents", {"agent_id": bad}, param="agent_id"),
        Case(f"agent/fork-target-{i}", "agent_ids", "/v1/agents/known/fork", {"agent_id": bad},
             param="agent_id"))
add(Case("agent/session-header", "agent_ids", CHAT, chat(), headers=[("X-Session-ID", "../s")],
         param="X-Session-ID"),
    Case("agent/claude-code-session-header", "agent_ids", MESSAGES, msg(),
         headers=[("X-Claude-Code-Session-Id", "a/../b")], param="X-Claude-Code-Session-Id"),
    Case("agent/metadata-user-id-odd", "agent_ids", MESSAGES,
         msg(metadata={"user_id": "../../etc/passwd"}), expect="2xx",
         note="a user id that is no agent id is hashed into one"),
    Case("agent/user-odd", "agent_ids", CHAT, chat(user="../../\u0000etc"), expect="2xx",
         note="a user name that is no agent id is hashed into one"),
)
PATHS = ["/v1/agents/..%2F..%2Fetc%2Fpasswd", "/v1/agents/%2e%2e", "/v1/agents/%00",
         "/v1/agents/a%20b", "/v1/agents/%ff%fe", "/v1/agents/a%0d%0ab", "/v1/agents/" + "z" * 300,
         "/v1/agents/.%2e", "/v1/agents/%C0%AE%C0%AE", "/v1/agents/a%2fb"]
for i, p in enumerate(PATHS):
    add(Case(f"agent/get-path-{i}", "agent_ids", p, method="GET", param="agent_id",
             expect=(400, 404)),
        Case(f"agent/delete-path-{i}", "agent_ids", p, method="DELETE", param="agent_id",
             expect=(400, 404)))
for verb in ("pin", "unpin", "flush", "fork", "ttl"):
    body = {"ttl_seconds": 5} if verb == "ttl" else {}
    add(Case(f"agent/{verb}-traversal", "agent_ids", f"/v1/agents/..%2F..%2Ftmp/{verb}", body,
             param="agent_id", expect=(400, 404)),
        Case(f"agent/{verb}-unknown", "agent_ids", f"/v1/agents/no-such-agent/{verb}", body,
             expect=404))
add(Case("agent/raw-path-traversal", "agent_ids", raw=(
        b"GET /v1/agents/../../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        expect=(400, 404)),
    Case("agent/raw-path-bytes", "agent_ids", raw=(
        b"GET /v1/agents/\xff\x01\x7f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        expect=(400, 404)),
    Case("agent/delete-evict-only-bad", "agent_ids", "/v1/agents/known?evict_only=maybe",
         method="DELETE", param="evict_only"),
    Case("agent/create-duplicate", "agent_ids", "/v1/agents", {"agent_id": "known"}, expect=409,
         param="agent_id"),
    Case("agent/create-pinned-string", "agent_ids", "/v1/agents", {"pinned": "yes"},
         param="pinned"),
)

# ---------------------------------------------------------------------------------------------
# 12. Routes, methods and the admin API.
add(Case("route/unknown", "routes", "/v1/nothing", {"model": M}, expect=404),
    Case("route/unknown-anthropic-prefix", "routes", "/v1/messages/nothing", msg(), expect=404),
    Case("route/get-on-post-route", "routes", CHAT, method="GET", expect=(404, 405)),
    Case("route/delete-on-chat", "routes", CHAT, method="DELETE", expect=(404, 405)),
    Case("route/put-on-messages", "routes", MESSAGES, msg(), method="PUT", expect=(404, 405)),
    Case("route/post-models", "routes", "/v1/models", {}, expect=(404, 405)),
    Case("route/post-health", "routes", "/health", {}, expect=(404, 405)),
    Case("route/post-openapi", "routes", "/openapi.json", {}, expect=(404, 405)),
    Case("route/post-metrics", "routes", "/metrics", {}, expect=(404, 405)),
    Case("route/patch-agent", "routes", "/v1/agents/known", {}, method="PATCH",
         expect=(400, 404, 405)),
    Case("route/dot-dot-path", "routes", "/../../etc/passwd", method="GET", expect=404),
    Case("route/encoded-dot-dot", "routes", "/v1/%2e%2e/%2e%2e/etc/passwd", method="GET",
         expect=404),
    Case("route/double-slash", "routes", "//v1//models", method="GET", expect=404),
    Case("route/trailing-slash", "routes", "/v1/chat/completions/", chat(), expect=404),
    Case("route/bad-percent-escape", "routes", "/v1/models?x=%zz&y=%", method="GET",
         expect=("2xx", 400)),
    Case("route/query-odd-bytes", "routes", "/health?\x01=\x7f", method="GET",
         expect=("2xx", 400)),
    Case("route/health-live-post", "routes", "/health/live", {}, expect=(404, 405)),
    Case("route/head-health", "routes", "/health", method="HEAD", expect=("2xx", 404, 405)),
    Case("route/options-chat-no-cors", "routes", CHAT, method="OPTIONS",
         expect=("2xx", 404, 405)),
    Case("admin/no-key", "routes", "/admin/caches", method="DELETE", expect=401),
    Case("admin/wrong-key", "routes", "/admin/caches", method="DELETE",
         headers=[("X-Admin-Key", "wrong")], expect=401),
    Case("admin/key-prefix", "routes", "/admin/caches", method="DELETE",
         headers=[("X-Admin-Key", ADMIN_KEY[:-1])], expect=401),
    Case("admin/bearer-odd", "routes", "/admin/caches", method="DELETE",
         headers=[("Authorization", "Bearer")], expect=401),
    Case("admin/get", "routes", "/admin/caches", method="GET", expect=(404, 405)),
    Case("admin/unknown", "routes", "/admin/../v1/models", method="GET", expect=(404, "2xx")),
    Case("route/event-logging-garbage", "routes", "/api/event_logging/batch", [1, 2],
         expect=("2xx", 400), note="Claude Code telemetry is accepted and dropped"),
)

# ---------------------------------------------------------------------------------------------
# 13. Streams with bad input: the error comes before the stream starts, as JSON, not SSE.
add(Case("stream/bad-temperature", "streams", CHAT, chat(stream=True, temperature=9),
         param="temperature"),
    Case("stream/bad-model-anthropic", "streams", MESSAGES, msg(stream=True, model=3),
         param="model"),
    Case("stream/context-exceeded", "streams", CHAT,
         chat(stream=True, messages=[{"role": "user", "content": "word " * 3000}]),
         param="messages"),
    Case("stream/stream-options-without-stream", "streams", CHAT,
         chat(stream_options={"include_usage": True}), expect="2xx"),
    Case("stream/unknown-model", "streams", CHAT, chat(stream=True, model="gpt-99"), expect=404,
         param="model"),
)

CATEGORIES = sorted({c.category for c in CASES})
