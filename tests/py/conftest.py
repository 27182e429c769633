"""Starts the real `semantic serve` binary on a free loopback port for the API tests."""
import os
import signal
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


class ServerProcess:
    """One `semantic serve` process; restartable on the same port and arguments."""

    def __init__(self, args, log_name, model=MODEL, env=None, shell_prefix=None):
        if not Path(model).exists():
            pytest.skip(f"model not present: {model}")
        self.port = free_port()
        self.args = [str(BUILD / "semantic"), "serve", "--model", str(model),
                     "--port", str(self.port)] + [str(a) for a in args]
        self.log_path = BUILD / log_name
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.env = dict(os.environ, **(env or {}))
        if shell_prefix:  # e.g. "ulimit -f 8": run through bash with that first
            self.args = ["bash", "-c", shell_prefix + ' && exec "$@"', "semantic"] + self.args

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if requests.get(self.base + "/health/ready", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError("server did not become ready in 60 s")

    def stop(self, sig=signal.SIGTERM):
        """Stops the server; SIGTERM must exit cleanly (0), SIGKILL is a crash."""
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        self.proc = None
        self.log.close()
        if sig == signal.SIGTERM:
            assert rc == 0, f"server exited with {rc} on SIGTERM; see {self.log_path}"
        return rc

    def restart(self):
        self.stop()
        return self.start()

    def log_text(self):
        return self.log_path.read_text(errors="replace")


def metric(base, name):
    """The value of an unlabelled series on /metrics (a server without API keys)."""
    for line in requests.get(base + "/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise KeyError(name)


def wait_for_metric(base, name, value, timeout=30):
    """Waits until /metrics shows `name` at `value`: how tests set up a state step by step
    (a request running, others queued) instead of hoping that concurrent requests overlap."""
    deadline = time.time() + timeout
    while metric(base, name) != value:
        assert time.time() < deadline, f"{name} never reached {value}"
        time.sleep(0.005)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    s = ServerProcess(["--context", "2048", "--cache-budget", "256MiB",
                       "--cache-dir", tmp_path_factory.mktemp("kv-cache")],
                      "pytest-server.log").start()
    yield s.base
    s.stop()


@pytest.fixture(scope="session")
def client(server):
    import openai
    return openai.OpenAI(base_url=server + "/v1", api_key="unused", max_retries=0)


@pytest.fixture(scope="session")
def model_id(client):
    return client.models.list().data[0].id
