"""`semantic serve --kv-dtype q8_0|q4_0`: the server starts with a quantized KV cache, reports it,
sizes the pool by the smaller rows, and answers."""
import json
import subprocess
import time

import pytest
import requests

from conftest import BUILD, MODEL, ROOT, free_port


@pytest.mark.parametrize("dtype", ["q8_0", "q4_0"])
def test_serve_with_quantized_kv(dtype, tmp_path):
    if not MODEL.exists():
        pytest.skip(f"model not present: {MODEL}")
    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [str(BUILD / "semantic"), "serve", "--model", str(MODEL), "--port", str(port),
             "--context", "2048", "--cache-budget", "64MiB", "--kv-dtype", dtype],
            stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 60
            while time.time() < deadline:
                assert proc.poll() is None, log_path.read_text()
                try:
                    if requests.get(base + "/health/ready", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.2)
            model = requests.get(base + "/v1/models", timeout=10).json()["data"][0]
            assert model["spec"]["kv_dtype"] == dtype
            r = requests.post(base + "/v1/chat/completions", timeout=60, json={
                "model": model["id"],
                "messages": [{"role": "user", "content": "What is the capital city of France? "
                                                         "Answer in one word."}],
                "max_tokens": 30, "temperature": 0}).json()
            assert "Paris" in r["choices"][0]["message"]["content"]
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    # 64 MiB at SmolLM2's 30 layers x 2 x 192 values: 1.06 or 0.56 bytes a value instead of 2.
    text = log_path.read_text()
    tokens = {"q8_0": 64 * 2**20 // (30 * 2 * 6 * 34), "q4_0": 64 * 2**20 // (30 * 2 * 6 * 18)}
    assert f"KV pool: {tokens[dtype]} tokens" in text and dtype in text, text


def test_perplexity_reports_each_dtype_against_f16():
    if not MODEL.exists():
        pytest.skip(f"model not present: {MODEL}")
    text = ROOT / "tests" / "data" / "text" / "kv-quality.txt"
    r = subprocess.run([str(BUILD / "semantic"), "perplexity", "-m", str(MODEL), "-f", str(text),
                        "--ctx", "128", "--chunks", "3", "--kv-dtype", "q8_0,q4_0", "--json"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["chunks"] == 3 and out["scored"] == 3 * 63
    res = {x["kv_dtype"]: x for x in out["results"]}
    assert list(res) == ["f16", "q8_0", "q4_0"]
    assert res["f16"]["kl_mean"] == 0 and res["f16"]["dppl_pct"] == 0
    assert 1 < res["f16"]["ppl"] < 1000
    # Ordered by bits; both well under the KL of a broken cache (order 1).
    assert 0 < res["q8_0"]["kl_mean"] < res["q4_0"]["kl_mean"] < 0.5
    assert res["q8_0"]["same_top1_pct"] > 80


def test_the_kv_dtype_flag_names_its_values_and_refuses_others():
    """bench / generate / perplexity take --kv-dtype as text: --help lists the names, a name in
    any case is accepted, and another value is refused with the list (non-zero exit) instead
    of unreadable enum mappings."""
    sem = str(BUILD / "semantic")
    for cmd in ("bench", "generate", "perplexity"):
        h = subprocess.run([sem, cmd, "--help"], capture_output=True, text=True, timeout=60)
        assert "--kv-dtype TEXT:{f16,q8_0,q4_0}" in h.stdout, h.stdout
        bad = subprocess.run([sem, cmd, "--kv-dtype", "q9_9"], capture_output=True, text=True,
                             timeout=60)
        assert bad.returncode != 0
        assert "q9_9 not in {f16,q8_0,q4_0}" in bad.stderr, bad.stderr
    tiny = ROOT / "models" / "tiny" / "tiny-llama-Q4_0.gguf"
    r = subprocess.run([sem, "bench", "-m", str(tiny), "-p", "0", "-n", "2", "-r", "1",
                        "--kv-dtype", "Q8_0", "--json"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["kv_dtype"] == "q8_0"
