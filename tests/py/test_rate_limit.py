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
