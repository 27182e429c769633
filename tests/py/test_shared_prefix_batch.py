"""Agents that share a long cached prompt, decoding in one batch through the real server: the
whole 1024-position segments of the shared prefix are attended once for all of them
(docs/cpu-kernels.md, "Shared prefixes in a batch"), and every agent still gets exactly what it
gets alone, greedy and seeded-sampled."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import ServerProcess, metric, wait_for_metric

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
