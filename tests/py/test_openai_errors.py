"""Malformed requests: every one is a 4xx with OpenAI's error shape naming the offending field,
and the server stays healthy."""
import json

import pytest
import requests

M = "default"
U = [{"role": "user", "content": "hi"}]

# (path, raw body or JSON-able object, expected status, expected param (None = unchecked))
CASES = [
    ("/v1/chat/completions", b"{not json", 400, None),
    ("/v1/chat/completions", b"", 400, None),
    ("/v1/chat/completions", b"[1, 2, 3]", 400, None),
    ("/v1/chat/completions", b"\xff\xfe\x00garbage", 400, None),
    ("/v1/chat/completions", {"messages": U}, 400, "model"),
    ("/v1/chat/completions", {"model": 7, "messages": U}, 400, "model"),
    ("/v1/chat/completions", {"model": "nope", "messages": U}, 404, "model"),
    ("/v1/chat/completions", {"model": M}, 400, "messages"),
    ("/v1/chat/completions", {"model": M, "messages": "hi"}, 400, "messages"),
    ("/v1/chat/completions", {"model": M, "messages": []}, 400, "messages"),
    ("/v1/chat/completions", {"model": M, "messages": [1]}, 400, "messages[0]"),
    ("/v1/chat/completions", {"model": M, "messages": [{"content": "x"}]}, 400, "messages[0].role"),
    ("/v1/chat/completions", {"model": M, "messages": [{"role": "wizard", "content": "x"}]}, 400,
     "messages[0].role"),
    ("/v1/chat/completions", {"model": M, "messages": [{"role": "user"}]}, 400,
     "messages[0].content"),
    ("/v1/chat/completions", {"model": M, "messages": [{"role": "user", "content": 5}]}, 400,
     "messages[0].content"),
    ("/v1/chat/completions", {"model": M, "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "x"}}]}]}, 400, "messages[0].content[0].type"),
    ("/v1/chat/completions", {"model": M, "messages": [{"role": "user", "content": [
        {"type": "text"}]}]}, 400, "messages[0].content[0].text"),
    ("/v1/chat/completions", {"model": M, "messages": U, "temperature": 3}, 400, "temperature"),
    ("/v1/chat/completions", {"model": M, "messages": U, "temperature": "hot"}, 400, "temperature"),
    ("/v1/chat/completions", {"model": M, "messages": U, "top_p": 1.5}, 400, "top_p"),
    ("/v1/chat/completions", {"model": M, "messages": U, "max_tokens": 0}, 400, "max_tokens"),
    ("/v1/chat/completions", {"model": M, "messages": U, "max_tokens": 2.5}, 400, "max_tokens"),
    ("/v1/chat/completions", {"model": M, "messages": U, "max_tokens": -4}, 400, "max_tokens"),
    ("/v1/chat/completions", {"model": M, "messages": U, "max_completion_tokens": "9"}, 400,
     "max_completion_tokens"),
    ("/v1/chat/completions", {"model": M, "messages": U, "n": 2}, 400, "n"),
    ("/v1/chat/completions", {"model": M, "messages": U, "stop": 5}, 400, "stop"),
    ("/v1/chat/completions", {"model": M, "messages": U, "stop": ["a", 1]}, 400, "stop"),
    ("/v1/chat/completions", {"model": M, "messages": U, "stop": ["a", "b", "c", "d", "e"]}, 400,
     "stop"),
    ("/v1/chat/completions", {"model": M, "messages": U, "presence_penalty": 9}, 400,
     "presence_penalty"),
    ("/v1/chat/completions", {"model": M, "messages": U, "frequency_penalty": -3}, 400,
     "frequency_penalty"),
    ("/v1/chat/completions", {"model": M, "messages": U, "stream": "yes"}, 400, "stream"),
    ("/v1/chat/completions", {"model": M, "messages": U, "stream_options": 3}, 400,
     "stream_options"),
    ("/v1/chat/completions", {"model": M, "messages": U, "stream_options": {"include_usage": 1}},
     400, "stream_options.include_usage"),
    ("/v1/chat/completions", {"model": M, "messages": U, "top_logprobs": 3}, 400, "top_logprobs"),
    ("/v1/chat/completions", {"model": M, "messages": U, "logprobs": True, "top_logprobs": 50},
     400, "top_logprobs"),
    ("/v1/chat/completions", {"model": M, "messages": U, "seed": "x"}, 400, "seed"),
    ("/v1/chat/completions", {"model": M, "messages": U, "tools": {}}, 400, "tools"),
    ("/v1/chat/completions", {"model": M, "messages": [{"role": "user", "content": "word " * 3000}]},
     400, "messages"),
    ("/v1/completions", {"model": M}, 400, "prompt"),
    ("/v1/completions", {"model": M, "prompt": 12}, 400, "prompt"),
    ("/v1/completions", {"model": M, "prompt": [1, -2]}, 400, "prompt"),
    ("/v1/completions", {"model": M, "prompt": [1, 99999999]}, 400, "prompt"),
    ("/v1/completions", {"model": M, "prompt": ["a", "b"]}, 400, "prompt"),
    ("/v1/completions", {"model": M, "prompt": "x", "logprobs": 9}, 400, "logprobs"),
    ("/v1/completions", {"model": M, "prompt": "x", "echo": "no"}, 400, "echo"),
    ("/v1/nothing-here", {"model": M}, 404, None),
]


@pytest.mark.parametrize("path,body,status,param", CASES,
                         ids=[f"{i:02d}-{c[0].rsplit('/', 1)[1]}-{c[3]}" for i, c in enumerate(CASES)])
def test_malformed_request_is_4xx_in_openai_shape(server, path, body, status, param):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    r = requests.post(server + path, data=data, headers={"Content-Type": "application/json"},
                      timeout=30)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code", "request_id"}
    assert err["request_id"] == r.headers["X-Request-ID"]
    assert isinstance(err["message"], str) and len(err["message"]) > 10
    assert err["type"] == "invalid_request_error"
    if param is not None:
        assert err["param"] == param, err


def test_body_too_large_is_413(server):
    r = requests.post(server + "/v1/chat/completions", data=b"{" + b" " * (17 << 20) + b"}",
                      headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status_code == 413


def test_server_still_healthy_after_bad_input(server):
    assert requests.get(server + "/health", timeout=5).status_code == 200
    assert requests.get(server + "/health/ready", timeout=5).json()["status"] == "ready"
