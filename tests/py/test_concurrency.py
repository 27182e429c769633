"""Continuous batching through the real server: concurrent clients get exactly what they get
alone, preemption under KV pressure changes nothing in the outputs, disconnects free their
blocks, a full queue answers 429 with Retry-After, and clients beyond the HTTP threads kept
ready are served at once."""
import http.client
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import ServerProcess, metric, wait_for_metric
from test_kv_faults import tiny_server


def complete(base, body, agent=None, timeout=300):
    headers = {"X-Agent-ID": agent} if agent else {}
    r = requests.post(base + "/v1/completions", json=dict({"model": "default"}, **body),
                      headers=headers, timeout=timeout)
    return r


@pytest.fixture(scope="module")
def batch_server(tmp_path_factory):
    s = ServerProcess(["--context", "1024", "--cache-budget", "128MiB", "--max-batch", "16",
                       "--cache-dir", tmp_path_factory.mktemp("conc")],
                      "pytest-concurrency.log").start()
    yield s
    s.stop()


TOPICS = ["the sea", "a mountain", "databases", "a cat", "rain", "compilers", "tea", "trains",
          "the moon", "bread", "chess", "a river", "music", "winter", "bees", "caches"]


def bodies():
    out = []
    for i, topic in enumerate(TOPICS):
        b = {"prompt": f"Write two sentences about {topic}.", "max_tokens": 24 + i}
        if i % 4 == 3:  # sampled, seeded: reproducible alone and in a batch
            b.update(temperature=0.8, top_p=0.9, seed=1000 + i)
        else:
            b.update(temperature=0)
        if i % 5 == 2:
            b["stop"] = ["."]
        out.append(b)
    return out


def test_16_concurrent_clients_get_what_they_get_alone(batch_server):
    base = batch_server.base
    alone = []
    for b in bodies():
        r = complete(base, b)
        assert r.status_code == 200, r.text
        alone.append(r.json()["choices"][0]["text"])
    # Different agents, all at once.
    with ThreadPoolExecutor(16) as pool:
        rs = list(pool.map(lambda ib: complete(base, ib[1], agent=f"c{ib[0]}"),
                           enumerate(bodies())))
    for i, r in enumerate(rs):
        assert r.status_code == 200, r.text
        assert r.json()["choices"][0]["text"] == alone[i], f"client {i} ({TOPICS[i]})"
    assert requests.get(base + "/health/ready", timeout=5).status_code == 200


def test_disconnects_free_their_blocks(batch_server):
    base = batch_server.base

    def stream_and_drop(i):
        with requests.post(base + "/v1/completions", stream=True, timeout=60, json={
                "model": "default", "prompt": f"Count slowly from {i} to one thousand:",
                "max_tokens": 400, "temperature": 0, "stream": True}) as r:
            for n, _ in enumerate(r.iter_lines()):
                if n > 6:
                    break  # closes the connection mid-stream

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(stream_and_drop, range(8)))
    import time
    deadline = time.time() + 30
    while time.time() < deadline:
        st = requests.get(base + "/v1/agents/stats", timeout=10).json()
        if st["ram"]["blocks_in_use"] == 0 and metric(base, "semantic_sequences_running") == 0:
            break
        time.sleep(0.2)
    assert st["ram"]["blocks_in_use"] == 0, st["ram"]
    # Their computed blocks stay cached for the next request with the same prefix.
    assert st["ram"]["blocks_cached"] > 0
    r = complete(base, {"prompt": "Hello", "max_tokens": 4, "temperature": 0})
    assert r.status_code == 200


# Greedy SmolLM2 counts on to max_tokens (neither stops early): 22 and 27 prompt tokens + 220.
COUNTING = ["Count from 1 to 500: 1, 2, 3, 4,", "Count from 200 to 700: 200, 201, 202,"]


def test_preemption_under_kv_pressure_keeps_every_output(tmp_path):
    """A pool of one 256-token context (--cache-budget 1MiB is less, so the pool is sized for one
    context) and two counting requests of ~245 positions each: they cannot both fit, so a running
    sequence is parked in the cache and resumed; outputs equal running alone. The first request
    is running before the second is sent (checked through /metrics), so the second is admitted
    beside it (there is room for its prompt until the first has generated ~180 tokens) and the
    pool must overflow before the first ends, whatever the machine's speed: tiny-model requests
    sent together did not overlap on a fast machine."""
    body = lambda p: {"prompt": p, "max_tokens": 220, "temperature": 0}
    s = ServerProcess(["--context", "256", "--cache-budget", "1MiB", "--max-batch", "2",
                       "--cache-dir", tmp_path], "pytest-preempt.log").start()
    alone = []
    for p in COUNTING:
        r = complete(s.base, body(p))
        assert r.status_code == 200, r.text
        assert r.json()["usage"]["completion_tokens"] == 220, r.json()["usage"]
        alone.append(r.json()["choices"][0]["text"])
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(complete, s.base, body(COUNTING[0]), "p0")
        wait_for_metric(s.base, "semantic_sequences_running", 1)
        second = pool.submit(complete, s.base, body(COUNTING[1]), "p1")
        rs = [first.result(), second.result()]
    for i, r in enumerate(rs):
        assert r.status_code == 200, r.text
        assert r.json()["choices"][0]["text"] == alone[i], f"agent {i}"
    assert metric(s.base, "semantic_preemptions_total") > 0
    assert requests.get(s.base + "/health/ready", timeout=5).status_code == 200
    s.stop()


def test_full_queue_answers_429_with_retry_after(tmp_path):
    """One sequence runs (max_batch 1), two wait (max_queue 2): the next request is refused.
    The running one is a long prefill on the real model, so the state is set up step by step
    and checked through /metrics instead of hoping that concurrent clients overlap (on a fast
    machine the tiny model finished each request before the next arrived)."""
    s = ServerProcess(["--context", "2048", "--max-batch", "1", "--max-queue", "2",
                       "--cache-dir", tmp_path], "pytest-queue.log").start()
    long_body = {"prompt": [100 + (i * 7919) % 40000 for i in range(1900)], "max_tokens": 100,
                 "temperature": 0}
    short_body = {"prompt": [5, 6, 7], "max_tokens": 4, "temperature": 0}
    with ThreadPoolExecutor(3) as pool:
        running = pool.submit(complete, s.base, long_body)
        wait_for_metric(s.base, "semantic_sequences_running", 1)
        waiting = [pool.submit(complete, s.base, short_body) for _ in range(2)]
        wait_for_metric(s.base, "semantic_requests_queued", 2)
        refused = complete(s.base, short_body)
        still_running = metric(s.base, "semantic_sequences_running")
        rs = [running.result()] + [w.result() for w in waiting]
    assert still_running == 1, "the long request ended before the refusal was checked"
    assert refused.status_code == 429, refused.text
    assert refused.headers["Retry-After"] == "1"
    err = refused.json()["error"]
    assert err["code"] == "server_overloaded" and "waiting" in err["message"]
    assert [r.status_code for r in rs] == [200, 200, 200], [r.text for r in rs]
    # Nothing was lost: afterwards the server serves normally.
    assert complete(s.base, short_body).status_code == 200
    s.stop()


def test_request_timeout_ends_the_request_and_frees_it(tmp_path):
    # The real model counting to 500 (greedy: it does not stop early; ~1.6 s on 2 cores) so that
    # the 100 ms limit ends it long before max_tokens even on a much faster machine.
    s = ServerProcess(["--context", "1024", "--server-request-timeout", "100ms",
                       "--cache-dir", tmp_path], "pytest-timeout.log").start()
    r = complete(s.base, {"prompt": "Count from 1 to 500: 1, 2, 3, 4,", "max_tokens": 500,
                          "temperature": 0})
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["choices"][0]["finish_reason"] == "length"
    assert 0 < j["usage"]["completion_tokens"] < 500
    deadline = time.time() + 5  # the gauge is updated right after the reply is sent
    while metric(s.base, "semantic_sequences_running") != 0 and time.time() < deadline:
        time.sleep(0.05)
    assert metric(s.base, "semantic_sequences_running") == 0
    s.stop()
    assert "timed out" in s.log_text()


def test_clients_beyond_the_kept_http_threads_are_served_at_once(tmp_path):
    """Each idle keep-alive connection holds an HTTP thread (up to 5 s) and so does each streaming
    request. With server.http_threads (8) of them open, the 9th client used to wait until one of
    them timed out; threads now start on demand up to server.max_http_threads."""
    s = tiny_server(tmp_path, "pytest-http-threads.log", extra=["--server-http-threads", "8"])
    s.start()

    def health(conn):
        t0 = time.time()
        conn.request("GET", "/health")
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        return time.time() - t0

    idle = []
    for i in range(12):  # stay open after their request: their threads wait for the next one
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        assert health(c) < 2.0, f"client {i + 1} waited for a thread"
        idle.append(c)

    def generation(i):
        t0 = time.time()
        r = complete(s.base, {"prompt": [5 + i, 6, 7], "max_tokens": 8, "temperature": 0},
                     timeout=30)
        return r.status_code, time.time() - t0

    with ThreadPoolExecutor(16) as pool:  # 16 more clients at once
        results = list(pool.map(generation, range(16)))
    for i, (code, secs) in enumerate(results):
        assert code == 200
        assert secs < 3.0, f"client {13 + i} took {secs:.1f} s"
    for c in idle:  # the kept connections still work
        assert health(c) < 2.0
        c.close()
    s.stop()
