"""Every model family served by the real server on its tiny random-weight file
(scripts/make_tiny_models.py; their logits are checked against llama.cpp in
tests/models/tiny_golden_test.cpp): greedy completions through the API, and a returning agent's
prompt read from its cache, in RAM and from disk after a restart, with the same output. For
deepseek2 that cache holds MLA's compressed latent. A file whose family-specific tensors or
hparams are inconsistent is refused at load with a message that names them."""
import copy
import struct
import subprocess
import sys

import pytest
import requests
import xxhash

from conftest import BUILD, ROOT
from test_kv_faults import block_files, tiny_server, tokens

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


def _as_k_and_v_file(path, latent):
    """Rewrites a K-only (format version 2) f16 block file of one KV head as the file the K + V
    layout wrote for the same block before: version 1, each layer's K rows followed by V rows
    that are the K rows with the rope dims (after the first `latent`) zeroed, checksums valid."""
    data = path.read_bytes()
    header = bytearray(data[:96])
    bt, dtype, n_layers, n_kv_heads, head_dim, row_bytes = struct.unpack_from("<6I", header, 40)
    assert struct.unpack_from("<I", header, 8)[0] == 2 and dtype == 0 and n_kv_heads == 1
    payload = bytearray(data[96:96 + 4 * bt])
    slab = bt * row_bytes
    for layer in range(n_layers):
        k = data[96 + 4 * bt + layer * slab: 96 + 4 * bt + (layer + 1) * slab]
        v = bytearray(k)
        for p in range(bt):
            v[p * row_bytes + 2 * latent: (p + 1) * row_bytes] = bytes(2 * (head_dim - latent))
        payload += k + v
    struct.pack_into("<I", header, 8, 1)
    struct.pack_into("<QQ", header, 64, len(payload), xxhash.xxh3_64_intdigest(bytes(payload)))
    struct.pack_into("<Q", header, 88, xxhash.xxh3_64_intdigest(bytes(header[:88])))
    path.write_bytes(bytes(header) + bytes(payload))


def test_deepseek2_cache_is_the_latent_once_and_an_old_k_and_v_cache_is_never_read(tmp_path):
    # tiny deepseek2: 3 layers, kv_lora_rank 64 + rope 16 = 80 f16 values per token and layer.
    s = tiny_server(tmp_path, "pytest-family-mla-layout.log",
                    model=ROOT / "models" / "tiny" / "tiny-deepseek2-F16.gguf").start()
    try:
        first, _ = tokens(s.base, agent="mla")
        assert requests.get(s.base + "/v1/agents/stats", timeout=10).json()["ram"][
            "block_bytes"] == 16 * 3 * 80 * 2
        s.stop()
        files = block_files(tmp_path)
        assert len(files) >= PROMPT_BLOCKS
        for f in files:  # version 2, K rows only: header + 16 token ids + 3 layers x 16 rows
            assert struct.unpack_from("<I", f.read_bytes(), 8)[0] == 2
            assert f.stat().st_size == 96 + 16 * 4 + 3 * 16 * 160
        verify = subprocess.run([str(BUILD / "semantic"), "cache", "verify", "--cache-dir",
                                 str(tmp_path)], capture_output=True, text=True, timeout=60)
        assert verify.returncode == 0 and " 0 bad" in verify.stdout, verify.stdout
        for f in files:
            _as_k_and_v_file(f, latent=64)
        s.start()
        again, cached = tokens(s.base, agent="mla")
        assert again == first and cached == 0
        st = requests.get(s.base + "/v1/agents/stats", timeout=10).json()
        assert st["disk"]["quarantined"] >= len(files)
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
