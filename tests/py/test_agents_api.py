"""Agent API over the real server: create, list, get, stats, pin, TTL, fork, flush, delete,
admin cache clearing, and /metrics counters for the cache tiers."""
import pytest
import requests

from conftest import ServerProcess
from test_kv_cache import complete, long_text

ADMIN_KEY = "test-admin-key-123"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    s = ServerProcess(["--context", "2048", "--cache-budget", "64MiB", "--cache-dir",
                       tmp_path_factory.mktemp("agents-api")], "pytest-agents-api.log",
                      env={"SEMANTIC_SERVER__ADMIN_KEY": ADMIN_KEY}).start()
    yield s
    s.stop()


def get(s, path):
    return requests.get(s.base + path, timeout=30)


def post(s, path, body=None):
    return requests.post(s.base + path, json=body if body is not None else {}, timeout=30)


def test_create_get_list_delete(api):
    r = post(api, "/v1/agents", {"agent_id": "alpha"})
    assert r.status_code == 201 and r.json()["agent_id"] == "alpha"
    assert r.json()["cache_size_tokens"] == 0 and r.json()["tier"] == "cold"
    assert post(api, "/v1/agents", {"agent_id": "alpha"}).status_code == 409
    generated = post(api, "/v1/agents")
    assert generated.status_code == 201 and generated.json()["agent_id"].startswith("agent_")
    ids = [a["agent_id"] for a in get(api, "/v1/agents/list").json()["agents"]]
    assert "alpha" in ids and generated.json()["agent_id"] in ids
    assert get(api, "/v1/agents/alpha").status_code == 200
    assert requests.delete(api.base + "/v1/agents/alpha", timeout=30).status_code == 204
    r = get(api, "/v1/agents/alpha")
    assert r.status_code == 404 and r.json()["error"]["code"] == "agent_not_found"
    assert requests.delete(api.base + "/v1/agents/alpha", timeout=30).status_code == 404


@pytest.mark.parametrize("body,param", [
    ({"agent_id": "../x"}, "agent_id"),
    ({"agent_id": 5}, "agent_id"),
    ({"pinned": "yes"}, "pinned"),
    ({"ttl_seconds": -1}, "ttl_seconds"),
])
def test_create_rejects_bad_fields(api, body, param):
    r = post(api, "/v1/agents", body)
    assert r.status_code == 400 and r.json()["error"]["param"] == param


def test_bad_evict_only_value(api):
    post(api, "/v1/agents", {"agent_id": "evq"})
    r = requests.delete(api.base + "/v1/agents/evq?evict_only=maybe", timeout=30)
    assert r.status_code == 400 and r.json()["error"]["param"] == "evict_only"


def test_session_tiers_pin_fork_and_evict_only(api):
    prompt = long_text("tiers", 40)
    text, usage = complete(api.base, prompt, agent="worker")
    post(api, "/v1/agents/worker/flush")
    a = get(api, "/v1/agents/worker").json()
    assert a["tier"] == "hot" and a["blocks_in_ram"] == a["cached_blocks"] > 0
    assert a["blocks_on_disk"] == a["cached_blocks"]
    # Pin, fork: the fork shares the chain.
    assert post(api, "/v1/agents/worker/pin").json()["pinned"] is True
    f = post(api, "/v1/agents/worker/fork", {"agent_id": "worker-2"})
    assert f.status_code == 201 and f.json()["cached_blocks"] == a["cached_blocks"]
    assert post(api, "/v1/agents/worker/fork", {"agent_id": "worker-2"}).status_code == 409
    assert post(api, "/v1/agents/nobody/fork", {"agent_id": "x1"}).status_code == 404
    assert post(api, "/v1/agents/worker/unpin").json()["pinned"] is False
    # evict_only: out of RAM, still on disk; the next request restores from disk.
    r = requests.delete(api.base + "/v1/agents/worker?evict_only=true", timeout=30)
    assert r.status_code == 204
    a = get(api, "/v1/agents/worker").json()
    assert a["tier"] == "warm" and a["blocks_in_ram"] == 0 and a["blocks_on_disk"] > 0
    disk_hits = get(api, "/v1/agents/stats").json()["hits"]["disk_blocks"]
    again, u = complete(api.base, prompt, agent="worker")
    assert again == text
    assert u["prompt_tokens_details"]["cached_tokens"] >= usage["prompt_tokens"] - 16
    assert get(api, "/v1/agents/stats").json()["hits"]["disk_blocks"] > disk_hits
    # Deleting the original keeps blocks the fork still uses.
    assert requests.delete(api.base + "/v1/agents/worker", timeout=30).status_code == 204
    assert get(api, "/v1/agents/worker-2").json()["blocks_on_disk"] > 0


def test_ttl(api):
    post(api, "/v1/agents", {"agent_id": "short", "ttl_seconds": 3600})
    assert get(api, "/v1/agents/short").json()["ttl_seconds"] == 3600
    r = post(api, "/v1/agents/short/ttl", {"ttl_seconds": 0})
    assert r.status_code == 200 and r.json()["ttl_seconds"] == 0
    assert post(api, "/v1/agents/short/ttl", {}).status_code == 400


def test_stats_and_metrics(api):
    complete(api.base, long_text("metrics", 20), agent="metric-agent")
    st = get(api, "/v1/agents/stats").json()
    for key in ("hot", "warm", "total", "pool_utilization_pct", "total_cache_size_mb", "ram", "disk"):
        assert key in st
    assert st["ram"]["block_bytes"] > 0 and st["disk"]["enabled"] is True
    text = get(api, "/metrics").text
    for name in ("semantic_kv_block_lookups_total{result=\"ram_hit\"}",
                 "semantic_kv_bytes{tier=\"disk\",state=\"stored\"}",
                 "semantic_kv_quarantined_files_total", "semantic_prompt_tokens_cached_total",
                 "semantic_kv_evictions_total{tier=\"ram\"}", "semantic_agents{tier=\"hot\"}"):
        assert name in text, name
    lines = {l.split(" ")[0]: float(l.split(" ")[1]) for l in text.splitlines()
             if l and not l.startswith("#")}
    assert lines["semantic_prompt_tokens_total"] >= lines["semantic_prompt_tokens_cached_total"]


def test_admin_clear_caches(api):
    complete(api.base, long_text("admin", 20), agent="to-clear")
    r = requests.delete(api.base + "/admin/caches", timeout=30)
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    r = requests.delete(api.base + "/admin/caches", headers={"X-Admin-Key": "wrong"}, timeout=30)
    assert r.status_code == 401
    r = requests.delete(api.base + "/admin/caches", headers={"X-Admin-Key": ADMIN_KEY}, timeout=30)
    assert r.status_code == 200 and r.json()["status"] == "cleared"
    st = get(api, "/v1/agents/stats").json()
    assert st["total"] == 0 and st["disk"]["files"] == 0 and st["ram"]["blocks_cached"] == 0
    _, u = complete(api.base, long_text("admin", 20), agent="to-clear")
    assert u["prompt_tokens_details"]["cached_tokens"] == 0


def test_admin_api_disabled_without_key(server):
    r = requests.delete(server + "/admin/caches", headers={"X-Admin-Key": "x"}, timeout=30)
    assert r.status_code == 403 and r.json()["error"]["type"] == "permission_error"
