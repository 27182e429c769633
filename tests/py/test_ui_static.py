"""The web UI's static files over HTTP from the real server: /ui and every file it loads, content
types, caching (ETag / 304), no path traversal, nothing loaded from another origin, and /ui open
while the API behind it needs the key."""
import http.client
import re
from urllib.parse import urlsplit

import pytest
import requests

from conftest import ROOT, ServerProcess


def get(base, path, headers=None):
    return requests.get(base + path, headers=headers or {}, timeout=10)


def raw_get(base, path):
    """GET with the path exactly as given (requests would normalise dot segments)."""
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.putrequest("GET", path, skip_accept_encoding=True)
    conn.endheaders()
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, r.getheader("Content-Type") or "", body


def ui_files(base):
    """Every file the page loads: index.html's links, then each module's imports, transitively."""
    index = get(base, "/ui").text
    todo = re.findall(r'(?:src|href)="(/ui/[^"]+)"', index)
    seen = {}
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        r = get(base, path)
        seen[path] = r
        if path.endswith(".js"):
            folder = path.rsplit("/", 1)[0]
            for rel in re.findall(r'^\s*import\s[^;]*?from\s+"(\./[^"]+)"', r.text, re.M):
                todo.append(folder + "/" + rel[2:])
    return seen


def test_ui_page_is_served_with_headers(server):
    for path in ("/ui", "/ui/", "/ui/index.html"):
        r = get(server, path)
        assert r.status_code == 200, path
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert '<script type="module" src="/ui/js/app.js">' in r.text
        assert r.headers["Cache-Control"] == "no-cache"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "connect-src 'self'" in csp
    # HEAD works like GET without a body.
    h = requests.head(server + "/ui", timeout=10)
    assert h.status_code == 200 and h.text == ""


def test_every_file_the_page_loads_exists_with_its_content_type(server):
    files = ui_files(server)
    types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
             ".svg": "image/svg+xml"}
    assert "/ui/js/app.js" in files and "/ui/style.css" in files and "/ui/js/chat.js" in files
    for path, r in files.items():
        assert r.status_code == 200, path
        assert r.headers["Content-Type"] == types[path[path.rfind("."):]], path
        # Nothing from another origin: no absolute URL the browser would fetch.
        text = re.sub(r'xmlns="http://www\.w3\.org/2000/svg"', "", r.text)
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I), path


def test_etag_revalidation_gets_304(server):
    r = get(server, "/ui/js/app.js")
    etag = r.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{16}"', etag)
    again = get(server, "/ui/js/app.js", {"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert get(server, "/ui/js/app.js", {"If-None-Match": '"0000000000000000"'}).status_code == 200
    assert get(server, "/ui/js/chat.js").headers["ETag"] != etag


@pytest.mark.parametrize("path", [
    "/ui/../CMakeLists.txt", "/ui/../../../../etc/passwd", "/ui/js/../../README.md",
    "/ui/%2e%2e/CMakeLists.txt", "/ui/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/ui/..%2fCMakeLists.txt",
    "/ui//etc/passwd", "/ui/./index.html", "/ui/js/", "/ui/nope.js", "/ui/index.html/",
    "/ui/%00index.html", "/ui/js/app.js%00.html", "/ui/..\\CMakeLists.txt",
])
def test_no_path_escapes_the_embedded_files(server, path):
    status, ctype, body = raw_get(server, path)
    assert status in (400, 404), (path, status)
    assert b"cmake_minimum_required" not in body and b"root:" not in body
    if status == 404:
        assert ctype == "application/json"


def test_ui_is_listed_in_the_openapi_document(server):
    spec = get(server, "/openapi.json").json()
    assert "text/html" in spec["paths"]["/ui"]["get"]["responses"]["200"]["content"]


@pytest.fixture(scope="module")
def keyed_server():
    s = ServerProcess(["--context", "512", "--api-keys", "ui-key"], "pytest-ui-auth.log").start()
    yield s.base
    s.stop()


def test_ui_is_public_but_its_api_calls_need_the_key(keyed_server):
    assert get(keyed_server, "/ui").status_code == 200
    assert get(keyed_server, "/ui/js/api.js").status_code == 200
    assert get(keyed_server, "/v1/agents/stats").status_code == 401
    assert get(keyed_server, "/v1/agents/stats", {"Authorization": "Bearer ui-key"}).status_code == 200


def test_scenarios_are_served_with_the_ui(server):
    r = get(server, "/ui/scenarios.json")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["errors"] == []
    by_id = {s["id"]: s for s in body["scenarios"]}
    assert {"gossip", "prisoners-dilemma", "coordination"} <= set(by_id)
    gossip = by_id["gossip"]
    assert [p["name"] for p in gossip["phases"]] == ["alice_bob", "alice_eve", "reunion"]
    assert [a["key"] for a in gossip["agents"]] == ["alice", "bob", "eve"]
    assert all(a["lifecycle"] == "permanent" for a in gossip["agents"])
    assert "${alice_bob.messages[alice]}" in gossip["phases"][2]["per_agent_prompt_templates"]["alice"]
    # The YAML itself, as embedded from scenarios/.
    y = get(server, "/ui/" + gossip["file"])
    assert y.status_code == 200 and y.headers["Content-Type"] == "application/yaml"
    with open(ROOT / gossip["file"], encoding="utf-8") as f:
        assert y.text == f.read()
