"""Persistent KV cache through the real server: prefix reuse, identical outputs cold / warm /
restored after a restart, shared prefixes across agents, and the agent id rules."""
import signal

import pytest
import requests

from conftest import ServerProcess

BLOCK = 16  # --block-tokens default


def long_text(tag, lines=60):
    return " ".join(f"{tag} note {i}: the service keeps agent {i % 7} context in block {i * 3}."
                    for i in range(lines))


def complete(base, prompt, agent=None, max_tokens=24, **extra):
    headers = {"X-Agent-ID": agent} if agent else {}
    body = {"model": "default", "prompt": prompt, "max_tokens": max_tokens, "temperature": 0}
    body.update(extra)
    r = requests.post(base + "/v1/completions", json=body, headers=headers, timeout=300)
    assert r.status_code == 200, r.text
    j = r.json()
    return j["choices"][0]["text"], j["usage"]


def stats(base):
    return requests.get(base + "/v1/agents/stats", timeout=10).json()


@pytest.fixture(scope="module")
def cache_server(tmp_path_factory):
    d = tmp_path_factory.mktemp("agents")
    s = ServerProcess(["--context", "2048", "--cache-budget", "128MiB", "--cache-dir", d],
                      "pytest-kv-cache.log").start()
    s.cache_dir = d
    yield s
    s.stop()


def test_outputs_identical_cold_warm_and_restored_after_restart(cache_server):
    s = cache_server
    prompt = long_text("restart") + "\nQuestion: what does the service keep?\nAnswer:"
    cold, u0 = complete(s.base, prompt, agent="restart-agent")
    assert u0["prompt_tokens_details"]["cached_tokens"] == 0
    assert u0["prompt_tokens"] > 20 * BLOCK
    warm, u1 = complete(s.base, prompt, agent="restart-agent")
    assert warm == cold
    # Every full block but the one holding the last prompt token comes from RAM.
    assert u1["prompt_tokens_details"]["cached_tokens"] >= u1["prompt_tokens"] - BLOCK
    s.restart()  # SIGTERM: graceful, pending blocks are written
    before = stats(s.base)
    restored, u2 = complete(s.base, prompt, agent="restart-agent")
    assert restored == cold
    assert u2["prompt_tokens_details"]["cached_tokens"] >= u2["prompt_tokens"] - BLOCK
    after = stats(s.base)
    assert after["hits"]["disk_blocks"] - before["hits"]["disk_blocks"] >= u0["prompt_tokens"] // BLOCK - 1
    agent = requests.get(s.base + "/v1/agents/restart-agent", timeout=10).json()
    assert agent["requests"] == 3 and agent["cache_size_tokens"] >= u0["prompt_tokens"]


def test_longer_prompt_reuses_the_shared_prefix_and_matches_a_cold_run(cache_server):
    s = cache_server
    base_prompt = long_text("grow", 40)
    complete(s.base, base_prompt, agent="grow-agent", max_tokens=4)
    longer = base_prompt + " And one more line about agent 9 with some extra words.\nSo:"
    warm, u = complete(s.base, longer, agent="grow-agent")
    assert u["prompt_tokens_details"]["cached_tokens"] >= (len(base_prompt) // 8)
    # The same prompt on a server with no cache entry at all (salted by a different prefix in
    # RAM is not possible, so compare against this server after clearing the agent's blocks).
    requests.delete(s.base + "/v1/agents/grow-agent", timeout=10)
    cold, u_cold = complete(s.base, longer)
    assert u_cold["prompt_tokens_details"]["cached_tokens"] == 0
    assert cold == warm


def test_agents_share_a_common_system_prompt(cache_server, client, model_id):
    s = cache_server
    import openai
    c = openai.OpenAI(base_url=s.base + "/v1", api_key="unused", max_retries=0)
    system = "You are a careful assistant for a team of agents. " + long_text("shared", 30)
    first = c.chat.completions.create(
        model="default", max_tokens=8, temperature=0,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": "Hi A"}],
        extra_headers={"X-Agent-ID": "team-a"})
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    second = c.chat.completions.create(
        model="default", max_tokens=8, temperature=0,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": "Hi B"}],
        extra_headers={"X-Agent-ID": "team-b"})
    # The system prompt's full blocks were written by team-a and are reused by team-b.
    assert second.usage.prompt_tokens_details.cached_tokens >= first.usage.prompt_tokens - 3 * BLOCK
    # A second turn of team-a reuses its first turn.
    third = c.chat.completions.create(
        model="default", max_tokens=8, temperature=0,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": "Hi A"},
                  {"role": "assistant", "content": first.choices[0].message.content},
                  {"role": "user", "content": "And again?"}],
        extra_headers={"X-Agent-ID": "team-a"})
    assert third.usage.prompt_tokens_details.cached_tokens >= first.usage.prompt_tokens - BLOCK


def test_streamed_usage_reports_cached_tokens(cache_server):
    s = cache_server
    prompt = long_text("stream", 30)
    complete(s.base, prompt, max_tokens=2)
    r = requests.post(s.base + "/v1/completions", stream=True, timeout=120, json={
        "model": "default", "prompt": prompt, "max_tokens": 4, "temperature": 0, "stream": True,
        "stream_options": {"include_usage": True}})
    usage = None
    for line in r.iter_lines():
        if line.startswith(b"data: {"):
            import json
            chunk = json.loads(line[6:])
            usage = chunk.get("usage") or usage
    assert usage and usage["prompt_tokens_details"]["cached_tokens"] > 0


def test_cache_salt_separates_prefix_spaces(cache_server):
    s = cache_server
    prompt = long_text("salted", 25)
    complete(s.base, prompt, max_tokens=2, cache_salt="tenant-a")
    _, same = complete(s.base, prompt, max_tokens=2, cache_salt="tenant-a")
    _, other = complete(s.base, prompt, max_tokens=2, cache_salt="tenant-b")
    _, none = complete(s.base, prompt, max_tokens=2)
    assert same["prompt_tokens_details"]["cached_tokens"] > 0
    assert other["prompt_tokens_details"]["cached_tokens"] == 0
    assert none["prompt_tokens_details"]["cached_tokens"] == 0


@pytest.mark.parametrize("header,value", [
    ("X-Agent-ID", "../../etc/passwd"),
    ("X-Agent-ID", "a/b"),
    ("X-Session-ID", "x" * 257),
    ("X-Session-ID", ".."),
    ("X-Agent-ID", "sp ace"),
])
def test_invalid_agent_ids_are_rejected_naming_the_header(server, header, value):
    r = requests.post(server + "/v1/completions", headers={header: value},
                      json={"model": "default", "prompt": "hi", "max_tokens": 1}, timeout=30)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["param"] == header and err["code"] == "invalid_agent_id"


def test_invalid_session_id_field_is_rejected(server):
    r = requests.post(server + "/v1/chat/completions", timeout=30, json={
        "model": "default", "max_tokens": 1, "session_id": "../x",
        "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 400 and r.json()["error"]["param"] == "session_id"


def test_user_field_that_is_not_an_id_names_a_hashed_session(server):
    r = requests.post(server + "/v1/chat/completions", timeout=30, json={
        "model": "default", "max_tokens": 1, "user": "alice@example.com",
        "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200, r.text
    ids = [a["agent_id"] for a in requests.get(server + "/v1/agents/list", timeout=10).json()["agents"]]
    assert any(i.startswith("user-") and len(i) == 21 for i in ids)
    r = requests.post(server + "/v1/chat/completions", timeout=30, json={
        "model": "default", "max_tokens": 1, "user": "bob_42",
        "messages": [{"role": "user", "content": "hi"}]})
    assert requests.get(server + "/v1/agents/bob_42", timeout=10).status_code == 200
