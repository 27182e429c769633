"""Agents that share a long cached prompt, decoding in one batch through the real server: the
whole 1024-position segments of the shared prefix are attended once for all of them
(docs/cpu-kernels.md, "Shared prefixes in a batch"), and every agent still gets exactly what it
gets alone, greedy and seeded-sampled."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import ROOT, ServerProcess, metric, wait_for_metric

SAVED = "semantic_attention_shared_segment_reads_saved_total"


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    s = ServerProcess(["--context", "2048", "--cache-budget", "256MiB", "--max-batch", "8",
                       "--cache-dir", tmp_path_factory.mktemp("shared-prefix")],
                      "pytest-shared-prefix.log").start()
    yield s
    s.stop()


# A system prompt of well over 1024 tokens (SmolLM2's tokenizer), the same for every agent.
SYSTEM = "You are one agent of a team that maintains a large code base. " + " ".join(
    f"Rule {i}: keep module {i} small, tested and documented, and write down why it changed."
    for i in range(80)) + "\n\n"
TASKS = ["Count from 1 to 500: 1, 2, 3, 4,", "Name three colours.", "Summarise rule 7.",
         "What is module 12 for?", "Write a haiku about caches."]


def complete(base, prompt, max_tokens, agent, **sampling):
    r = requests.post(base + "/v1/completions",
                      json={"model": "default", "prompt": prompt, "max_tokens": max_tokens,
                            **({"temperature": 0} | sampling)},
                      headers={"X-Agent-ID": agent}, timeout=300)
    assert r.status_code == 200, r.text
    return r.json()


def test_agents_on_one_cached_prompt_share_its_segments_and_get_what_they_get_alone(
        shared_server):
    base = shared_server.base
    bodies = [(SYSTEM + TASKS[0], 300, {})]  # runs long: the others join it
    bodies += [(SYSTEM + t, 24, {"temperature": 0.8, "seed": 7} if i == 2 else {})
               for i, t in enumerate(TASKS[1:])]
    first = complete(base, *bodies[0][:2], "alone-0", **bodies[0][2])
    assert first["usage"]["prompt_tokens"] > 1100, "the shared prompt must span a whole segment"
    alone = [first["choices"][0]["text"]]
    for i, (prompt, n, sampling) in enumerate(bodies[1:], 1):
        out = complete(base, prompt, n, f"alone-{i}", **sampling)
        assert out["usage"]["prompt_tokens_details"]["cached_tokens"] >= 1024
        alone.append(out["choices"][0]["text"])
    saved_before = metric(base, SAVED)
    with ThreadPoolExecutor(len(bodies)) as pool:
        # The long one first; once it runs, the others, so that they decode beside it.
        futures = [pool.submit(complete, base, *bodies[0][:2], "agent-0", **bodies[0][2])]
        wait_for_metric(base, "semantic_sequences_running", 1)
        futures += [pool.submit(complete, base, p, n, f"agent-{i}", **s)
                    for i, (p, n, s) in enumerate(bodies[1:], 1)]
        got = [f.result()["choices"][0]["text"] for f in futures]
    for i, text in enumerate(got):
        assert text == alone[i], f"agent {i} ({TASKS[i]})"
    # Decoding together, they read the shared segments once: reads were saved.
    assert metric(base, SAVED) > saved_before
    assert requests.get(base + "/health/ready", timeout=5).status_code == 200


GEMMA = ROOT / "models" / "gemma-3-270m-q4_k_m.gguf"


@pytest.fixture(scope="module", params=["smollm2", "gemma3"])
def small_steps_server(request, tmp_path_factory):
    # Steps of 64 tokens: a long prompt takes dozens of steps to prefill, so requests sent while it
    # does find it part-way on any machine. Gemma 3 adds sliding-window layers, whose K/V parts a
    # prefilling sequence drops behind its window while it takes blocks from the cache.
    model = GEMMA if request.param == "gemma3" else None
    if model is not None and not model.exists():
        pytest.skip(f"model not present: {model}")
    s = ServerProcess(["--context", "4096", "--cache-budget", "256MiB", "--max-batch", "8",
                       "--prefill-chunk", "64",
                       "--cache-dir", tmp_path_factory.mktemp("shared-prefill")],
                      f"pytest-shared-prefill-{request.param}.log",
                      **({"model": model} if model else {})).start()
    yield s
    s.stop()


def test_prompts_sent_together_with_one_long_prefix_compute_it_once(small_steps_server):
    """The first request prefills a ~2200-token prompt in 64-token steps; three more with the same
    prompt prefix and their own questions arrive while it does. Each of them waits for the blocks
    the first is computing and takes them from the cache, so the server computes the prefix once:
    the prompt tokens it runs through the model are the first prompt plus the three tails (each
    at most its own question and one block), not four prefixes. Outputs equal running alone."""
    base = small_steps_server.base
    prefix = SYSTEM * 2
    prompts = [prefix + t for t in TASKS[1:]]
    computed_before = metric(base, "semantic_prompt_tokens_computed_total")
    with ThreadPoolExecutor(len(prompts)) as pool:
        futures = [pool.submit(complete, base, prompts[0], 16, "burst-0")]
        wait_for_metric(base, "semantic_sequences_running", 1)
        futures += [pool.submit(complete, base, p, 16, f"burst-{i}")
                    for i, p in enumerate(prompts[1:], 1)]
        outs = [f.result() for f in futures]
    computed = metric(base, "semantic_prompt_tokens_computed_total") - computed_before
    lead = outs[0]["usage"]["prompt_tokens"]
    assert lead > 2000
    assert outs[0]["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    tails = 0
    for o in outs[1:]:
        cached = o["usage"]["prompt_tokens_details"]["cached_tokens"]
        assert cached >= lead - 64, o["usage"]  # the shared prefix came from the first's blocks
        tails += o["usage"]["prompt_tokens"] - cached
    assert computed == lead + tails, (computed, lead, tails)
    # The same prompts alone (now from the cache: cold, warm and shared give the same tokens).
    for i, p in enumerate(prompts):
        assert complete(base, p, 16, f"alone-{i}")["choices"][0]["text"] == \
            outs[i]["choices"][0]["text"], f"prompt {i}"
