#!/usr/bin/env python3
"""kill -9 the real server at random moments while agents write their KV caches, restart it, and
check that nothing on disk ever loads wrong: every agent's greedy output after the restart equals
the output computed with no cache at all, no file is quarantined (writes are atomic, so a crash
leaves no torn file), and `semantic cache verify` finds every block file intact.

Usage:  scripts/kv_kill9_trials.py [--trials 100] [--agents 3] [--seed 1] [--model TINY.gguf]
                                   [--out bench/results/<date>-kill9-<trials>.json]
The pytest suite runs a few trials (tests/py/test_kv_faults.py); run this for more.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "py"))
from conftest import BUILD, ServerProcess  # noqa: E402

TINY = ROOT / "models" / "tiny" / "tiny-llama-Q8_0.gguf"


def prompt_for(agent, n=300):
    rng = random.Random(1000 + agent)
    return [rng.randrange(5, 295) for _ in range(n)]


def greedy(base, prompt, agent, max_tokens=8):
    r = requests.post(base + "/v1/completions", headers={"X-Agent-ID": f"k9-{agent}"}, timeout=120,
                      json={"model": "default", "prompt": prompt, "max_tokens": max_tokens,
                            "temperature": 0, "logprobs": 1})
    r.raise_for_status()
    j = r.json()
    return j["choices"][0]["logprobs"]["tokens"], j["usage"]["prompt_tokens_details"]["cached_tokens"]


def run_trials(trials, agents=3, seed=1, model=TINY, log_name="kv-kill9.log", out=print):
    """Returns a dict of counts; raises AssertionError on the first wrong load."""
    rng = random.Random(seed)
    prompts = [prompt_for(a) for a in range(agents)]
    with tempfile.TemporaryDirectory() as ref_dir, tempfile.TemporaryDirectory() as cache_dir:
        args = ["--context", "512", "--cache-budget", "16MiB"]
        ref = ServerProcess(args + ["--cache-dir", ref_dir], log_name, model=model).start()
        reference = [greedy(ref.base, p, a)[0] for a, p in enumerate(prompts)]
        ref.stop()
        s = ServerProcess(args + ["--cache-dir", cache_dir], log_name, model=model)
        counts = {"trials": 0, "cached_tokens_after_restart": 0, "block_files": 0}
        for trial in range(trials):
            s.start()
            # Agents extend their contexts concurrently; the crash lands anywhere in that.
            def work(a):
                try:
                    grow = prompts[a] + [rng.randrange(5, 295) for _ in range(rng.randrange(1, 120))]
                    greedy(s.base, grow[:500], a)
                except Exception:
                    pass
            threads = [threading.Thread(target=work, args=(a,), daemon=True) for a in range(agents)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.0, 0.12))
            s.stop(signal.SIGKILL)
            for t in threads:
                t.join(10)
            s.start()
            for a, p in enumerate(prompts):
                got, cached = greedy(s.base, p, a)
                assert got == reference[a], f"trial {trial} agent {a}: output differs after restart"
                counts["cached_tokens_after_restart"] += cached
            st = requests.get(s.base + "/v1/agents/stats", timeout=10).json()
            assert st["disk"]["quarantined"] == 0, f"trial {trial}: {st['disk']}"
            s.stop()
            v = subprocess.run([str(BUILD / "semantic"), "cache", "verify", "--cache-dir", cache_dir],
                               capture_output=True, text=True, timeout=120)
            assert v.returncode == 0, f"trial {trial}: cache verify failed:\n{v.stdout}"
            counts["trials"] += 1
            counts["block_files"] = len(list(Path(cache_dir).glob("*/blocks/*/*.kvb")))
            if (trial + 1) % 10 == 0:
                out(f"[kill9] {trial + 1}/{trials} trials, 0 wrong loads, "
                    f"{counts['block_files']} block files")
        return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--agents", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--model", default=str(TINY))
    ap.add_argument("--out", help="also write the counts as JSON to this file")
    a = ap.parse_args()
    t0 = time.time()
    counts = run_trials(a.trials, a.agents, a.seed, Path(a.model),
                        out=lambda m: print(m, file=sys.stderr))
    print(f"{counts['trials']} kill -9 trials, 0 wrong loads, 0 quarantined, cache verify clean; "
          f"{counts['cached_tokens_after_restart']} prompt tokens served from disk after restarts; "
          f"{time.time() - t0:.0f} s")
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps({
            "what": "kill -9 during KV writes, restart, compare with a cold run (run_trials)",
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "args": vars(a), "seconds": round(time.time() - t0, 1),
            "load_average": os.getloadavg(), "counts": counts}, indent=2) + "\n")


if __name__ == "__main__":
    main()
