"""Client authentication with the real server and the real SDKs: keys from the flag, a key file
and the environment, every accepted header, 401s in each dialect's shape, open health and admin
routes, and the refusal to serve a non-loopback address without keys."""
import anthropic
import openai
import pytest
import requests

from conftest import ServerProcess

KEYS = ("k-one", "k-two")
FILE_KEY = "k-from-file"
ENV_KEY = "k-from-env"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    key_file = tmp_path_factory.mktemp("keys") / "keys.txt"
    key_file.write_text(f"# client keys\n\n  {FILE_KEY}  \n")
    s = ServerProcess(["--context", "512", "--api-keys", ",".join(KEYS), "--api-key-file", key_file,
                       "--server-admin-key", "adm"], "pytest-auth.log").start()
    yield s
    s.stop()


def get(base, path, headers=None):
    return requests.get(base + path, headers=headers or {}, timeout=10)


def test_every_header_and_every_key_source_is_accepted(auth_server):
    base = auth_server.base
    for headers in ({"Authorization": f"Bearer {KEYS[0]}"}, {"Authorization": f"bearer {KEYS[1]}"},
                    {"x-api-key": FILE_KEY}, {"anthropic-api-key": KEYS[1]}):
        assert get(base, "/v1/models", headers).status_code == 200, headers


def test_missing_or_wrong_keys_get_401_in_the_dialects_shape(auth_server):
    base = auth_server.base
    for headers in ({}, {"Authorization": "Bearer nope"}, {"x-api-key": KEYS[0] + "x"},
                    {"Authorization": KEYS[0]}, {"x-api-key": ""}, {"x-api-key": KEYS[0][:-1]}):
        r = get(base, "/v1/models", headers)
        assert r.status_code == 401, headers
        assert r.json()["error"]["code"] == "invalid_api_key"
        assert "Authorization: Bearer KEY" in r.json()["error"]["message"]
    r = requests.post(base + "/v1/messages", json={}, timeout=10)
    assert r.status_code == 401
    assert r.json() == {"type": "error", "error": {
        "type": "authentication_error", "message": r.json()["error"]["message"]},
        "request_id": r.headers["request-id"]}
    for path in ("/v1/agents/stats", "/metrics", "/", "/openapi.json"):
        assert get(base, path).status_code == 401, path


def test_health_is_open_and_admin_needs_the_admin_key_only(auth_server):
    base = auth_server.base
    for path in ("/health", "/health/live", "/health/ready"):
        assert get(base, path).status_code == 200, path
    # /admin checks its own key, with or without a client key.
    r = requests.delete(base + "/admin/caches", headers={"Authorization": f"Bearer {KEYS[0]}"},
                        timeout=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_admin_key"
    r = requests.delete(base + "/admin/caches", headers={"X-Admin-Key": "adm"}, timeout=10)
    assert r.status_code in (200, 204), r.text


def test_the_sdks_authenticate_with_their_own_headers(auth_server):
    base = auth_server.base
    oc = openai.OpenAI(base_url=base + "/v1", api_key=KEYS[0], max_retries=0)
    r = oc.chat.completions.create(model="default", max_tokens=2,
                                   messages=[{"role": "user", "content": "hi"}])
    assert r.usage.completion_tokens >= 1
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=base + "/v1", api_key="wrong", max_retries=0).models.list()
    ac = anthropic.Anthropic(base_url=base, api_key=FILE_KEY, max_retries=0)
    m = ac.messages.create(model="claude-x", max_tokens=2,
                           messages=[{"role": "user", "content": "hi"}])
    assert m.usage.output_tokens >= 1
    with pytest.raises(anthropic.AuthenticationError) as e:
        anthropic.Anthropic(base_url=base, api_key="wrong", max_retries=0).messages.create(
            model="claude-x", max_tokens=2, messages=[{"role": "user", "content": "hi"}])
    assert e.value.body["error"]["type"] == "authentication_error"


def test_keys_from_the_environment(tmp_path):
    s = ServerProcess(["--context", "512"], "pytest-auth-env.log",
                      env={"SEMANTIC_API_KEYS": ENV_KEY}).start()
    try:
        assert get(s.base, "/v1/models").status_code == 401
        assert get(s.base, "/v1/models", {"x-api-key": ENV_KEY}).status_code == 200
    finally:
        s.stop()


def test_non_loopback_without_keys_refuses_to_start_unless_allowed(tmp_path):
    s = ServerProcess(["--host", "0.0.0.0"], "pytest-auth-open.log")
    with pytest.raises(RuntimeError, match="exited with 1"):
        s.start()
    assert "reachable from other machines and no API key is set" in s.log_text()
    assert "--allow-unauthenticated" in s.log_text()
    open_server = ServerProcess(["--host", "0.0.0.0", "--allow-unauthenticated", "--context", "512"],
                                "pytest-auth-open.log").start()
    try:
        assert get(open_server.base, "/v1/models").status_code == 200
    finally:
        open_server.stop()
    missing = ServerProcess(["--api-key-file", tmp_path / "none.txt"], "pytest-auth-open.log")
    with pytest.raises(RuntimeError, match="exited with 1"):
        missing.start()
    assert "server.api_key_file: cannot read" in missing.log_text()
