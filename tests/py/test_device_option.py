"""model.device: cpu is the default; cuda is refused at start-up (exit 2) with the reason where it
cannot run — a build without CUDA, or no usable device (CI machines have no GPU; on a GPU machine
the refusal test is skipped: serve would start on the GPU, which scripts/cuda_check.sh covers)."""
import shutil
import subprocess

import pytest

from conftest import BUILD, MODEL


def run_serve(args, env_extra=None, timeout=60):
    import os
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run([str(BUILD / "semantic"), "serve", "--model", str(MODEL)]
                          + args, capture_output=True, text=True, env=env, timeout=timeout)


REASONS = ("this build has no CUDA support", "no CUDA device: ")


def gpu_present():
    if shutil.which("nvidia-smi") is None:
        return False
    return subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0


def test_device_cuda_is_refused_with_a_reason():
    if gpu_present():
        pytest.skip("this machine has a GPU: serve --device cuda would start on it")
    for args, env in ((["--device", "cuda"], None), ([], {"SEMANTIC_MODEL__DEVICE": "cuda"})):
        r = run_serve(args, env)
        assert r.returncode == 2, r.stderr
        assert "model.device = cuda: " in r.stderr, r.stderr
        assert any(reason in r.stderr for reason in REASONS), r.stderr


def test_unknown_device_is_a_configuration_error():
    r = run_serve(["--device", "gpu"])
    assert r.returncode == 2
    assert "'gpu' is not one of cpu, cuda" in r.stderr


def test_device_is_in_the_effective_configuration():
    r = subprocess.run([str(BUILD / "semantic"), "config", "--device", "cuda"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert 'device = "cuda"' in r.stdout
