"""`semantic tune` on a tiny model: a quick sweep writes a profile the registry loads, with every
swept setting and its measured figures; an existing profile is updated in place; bad arguments
are refused with exit 2. No timing is asserted (the machine is shared), only structure."""
import json
import os
import re
import subprocess
import tomllib

import pytest

from conftest import BUILD, ROOT

TINY = ROOT / "models" / "tiny" / "tiny-llama-Q4_0.gguf"
DIMENSIONS = ("threads", "block_tokens", "prefill_chunk", "max_batch")
QUICK = ["--quick", "--prompt-tokens", "16", "--gen-tokens", "4", "--threads", "1,2"]


def tune(*args, env=None):
    return subprocess.run([str(BUILD / "semantic"), "tune", *map(str, args)],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, **(env or {})))


def measured(text):
    """The `# measured:` record lines as dicts of their key=value fields."""
    rows = []
    for line in text.splitlines():
        if line.startswith("# measured: "):
            rows.append(dict(f.split("=", 1) for f in line[len("# measured: "):].split()))
    return rows


def registry(profiles, empty):
    r = subprocess.run([str(BUILD / "semantic"), "models", "--json",
                        "--registry-profiles-dir", profiles, "--registry-models-dir", empty],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return {m["model_id"]: m for m in json.loads(r.stdout)}


@pytest.fixture
def dirs(tmp_path):
    if not TINY.exists():
        pytest.skip(f"model not present: {TINY}")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "empty").mkdir()
    return tmp_path / "profiles", tmp_path / "empty"


def test_quick_sweep_writes_a_profile_the_registry_loads(dirs):
    profiles, empty = dirs
    out = profiles / "tiny-tuned.toml"
    r = tune(TINY, "--out", out, *QUICK)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^\[ ?1\] threads .*prefill_tps=", r.stdout, re.M), r.stdout
    assert "* chosen:" in r.stdout and f"wrote {out}" in r.stdout
    text = out.read_text()
    model = tomllib.loads(text)["model"]
    assert model["path"] == str(TINY) and model["served_name"] == "tiny-llama-Q4_0"
    for key in DIMENSIONS:
        assert isinstance(model[key], int) and model[key] >= 1, key
    rows = measured(text)
    for key in DIMENSIONS:
        values = {int(row[key]) for row in rows if row["dimension"] == key}
        assert len(values) >= 2, (key, rows)  # the configured value and at least one more
        assert model[key] in values
    for row in rows:
        assert "failed:" not in row, row
        for fig in ("prefill_tps", "decode_tps", "batch_tps"):
            assert float(row[fig]) > 0, row
        assert int(row["batch"]) == int(row["max_batch"])
    assert re.search(r"^# machine: .+; \d+ usable cores", text, re.M)
    assert re.search(r"^# model: .*tiny-llama-Q4_0\.gguf \(llama, fingerprint [0-9a-f]{16}\)",
                     text, re.M)
    assert re.search(r"^# date: \d{4}-\d\d-\d\dT", text, re.M)
    entry = registry(profiles, empty)["tiny-llama-Q4_0"]
    assert entry["source"] == "profile" and entry["problem"] == "" and entry["exists"]


def test_an_existing_profile_keeps_its_other_lines(dirs):
    profiles, empty = dirs
    out = profiles / "tiny.toml"
    out.write_text(f'# my notes\n[model]\npath = "{TINY}"\nserved_name = "tiny"\n'
                   'context_length = 512  # keep me\nmax_batch_size = 3\nthreads = 1\n')
    for run in range(2):  # the second run replaces the first run's keys and record
        # By id, from the registry; the default output is that model's profile.
        r = tune("tiny", *QUICK, env={"SEMANTIC_REGISTRY__PROFILES_DIR": str(profiles)})
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"wrote {out} (updated)" in r.stdout
        if run == 0:  # the profile's max_batch (set by its alias) is the configured value
            rows = measured(out.read_text())
            assert 3 in {int(r["max_batch"]) for r in rows if r["dimension"] == "max_batch"}
            assert "configured: threads=1 " in out.read_text()
    text = out.read_text()
    assert text.startswith("# my notes\n") and "context_length = 512  # keep me" in text
    assert "max_batch_size" not in text
    assert text.count("# --- semantic tune record") == 1
    assert text.count("# --- end of semantic tune record") == 1
    model = tomllib.loads(text)["model"]  # a repeated key would not parse
    assert model["context_length"] == 512 and model["served_name"] == "tiny"
    assert registry(profiles, empty)["tiny"]["problem"] == ""


def test_bad_arguments_exit_2_with_a_message(dirs):
    profiles, _ = dirs
    out = profiles / "x.toml"
    cases = [
        ([], "MODEL is required"),
        (["no-such-model", "--out", out], "unknown model 'no-such-model'"),
        ([TINY, "--out", out, "--threads", "1,x"], "--threads: 'x'"),
        ([TINY, "--out", out, "--max-batch", "0"], "--max-batch: '0'"),
        ([TINY, "--out", out, "--block-tokens", ""], "--block-tokens: empty list"),
        ([TINY, "--out", out, "--prefill-chunk", "8"], "--prefill-chunk: '8'"),
        ([TINY, "--out", out, "--prompt-tokens", "abc"], "--prompt-tokens: 'abc'"),
        ([TINY, "--out", out, "--gen-tokens", "1"], "--gen-tokens: '1'"),
        ([TINY, "--out", out, "--time-budget", "-5"], "--time-budget: '-5'"),
        ([TINY, "--out", out, "--prompt-tokens", "100000"], "context holds 512 positions"),
    ]
    for args, message in cases:
        r = tune(*args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert message in r.stderr, (args, r.stderr)
    other = profiles / "other.toml"
    other.write_text('[model]\npath = "models/SmolLM2-135M-Instruct.Q4_1.gguf"\n')
    r = tune(TINY, "--out", other, *QUICK)
    assert r.returncode == 2 and "is the profile of" in r.stderr, r.stderr
    assert other.read_text() == '[model]\npath = "models/SmolLM2-135M-Instruct.Q4_1.gguf"\n'
    assert not out.exists()
