"""Every model family served by the real server on its tiny random-weight file
(scripts/make_tiny_models.py; their logits are checked against llama.cpp in
tests/models/tiny_golden_test.cpp): greedy completions through the API, and a returning agent's
prompt read from its cache, in RAM and from disk after a restart, with the same output. For
deepseek2 that cache holds MLA's compressed latent. A file whose family-specific tensors or
hparams are inconsistent is refused at load with a message that names them."""
import copy
import subprocess
import sys

import pytest

from conftest import BUILD, ROOT
from test_kv_faults import tiny_server, tokens

sys.path.insert(0, str(ROOT / "scripts"))
import make_tiny_models  # noqa: E402

FAMILIES = ["tiny-llama3-Q4_K", "tiny-qwen2-Q4_K", "tiny-qwen3-Q4_K", "tiny-qwen3moe-Q8_0",
            "tiny-deepseek2-Q8_0", "tiny-deepseek2-F16", "tiny-deepseek2lite-F16"]
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


def _write_variant(path, family, **changes):
    """A tiny file of `family` written by make_tiny_models.py with some of its settings changed."""
    fam = copy.deepcopy(next(f for f in make_tiny_models.FAMILIES if f.name == family))
    for key, value in changes.items():
        if key in ("mla", "moe"):
            getattr(fam, key).update(value)
        else:
            setattr(fam, key, value)
    name, wtype, etype, otype = fam.dtypes[0]
    make_tiny_models.write_model(str(path), fam, name, wtype, etype, otype, seed=1)
    return path


@pytest.mark.parametrize("family,changes,message", [
    ("qwen2", {"qkv_bias": False}, "missing tensor 'blk.0.attn_q.bias'"),
    ("qwen3", {"qk_norm": False}, "missing tensor 'blk.0.attn_q_norm.weight'"),
    ("qwen3moe", {"moe": {"n_expert_used": 9}}, "inconsistent expert hparams"),
    ("deepseek2", {"mla": {"n_expert_used": 5}}, "inconsistent expert hparams"),
])
def test_inconsistent_family_file_is_refused_with_a_clear_error(tmp_path, family, changes,
                                                                 message):
    model = _write_variant(tmp_path / f"{family}.gguf", family, **changes)
    r = subprocess.run([str(BUILD / "semantic"), "generate", "-m", str(model), "-p", "hi", "-n",
                        "1", "-q"], capture_output=True, text=True, timeout=120)
    assert 0 < r.returncode < 128, (r.returncode, r.stderr)  # an error exit, not a signal
    assert message in r.stderr, r.stderr
