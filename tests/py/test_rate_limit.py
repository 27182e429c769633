"""Rate limits with the real server: per agent and global token buckets, 429 with Retry-After in
each dialect's shape, other agents unaffected."""
import pytest
import requests

from conftest import ServerProcess

CHAT = {"model": "default", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}
MSG = {"model": "claude-x", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    s = ServerProcess(["--context", "512", "--server-rate-limit-per-agent", "2",
                       "--server-rate-limit-global", "6"], "pytest-rate-limit.log").start()
    yield s.base
    s.stop()


def chat(base, agent):
    return requests.post(base + "/v1/chat/completions", json=CHAT, timeout=60,
                         headers={"X-Agent-ID": agent} if agent else {})


def test_per_agent_then_global_limit(limited):
    assert [chat(limited, "a1").status_code for _ in range(2)] == [200, 200]
    r = chat(limited, "a1")
    assert r.status_code == 429
    assert 25 <= int(r.headers["Retry-After"]) <= 30  # 2 per minute: one every 30 s
    err = r.json()["error"]
    assert err["code"] == "rate_limit_exceeded" and err["type"] == "rate_limit_error"
    assert "agent 'a1' may send 2 requests per minute" in err["message"]
    # Another agent is not affected; the Anthropic route refuses in its own shape.
    r = requests.post(limited + "/v1/messages", json=MSG, timeout=60,
                      headers={"X-Agent-ID": "a1"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.json()["type"] == "error" and r.json()["error"]["type"] == "rate_limit_error"
    assert chat(limited, "a2").status_code == 200
    # 3 of the 6 global tokens are spent; requests without an agent count only globally.
    codes = [chat(limited, None).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429], codes
    r = chat(limited, "a3")
    assert r.status_code == 429 and "the server accepts 6 requests per minute" in r.text
    assert requests.get(limited + "/health/ready", timeout=10).status_code == 200


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    # One running sequence and one waiting request at most, so the queue can be filled.
    s = ServerProcess(["--context", "4096", "--api-keys", "k1,k2,k3,k4,k5", "--server-rate-limit-per-key",
                       "2", "--server-rate-limit-per-agent", "3", "--max-batch", "1",
                       "--max-queue", "1", "--cache-dir", tmp_path_factory.mktemp("rl-kv")],
                      "pytest-rate-limit-key.log").start()
    yield s.base
    s.stop()


def keyed_chat(base, key, agent=None, **body):
    headers = {"Authorization": f"Bearer {key}"}
    if agent:
        headers["X-Agent-ID"] = agent
    return requests.post(base + "/v1/chat/completions", json=dict(CHAT, **body), timeout=60,
                         headers=headers)


def test_per_key_limit(keyed):
    # Key k1 is spent by two different agents; the third request of k1 is refused, k2 is not.
    assert keyed_chat(keyed, "k1", "a").status_code == 200
    assert keyed_chat(keyed, "k1", "b").status_code == 200
    r = keyed_chat(keyed, "k1", "c")
    assert r.status_code == 429 and 25 <= int(r.headers["Retry-After"]) <= 30
    err = r.json()["error"]
    assert err["code"] == "rate_limit_exceeded"
    assert "this API key may send 2 requests per minute (server.rate_limit_per_key)" in \
        err["message"]
    assert "k1" not in err["message"]  # the key itself is never echoed
    r = requests.post(keyed + "/v1/messages", json=MSG, timeout=60, headers={"x-api-key": "k1"})
    assert r.status_code == 429 and r.json()["error"]["type"] == "rate_limit_error"
    assert keyed_chat(keyed, "k2", "c").status_code == 200


def metric(base, name):
    r = requests.get(base + "/metrics", timeout=10, headers={"Authorization": "Bearer k1"})
    for line in r.text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def test_queue_full_refusal_takes_no_rate_limit_token(keyed):
    import threading
    import time
    # A long stream holds the only running slot and a second request waits in the queue (greedy
    # SmolLM2 keeps counting for hundreds of tokens).
    count = {"model": "default", "prompt": "Counting: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,",
             "temperature": 0, "stream": True, "max_tokens": 2000}
    running = requests.post(keyed + "/v1/completions", json=count, stream=True, timeout=120,
                            headers={"Authorization": "Bearer k3"})
    assert running.status_code == 200
    lines = running.iter_lines()  # kept: a dropped generator would close the connection
    data = 0
    while data < 2:  # the first chunk is sent before generation starts; the second is a token
        data += next(lines).startswith(b"data: ")
    waiting = threading.Thread(target=lambda: requests.post(
        keyed + "/v1/chat/completions", json=CHAT, timeout=120,
        headers={"Authorization": "Bearer k4"}))
    waiting.start()
    deadline = time.time() + 30
    while metric(keyed, "semantic_requests_queued") < 1:
        assert time.time() < deadline, "the second request never queued"
        time.sleep(0.05)
    # Agent q with key k5 sends more than either limit while the queue is full.
    for _ in range(4):
        r = keyed_chat(keyed, "k5", "q")
        assert r.status_code == 429 and r.json()["error"]["code"] == "server_overloaded", r.text
    running.close()
    waiting.join()
    # None of them took a token: k5 still has both of its 2, agent q all of its 3.
    assert [keyed_chat(keyed, "k5", "q").status_code for _ in range(3)] == [200, 200, 429]
