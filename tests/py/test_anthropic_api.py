"""Anthropic Messages API through the real `anthropic` SDK (and raw HTTP where the wire itself is
the subject) against the real server binary."""
import json
from concurrent.futures import ThreadPoolExecutor

import anthropic
import pytest
import requests

from conftest import ServerProcess, metric, wait_for_metric

MODEL = "claude-opus-5-5"  # any claude-* name selects the served model
Q = [{"role": "user", "content": "Write a short poem about the sea."}]
# The SDK no longer has sampling parameters; the server still reads temperature/top_p/top_k.
GREEDY = {"temperature": 0}


@pytest.fixture(scope="module")
def ac(server):
    return anthropic.Anthropic(base_url=server, api_key="x", max_retries=0)


def post(server, path, body, headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(server + path, data=data, timeout=120,
                         headers=dict({"Content-Type": "application/json"}, **(headers or {})))


def sse_events(r):
    """[(event name, data)] of an SSE response; every frame must carry both lines."""
    out = []
    for frame in r.text.split("\n\n"):
        if not frame.strip():
            continue
        lines = frame.split("\n")
        assert lines[0].startswith("event: ") and lines[1].startswith("data: "), frame
        out.append((lines[0][len("event: "):], json.loads(lines[1][len("data: "):])))
    return out


def total_input(u):
    return u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens


def test_create_answers_a_message_with_usage(ac):
    raw = ac.messages.with_raw_response.create(model=MODEL, max_tokens=40, messages=Q,
                                               extra_body=GREEDY)
    assert raw.headers["request-id"].startswith("req_")
    m = raw.parse()
    assert m.type == "message" and m.role == "assistant" and m.model == MODEL
    assert m.id.startswith("msg_")
    assert len(m.content) == 1 and m.content[0].type == "text" and m.content[0].text
    assert m.stop_reason in ("end_turn", "max_tokens") and m.stop_sequence is None
    u = m.usage
    assert u.output_tokens > 0 and total_input(u) > 5
    assert u.cache_creation_input_tokens == 0 and u.cache_read_input_tokens < total_input(u)


def test_stream_equals_create_and_keeps_the_event_order(ac, server):
    kw = dict(model=MODEL, max_tokens=40, messages=Q, extra_body=GREEDY)
    full = ac.messages.create(**kw)
    with ac.messages.stream(**kw) as s:
        streamed = s.get_final_message()
    assert streamed.content[0].text == full.content[0].text
    assert streamed.stop_reason == full.stop_reason
    assert streamed.usage.output_tokens == full.usage.output_tokens
    assert total_input(streamed.usage) == total_input(full.usage)

    r = post(server, "/v1/messages?beta=true",
             dict(model=MODEL, max_tokens=40, messages=Q, stream=True, **GREEDY))
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/event-stream")
    events = sse_events(r)
    for name, data in events:
        assert name == data["type"]
    names = [n for n, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    rest = [n for n in names[3:] if n != "ping"]  # later pings only during long waits
    assert rest[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(rest[:-3]) <= {"content_block_delta"}
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["input_tokens"] == total_input(full.usage)
    block = events[1][1]
    assert block["index"] == 0 and block["content_block"] == {"type": "text", "text": ""}
    deltas = [d for n, d in events if n == "content_block_delta"]
    assert all(d["index"] == 0 and d["delta"]["type"] == "text_delta" for d in deltas)
    assert "".join(d["delta"]["text"] for d in deltas) == full.content[0].text
    final = events[-2][1]
    assert final["delta"] == {"stop_reason": full.stop_reason, "stop_sequence": None}
    assert set(final["usage"]) == {"input_tokens", "output_tokens", "cache_read_input_tokens",
                                   "cache_creation_input_tokens"}
    assert final["usage"]["output_tokens"] == full.usage.output_tokens


def test_stop_sequences_end_the_text_before_the_match(ac):
    kw = dict(model=MODEL, max_tokens=40, messages=Q, extra_body=GREEDY)
    text = ac.messages.create(**kw).content[0].text
    words = text.split()
    assert len(words) >= 6, text
    stop = " " + words[4]
    expected = text[:text.index(stop)]
    m = ac.messages.create(stop_sequences=["NEVER-SEEN", stop], **kw)
    assert m.stop_reason == "stop_sequence" and m.stop_sequence == stop
    assert m.content[0].text == expected
    with ac.messages.stream(stop_sequences=[stop], **kw) as s:
        streamed = s.get_final_message()
    assert streamed.stop_reason == "stop_sequence" and streamed.stop_sequence == stop
    assert streamed.content[0].text == expected


def test_max_tokens_stops_with_max_tokens(ac):
    m = ac.messages.create(model=MODEL, max_tokens=3, messages=Q, extra_body=GREEDY)
    assert m.stop_reason == "max_tokens" and m.usage.output_tokens == 3


def test_max_tokens_zero_only_warms_the_cache(ac):
    m = ac.messages.create(model=MODEL, max_tokens=0, messages=Q)
    assert m.content[0].text == "" and m.usage.output_tokens == 0
    assert m.stop_reason == "max_tokens"


def test_repeated_long_prompt_reads_the_cache_and_counts_add_up(ac):
    long = [{"role": "user", "content": "Summarise these notes. " + " ".join(
        f"Note {i}: the parcel for order {i * 7} left depot {i % 5}." for i in range(40))}]
    kw = dict(model=MODEL, max_tokens=4, messages=long, metadata={"user_id": "anth-cache-1"},
              system="You are terse.")
    counted = ac.messages.count_tokens(model=MODEL, messages=long, system="You are terse.")
    first = ac.messages.create(**kw)
    second = ac.messages.create(**kw)
    assert total_input(first.usage) == total_input(second.usage) == counted.input_tokens
    assert counted.input_tokens > 300
    assert second.usage.cache_read_input_tokens > 0.8 * counted.input_tokens
    assert second.usage.input_tokens == counted.input_tokens - second.usage.cache_read_input_tokens
    with ac.messages.stream(**kw) as s:  # message_delta carries the final cache split
        streamed = s.get_final_message()
    assert streamed.usage.cache_read_input_tokens == second.usage.cache_read_input_tokens
    assert total_input(streamed.usage) == counted.input_tokens


def test_count_tokens_matches_generation_with_system_and_tools(ac):
    tools = [{"name": "get_weather", "description": "Weather for a city",
              "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    kw = dict(model=MODEL, messages=Q, system="Answer briefly.", tools=tools)
    n = ac.messages.count_tokens(**kw).input_tokens
    assert n == ac.messages.count_tokens(**kw).input_tokens  # deterministic
    m = ac.messages.create(max_tokens=2, **kw)
    assert total_input(m.usage) == n


def test_system_as_string_and_as_blocks_render_the_same(ac):
    blocks = [{"type": "text", "text": "You are terse."},
              {"type": "text", "text": "Answer in English.", "cache_control": {"type": "ephemeral"}}]
    as_blocks = ac.messages.count_tokens(model=MODEL, messages=Q, system=blocks).input_tokens
    as_string = ac.messages.count_tokens(model=MODEL, messages=Q,
                                         system="You are terse.\n\nAnswer in English.")
    assert as_blocks == as_string.input_tokens
    assert ac.messages.create(model=MODEL, max_tokens=2, messages=Q, system=blocks).content


def test_tool_history_thinking_and_mid_conversation_system_render(ac, server):
    tools = [{"name": "Bash", "description": "Run a command",
              "input_schema": {"type": "object", "properties": {"command": {"type": "string"}},
                               "required": ["command"]}, "cache_control": {"type": "ephemeral"}}]
    history = [
        {"role": "user", "content": [{"type": "text", "text": "<system-reminder>x</system-reminder>"},
                                     {"type": "text", "text": "List the files."}]},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "I should run ls.", "signature": ""},
            {"type": "text", "text": "Listing."},
            {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {"command": "ls"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": "a.txt\nb.txt"},
            {"type": "tool_result", "tool_use_id": "toolu_02", "is_error": True,
             "content": [{"type": "text", "text": "denied"}]},
            {"type": "text", "text": "Which one is bigger?"}]},
        {"role": "user", "content": "Answer briefly."},  # consecutive user turns merge
    ]
    m = ac.messages.create(model=MODEL, max_tokens=5, messages=history, tools=tools,
                           tool_choice={"type": "auto"}, thinking={"type": "adaptive"})
    assert m.type == "message"
    # Claude Code's role:"system" turn and unknown fields are accepted, never a 500.
    body = {"model": MODEL, "max_tokens": 3, "messages": history + [
        {"role": "assistant", "content": "Sure."},
        {"role": "system", "content": "The date is today."},
        {"role": "user", "content": "Go on."}],
        "context_management": {"edits": []}, "output_config": {"effort": "high"}}
    r = post(server, "/v1/messages?beta=true", body,
             {"anthropic-version": "2099-01-01", "anthropic-beta": "made-up-2030-01-01"})
    assert r.status_code == 200, r.text


def test_assistant_prefill_is_continued(ac):
    msgs = [{"role": "user", "content": "Count from one to five in words."},
            {"role": "assistant", "content": "one, two,"}]
    n_prefill = ac.messages.count_tokens(model=MODEL, messages=msgs).input_tokens
    n_plain = ac.messages.count_tokens(model=MODEL, messages=msgs[:1]).input_tokens
    assert n_plain < n_prefill < n_plain + 10
    assert ac.messages.create(model=MODEL, max_tokens=4, messages=msgs, extra_body=GREEDY).content


def test_image_block_is_a_400_naming_the_block(ac):
    msgs = [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}}]}]
    with pytest.raises(anthropic.BadRequestError) as e:
        ac.messages.create(model=MODEL, max_tokens=5, messages=msgs)
    assert e.value.status_code == 400
    assert e.value.body["error"]["type"] == "invalid_request_error"
    assert e.value.body["error"]["message"].startswith("messages.0.content.1:")


def test_model_names(ac):
    for name in ("claude-haiku-4-5", "claude-sonnet-5", "default"):
        assert ac.messages.create(model=name, max_tokens=1, messages=Q).model == name
    with pytest.raises(anthropic.NotFoundError) as e:
        ac.messages.create(model="gpt-4o", max_tokens=1, messages=Q)
    assert e.value.body["error"]["type"] == "not_found_error"


def test_event_logging_is_a_no_op(server):
    r = post(server, "/api/event_logging/batch", {"events": [{"event_type": "x"}]})
    assert r.status_code == 200 and r.json() == {}
    assert post(server, "/api/event_logging/batch", b"not json").status_code == 200


def test_over_long_prompt_and_clamped_max_tokens(server):
    too_long = {"model": MODEL, "max_tokens": 5,
                "messages": [{"role": "user", "content": "word " * 3000}]}
    r = post(server, "/v1/messages", too_long)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error"
    n = post(server, "/v1/messages/count_tokens", too_long).json()["input_tokens"]
    assert err["message"] == f"prompt is too long: {n} tokens > 2047 maximum"
    # A prompt that leaves a few tokens: a huge max_tokens is clamped, not refused.
    near = {"model": MODEL, "max_tokens": 128000, "temperature": 0,
            "messages": [{"role": "user", "content": "word " * 2000}]}
    n = post(server, "/v1/messages/count_tokens", near).json()["input_tokens"]
    assert 2000 < n < 2047, n
    r = post(server, "/v1/messages", near)
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["usage"]["output_tokens"] <= 2048 - n
    assert m["stop_reason"] in ("end_turn", "model_context_window_exceeded")


def test_body_over_the_limit_is_413_in_anthropic_shape(server):
    r = post(server, "/v1/messages", b'{"x": "' + b"a" * (17 << 20) + b'"}')
    assert r.status_code == 413
    assert r.json() == {"type": "error", "error": {
        "type": "request_too_large",
        "message": "request body is too large: the limit is 16777216 bytes (server.max_body)"},
                        "request_id": r.headers["request-id"]}


U = [{"role": "user", "content": "hi"}]
G = {"model": MODEL, "max_tokens": 5}


def msg(content, role="user"):
    return dict(G, messages=[{"role": role, "content": content}])


# (path, body, status, text the message must name (None: unchecked), headers)
CASES = [
    ("/v1/messages", b"{not json", 400, None, None),
    ("/v1/messages", b"[1, 2]", 400, None, None),
    ("/v1/messages", b"", 400, None, None),
    ("/v1/messages", {"max_tokens": 5, "messages": U}, 400, "model", None),
    ("/v1/messages", dict(G, model=7, messages=U), 400, "model", None),
    ("/v1/messages", dict(G, model="gpt-4o", messages=U), 404, "model", None),
    ("/v1/messages", {"model": MODEL, "messages": U}, 400, "max_tokens", None),
    ("/v1/messages", dict(G, max_tokens=-1, messages=U), 400, "max_tokens", None),
    ("/v1/messages", dict(G, max_tokens="10", messages=U), 400, "max_tokens", None),
    ("/v1/messages", dict(G, max_tokens=2.5, messages=U), 400, "max_tokens", None),
    ("/v1/messages", G, 400, "messages", None),
    ("/v1/messages", dict(G, messages="hi"), 400, "messages", None),
    ("/v1/messages", dict(G, messages=[]), 400, "messages", None),
    ("/v1/messages", dict(G, messages=[1]), 400, "messages.0", None),
    ("/v1/messages", dict(G, messages=[{"content": "x"}]), 400, "messages.0.role", None),
    ("/v1/messages", msg("x", role="wizard"), 400, "messages.0.role", None),
    ("/v1/messages", dict(G, messages=[{"role": "user"}]), 400, "messages.0.content", None),
    ("/v1/messages", msg(5), 400, "messages.0.content", None),
    ("/v1/messages", msg([{"text": "x"}]), 400, "messages.0.content.0.type", None),
    ("/v1/messages", msg(["x"]), 400, "messages.0.content.0", None),
    ("/v1/messages", msg([{"type": "text", "text": 5}]), 400, "messages.0.content.0.text", None),
    ("/v1/messages", msg([{"type": "text", "text": "a"}, {"type": "document", "source": {}}]), 400,
     "messages.0.content.1", None),
    ("/v1/messages", msg([{"type": "hologram"}]), 400, "messages.0.content.0.type", None),
    ("/v1/messages", msg([{"type": "tool_use", "id": "t", "name": "n", "input": {}}]), 400,
     "messages.0.content.0.type", None),
    ("/v1/messages", msg([{"type": "tool_result", "content": "x"}]), 400,
     "messages.0.content.0.tool_use_id", None),
    ("/v1/messages", msg([{"type": "tool_result", "tool_use_id": "t", "content": 5}]), 400,
     "messages.0.content.0.content", None),
    ("/v1/messages", msg([{"type": "tool_result", "tool_use_id": "t", "is_error": "yes"}]), 400,
     "messages.0.content.0.is_error", None),
    ("/v1/messages", msg([{"type": "tool_use", "id": "t", "name": "n", "input": [1]}],
                         role="assistant"), 400, "messages.0.content.0.input", None),
    ("/v1/messages", msg([{"type": "tool_use", "name": "n", "input": {}}], role="assistant"), 400,
     "messages.0.content.0.id", None),
    ("/v1/messages", msg([{"type": "thinking"}], role="assistant"), 400,
     "messages.0.content.0.thinking", None),
    ("/v1/messages", dict(G, messages=U, temperature=1.5), 400, "temperature", None),
    ("/v1/messages", dict(G, messages=U, top_p="x"), 400, "top_p", None),
    ("/v1/messages", dict(G, messages=U, top_k=-1), 400, "top_k", None),
    ("/v1/messages", dict(G, messages=U, stream="yes"), 400, "stream", None),
    ("/v1/messages", dict(G, messages=U, stop_sequences="STOP"), 400, "stop_sequences", None),
    ("/v1/messages", dict(G, messages=U, stop_sequences=["a", 1]), 400, "stop_sequences.1",
     None),
    ("/v1/messages", dict(G, messages=U, system=5), 400, "system", None),
    ("/v1/messages", dict(G, messages=U, system=[{"type": "image"}]), 400, "system.0", None),
    ("/v1/messages", dict(G, messages=U, metadata="x"), 400, "metadata", None),
    ("/v1/messages", dict(G, messages=U, metadata={"user_id": 5}), 400, "metadata.user_id", None),
    ("/v1/messages", dict(G, messages=U, tools={}), 400, "tools", None),
    ("/v1/messages", dict(G, messages=U, tools=[{"description": "x"}]), 400, "tools.0.name", None),
    ("/v1/messages", dict(G, messages=U, tools=[{"name": "a", "input_schema": "x"}]), 400,
     "tools.0.input_schema", None),
    ("/v1/messages", dict(G, messages=U, tool_choice={"type": "sometimes"}), 400,
     "tool_choice.type", None),
    ("/v1/messages", dict(G, messages=U, tool_choice={"type": "tool"}), 400, "tool_choice.name",
     None),
    ("/v1/messages", dict(G, messages=U, thinking="on"), 400, "thinking", None),
    ("/v1/messages", dict(G, messages=U, thinking={"type": "enabled", "budget_tokens": "lots"}),
     400, "thinking.budget_tokens", None),
    ("/v1/messages", dict(G, messages=U), 400, "X-Agent-ID", {"X-Agent-ID": "not valid!"}),
    ("/v1/messages/count_tokens", {"model": MODEL}, 400, "messages", None),
    ("/v1/messages/count_tokens", {"model": "gpt-4o", "messages": U}, 404, "model", None),
    ("/v1/messages/count_tokens", b"{", 400, None, None),
]


@pytest.mark.parametrize("path,body,status,field,headers", CASES,
                         ids=[f"{i:02d}-{c[0].rsplit('/', 1)[1]}-{c[3]}"
                              for i, c in enumerate(CASES)])
def test_malformed_request_is_4xx_in_anthropic_shape(server, path, body, status, field, headers):
    r = post(server, path, body, headers)
    assert r.status_code == status, r.text
    j = r.json()
    assert j["type"] == "error" and set(j) == {"type", "error", "request_id"}
    assert j["request_id"] == r.headers["request-id"] == r.headers["X-Request-ID"]
    assert set(j["error"]) == {"type", "message"}
    assert j["error"]["type"] == ("not_found_error" if status == 404 else "invalid_request_error")
    if field is not None:
        assert field in j["error"]["message"], j["error"]["message"]
    assert requests.get(server + "/health", timeout=5).status_code == 200


def test_full_queue_answers_529_overloaded_with_retry_after(tmp_path):
    """One request runs (max_batch 1), one waits (max_queue 1): the next is refused. The state is
    built step by step and checked through /metrics instead of hoping that eight clients at once
    overlap (on a fast machine each request could end before the next arrived). The running one
    continues an assistant turn that counts (greedy SmolLM2 does not stop: most of the context,
    seconds on any machine) and is closed once the refusal is checked, so its length costs
    nothing."""
    s = ServerProcess(["--context", "2048", "--cache-budget", "64MiB", "--cache-dir", tmp_path,
                       "--max-batch", "1", "--max-queue", "1"], "pytest-anthropic-queue.log")
    s.start()
    counting = [{"role": "user", "content": "Count from 1 to 5000."},
                {"role": "assistant", "content": "1, 2, 3, 4, 5,"}]
    long_body = dict(G, max_tokens=1900, temperature=0, stream=True, messages=counting)
    body = dict(G, temperature=0, messages=Q)
    try:
        with ThreadPoolExecutor(1) as pool:
            with requests.post(s.base + "/v1/messages", json=long_body, stream=True,
                               timeout=120) as running:
                assert running.status_code == 200, running.text
                wait_for_metric(s.base, "semantic_sequences_running", 1)
                waiting = pool.submit(post, s.base, "/v1/messages", body)
                wait_for_metric(s.base, "semantic_requests_queued", 1)
                refused = post(s.base, "/v1/messages", body)
                held = [metric(s.base, "semantic_sequences_running"),
                        metric(s.base, "semantic_requests_queued")]
            # Closing the stream cancels the running request: the waiting one starts.
            waited = waiting.result()
        assert held == [1, 1], "the running or the waiting request ended before the refusal"
        assert refused.status_code == 529, refused.text
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["error"]["type"] == "overloaded_error"
        assert waited.status_code == 200, waited.text
        assert post(s.base, "/v1/messages", body).status_code == 200
    finally:
        s.stop()
