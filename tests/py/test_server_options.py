"""Options that shape every HTTP exchange, with the real server: CORS (server.cors_origins),
request ids (X-Request-ID echoed or generated, in headers, error bodies and log lines), the
access log (logging.log_requests) and JSON logs (logging.format), /metrics switched off or with
per-agent series, model.reasoning_extra_tokens, and the agent memory options
(agent.max_agents_in_memory, agent.eviction_policy = none)."""
import json
import re
import time

import pytest
import requests

from conftest import ServerProcess
from test_kv_cache import long_text

ORIGIN = "http://app.example"
KEY = "k-options-1"
AUTH = {"Authorization": f"Bearer {KEY}"}
CHAT = {"model": "default", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}
MSG = {"model": "claude-x", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def opts(tmp_path_factory):
    """CORS for one origin, a client key, JSON logs, per-agent metrics, reasoning extra tokens."""
    s = ServerProcess(["--context", "512", "--cors-origins", ORIGIN, "--api-keys", KEY,
                       "--cache-dir", tmp_path_factory.mktemp("options-kv")],
                      "pytest-options.log",
                      env={"SEMANTIC_LOGGING__FORMAT": "json",
                           "SEMANTIC_METRICS__INCLUDE_AGENT_ID_LABEL": "true",
                           "SEMANTIC_MODEL__REASONING_EXTRA_TOKENS": "6"}).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """No CORS, metrics off, access log at debug level only."""
    s = ServerProcess(["--context", "512", "--cache-dir", tmp_path_factory.mktemp("plain-kv")],
                      "pytest-options-plain.log",
                      env={"SEMANTIC_METRICS__ENABLED": "false",
                           "SEMANTIC_LOGGING__LOG_REQUESTS": "false"}).start()
    yield s
    s.stop()


def log_lines(s, since=0):
    """The JSON log lines the server wrote (after `since` characters); a line still being written
    is left out."""
    text = s.log_text()[since:]
    out = []
    for line in text[:text.rfind("\n") + 1].splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


# ---- CORS ---------------------------------------------------------------------------------------

def test_preflight_is_answered_without_a_key(opts):
    r = requests.options(opts.base + "/v1/chat/completions", timeout=10, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-request-id"})
    assert r.status_code == 204, r.text
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in r.headers["Vary"]
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    allowed = [h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")]
    for h in ("authorization", "content-type", "x-api-key", "anthropic-version",
              "anthropic-beta", "x-agent-id", "x-session-id", "x-request-id"):
        assert h in allowed


def test_other_origins_get_no_grant(opts):
    r = requests.options(opts.base + "/v1/messages", timeout=10, headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204 and "Access-Control-Allow-Origin" not in r.headers
    r = requests.get(opts.base + "/health", headers={"Origin": "http://evil.example"}, timeout=10)
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers


def test_cors_headers_on_success_and_errors(opts):
    r = requests.post(opts.base + "/v1/chat/completions", json=CHAT, timeout=60,
                      headers=dict(AUTH, Origin=ORIGIN))
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "X-Request-ID" in r.headers["Access-Control-Expose-Headers"]
    for path, body in (("/v1/chat/completions", CHAT), ("/v1/messages", MSG)):
        r = requests.post(opts.base + path, json=body, headers={"Origin": ORIGIN}, timeout=10)
        assert r.status_code == 401 and r.headers["Access-Control-Allow-Origin"] == ORIGIN
    r = requests.get(opts.base + "/nope", headers=dict(AUTH, Origin=ORIGIN), timeout=10)
    assert r.status_code == 404 and r.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_no_cors_by_default(plain):
    r = requests.get(plain.base + "/v1/models", headers={"Origin": ORIGIN}, timeout=10)
    assert r.status_code == 200
    assert not any(h.lower().startswith("access-control-") for h in r.headers)


# ---- request ids --------------------------------------------------------------------------------

def test_sane_request_id_is_echoed_everywhere(opts):
    rid = "trace-42.a:b_c"
    since = len(opts.log_text())
    r = requests.post(opts.base + "/v1/chat/completions", json=CHAT, timeout=60,
                      headers=dict(AUTH, **{"X-Request-ID": rid, "X-Agent-ID": "rid-agent"}))
    assert r.status_code == 200 and r.headers["X-Request-ID"] == rid
    r = requests.post(opts.base + "/v1/messages", json=MSG, timeout=60,
                      headers=dict(AUTH, **{"X-Request-ID": rid}))
    assert r.status_code == 200
    assert r.headers["X-Request-ID"] == rid and r.headers["request-id"] == rid
    # The access-log line of the first request: method, path, status, agent, its id. It is
    # written after the reply is sent: wait for it rather than a fixed time.
    deadline = time.time() + 20
    while True:
        lines = [j for j in log_lines(opts, since) if j.get("request_id") == rid]
        access = [j for j in lines if j["msg"].startswith("POST /v1/chat/completions -> 200")]
        if access or time.time() > deadline:
            break
        time.sleep(0.02)
    assert len(access) == 1, lines
    assert access[0]["level"] == "info" and "agent=rid-agent" in access[0]["msg"]
    assert re.search(r"\(\d+\.\d ms\)", access[0]["msg"])
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", access[0]["ts"])


def test_request_id_in_error_bodies(opts):
    r = requests.post(opts.base + "/v1/chat/completions", json={"model": "default"}, timeout=10,
                      headers=dict(AUTH, **{"X-Request-ID": "err-1"}))
    assert r.status_code == 400 and r.json()["error"]["request_id"] == "err-1"
    r = requests.post(opts.base + "/v1/messages", json=CHAT, timeout=10,
                      headers={"X-Request-ID": "err-2"})  # no key
    assert r.status_code == 401 and r.json()["request_id"] == "err-2"
    assert r.json()["type"] == "error" and r.json()["error"]["type"] == "authentication_error"
    r = requests.get(opts.base + "/nowhere", timeout=10, headers=AUTH)
    assert r.status_code == 404
    assert r.json()["error"]["request_id"] == r.headers["X-Request-ID"]


@pytest.mark.parametrize("bad", ["has space", "x" * 129, "semi;colon", "ünï"])
def test_insane_request_id_is_replaced(opts, bad):
    r = requests.get(opts.base + "/health", headers={"X-Request-ID": bad.encode()}, timeout=10)
    assert r.status_code == 200
    assert r.headers["X-Request-ID"] != bad and r.headers["X-Request-ID"].startswith("req_")


def test_generated_request_ids_differ(plain):
    ids = {requests.get(plain.base + "/health", timeout=10).headers["X-Request-ID"]
           for _ in range(3)}
    assert len(ids) == 3 and all(re.fullmatch(r"req_[0-9a-f]+", i) for i in ids)


def test_sdks_read_the_request_id(opts):
    import anthropic
    import openai
    oc = openai.OpenAI(base_url=opts.base + "/v1", api_key="wrong", max_retries=0,
                       default_headers={"X-Request-ID": "sdk-openai"})
    with pytest.raises(openai.AuthenticationError) as e:
        oc.chat.completions.create(model="default", messages=[{"role": "user", "content": "x"}])
    assert e.value.request_id == "sdk-openai" and e.value.code == "invalid_api_key"
    ac = anthropic.Anthropic(base_url=opts.base, api_key="wrong", max_retries=0,
                             default_headers={"X-Request-ID": "sdk-anthropic"})
    with pytest.raises(anthropic.AuthenticationError) as e:
        ac.messages.create(model="claude-x", max_tokens=1,
                           messages=[{"role": "user", "content": "x"}])
    assert e.value.request_id == "sdk-anthropic"


# ---- logging ------------------------------------------------------------------------------------

def test_json_log_lines(opts):
    text = opts.log_text()
    lines = [l for l in text.splitlines() if l.strip()]
    parsed = [json.loads(l) for l in lines if l.startswith("{")]
    assert len(parsed) == len(lines), "every log line is one JSON object"
    assert all({"ts", "level", "msg"} <= set(j) for j in parsed)
    assert any("listening on" in j["msg"] and "request_id" not in j for j in parsed)


def test_access_log_off_writes_no_info_line(plain):
    requests.get(plain.base + "/v1/models", timeout=10)
    time.sleep(0.2)
    text = plain.log_text()
    assert "listening on" in text
    assert "GET /v1/models ->" not in text and "GET /health/ready ->" not in text


# ---- metrics ------------------------------------------------------------------------------------

def test_metrics_disabled_is_404_and_not_listed(plain):
    r = requests.get(plain.base + "/metrics", timeout=10)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert "/metrics" not in requests.get(plain.base + "/", timeout=10).json()["endpoints"]
    assert "/metrics" not in requests.get(plain.base + "/openapi.json", timeout=10).json()["paths"]


def test_per_agent_series_when_labelled(opts):
    h = dict(AUTH, **{"X-Agent-ID": "metric-a"})
    for _ in range(2):
        assert requests.post(opts.base + "/v1/chat/completions", json=CHAT, headers=h,
                             timeout=60).status_code == 200
    text = requests.get(opts.base + "/metrics", headers=AUTH, timeout=10).text
    assert 'semantic_agent_requests_total{agent_id="metric-a"} 2' in text
    cached = re.search(r'semantic_agent_prompt_tokens_total\{agent_id="metric-a",'
                       r'source="cached"\} (\d+)', text)
    computed = re.search(r'semantic_agent_prompt_tokens_total\{agent_id="metric-a",'
                         r'source="computed"\} (\d+)', text)
    assert cached and computed and int(cached.group(1)) > 0 and int(computed.group(1)) > 0


def test_no_agent_label_by_default(server):
    requests.post(server + "/v1/chat/completions", json=CHAT, headers={"X-Agent-ID": "nolabel"},
                  timeout=60)
    text = requests.get(server + "/metrics", timeout=10).text
    assert "semantic_requests_completed_total" in text and "agent_id=" not in text


# ---- model.reasoning_extra_tokens ---------------------------------------------------------------

def test_reasoning_extra_tokens_raise_the_output_limit(opts):
    body = {"model": "default", "prompt": "1, 2, 3, 4, 5, 6, 7,", "max_tokens": 2,
            "temperature": 0}
    r = requests.post(opts.base + "/v1/completions", json=body, headers=AUTH, timeout=60)
    assert r.status_code == 200, r.text
    usage = r.json()["usage"]
    assert 2 < usage["completion_tokens"] <= 8, usage


# ---- agent memory -------------------------------------------------------------------------------

def agent_prompt(base, agent, tag, max_tokens=4):
    body = {"model": "default", "prompt": long_text(tag, 6), "max_tokens": max_tokens,
            "temperature": 0}
    return requests.post(base + "/v1/completions", json=body, headers={"X-Agent-ID": agent},
                         timeout=120)


def test_max_agents_in_memory(tmp_path):
    s = ServerProcess(["--context", "512", "--cache-dir", tmp_path],
                      "pytest-options-agents.log",
                      env={"SEMANTIC_AGENT__MAX_AGENTS_IN_MEMORY": "1",
                           "SEMANTIC_AGENT__EVICT_TO_DISK": "false"}).start()
    try:
        assert agent_prompt(s.base, "first", "alpha").status_code == 200
        before = requests.get(s.base + "/v1/agents/first", timeout=10).json()["blocks_in_ram"]
        assert before > 0
        assert agent_prompt(s.base, "second", "beta").status_code == 200
        after = requests.get(s.base + "/v1/agents/first", timeout=10).json()
        assert after["blocks_in_ram"] == 0, after
        assert requests.get(s.base + "/v1/agents/second", timeout=10).json()["blocks_in_ram"] > 0
    finally:
        s.stop()


def test_eviction_policy_none_refuses_instead_of_evicting(tmp_path):
    # 1 MiB holds less than one context: the pool is sized for one context of 256 tokens.
    s = ServerProcess(["--context", "256", "--cache-budget", "1MiB", "--cache-dir", tmp_path],
                      "pytest-options-noevict.log",
                      env={"SEMANTIC_AGENT__EVICTION_POLICY": "none"}).start()
    try:
        codes = []
        for i in range(6):
            r = agent_prompt(s.base, f"agent{i}", f"topic{i}", max_tokens=8)
            codes.append(r.status_code)
            if r.status_code != 200:
                assert r.status_code == 503, r.text
                assert "KV cache" in r.json()["error"]["message"]
                break
        assert codes[0] == 200 and codes[-1] == 503, codes
        # The first agent's prefix is still cached: it was never evicted.
        assert requests.get(s.base + "/v1/agents/agent0", timeout=10).json()["blocks_in_ram"] > 0
        assert "eviction_policy = none" in s.log_text()
    finally:
        s.stop()
