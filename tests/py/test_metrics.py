"""/metrics with the real server: the Prometheus text parses, every `semantic_*` family is
documented in docs/metrics.md (and every documented one is served), histograms are consistent, and
real traffic (both dialects, a 4xx, a concurrent burst, a restart) moves every family that traffic
drives. A family added without being classified below fails the test, and so does one that is
declared but never updated."""
import re
import threading

import pytest
import requests

from conftest import ROOT, ServerProcess, wait_for_metric
from test_kv_cache import complete, long_text

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

# Must be > 0 after the traffic in test_traffic_moves_every_traffic_driven_family (a family that
# is declared but never updated fails here). Key: family, value: labels the sample must have.
MOVED = {
    "semantic_http_requests_total": {"route": "/v1/chat/completions", "status": "200"},
    "semantic_model_loads_total": {},
    "semantic_model_load_seconds": {},
    "semantic_models_resident": {},
    "semantic_requests_completed_total": {},
    "semantic_generated_tokens_total": {},
    "semantic_prompt_tokens_computed_total": {},
    "semantic_steps_total": {},
    "semantic_time_to_first_token_seconds": {},
    "semantic_inter_token_latency_seconds": {},
    "semantic_batch_size": {},
    "semantic_prompt_tokens_total": {},
    "semantic_prompt_tokens_cached_total": {},
    "semantic_kv_block_lookups_total": {"result": "disk_hit"},
    "semantic_kv_bytes": {"tier": "disk", "state": "stored"},
    "semantic_kv_budget_bytes": {"tier": "ram"},
    "semantic_kv_blocks": {"tier": "ram", "state": "cached"},
    "semantic_pool_utilization_ratio": {},
    "semantic_kv_disk_writes_total": {},
    "semantic_kv_disk_loads_total": {},
    "semantic_agents": {"tier": "hot"},
    "semantic_agent_requests_total": {"agent_id": "m-0"},
    "semantic_agent_prompt_tokens_total": {"agent_id": "m-0", "source": "cached"},
}
# May stay 0 here; each is driven by the test named.
OTHER = {
    "semantic_sequences_running": "gauge, 0 when idle: test_concurrency",
    "semantic_requests_queued": "gauge, 0 when idle: test_rate_limit (queue full)",
    "semantic_preemptions_total": "test_concurrency (KV pressure)",
    "semantic_model_swaps_total": "no swap in this server; tests/py/test_model_swap.py checks it",
    "semantic_model_unloads_total": "no unload in this server; tests/py/test_multi_model.py",
    "semantic_config_reloads_total": "test_reload",
    "semantic_kv_evictions_total": "test_kv_faults (tiny disk budget), test_agents_api",
    "semantic_kv_disk_write_errors_total": "test_kv_faults (file size limit)",
    "semantic_kv_disk_writes_skipped_total": "only when the disk writer falls far behind",
    "semantic_kv_disk_pending_writes": "gauge, 0 once flushed",
    "semantic_kv_quarantined_files_total": "test_kv_faults (corrupt files)",
    "semantic_kv_disk_load_failures_total": "test_kv_faults (corrupt files)",
    "semantic_agents_pinned": "test_agents_api (pin)",
    "semantic_kv_sliding_slots": "0 without sliding-window layers: test_sliding_window_kv",
    "semantic_kv_sliding_evictions_total": "test_sliding_window_kv (Gemma 3, tight slots)",
    "semantic_attention_shared_segment_reads_saved_total": "test_shared_prefix_batch",
}
HISTOGRAMS = {"semantic_time_to_first_token_seconds", "semantic_inter_token_latency_seconds",
              "semantic_batch_size"}


def parse(text):
    """Prometheus text format 0.0.4 -> {family: {"type", "help", "samples": [(name, labels, v)]}}."""
    families, current = {}, None
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, name, rest = line[2:6], line.split(" ")[2], line.split(" ", 3)[3]
            fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
            fam["help" if kind == "HELP" else "type"] = rest
            current = name
            continue
        assert not line.startswith("#"), line
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, labels, value = m.group(1), dict(LABEL.findall(m.group(3) or "")), float(m.group(4))
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        fam = name if name in families else base
        assert fam == current, f"{name} outside its family block ({current})"
        families[fam]["samples"].append((name, labels, value))
    for name, fam in families.items():
        assert fam["type"] in ("counter", "gauge", "histogram"), (name, fam["type"])
        assert fam["help"], name
    return families


def value(families, family, labels=None, suffix=""):
    for name, ls, v in families[family]["samples"]:
        if name == family + suffix and all(ls.get(k) == want for k, want in (labels or {}).items()):
            return v
    raise AssertionError(f"no sample {family}{suffix} {labels}")


def scrape(base):
    r = requests.get(base + "/metrics", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    return parse(r.text)


def documented():
    text = (ROOT / "docs" / "metrics.md").read_text()
    return set(re.findall(r"^\| `(semantic_[a-z0-9_]+)`", text, re.M))


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = ServerProcess(["--context", "1024", "--cache-dir", tmp_path_factory.mktemp("metrics-kv"),
                       "--metrics-include-agent-id-label"], "pytest-metrics.log").start()
    yield s
    s.stop()


def test_every_family_is_classified_and_documented(srv):
    fams = scrape(srv.base)
    served = {f for f in fams if f.startswith("semantic_")}
    conditional = {"semantic_agent_requests_total", "semantic_agent_prompt_tokens_total"}
    assert served | conditional == set(MOVED) | set(OTHER), \
        f"unclassified: {served - set(MOVED) - set(OTHER)}; missing: " \
        f"{set(MOVED) | set(OTHER) - served - conditional}"
    assert not set(MOVED) & set(OTHER)
    assert documented() == set(MOVED) | set(OTHER), "docs/metrics.md is out of date"
    for h in HISTOGRAMS:
        assert fams[h]["type"] == "histogram"
    assert value(fams, "semantic_model_loads_total") == 1
    assert value(fams, "semantic_model_swaps_total") == 0


def check_histogram(fams, family):
    buckets = [(ls["le"], v) for name, ls, v in fams[family]["samples"] if name.endswith("_bucket")]
    assert buckets[-1][0] == "+Inf" and len(buckets) >= 5
    bounds = [float(le) for le, _ in buckets[:-1]]
    assert bounds == sorted(bounds)
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), f"{family} buckets are not cumulative"
    count = value(fams, family, suffix="_count")
    assert counts[-1] == count
    return count, value(fams, family, suffix="_sum")


def chat(base, agent, content, stream=False, max_tokens=8):
    body = {"model": "default", "max_tokens": max_tokens, "temperature": 0, "stream": stream,
            "messages": [{"role": "user", "content": content}]}
    r = requests.post(base + "/v1/chat/completions", json=body, timeout=120,
                      headers={"X-Agent-ID": agent})
    assert r.status_code == 200, r.text
    return r


def test_traffic_moves_every_traffic_driven_family(srv):
    # Two agents, each twice (the second turn reuses its cached prefix), one of them streamed.
    for i in range(2):
        for turn in range(2):
            chat(srv.base, f"m-{i}", long_text(f"agent {i}", 12), stream=turn == 1)
    # The Anthropic dialect, a 400 (bad body), a 404 from a parameterised route, a 404 route.
    r = requests.post(srv.base + "/v1/messages", timeout=60, json={
        "model": "claude-x", "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200
    assert requests.post(srv.base + "/v1/chat/completions", json={"model": "default"},
                         timeout=10).status_code == 400
    assert requests.get(srv.base + "/v1/agents/nobody", timeout=10).status_code == 404
    assert requests.get(srv.base + "/no/such/route", timeout=10).status_code == 404
    # A burst shares forward steps (batch size > 1) with a long request that is running before it
    # is sent (greedy counting to max_tokens, seconds on any machine; closed after the burst) and
    # with each other: requests merely sent together could each end before the next arrived.
    with requests.post(srv.base + "/v1/completions", stream=True, timeout=120, json={
            "model": "default", "prompt": "Count from 1 to 500: 1, 2, 3, 4,", "max_tokens": 900,
            "temperature": 0, "stream": True}) as held:
        assert held.status_code == 200
        wait_for_metric(srv.base, "semantic_sequences_running", 1)
        threads = [threading.Thread(target=complete, args=(srv.base, f"burst {k}: 1, 2, 3,"),
                                    kwargs={"max_tokens": 16}) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    mid = scrape(srv.base)
    steps, sequences = check_histogram(mid, "semantic_batch_size")
    assert sequences > steps, "no forward step ever held more than one sequence"
    assert value(mid, "semantic_http_requests_total",
                 {"route": "/v1/messages", "status": "200"}) == 1
    # 4 chats, 1 message, the held request, the burst of 4.
    assert check_histogram(mid, "semantic_time_to_first_token_seconds")[0] == 10
    # The cache goes to disk; after a restart agent m-0 returns and is restored from disk.
    assert requests.post(srv.base + "/v1/agents/m-0/flush", timeout=30).status_code == 200
    srv.restart()
    chat(srv.base, "m-0", long_text("agent 0", 12) + " " + long_text("more", 4))
    assert requests.post(srv.base + "/v1/agents/m-0/flush", timeout=30).status_code == 200
    after = scrape(srv.base)
    for family, labels in MOVED.items():
        if family in HISTOGRAMS:
            count, total = check_histogram(after, family)
            assert count > 0 and total > 0, family
        else:
            assert value(after, family, labels) > 0, (family, labels)


def test_requests_by_route_and_status(srv):
    base = srv.base
    scrape(base)  # counted once answered (checked below): the test must not rely on earlier ones
    chat(base, "routes", "hello")
    assert requests.post(base + "/v1/chat/completions", json={"model": "default"},
                         timeout=10).status_code == 400
    assert requests.post(base + "/v1/agents/nobody/pin", timeout=10).status_code == 404
    assert requests.get(base + "/nothing/here", timeout=10).status_code == 404
    fams = scrape(base)
    assert value(fams, "semantic_http_requests_total",
                 {"route": "/v1/chat/completions", "status": "200"}) >= 1
    assert value(fams, "semantic_http_requests_total",
                 {"route": "/v1/chat/completions", "status": "400"}) >= 1
    assert value(fams, "semantic_http_requests_total",
                 {"route": "/v1/agents/{id}/pin", "status": "404"}) >= 1
    assert value(fams, "semantic_http_requests_total",
                 {"route": "unmatched", "status": "404"}) >= 1
    routes = {ls["route"] for _, ls, _ in fams["semantic_http_requests_total"]["samples"]}
    assert not any("nobody" in r or "nothing" in r for r in routes), routes  # bounded labels
    # The earlier scrape itself was counted once it was answered.
    assert value(fams, "semantic_http_requests_total", {"route": "/metrics", "status": "200"}) >= 1


def test_ttft_and_token_counters_follow_one_request(srv):
    before = scrape(srv.base)
    n0, _ = check_histogram(before, "semantic_time_to_first_token_seconds")
    i0, _ = check_histogram(before, "semantic_inter_token_latency_seconds")
    g0 = value(before, "semantic_generated_tokens_total")
    body = {"model": "default", "prompt": "Counting: 1, 2, 3, 4, 5,", "max_tokens": 6,
            "temperature": 0}
    usage = requests.post(srv.base + "/v1/completions", json=body, timeout=60).json()["usage"]
    after = scrape(srv.base)
    n1, _ = check_histogram(after, "semantic_time_to_first_token_seconds")
    i1, _ = check_histogram(after, "semantic_inter_token_latency_seconds")
    assert n1 == n0 + 1
    assert value(after, "semantic_generated_tokens_total") == g0 + usage["completion_tokens"]
    assert i1 == i0 + usage["completion_tokens"] - 1
