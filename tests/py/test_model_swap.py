"""Model hot-swap under load (issue 9): POST /admin/models/swap loads the new model beside the
old one, drains the old model's running requests, and keeps every model's agent caches on disk,
so swapping back finds them warm; a model that does not load is rolled back with the old one
serving throughout. Real server, real models (SmolLM2 and Gemma 3 270M), real openai SDK."""
import os
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import MODEL, ROOT, ServerProcess, wait_for_metric

GEMMA = ROOT / "models" / "gemma-3-270m-q4_k_m.gguf"
ADMIN = "swap-admin-key"
HDR = {"X-Admin-Key": ADMIN}
SMOL_ID = "smollm2"


@pytest.fixture(scope="module")
def swap_server(tmp_path_factory):
    if not GEMMA.exists():
        pytest.skip(f"model not present: {GEMMA}")
    tmp = tmp_path_factory.mktemp("swap")
    profiles, models = tmp / "profiles", tmp / "models"
    profiles.mkdir()
    models.mkdir()
    (profiles / "gemma.toml").write_text(
        f'[model]\npath = "{GEMMA}"\nserved_name = "gemma3"\ncontext_length = 1024\n'
        'kv_dtype = "q8_0"\n')
    (profiles / "broken.toml").write_text('[model]\ncontext_lenght = 5\n')
    (profiles / "gpu.toml").write_text(f'[model]\npath = "{MODEL}"\ndevice = "cuda"\n')
    os.symlink(MODEL, models / "smol-copy.gguf")
    # A corrupt model: the real file's first 4 MiB (a valid header whose tensors run past the end).
    (models / "corrupt.gguf").write_bytes(Path(MODEL).read_bytes()[: 4 << 20])
    (models / "garbage.gguf").write_bytes(b"GGUF" + os.urandom(4096))
    # A 4096-token context (the pool is the 128 MiB budget either way): room for a generation
    # that outlasts a swap on any machine (test_swap_timeout_cancels_with_a_clear_error).
    s = ServerProcess(["--context", "4096", "--cache-budget", "128MiB",
                       "--model-served-name", SMOL_ID, "--cache-dir", tmp / "kv",
                       "--server-admin-key", ADMIN,
                       "--registry-profiles-dir", profiles, "--registry-models-dir", models],
                      "pytest-swap.log").start()
    yield s
    s.stop()


def admin(s, method, path, **kw):
    return requests.request(method, s.base + path, headers=HDR, timeout=120, **kw)


def chat(s, agent, messages, max_tokens=8, model="default"):
    r = requests.post(s.base + "/v1/chat/completions", timeout=120,
                      headers={"X-Agent-ID": agent},
                      json={"model": model, "messages": messages, "max_tokens": max_tokens,
                            "temperature": 0})
    return r


HISTORY = [{"role": "system", "content": "You are a careful assistant. " * 40},
           {"role": "user", "content": "Name three colours of the rainbow."}]


def cached(r):
    return r.json()["usage"].get("prompt_tokens_details", {}).get("cached_tokens", 0)


def test_admin_routes_need_the_key(swap_server):
    r = requests.get(swap_server.base + "/admin/models/current", timeout=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_admin_key"
    r = requests.post(swap_server.base + "/admin/models/swap", json={"model_id": "gemma3"},
                      headers={"X-Admin-Key": "wrong"}, timeout=10)
    assert r.status_code == 401


def test_available_lists_config_profiles_and_files(swap_server):
    r = admin(swap_server, "GET", "/admin/models/available")
    assert r.status_code == 200
    by_id = {m["model_id"]: m for m in r.json()["models"]}
    assert by_id[SMOL_ID]["source"] == "config" and by_id[SMOL_ID]["loaded"]
    assert by_id["gemma3"]["source"] == "profile" and by_id["gemma3"]["exists"]
    assert "context_lenght" in by_id["broken"]["problem"]
    assert by_id["corrupt"]["source"] == "file"
    assert "smol-copy" not in by_id or by_id["smol-copy"]["source"] == "file"


def test_bad_swap_requests_are_4xx_and_keep_serving(swap_server):
    s = swap_server
    r = admin(s, "POST", "/admin/models/swap", json={})
    assert r.status_code == 400 and r.json()["error"]["param"] == "model_id"
    r = admin(s, "POST", "/admin/models/swap", json={"model_id": "nope"})
    assert r.status_code == 404 and r.json()["status"] == "failed"
    assert "gemma3" in r.json()["message"]
    r = admin(s, "POST", "/admin/models/swap", json={"model_id": "broken"})
    assert r.status_code == 400 and "context_lenght" in r.json()["message"]
    r = admin(s, "POST", "/admin/models/swap", json={"model_id": "gemma3", "timeout_seconds": -1})
    assert r.status_code == 400 and r.json()["error"]["param"] == "timeout_seconds"
    r = admin(s, "POST", "/admin/models/swap", json={"model_id": SMOL_ID})
    assert r.status_code == 200 and r.json()["status"] == "unchanged"
    assert admin(s, "GET", "/admin/models/current").json()["model_id"] == SMOL_ID


def poll_while(s, stop, failures, agent="poller", models=None):
    """Sends short requests until `stop` is set; records every non-200 answer (and, given a list
    `models`, the model of every 200 answer)."""
    while not stop.is_set():
        try:
            r = chat(s, agent, [{"role": "user", "content": "Say hi."}], max_tokens=2)
            if r.status_code != 200:
                failures.append((r.status_code, r.text[:300]))
            elif models is not None:
                models.append(r.json()["model"])
        except requests.RequestException as e:  # a reset connection is a failure too
            failures.append(("exception", str(e)))
        time.sleep(0.05)


def test_corrupt_model_rolls_back_while_serving(swap_server):
    s = swap_server
    stop, failures = threading.Event(), []
    t = threading.Thread(target=poll_while, args=(s, stop, failures))
    t.start()
    try:
        for bad in ("corrupt", "garbage"):
            r = admin(s, "POST", "/admin/models/swap", json={"model_id": bad})
            body = r.json()
            assert r.status_code == 422, body
            assert body["status"] == "failed" and body["old_model_id"] == SMOL_ID
            assert "rolled back" in body["message"] and bad in body["message"]
        # A profile asking for a device the engine does not run on fails like a bad file.
        r = admin(s, "POST", "/admin/models/swap", json={"model_id": "gpu"})
        assert r.status_code == 422 and r.json()["status"] == "failed", r.text
        assert "device = cuda" in r.json()["message"]
    finally:
        stop.set()
        t.join()
    assert failures == []
    assert admin(s, "GET", "/admin/models/current").json()["model_id"] == SMOL_ID
    assert chat(s, "after-rollback", HISTORY).status_code == 200


def test_swap_under_load_and_back_keeps_agent_caches_warm(swap_server):
    s = swap_server
    # Agent on model A (SmolLM2): cold, then warm.
    assert chat(s, "agent-a", HISTORY).status_code == 200
    warm_before = cached(chat(s, "agent-a", HISTORY))
    assert warm_before > 100

    # A long request running on A while the swap starts: it finishes (drained), not cut. Greedy
    # SmolLM2 counts on to max_tokens (~2 s here); it is running before the swap is sent, and the
    # swap's switch to the new model is watched, so that the test shows it was still running
    # then (a short request could end before Gemma had loaded on a fast machine).
    long_result = {}

    def long_request():
        r = requests.post(s.base + "/v1/completions", timeout=120,
                          headers={"X-Agent-ID": "agent-long"},
                          json={"model": "default", "prompt": "Count from 1 to 500: 1, 2, 3, 4,",
                                "max_tokens": 600, "temperature": 0})
        long_result.update(r=r, done=time.time())

    swap = {}

    def swap_to_gemma():
        swap["r"] = admin(s, "POST", "/admin/models/swap", json={"model_id": "gemma3",
                                                                 "timeout_seconds": 60})

    stop, failures, models = threading.Event(), [], []
    poller = threading.Thread(target=poll_while, args=(s, stop, failures),
                              kwargs={"models": models})
    runner = threading.Thread(target=long_request)
    swapper = threading.Thread(target=swap_to_gemma)
    runner.start()
    try:
        wait_for_metric(s.base, "semantic_sequences_running", 1)
        poller.start()
        swapper.start()
        deadline = time.time() + 60
        while admin(s, "GET", "/admin/models/current").json()["model_id"] != "gemma3":
            assert time.time() < deadline and swapper.is_alive(), "the swap never switched"
            time.sleep(0.005)
        switched = time.time()  # new requests go to Gemma from here on
    finally:
        for th in (runner, swapper):
            if th.ident is not None:
                th.join()
        deadline = time.time() + 30  # the poller gets an answer from the new model too
        while "gemma3" not in models and poller.is_alive() and time.time() < deadline:
            time.sleep(0.02)
        stop.set()
        if poller.ident is not None:
            poller.join()
    r = swap["r"]
    body = r.json()
    assert r.status_code == 200, body
    assert body["status"] == "success"
    assert body["old_model_id"] == SMOL_ID and body["new_model_id"] == "gemma3"
    assert body["cancelled_requests"] == 0
    # The long request was drained (a poller's request in flight at the switch may be too).
    assert long_result["done"] > switched, "the long request ended before the swap switched"
    assert body["drained_requests"] >= 1
    assert f"{body['drained_requests']} running request(s) finished on {SMOL_ID}, 0 cancelled" \
        in body["message"], body["message"]
    lr = long_result["r"]
    # Finished normally (drained), not cancelled.
    assert lr.status_code == 200, lr.text
    assert lr.json()["choices"][0]["finish_reason"] == "length"
    assert lr.json()["usage"]["completion_tokens"] == 600
    assert lr.json()["model"] == SMOL_ID
    assert failures == [], failures[:3]
    assert "gemma3" in models, "the poller never reached the new model"

    cur = admin(s, "GET", "/admin/models/current").json()
    assert cur["model_id"] == "gemma3" and cur["architecture"] == "gemma3"
    assert cur["context_length"] == 1024 and cur["kv_dtype"] == "q8_0"
    ids = [m["id"] for m in requests.get(s.base + "/v1/models", timeout=10).json()["data"]]
    assert ids == ["gemma3"]
    # Agent A's session belongs to model A: on Gemma nothing of it is cached.
    g = chat(s, "agent-a", HISTORY)
    assert g.status_code == 200 and g.json()["model"] == "gemma3"
    assert cached(g) == 0

    # Swap back: A's agent finds its cache (restored from A's disk tier).
    r = admin(s, "POST", "/admin/models/swap", json={"model_id": SMOL_ID})
    assert r.status_code == 200 and r.json()["status"] == "success", r.json()
    back = chat(s, "agent-a", HISTORY)
    assert back.status_code == 200 and back.json()["model"] == SMOL_ID
    assert cached(back) >= warm_before - 16
    metrics = requests.get(s.base + "/metrics", timeout=10).text
    swaps = [ln for ln in metrics.splitlines() if ln.startswith("semantic_model_swaps_total")]
    assert swaps and float(swaps[0].split()[-1]) >= 2, swaps


def test_swap_timeout_cancels_with_a_clear_error(swap_server):
    """The running request counts on to max_tokens (greedy SmolLM2 does not stop; ~4000 tokens
    fill most of the 4096-token context, many seconds on any machine): it is running before the
    swap is sent and outlasts Gemma's load and the 0.2 s timeout, so it is cancelled (its length
    costs nothing)."""
    s = swap_server
    import openai
    oc = openai.OpenAI(base_url=s.base + "/v1", api_key="unused", max_retries=0)
    events, errors = [], []

    def stream():
        try:
            for ch in oc.completions.create(
                    model="default", prompt="Count from 1 to 5000: 1, 2, 3, 4,", max_tokens=4000,
                    temperature=0, stream=True):
                events.append(ch)
        except Exception as e:  # noqa: BLE001 - the SDK's error for the cut stream
            errors.append(e)

    t = threading.Thread(target=stream)
    t.start()
    wait_for_metric(s.base, "semantic_sequences_running", 1)
    r = admin(s, "POST", "/admin/models/swap", json={"model_id": "gemma3", "timeout_seconds": 0.2})
    t.join(timeout=60)
    body = r.json()
    assert r.status_code == 200 and body["status"] == "success", body
    assert body["cancelled_requests"] == 1 and "1 cancelled" in body["message"]
    assert len(events) < 4000
    assert errors and "cancel" in str(errors[0]).lower(), errors
    r = admin(s, "POST", "/admin/models/swap", json={"model_id": SMOL_ID})
    assert r.status_code == 200


def test_offload_then_swap_in(swap_server):
    s = swap_server
    r = admin(s, "POST", "/admin/models/offload", json={})
    assert r.status_code == 200 and r.json()["status"] == "offloaded"
    r = chat(s, "agent-a", HISTORY)
    assert r.status_code == 503 and r.json()["error"]["code"] == "model_not_loaded"
    assert r.headers.get("Retry-After")
    import anthropic
    ac = anthropic.Anthropic(base_url=s.base, api_key="unused", max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as e:
        ac.messages.create(model="default", max_tokens=4,
                           messages=[{"role": "user", "content": "hi"}])
    assert e.value.status_code == 503
    assert admin(s, "GET", "/admin/models/current").json()["loaded"] is False
    r = admin(s, "POST", "/admin/models/swap", json={"model_id": SMOL_ID})
    assert r.status_code == 200 and r.json()["old_model_id"] is None
    assert chat(s, "agent-a", HISTORY).status_code == 200
