"""SIGHUP with the real server: the configuration file (and the API key file) is read again; API
keys, CORS origins and rate limits change for new requests; an option that needs a restart is
logged and keeps its value; a file that does not parse, or a value out of range, changes
nothing."""
import re
import signal
import time

import pytest
import requests

from conftest import ServerProcess

CHAT = {"model": "default", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}

FIRST = """
[model]
default_max_tokens = 64
[server]
api_keys = ["old-key"]
api_key_file = "{keys}"
cors_origins = ["http://a.example"]
"""

SECOND = """
[model]
default_max_tokens = 32
[server]
api_keys = ["new-key"]
api_key_file = "{keys}"
cors_origins = ["http://b.example"]
rate_limit_per_key = 1
"""


def auth(key):
    return {"Authorization": f"Bearer {key}"}


def models_status(s, key):
    return requests.get(s.base + "/v1/models", headers=auth(key), timeout=10).status_code


def allowed_origin(s, origin):
    r = requests.get(s.base + "/v1/models", timeout=10,
                     headers=dict(auth("file-key"), Origin=origin))
    return r.headers.get("Access-Control-Allow-Origin")


def reloads(s, result):
    text = requests.get(s.base + "/metrics", headers=auth("file-key"), timeout=10).text
    for line in text.splitlines():
        if line.startswith(f'semantic_config_reloads_total{{result="{result}"}}'):
            return float(line.split()[1])
    raise AssertionError("no semantic_config_reloads_total")


def hangup(s, result):
    """Sends SIGHUP and waits until the reload is counted with `result`."""
    before = reloads(s, result)
    s.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 20
    while reloads(s, result) == before:
        assert time.time() < deadline, "the reload was not counted"
        time.sleep(0.05)


def log_once(s, done, what, timeout=20):
    """The server's log once `done(log text)` holds. Lines written just after an event the client
    sees (a reload counted, a reply sent) may not be in the file yet when it sees it."""
    deadline = time.time() + timeout
    text = s.log_text()
    while not done(text):
        assert time.time() < deadline, f"not logged: {what}"
        time.sleep(0.02)
        text = s.log_text()
    return text


@pytest.fixture
def srv(tmp_path):
    keys = tmp_path / "keys.txt"
    keys.write_text("file-key\n")
    conf = tmp_path / "semantic.toml"
    conf.write_text(FIRST.format(keys=keys))
    s = ServerProcess(["--config", conf, "--context", "512"], "pytest-reload.log").start()
    s.conf, s.keys = conf, keys
    yield s
    s.stop()


def test_sighup_applies_keys_cors_and_rate_limits(srv):
    assert models_status(srv, "old-key") == 200 and models_status(srv, "new-key") == 401
    assert allowed_origin(srv, "http://a.example") == "http://a.example"
    assert allowed_origin(srv, "http://b.example") is None
    for _ in range(3):  # no rate limit yet
        assert requests.post(srv.base + "/v1/chat/completions", json=CHAT, headers=auth("old-key"),
                             timeout=60).status_code == 200

    srv.conf.write_text(SECOND.format(keys=srv.keys))
    srv.keys.write_text("file-key\nsecond-file-key\n")  # the key file is read again too
    hangup(srv, "ok")
    assert models_status(srv, "old-key") == 401 and models_status(srv, "new-key") == 200
    assert models_status(srv, "second-file-key") == 200
    assert allowed_origin(srv, "http://a.example") is None
    assert allowed_origin(srv, "http://b.example") == "http://b.example"
    codes = [requests.post(srv.base + "/v1/chat/completions", json=CHAT, headers=auth("new-key"),
                           timeout=60) for _ in range(2)]
    assert [r.status_code for r in codes] == [200, 429]
    assert "server.rate_limit_per_key" in codes[1].json()["error"]["message"]
    # Logged after the reload is counted: the restart warnings, then the summary line.
    log = log_once(srv, lambda text: re.search(r"configuration reloaded: applied .*API keys\)",
                                               text), "the reload's summary")
    assert "model.default_max_tokens changed but needs a restart" in log
    applied = next(line for line in log.splitlines() if "configuration reloaded: applied" in line)
    for name in ("server.api_keys", "server.cors_origins", "server.rate_limit_per_key"):
        assert name in applied, applied
    assert "default_max_tokens" not in applied
    assert "new-key" not in log and "old-key" not in log  # secrets are not logged


def test_broken_file_keeps_the_running_settings(srv):
    srv.conf.write_text("[server\napi_keys = ")
    hangup(srv, "error")
    assert models_status(srv, "old-key") == 200
    assert allowed_origin(srv, "http://a.example") == "http://a.example"
    assert "configuration reload failed; the running settings are kept" in srv.log_text()
    # A value out of range is refused as a whole: the valid key change in it is not applied.
    srv.conf.write_text(FIRST.format(keys=srv.keys).replace('"old-key"', '"new-key"') +
                        "rate_limit_global = -5\n")
    hangup(srv, "error")
    assert models_status(srv, "old-key") == 200 and models_status(srv, "new-key") == 401
    assert "server.rate_limit_global" in srv.log_text()
    # A missing key file fails the reload too.
    srv.keys.unlink()
    srv.conf.write_text(FIRST.format(keys=srv.keys))
    hangup(srv, "error")
    assert models_status(srv, "old-key") == 200
    assert requests.get(srv.base + "/health/ready", timeout=10).status_code == 200


def test_sighup_switches_logging_and_metrics(srv):
    before = srv.log_text().count("configuration reloaded")
    srv.conf.write_text(FIRST.format(keys=srv.keys) +
                        '[logging]\nlevel = "debug"\nlog_requests = false\n'
                        '[metrics]\nenabled = false\n')
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 20
    while srv.log_text().count("configuration reloaded") == before:  # /metrics is going away
        assert time.time() < deadline, "no reload logged"
        time.sleep(0.05)
    r = requests.get(srv.base + "/metrics", headers=auth("file-key"), timeout=10)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    root = requests.get(srv.base + "/", headers=auth("file-key"), timeout=10).json()
    assert "/metrics" not in root["endpoints"]
    assert requests.post(srv.base + "/v1/chat/completions", json=CHAT, headers=auth("old-key"),
                         timeout=60).status_code == 200
    # The access-log line is written after the reply is sent.
    tail = log_once(srv, lambda text: "POST /v1/chat/completions -> 200" in
                    text.split("configuration reloaded")[-1], "the access-log line")
    tail = tail.split("configuration reloaded")[-1]
    # Debug lines from the executor now appear; the access-log line is written at debug level.
    assert " debug " in tail and "step:" in tail
    assert any("POST /v1/chat/completions -> 200" in line and " debug " in line
               for line in tail.splitlines())
