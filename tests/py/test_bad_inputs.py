"""The bad-input catalogue (bad_inputs/catalogue.py, 600+ cases) against the real server, sent
concurrently while a "victim" agent streams: every case gets its documented answer (a 4xx in its
dialect's error shape naming the field, or the documented 2xx), never a 5xx or a reset; afterwards
the server is alive, the victim's greedy output equals its output alone, and every file in the KV
cache directory passes `semantic cache verify`. Outcomes per category go to
$SEMANTIC_BUILD/bad-inputs-summary.json (and are printed with -s)."""
import collections
import json
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
import requests

from bad_inputs.catalogue import (ADMIN_KEY, CASES, CONTEXT, MAX_BODY, MAX_MESSAGES,
                                  MAX_OUTPUT_TOKENS)
from bad_inputs.raw_http import request_bytes, send_raw
from conftest import BUILD, ServerProcess

VICTIM_PROMPT = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]
VICTIM_TOKENS = 96


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    cache_dir = tmp_path_factory.mktemp("bad-inputs-kv")
    s = ServerProcess(["--context", CONTEXT, "--cache-budget", "256MiB", "--cache-dir", cache_dir,
                       "--max-body", f"{MAX_BODY}B", "--server-max-messages", MAX_MESSAGES,
                       "--max-output-tokens", MAX_OUTPUT_TOKENS, "--server-read-timeout", "1s",
                       "--model-default-max-tokens", 8],
                      "pytest-bad-inputs.log", env={"SEMANTIC_ADMIN_KEY": ADMIN_KEY}).start()
    s.cache_dir = cache_dir
    yield s
    if s.proc is not None:
        s.stop()


def stream_victim(base, agent, out):
    client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0)
    text = []
    stream = client.chat.completions.create(
        model="default", messages=VICTIM_PROMPT, max_tokens=VICTIM_TOKENS, temperature=0,
        stream=True, extra_headers={"X-Agent-ID": agent})
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text.append(chunk.choices[0].delta.content)
            out["started"].set()
        if chunk.choices and chunk.choices[0].finish_reason:
            out["finish"] = chunk.choices[0].finish_reason
    out["text"] = "".join(text)


def send(port, case):
    if case.raw is not None:
        return send_raw(port, case.raw, timeout=30, pause_after=case.pause)
    headers = list(case.headers)
    if case.method not in ("GET", "HEAD", "DELETE") and not any(
            n.lower() == "content-type" for n, _ in headers):
        headers.append(("Content-Type", "application/json"))
    data = request_bytes(case.method, case.path, case.body_bytes(), headers)
    return send_raw(port, data, timeout=60)


def raw_path(case):
    if case.raw is None:
        return case.path
    first = case.raw[0] if isinstance(case.raw, list) else case.raw
    parts = first.split(b"\r\n", 1)[0].split(b" ")
    return parts[1].decode("latin-1") if len(parts) > 1 else ""


def status_matches(expect, reply):
    options = expect if isinstance(expect, tuple) else (expect,)
    for e in options:
        if e == "closed" and reply.status is None and reply.error == "closed":
            return True
        if reply.status is None:
            continue
        if e == "4xx" and 400 <= reply.status < 500:
            return True
        if e == "2xx" and 200 <= reply.status < 300:
            return True
        if isinstance(e, int) and reply.status == e:
            return True
    return False


def check(case, reply):
    """Returns the problem with `reply` ("" when it is what the catalogue documents)."""
    if reply.status is None and not (reply.error == "closed" and status_matches(case.expect,
                                                                                reply)):
        return f"no response: {reply.error}"
    if reply.status is not None and reply.status >= 500:
        return f"server error {reply.status}: {reply.body[:300]!r}"
    if not status_matches(case.expect, reply):
        return f"status {reply.status}, expected {case.expect}: {reply.body[:300]!r}"
    if reply.status is None or reply.status < 400 or case.method == "HEAD":
        return ""
    try:
        body = json.loads(reply.body)
    except ValueError:
        return f"error body is not JSON: {reply.body[:200]!r}"
    path = raw_path(case)
    param = case.param
    if reply.status == 404 and isinstance(case.expect, tuple) and 404 in case.expect:
        param = None  # no route matched (a "/" inside an agent id): the id never reached a handler
    if path.startswith("/v1/messages"):
        err = body.get("error") if isinstance(body, dict) else None
        if body.get("type") != "error" or not isinstance(err, dict) or not isinstance(
                err.get("type"), str) or not err.get("message"):
            return f"not Anthropic's error shape: {body}"
        if param and param not in err["message"]:
            return f"message does not name {param!r}: {err['message']!r}"
    else:
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, dict) or set(err) - {"request_id"} != {
                "message", "type", "param", "code"} or not err["message"]:
            return f"not OpenAI's error shape: {body}"
        got = err["param"] or ""
        if param and not (got == param or got.startswith(param + "[")
                          or got.startswith(param + ".")):
            return f"param {got!r}, expected {param!r} ({err['message']!r})"
        if case.code and err["code"] != case.code:
            return f"code {err['code']!r}, expected {case.code!r} ({err['message']!r})"
    return ""


def outcome_label(reply):
    if reply.status is None:
        return reply.error
    label = str(reply.status)
    if reply.status >= 400:
        try:
            err = json.loads(reply.body).get("error", {})
            label += " " + str(err.get("code") or err.get("type"))
        except (ValueError, AttributeError):
            label += " (no JSON)"
    return label


def test_bad_input_catalogue(target):
    base = target.base
    log_start = len(target.log_text())  # the log file is appended to across runs
    assert requests.post(base + "/v1/agents", json={"agent_id": "known"}, timeout=30).status_code \
        == 201
    alone = {"started": threading.Event()}
    stream_victim(base, "victim-alone", alone)
    assert alone["text"], "the victim prompt produced no text alone"

    victim = {"started": threading.Event()}
    victim_thread = threading.Thread(target=stream_victim, args=(base, "victim", victim))
    victim_thread.start()
    assert victim["started"].wait(120), "the victim stream did not start"

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda c: send(target.port, c), CASES))
    victim_thread.join(timeout=300)

    results, failures = [], []
    for case, reply in zip(CASES, replies):
        problem = check(case, reply)
        results.append({"id": case.id, "category": case.category, "outcome": outcome_label(reply),
                        "ok": not problem, "problem": problem, "note": case.note})
        if problem:
            failures.append(f"{case.id}: {problem}")
    summary = {"cases": len(CASES), "failed": len(failures), "categories": {}}
    for cat in sorted({r["category"] for r in results}):
        rows = [r for r in results if r["category"] == cat]
        summary["categories"][cat] = {
            "cases": len(rows), "failed": sum(not r["ok"] for r in rows),
            "outcomes": dict(collections.Counter(r["outcome"] for r in rows).most_common())}
    out = BUILD / "bad-inputs-summary.json"
    out.write_text(json.dumps({"summary": summary, "results": results}, indent=1))
    print(f"\nbad-input catalogue: {len(CASES)} cases, {len(failures)} failed ({out})")
    for cat, s in summary["categories"].items():
        print(f"  {cat:16s} {s['cases']:4d} cases  {s['failed']} failed  {s['outcomes']}")

    assert not failures, f"{len(failures)} cases failed:\n" + "\n".join(failures)
    assert len(CASES) >= 200

    # The server is alive and serves normally; the victim was not disturbed.
    assert requests.get(base + "/health/ready", timeout=10).status_code == 200
    r = requests.post(base + "/v1/chat/completions", timeout=120, json={
        "model": "default", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4})
    assert r.status_code == 200, r.text
    assert not victim_thread.is_alive()
    assert victim.get("text") == alone["text"], (victim.get("text"), alone["text"])
    assert victim.get("finish") == alone.get("finish")
    assert "handler threw" not in target.log_text()[log_start:]

    # Every cache file the barrage left behind loads: stop (SIGTERM, exit 0), then verify.
    target.stop()
    v = subprocess.run([str(BUILD / "semantic"), "cache", "verify", "--cache-dir",
                        str(target.cache_dir)], capture_output=True, text=True, timeout=120)
    assert v.returncode == 0 and " 0 bad" in v.stdout, v.stdout + v.stderr
