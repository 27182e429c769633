"""Starts the real `semantic serve` binary on a free loopback port for the API tests."""
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("SEMANTIC_BUILD", ROOT / "build"))
MODEL = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    if not MODEL.exists():
        pytest.skip(f"model not present: {MODEL}")
    port = free_port()
    log = open(BUILD / "pytest-server.log", "w")
    proc = subprocess.Popen(
        [str(BUILD / "semantic"), "serve", "--model", str(MODEL), "--port", str(port),
         "--context", "2048", "--cache-budget", "256MiB"],
        stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {log.name}")
        try:
            if requests.get(base + "/health/ready", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("server did not become ready in 60 s")
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    log.close()


@pytest.fixture(scope="session")
def client(server):
    import openai
    return openai.OpenAI(base_url=server + "/v1", api_key="unused", max_retries=0)


@pytest.fixture(scope="session")
def model_id(client):
    return client.models.list().data[0].id
