"""Every model family served by the real server on its tiny random-weight file
(scripts/make_tiny_models.py; their logits are checked against llama.cpp in
tests/models/tiny_golden_test.cpp): greedy completions through the API, and a returning agent's
prompt read from its cache, in RAM and from disk after a restart, with the same output. For
deepseek2 that cache holds MLA's compressed latent."""
import pytest

from conftest import ROOT
from test_kv_faults import tiny_server, tokens

FAMILIES = ["tiny-llama3-Q4_K", "tiny-qwen2-Q4_K", "tiny-qwen3-Q4_K", "tiny-qwen3moe-Q8_0",
            "tiny-deepseek2-Q8_0", "tiny-deepseek2-F16"]
PROMPT_BLOCKS = 18  # test_kv_faults.PROMPT: 300 tokens, 18 full blocks of 16


@pytest.mark.parametrize("name", FAMILIES)
def test_family_serves_and_reuses_its_cache(tmp_path, name):
    s = tiny_server(tmp_path, f"pytest-family-{name}.log",
                    model=ROOT / "models" / "tiny" / f"{name}.gguf").start()
    try:
        first, cached = tokens(s.base, agent="family")
        assert cached == 0 and len(first) == 12
        again, cached = tokens(s.base, agent="family")
        assert again == first
        assert cached >= PROMPT_BLOCKS * 16
        s.restart()  # SIGTERM flushes the agent's blocks to disk; the new process adopts them
        restored, cached = tokens(s.base, agent="family")
        assert restored == first
        assert cached >= PROMPT_BLOCKS * 16
    finally:
        s.stop()
