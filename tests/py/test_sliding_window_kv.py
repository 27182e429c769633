"""Gemma 3 sliding-window layers through the real server: the pool keeps the sliding layers' K/V
only for the last window of each context (plus what its cache share holds), and greedy output is
the same cold, warm, restored from disk after a restart, and restored at an earlier block boundary
shared with another agent (docs/cache-format.md, "Sliding-window layers")."""
import re
import subprocess

import pytest
import requests

from conftest import BUILD, ROOT, ServerProcess

GEMMA = ROOT / "models" / "gemma-3-270m-q4_k_m.gguf"
BLOCK = 16
WINDOW = 512  # gemma3.attention.sliding_window of Gemma 3 270M
LAYERS, SLIDING = 18, 15  # every sixth layer is global
ROW = 2 * 256 * 2  # K and V rows of one layer and position: 1 KV head x head_dim 256, f16
GLOBAL_BLOCK = BLOCK * (LAYERS - SLIDING) * ROW
SLIDING_BLOCK = BLOCK * SLIDING * ROW
FILE_HEAD = 96 + BLOCK * 4  # block file header and token ids (docs/cache-format.md)


def long_text(tag, lines):
    return " ".join(f"{tag} entry {i}: the archive stores item {i * 7 % 13} on shelf {i % 5}."
                    for i in range(lines))


def complete(base, prompt, agent=None, max_tokens=12, **extra):
    headers = {"X-Agent-ID": agent} if agent else {}
    body = {"model": "default", "prompt": prompt, "max_tokens": max_tokens, "temperature": 0}
    body.update(extra)
    r = requests.post(base + "/v1/completions", json=body, headers=headers, timeout=600)
    assert r.status_code == 200, r.text
    j = r.json()
    return j["choices"][0]["text"], j["usage"]


def agent_info(base, agent):
    r = requests.get(f"{base}/v1/agents/{agent}", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def ram_stats(base):
    return requests.get(base + "/v1/agents/stats", timeout=10).json()["ram"]


@pytest.fixture(scope="module")
def tight_server(tmp_path_factory):
    # One running sequence, prefill chunks of 128 and a budget that buys 2K positions of the
    # global layers but sliding parts only for one live window: the sizing rule in
    # model_runtime.cpp gives max_batch x (512/16 + 128/16 + 1) = 41 slots.
    d = tmp_path_factory.mktemp("swa-tight")
    s = ServerProcess(["--context", "2048", "--max-batch", "1", "--prefill-chunk", "128",
                       "--cache-budget", "16MiB", "--cache-dir", d],
                      "pytest-sliding-window-tight.log", model=GEMMA).start()
    s.cache_dir = d
    yield s
    s.stop()


@pytest.fixture(scope="module")
def roomy_server(tmp_path_factory):
    d = tmp_path_factory.mktemp("swa-roomy")
    s = ServerProcess(["--context", "2048", "--cache-budget", "256MiB", "--cache-dir", d],
                      "pytest-sliding-window-roomy.log", model=GEMMA).start()
    yield s
    s.stop()


def test_long_context_keeps_sliding_parts_for_the_last_window_only(tight_server):
    s = tight_server
    ram = ram_stats(s.base)
    slots = ram["sliding"]["slots"]
    assert slots == 41 and ram["blocks"] >= 2048 // BLOCK
    # The pool costs global layers per block plus sliding layers per slot, not all layers.
    assert ram["bytes_total"] == ram["blocks"] * GLOBAL_BLOCK + slots * SLIDING_BLOCK
    prompt = long_text("window", 88) + "\nQuestion: which shelf holds item 3?\nAnswer:"
    cold, u0 = complete(s.base, prompt, agent="swa-long")
    n = u0["prompt_tokens"]
    assert n > 1400, n
    info = agent_info(s.base, "swa-long")
    blocks = info["blocks_in_ram"]
    assert blocks == info["cached_blocks"] and blocks >= n // BLOCK
    # Every block keeps its global layers; sliding parts only for at most `slots` blocks, and at
    # least for the last window (so the context can be continued exactly).
    assert info["ram_bytes"] <= blocks * GLOBAL_BLOCK + slots * SLIDING_BLOCK
    assert info["ram_bytes"] >= blocks * GLOBAL_BLOCK + (WINDOW // BLOCK) * SLIDING_BLOCK
    all_layers = blocks * (GLOBAL_BLOCK + SLIDING_BLOCK)
    assert info["ram_bytes"] < 0.6 * all_layers, (info["ram_bytes"], all_layers)
    assert ram_stats(s.base)["sliding"]["evictions"] > 0
    # /metrics reports the same slots and evictions.
    sliding = ram_stats(s.base)["sliding"]
    metrics = requests.get(s.base + "/metrics", timeout=10).text

    def sample(name, labels=""):
        m = re.search(r"^" + re.escape(name + labels) + r" (\S+)$", metrics, re.M)
        assert m, name + labels
        return float(m.group(1))

    assert sample("semantic_kv_sliding_evictions_total") == sliding["evictions"] > 0
    assert sample("semantic_kv_sliding_slots", '{state="in_use"}') == sliding["slots_in_use"]
    assert sample("semantic_kv_sliding_slots", '{state="cached"}') == sliding["slots_cached"]
    assert sum(sample("semantic_kv_sliding_slots", '{state="%s"}' % st)
               for st in ("in_use", "cached", "free")) == slots

    warm, u1 = complete(s.base, prompt, agent="swa-long")
    assert warm == cold
    assert u1["prompt_tokens_details"]["cached_tokens"] >= n - BLOCK

    s.stop()  # SIGTERM: pending block files are written
    # On disk too: blocks the context moved past without their sliding part, the last window
    # (before the prompt's end and before the answer's end) with it; `semantic cache verify`
    # reads both kinds.
    sizes = [p.stat().st_size for p in s.cache_dir.glob("*/blocks/*/*.kvb")]
    full = sizes.count(FILE_HEAD + GLOBAL_BLOCK + SLIDING_BLOCK)
    assert sizes.count(FILE_HEAD + GLOBAL_BLOCK) + full == len(sizes) >= n // BLOCK
    assert WINDOW // BLOCK <= full <= WINDOW // BLOCK + 3, (full, len(sizes))
    r = subprocess.run([str(BUILD / "semantic"), "cache", "verify", "--cache-dir", s.cache_dir],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and " 0 bad" in r.stdout, r.stdout + r.stderr
    s.start()
    restored, u2 = complete(s.base, prompt, agent="swa-long")
    assert restored == cold
    assert u2["prompt_tokens_details"]["cached_tokens"] >= n - BLOCK

    # A second agent sharing the first ~two thirds: the parts around that boundary were evicted
    # long ago (41 slots), so its match is shortened below the shared prefix, and it is still
    # exactly the cold result (a fresh cache_salt sees no cache at all).
    shared = long_text("window", 58)
    other = shared + " A different ending follows here.\nQuestion: which shelf?\nAnswer:"
    branch, u3 = complete(s.base, other, agent="swa-branch")
    reference, u4 = complete(s.base, other, cache_salt="swa-cold-reference")
    assert u4["prompt_tokens_details"]["cached_tokens"] == 0
    assert branch == reference
    assert u3["prompt_tokens_details"]["cached_tokens"] < len(shared) // 4  # well below sharing

    # The branches took the long context's parts in RAM (its global layers stay): they are read
    # back from its block files, and the match is whole again.
    assert agent_info(s.base, "swa-long")["ram_bytes"] < blocks * GLOBAL_BLOCK + (
        WINDOW // BLOCK) * SLIDING_BLOCK
    loads = requests.get(s.base + "/v1/agents/stats", timeout=10).json()["disk"]["loads"]
    again, u5 = complete(s.base, prompt, agent="swa-long")
    assert again == cold
    assert u5["prompt_tokens_details"]["cached_tokens"] >= n - BLOCK
    after = requests.get(s.base + "/v1/agents/stats", timeout=10).json()["disk"]["loads"]
    assert WINDOW // BLOCK <= after - loads < n // BLOCK


def test_restore_at_an_earlier_boundary_matches_cold(roomy_server):
    s = roomy_server
    prompt = long_text("branch", 88) + "\nQuestion: which shelf holds item 5?\nAnswer:"
    cold, u0 = complete(s.base, prompt, agent="swa-trunk")
    assert u0["prompt_tokens"] > 1400
    # Room for every part: they stay cached after the sequence moved past them.
    info = agent_info(s.base, "swa-trunk")
    assert info["ram_bytes"] == info["blocks_in_ram"] * (GLOBAL_BLOCK + SLIDING_BLOCK)
    shared = long_text("branch", 58)
    other = shared + " Another ending follows here.\nQuestion: which shelf?\nAnswer:"
    branch, u1 = complete(s.base, other, agent="swa-fork")
    reference, u2 = complete(s.base, other, cache_salt="swa-cold-reference")
    assert u2["prompt_tokens_details"]["cached_tokens"] == 0
    assert u1["prompt_tokens_details"]["cached_tokens"] >= u1["prompt_tokens"] - 5 * BLOCK - 48
    assert u1["prompt_tokens_details"]["cached_tokens"] > 900
    assert branch == reference
    warm, _ = complete(s.base, prompt, agent="swa-trunk")
    assert warm == cold
