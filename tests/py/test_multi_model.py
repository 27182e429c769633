"""Several models resident at once (registry.max_loaded, issue 9): a request's `model` picks a
resident model or loads a registry model on demand; beyond max_loaded the least recently used
idle model (never the default) is unloaded with its caches written to disk, so an agent that
returns to it later finds its cache warm. Real server, real models (SmolLM2 as the default,
Gemma 3 270M, tiny random-weight GGUF files), real openai and anthropic SDKs."""
import os
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import MODEL, ROOT, ServerProcess

GEMMA = ROOT / "models" / "gemma-3-270m-q4_k_m.gguf"
TINY_LLAMA = ROOT / "models" / "tiny" / "tiny-llama-Q8_0.gguf"
TINY_QWEN = ROOT / "models" / "tiny" / "tiny-qwen2-Q4_K.gguf"
ADMIN = "multi-admin-key"
HDR = {"X-Admin-Key": ADMIN}
A, B, C, D = "smol", "gemma3", "tiny-llama-Q8_0", "tiny-qwen2-Q4_K"
SYSTEM = "You are a careful assistant who answers in one short sentence. " * 12


def make_registry(tmp, aliases=True):
    for f in (GEMMA, TINY_LLAMA, TINY_QWEN):
        if not f.exists():
            pytest.skip(f"model not present: {f}")
    profiles, models = tmp / "profiles", tmp / "models"
    profiles.mkdir()
    models.mkdir()
    (profiles / "gemma.toml").write_text(
        f'[model]\npath = "{GEMMA}"\nserved_name = "{B}"\ncontext_length = 1024\n')
    os.symlink(TINY_LLAMA, models / TINY_LLAMA.name)
    os.symlink(TINY_QWEN, models / TINY_QWEN.name)
    # A corrupt model: the real file's first 4 MiB (a valid header whose tensors run past the end).
    (models / "corrupt.gguf").write_bytes(Path(MODEL).read_bytes()[: 4 << 20])
    args = ["--context", "1024", "--cache-budget", "64MiB", "--model-served-name", A,
            "--cache-dir", tmp / "kv", "--server-admin-key", ADMIN,
            "--registry-profiles-dir", profiles, "--registry-models-dir", models]
    if aliases:  # an alias may name any registry model once max_loaded > 1
        (tmp / "aliases.toml").write_text(f'[aliases]\n"gpt-4o" = "{C}"\n"claude-*" = "default"\n')
        args += ["--config", tmp / "aliases.toml"]
    return args


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    args = make_registry(tmp_path_factory.mktemp("multi"))
    s = ServerProcess(args + ["--registry-max-loaded", "3"], "pytest-multi.log").start()
    yield s
    s.stop()


def chat(s, model, agent="agent", content="Say hello.", max_tokens=4):
    return requests.post(s.base + "/v1/chat/completions", timeout=120,
                         headers={"X-Agent-ID": agent},
                         json={"model": model, "max_tokens": max_tokens, "temperature": 0,
                               "messages": [{"role": "system", "content": SYSTEM},
                                            {"role": "user", "content": content}]})


def current(s):
    r = requests.get(s.base + "/admin/models/current", headers=HDR, timeout=10)
    assert r.status_code == 200
    return r.json()


def resident(s):
    return {m["model_id"] for m in current(s)["resident"] if not m["loading"]}


def metric(s, name):
    for line in requests.get(s.base + "/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in /metrics")


def cached(r):
    return r.json()["usage"]["prompt_tokens_details"]["cached_tokens"]


def ok(r, model):
    assert r.status_code == 200, r.text[:400]
    assert r.json()["model"] == model
    return r


def test_lru_unload_and_warm_cache_after_reload(multi):
    s = multi
    # Default A plus B and C: three resident, at max_loaded = 3.
    ok(chat(s, A, "agent-a"), A)
    ok(chat(s, B, "agent-b"), B)
    ok(chat(s, C, "agent-c"), C)
    assert resident(s) == {A, B, C}
    assert metric(s, "semantic_models_resident") == 3
    loads = metric(s, "semantic_model_loads_total")
    unloads = metric(s, "semantic_model_unloads_total")
    # Alternating between resident models loads nothing.
    for model in (B, C, A, B, C, B):
        ok(chat(s, model, "agent-" + model[0]), model)
    assert metric(s, "semantic_model_loads_total") == loads
    assert metric(s, "semantic_model_unloads_total") == unloads
    warm_b = cached(ok(chat(s, B, "agent-b"), B))
    assert warm_b > 100
    ok(chat(s, C, "agent-c"), C)  # C is now the most recently used; B the least
    # D needs room: B (the least recently used non-default model) is unloaded, C stays.
    ok(chat(s, D, "agent-d"), D)
    assert resident(s) == {A, C, D}
    assert metric(s, "semantic_model_loads_total") == loads + 1
    assert metric(s, "semantic_model_unloads_total") == unloads + 1
    cur = current(s)
    assert cur["model_id"] == A and cur["max_loaded"] == 3
    assert [m["model_id"] for m in cur["resident"]] == [A, D, C]  # default, then by recent use
    assert cur["resident"][0]["default"] and not cur["resident"][1]["default"]
    # B comes back (C is now the least recently used): its agent's cache was written to disk
    # when B was unloaded, and is found there.
    back = ok(chat(s, B, "agent-b"), B)
    assert cached(back) >= warm_b - 16, back.json()["usage"]
    assert resident(s) == {A, D, B}
    assert metric(s, "semantic_model_loads_total") == loads + 2


def test_models_list_marks_resident_and_loadable(multi):
    s = multi
    import openai
    oc = openai.OpenAI(base_url=s.base + "/v1", api_key="unused", max_retries=0)
    listed = {m.id: m for m in oc.models.list().data}
    res = resident(s)
    for model in (A, B, C, D):
        assert model in listed
        assert listed[model].model_extra["loaded"] == (model in res)
    assert listed["corrupt"].model_extra["loaded"] is False
    assert list(listed)[0] == A  # the default first
    if C in res:  # a plain alias is listed beside the model it names
        assert listed["gpt-4o"].model_extra["alias_of"] == C
    import anthropic
    ac = anthropic.Anthropic(base_url=s.base, api_key="unused", max_retries=0)
    ids = [m.id for m in ac.models.list().data]
    assert ids[0] == A and B in ids and C in ids
    r = requests.get(s.base + "/admin/models/available", headers=HDR, timeout=10).json()
    by_id = {m["model_id"]: m for m in r["models"]}
    assert all(by_id[m]["loaded"] for m in res)


def test_alias_and_both_dialects_route_by_model(multi):
    s = multi
    import openai
    import anthropic
    oc = openai.OpenAI(base_url=s.base + "/v1", api_key="unused", max_retries=0)
    r = oc.chat.completions.create(model="gpt-4o", max_tokens=3, temperature=0,
                                   messages=[{"role": "user", "content": "Hi"}])
    assert r.model == C  # the alias names a registry model, loaded if needed
    ac = anthropic.Anthropic(base_url=s.base, api_key="unused", max_retries=0)
    m = ac.messages.create(model=B, max_tokens=3,
                           messages=[{"role": "user", "content": "Hi"}])
    assert m.model == B
    loads = metric(s, "semantic_model_loads_total")
    m = ac.messages.create(model="claude-haiku-4-5", max_tokens=3,
                           messages=[{"role": "user", "content": "Hi"}])
    # claude-* -> the default model (Anthropic's answer echoes the name asked for)
    assert m.model == "claude-haiku-4-5" and m.content
    assert metric(s, "semantic_model_loads_total") == loads
    n = ac.messages.count_tokens(model=B, messages=[{"role": "user", "content": "Hi"}])
    assert n.input_tokens > 0
    # A name neither resident nor in the registry: 404 in each dialect, as with one model.
    with pytest.raises(openai.NotFoundError) as e:
        oc.chat.completions.create(model="no-such-model", max_tokens=3,
                                   messages=[{"role": "user", "content": "Hi"}])
    assert e.value.body["code"] == "model_not_found"
    with pytest.raises(anthropic.NotFoundError):
        ac.messages.create(model="no-such-model", max_tokens=3,
                           messages=[{"role": "user", "content": "Hi"}])
    # A file path is never loaded on a client's word: only registry ids are.
    r = chat(s, str(TINY_LLAMA))
    assert r.status_code == 404


def test_concurrent_first_requests_share_one_load(multi):
    s = multi
    target = next(m for m in (C, D, B) if m not in resident(s))
    loads = metric(s, "semantic_model_loads_total")
    results = []

    def one(i):
        results.append(chat(s, target, f"burst-{i}"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [200] * 4, [r.text[:200] for r in results]
    assert all(r.json()["model"] == target for r in results)
    assert metric(s, "semantic_model_loads_total") == loads + 1
    assert target in resident(s)


def test_model_that_fails_to_load_is_503_and_others_keep_serving(multi):
    s = multi
    before = resident(s)
    stop, failures = threading.Event(), []

    def poll():
        while not stop.is_set():
            r = chat(s, A, "poller", max_tokens=2)
            if r.status_code != 200:
                failures.append((r.status_code, r.text[:200]))
            time.sleep(0.05)

    t = threading.Thread(target=poll)
    t.start()
    try:
        r = chat(s, "corrupt")
        import anthropic
        ac = anthropic.Anthropic(base_url=s.base, api_key="unused", max_retries=0)
        with pytest.raises(anthropic.APIStatusError) as e:
            ac.messages.create(model="corrupt", max_tokens=3,
                               messages=[{"role": "user", "content": "Hi"}])
    finally:
        stop.set()
        t.join()
    assert r.status_code == 503, r.text
    err = r.json()["error"]
    assert err["code"] == "model_load_failed" and "corrupt" in err["message"]
    assert "runs past end of file" in err["message"]
    assert e.value.status_code == 503 and "corrupt" in str(e.value)
    assert failures == []
    assert "corrupt" not in resident(s)
    # The other models keep answering (one was unloaded to make room: it loads again).
    for model in before:
        ok(chat(s, model), model)
    assert current(s)["load_failures"] >= 2


def test_swap_promotes_a_resident_model_and_keeps_the_old_default(multi):
    s = multi
    ok(chat(s, C), C)
    loads = metric(s, "semantic_model_loads_total")
    r = requests.post(s.base + "/admin/models/swap", headers=HDR, json={"model_id": C},
                      timeout=120)
    assert r.status_code == 200 and r.json()["status"] == "success", r.json()
    assert f"{A} stays loaded" in r.json()["message"]
    assert metric(s, "semantic_model_loads_total") == loads  # already resident: no load
    cur = current(s)
    assert cur["model_id"] == C and A in resident(s)
    ok(chat(s, "default"), C)
    ok(chat(s, A), A)
    r = requests.post(s.base + "/admin/models/swap", headers=HDR, json={"model_id": A},
                      timeout=120)
    assert r.status_code == 200 and r.json()["status"] == "success"
    assert current(s)["model_id"] == A


def in_use(s, model):
    """requests_in_use of a resident model (0 when it is not resident)."""
    return next((m["requests_in_use"] for m in current(s)["resident"] if m["model_id"] == model),
                0)


def test_busy_models_make_a_load_wait_then_503_and_running_requests_go_on(tmp_path):
    """B's stream runs until the context is full (~12 s of Gemma here) and is closed once checked,
    so it is still running after the two 250 ms load waits however fast the machine is."""
    args = make_registry(tmp_path)
    s = ServerProcess(args + ["--registry-max-loaded", "2", "--registry-load-timeout", "250ms"],
                      "pytest-multi-busy.log").start()
    try:
        import openai
        oc = openai.OpenAI(base_url=s.base + "/v1", api_key="unused", max_retries=0)
        ok(chat(s, B), B)
        events, answer = [], {}
        # Greedy counting runs to max_tokens (clamped to what the 1024-token context leaves): B
        # stays busy for the whole check; the stream is closed at the end, so its length costs
        # nothing.
        stream = oc.chat.completions.create(
            model=B, max_tokens=1024, temperature=0, stream=True,
            messages=[{"role": "user", "content": "Count from 1 to 1000, one number per line."}])

        def other():
            answer["r"] = chat(s, C)
            answer["swap"] = requests.post(s.base + "/admin/models/swap", headers=HDR,
                                           json={"model_id": C}, timeout=60)

        it = iter(stream)
        events.append(next(it))
        t = threading.Thread(target=other)
        t.start()
        while t.is_alive():  # keep reading B's stream while C waits for room
            events.append(next(it, None))
            assert events[-1] is not None, "B's stream ended before C was refused"
        n_at_refusal = len(events)
        assert in_use(s, B) > 0, "B's request ended before the refusals were checked"
        r = answer["r"]
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "models_busy" and r.headers.get("Retry-After")
        sw = answer["swap"]  # a swap needs room as well
        assert sw.status_code == 503 and sw.json()["error"]["code"] == "models_busy", sw.text
        assert sw.json()["status"] == "failed" and f"still serving {A}" in sw.json()["message"]
        for _ in range(3):  # the running request was not dropped
            events.append(next(it))
        assert len(events) > n_at_refusal
        stream.close()  # B becomes idle
        deadline = time.time() + 30
        while time.time() < deadline and in_use(s, B) > 0:
            time.sleep(0.05)
        ok(chat(s, C), C)
        assert resident(s) == {A, C}
    finally:
        s.stop()


def test_a_load_waits_for_a_busy_model_to_finish(tmp_path):
    """C's load needs B's room; B's request must be running when C arrives and is checked to be
    still running after C was sent (a short B request could end first on a fast machine, and the
    test passed without any wait)."""
    args = make_registry(tmp_path)
    s = ServerProcess(args + ["--registry-max-loaded", "2", "--registry-load-timeout", "120s"],
                      "pytest-multi-wait.log").start()
    try:
        ok(chat(s, B), B)
        long_b, answer_c = {}, {}

        def run_b():  # greedy counting runs to max_tokens: ~1.2 s of Gemma here
            long_b["r"] = chat(s, B, "agent-long", "Count from 1 to 1000, one number per line.",
                               max_tokens=100)

        def run_c():  # no room until B's request ends: it waits, then B is unloaded
            answer_c["r"] = chat(s, C)

        t = threading.Thread(target=run_b)
        t.start()
        deadline = time.time() + 30
        while in_use(s, B) == 0:
            assert time.time() < deadline and t.is_alive(), "B's request was never seen running"
            time.sleep(0.01)
        tc = threading.Thread(target=run_c)
        tc.start()
        c_waits = tc.is_alive()
        b_busy = in_use(s, B)  # after C was sent: C has to wait for B
        assert c_waits and b_busy > 0, "B's request ended before C's load could wait"
        t.join()
        tc.join()
        ok(answer_c["r"], C)
        b = ok(long_b["r"], B)  # the running request finished in full, not cut
        assert b.json()["choices"][0]["finish_reason"] == "length"
        assert b.json()["usage"]["completion_tokens"] == 100
        assert resident(s) == {A, C}
        assert metric(s, "semantic_model_unloads_total") == 1
    finally:
        s.stop()


def test_max_loaded_1_keeps_the_404(tmp_path):
    s = ServerProcess(make_registry(tmp_path, aliases=False), "pytest-multi-one.log").start()
    try:
        r = chat(s, B)
        assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
        assert f"serves '{A}'" in r.json()["error"]["message"]
        ok(chat(s, A), A)
        cur = current(s)
        assert cur["max_loaded"] == 1 and [m["model_id"] for m in cur["resident"]] == [A]
        assert metric(s, "semantic_model_loads_total") == 1
        ids = [m["id"] for m in requests.get(s.base + "/v1/models", timeout=10).json()["data"]]
        assert ids == [A]
    finally:
        s.stop()
