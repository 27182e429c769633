"""Request limits (docs/configuration.md#limits) through the real server and the real openai and
anthropic SDKs: each limit is configurable, a request within it is served, one past it gets a
clear 4xx (408/413/431/400) in its dialect's error shape naming the field and the limit. Also: a
mid-stream error event carries the request's X-Request-ID in both dialects."""
import json
import re
import socket
import time

import anthropic
import openai
import pytest
import requests

from bad_inputs.raw_http import request_bytes, send_raw
from conftest import ServerProcess

U = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    s = ServerProcess(["--context", "2048", "--cache-budget", "256MiB",
                       "--cache-dir", tmp_path_factory.mktemp("limits-kv"),
                       "--server-max-json-depth", "8", "--max-header-bytes", "2KiB",
                       "--server-max-messages", "4", "--max-output-tokens", "16",
                       "--server-read-timeout", "500ms", "--server-idle-timeout", "1s"],
                      "pytest-limits.log").start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def oa(limited):
    return openai.OpenAI(base_url=limited.base + "/v1", api_key="x", max_retries=0)


@pytest.fixture(scope="module")
def an(limited):
    return anthropic.Anthropic(base_url=limited.base, api_key="x", max_retries=0)


def nested(depth):
    return "[" * depth + "1" + "]" * depth


def test_json_depth_limit(limited):
    # {"model": ..., "x": [[...]]}: the object is level 1, so 7 brackets make depth 8.
    ok = '{"model": "default", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}],' \
         ' "x": ' + nested(7) + "}"
    r = requests.post(limited.base + "/v1/chat/completions", data=ok, timeout=60)
    assert r.status_code == 200, r.text
    deep = ok.replace(nested(7), nested(8))
    r = requests.post(limited.base + "/v1/chat/completions", data=deep, timeout=60)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "json_too_deep" and "8 levels (server.max_json_depth)" in err["message"]
    r = requests.post(limited.base + "/v1/messages", data=deep, timeout=60)
    assert r.status_code == 400 and r.json()["type"] == "error"
    assert "server.max_json_depth" in r.json()["error"]["message"]


def test_header_size_limit_is_431_in_both_dialects(oa, an):
    assert oa.chat.completions.create(model="default", messages=U, max_tokens=2).choices
    with pytest.raises(openai.APIStatusError) as e:
        oa.chat.completions.create(model="default", messages=U, max_tokens=2,
                                   extra_headers={"X-Pad": "p" * 3000})
    assert e.value.status_code == 431
    assert e.value.body["code"] == "headers_too_large"
    assert "2048 (server.max_header_bytes)" in e.value.body["message"]
    # The refused request's body was read: the same keep-alive connection serves the next one.
    assert oa.chat.completions.create(model="default", messages=U, max_tokens=2).choices
    with pytest.raises(anthropic.APIStatusError) as e:
        an.messages.create(model="claude-x", max_tokens=2, messages=U,
                           extra_headers={"X-Pad": "p" * 3000})
    assert e.value.status_code == 431
    assert e.value.body["type"] == "error"
    assert "server.max_header_bytes" in e.value.body["error"]["message"]
    assert an.messages.create(model="claude-x", max_tokens=2, messages=U).content is not None


def test_a_refused_body_is_read_not_taken_for_the_next_request(limited):
    """A request refused before routing (here: headers over the limit) whose body is a whole
    HTTP request: the body is consumed with the refusal, never answered as a request of its own,
    and the connection then serves the client's real next request."""
    smuggled = b"GET /v1/agents/list HTTP/1.1\r\nHost: x\r\n\r\n"
    head = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 3000 +
            b"\r\nContent-Length: " + str(len(smuggled)).encode() + b"\r\n\r\n")
    follow = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", limited.port), timeout=10) as s:
        s.sendall(head)
        time.sleep(0.2)  # the body arrives after the headers were judged
        s.sendall(smuggled)
        time.sleep(0.2)
        s.sendall(follow)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", data)
    assert statuses == [b"431", b"200"], data
    assert b'"status":"ok"' in data and b'"agents"' not in data


def test_messages_count_limit(oa, an):
    four = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}] * 2
    assert oa.chat.completions.create(model="default", messages=four, max_tokens=2).choices
    with pytest.raises(openai.BadRequestError) as e:
        oa.chat.completions.create(model="default", messages=four + U, max_tokens=2)
    assert e.value.body["param"] == "messages" and e.value.body["code"] == "too_many_messages"
    assert "5 messages" in e.value.body["message"] and "(4, server.max_messages)" in \
        e.value.body["message"]
    with pytest.raises(anthropic.BadRequestError) as e:
        an.messages.create(model="claude-x", max_tokens=2, messages=four + U)
    assert e.value.body["error"]["message"].startswith("messages: 5 messages")
    with pytest.raises(anthropic.BadRequestError):
        an.messages.count_tokens(model="claude-x", messages=four + U)
    assert an.messages.count_tokens(model="claude-x", messages=four).input_tokens > 0


def test_max_output_tokens_ceiling(oa, an, limited):
    r = oa.completions.create(model="default", prompt="1, 2, 3, 4, 5,", max_tokens=16,
                              temperature=0)
    assert r.usage.completion_tokens <= 16
    for field in ("max_tokens", "max_completion_tokens"):
        with pytest.raises(openai.BadRequestError) as e:
            oa.chat.completions.create(model="default", messages=U, **{field: 17})
        assert e.value.body["param"] == field and e.value.body["code"] == "max_tokens_exceeded"
        assert "17 is more than this server's limit of 16" in e.value.body["message"]
    with pytest.raises(anthropic.BadRequestError) as e:
        an.messages.create(model="claude-x", max_tokens=1000, messages=U)
    assert e.value.body["error"]["message"].startswith("max_tokens: 1000 is more than")
    # A request that sets no limit gets the ceiling (a counting prompt runs past 16 tokens).
    r = requests.post(limited.base + "/v1/completions", timeout=120, json={
        "model": "default", "prompt": "1, 2, 3, 4, 5, 6, 7, 8,", "temperature": 0})
    assert r.status_code == 200, r.text
    assert r.json()["usage"]["completion_tokens"] == 16
    assert r.json()["choices"][0]["finish_reason"] == "length"


def test_stalled_body_gets_408_after_read_timeout(limited):
    for path, shape in (("/v1/chat/completions", "openai"), ("/v1/messages", "anthropic")):
        head = request_bytes("POST", path, b"", [("Content-Length", "100")])
        reply = send_raw(limited.port, [head, b'{"model": "de'], pause_after=0.05, timeout=10)
        assert reply.status == 408, reply
        assert 0.4 < reply.seconds < 5, reply.seconds
        body = json.loads(reply.body)
        if shape == "openai":
            assert body["error"]["code"] == "request_timeout"
            assert "13 of 100 bytes" in body["error"]["message"]
        else:
            assert body["type"] == "error" and "server.read_timeout" in body["error"]["message"]
    # A slow body that keeps arriving within the timeout is served: eight pieces 0.1 s apart
    # take longer than the 500 ms timeout in all, each pause well within it (0.3 s pauses left a
    # loaded machine too little room).
    body = json.dumps({"model": "default", "messages": U, "max_tokens": 2}).encode()
    head = request_bytes("POST", "/v1/chat/completions", b"",
                         [("Content-Length", str(len(body)))])
    pieces = [body[i:i + 10] for i in range(0, 70, 10)] + [body[70:]]
    assert len(body) > 70
    reply = send_raw(limited.port, [head] + pieces, pause_after=0.1)
    assert reply.status == 200, reply
    assert reply.seconds > 0.7, reply.seconds  # the body took longer than the timeout


def test_idle_connection_is_closed_after_idle_timeout(limited):
    for first in (b"", request_bytes("GET", "/health", b"", []).replace(
            b"Connection: close\r\n", b"")):
        s = socket.create_connection(("127.0.0.1", limited.port), timeout=10)
        start = time.time()
        if first:
            s.sendall(first)
            reply = b""
            while b'{"status":"ok"}' not in reply:  # the whole response, however it arrives
                chunk = s.recv(65536)
                assert chunk, reply
                reply += chunk
            assert reply.startswith(b"HTTP/1.1 200")
        data = s.recv(65536)  # blocks until the server closes the idle connection
        waited = time.time() - start
        s.close()
        assert data == b"" and 0.8 < waited < 5, (data, waited)


@pytest.fixture(scope="module")
def starved(tmp_path_factory):
    """A KV pool of one 256-token context that never evicts: once earlier agents fill it, a new
    prompt fails after its stream has started (503 "not enough KV cache")."""
    s = ServerProcess(["--context", "256", "--cache-budget", "1MiB",
                       "--cache-dir", tmp_path_factory.mktemp("starved-kv")],
                      "pytest-limits-starved.log",
                      env={"SEMANTIC_AGENT__EVICTION_POLICY": "none"}).start()
    for i in range(12):
        r = requests.post(s.base + "/v1/completions", timeout=120, headers={"X-Agent-ID": f"f{i}"},
                          json={"model": "default", "prompt": f"filler {i} " * 40,
                                "max_tokens": 2})
        if r.status_code == 503:
            break
    assert r.status_code == 503, "the pool never filled up"
    yield s
    s.stop()


def prompt(tag):
    return f"tell me about lighthouses ({tag}) " * 12


def test_mid_stream_error_events_carry_the_request_id(starved):
    rid = "limits-test-rid-1"
    client = openai.OpenAI(base_url=starved.base + "/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.APIError) as e:
        for _ in client.chat.completions.create(
                model="default", messages=[{"role": "user", "content": prompt("a")}],
                max_tokens=4, stream=True, extra_headers={"X-Request-ID": rid}):
            pass
    assert e.value.body["request_id"] == rid, e.value.body
    assert e.value.body["type"] == "server_error" and "KV cache" in e.value.body["message"]
    assert set(e.value.body) == {"message", "type", "param", "code", "request_id"}
    # /v1/completions streams the same way.
    r = requests.post(starved.base + "/v1/completions", stream=True, timeout=60,
                      headers={"X-Request-ID": rid + "c"},
                      json={"model": "default", "prompt": prompt("b"), "max_tokens": 4,
                            "stream": True})
    assert r.status_code == 200
    events = [json.loads(line[6:]) for line in r.iter_lines(decode_unicode=True)
              if line.startswith("data: {")]
    assert events[-1]["error"]["request_id"] == rid + "c", events[-1]

    ac = anthropic.Anthropic(base_url=starved.base, api_key="x", max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as e:
        with ac.messages.stream(model="claude-x", max_tokens=4,
                                messages=[{"role": "user", "content": prompt("c")}],
                                extra_headers={"X-Request-ID": rid + "a"}) as stream:
            for _ in stream:
                pass
    assert e.value.body["request_id"] == rid + "a", e.value.body
    assert e.value.body["type"] == "error" and "KV cache" in e.value.body["error"]["message"]
