"""Claude Code against semantic: the real CLI (bundled in the PyPI package claude-agent-sdk) run
headless over loopback, the prefix stability it needs (its per-conversation billing header), and
[aliases] for the model names clients send."""
import json
import os
import subprocess
from pathlib import Path

import anthropic
import pytest
import requests

from conftest import ServerProcess

MODEL = "claude-opus-5-5"
MAX_OUTPUT = 16  # Claude Code's max_tokens (CLAUDE_CODE_MAX_OUTPUT_TOKENS)


def claude_cli():
    import claude_agent_sdk
    path = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
    assert path.exists(), f"claude-agent-sdk ships no CLI at {path}"
    return path


def long_system(n_lines=60):
    return "\n".join(f"Rule {i}: answer briefly and precisely; rule {i} never changes." for i in
                     range(n_lines))


def billing(suffix):
    return {"type": "text",
            "text": f"x-anthropic-billing-header: cc_version=2.1.327.{suffix}; cc_entrypoint=cli;"}


def test_billing_header_does_not_defeat_prefix_reuse(server):
    """Claude Code's first system block changes with every conversation; it is dropped before
    rendering, so a second conversation reuses the whole system prefix of the first."""
    ac = anthropic.Anthropic(base_url=server, api_key="x", max_retries=0)
    rules = long_system()

    def ask(suffix, question):
        return ac.messages.create(
            model=MODEL, max_tokens=4, extra_body={"temperature": 0},
            system=[billing(suffix), {"type": "text", "text": rules,
                                      "cache_control": {"type": "ephemeral"}}],
            messages=[{"role": "user", "content": question}])

    ask("8c9", "What is rule 3?")
    second = ask("491", "What is rule 7?")
    u = second.usage
    total = u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens
    assert u.cache_read_input_tokens >= 0.9 * total, u
    # Same count with and without the header: it never reaches the model.
    count = lambda system: ac.messages.count_tokens(
        model=MODEL, system=system, messages=[{"role": "user", "content": "hi"}]).input_tokens
    plain = [{"type": "text", "text": rules}]
    assert count([billing("abc")] + plain) == count(plain)
    assert count("x-anthropic-billing-header: cc_version=1.0.0.abc;\n" + rules) == count(rules)


def test_cache_control_holds_the_agents_blocks_for_its_ttl(server):
    """A cache_control breakpoint holds the agent's blocks in RAM like a pin, for 5 min (or 1 h
    with ttl "1h"); a request without one leaves an agent unheld; evicting drops the hold."""
    import time
    ac = anthropic.Anthropic(base_url=server, api_key="x", max_retries=0)

    def ask(agent, cache_control):
        block = {"type": "text", "text": "Remember the number 42. " * 20}
        if cache_control:
            block["cache_control"] = cache_control
        ac.messages.create(model=MODEL, max_tokens=2, extra_body={"temperature": 0},
                           extra_headers={"X-Agent-ID": agent},
                           messages=[{"role": "user", "content": [block]}])
        return requests.get(f"{server}/v1/agents/{agent}", timeout=10).json()

    now = time.time()
    plain = ask("cc-none", None)
    assert plain["held_until"] is None and not plain["pinned"]
    five = ask("cc-5m", {"type": "ephemeral"})
    assert 290 <= five["held_until"] - now <= 320, five
    assert five["blocks_in_ram"] == five["cached_blocks"] > 0 and not five["pinned"]
    hour = ask("cc-1h", {"type": "ephemeral", "ttl": "1h"})
    assert 3590 <= hour["held_until"] - now <= 3620, hour
    r = requests.delete(f"{server}/v1/agents/cc-1h?evict_only=true", timeout=10)
    assert r.status_code == 204, r.text
    assert requests.get(f"{server}/v1/agents/cc-1h", timeout=10).json()["held_until"] is None


@pytest.fixture(scope="module")
def alias_server(tmp_path_factory):
    cfg = tmp_path_factory.mktemp("aliases") / "aliases.toml"
    cfg.write_text('[aliases]\n"gpt-4o" = "default"\n"claude-haiku-*" = "default"\n'
                   '"my-model-?" = "default"\n')
    s = ServerProcess(["--context", "1024", "--config", cfg], "pytest-aliases.log").start()
    yield s
    s.stop()


def test_aliases_select_the_served_model_and_are_listed(alias_server):
    base = alias_server.base
    models = requests.get(base + "/v1/models", timeout=10).json()["data"]
    served = models[0]
    assert served["aliases"] == ["gpt-4o", "claude-haiku-*", "my-model-?"]
    assert {"id": "gpt-4o", "alias_of": served["id"]}.items() <= models[1].items()
    assert [m["id"] for m in models] == [served["id"], "gpt-4o"]  # patterns are not model ids
    import openai
    oc = openai.OpenAI(base_url=base + "/v1", api_key="x", max_retries=0)
    for name in ("gpt-4o", "my-model-7", "claude-haiku-4-5"):
        r = oc.chat.completions.create(model=name, max_tokens=2,
                                       messages=[{"role": "user", "content": "hi"}])
        assert r.model == served["id"] and r.usage.completion_tokens >= 1
    for name in ("gpt-4", "my-model-77", "claude-sonnet-4-5"):  # no alias matches
        with pytest.raises(openai.NotFoundError) as e:
            oc.chat.completions.create(model=name, max_tokens=2,
                                       messages=[{"role": "user", "content": "hi"}])
        assert e.value.body["param"] == "model"


def test_models_list_in_anthropic_shape_for_anthropic_clients(alias_server):
    """The Anthropic SDK (and Claude Code's model discovery) send anthropic-version and get
    Anthropic's list shape; plain aliases are listed, glob patterns are not."""
    ac = anthropic.Anthropic(base_url=alias_server.base, api_key="x", max_retries=0)
    page = ac.models.list()
    ids = [m.id for m in page.data]
    assert ids[1:] == ["gpt-4o"] and len(ids) == 2
    assert all(m.type == "model" for m in page.data)
    assert "alias of" in page.data[1].display_name
    raw = requests.get(alias_server.base + "/v1/models", timeout=10,
                       headers={"anthropic-version": "2023-06-01"}).json()
    assert raw["has_more"] is False and raw["first_id"] == ids[0] and raw["last_id"] == "gpt-4o"
    assert raw["data"][0]["max_input_tokens"] > 0


def test_an_alias_to_a_model_that_is_not_served_stops_the_server(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[aliases]\n"gpt-4o" = "llama-3-70b"\n')
    s = ServerProcess(["--config", cfg], "pytest-aliases-bad.log")
    with pytest.raises(RuntimeError, match="exited with 1"):
        s.start()
    assert "aliases: 'gpt-4o' maps to 'llama-3-70b', which is not served here" in s.log_text()


# --- the Claude Code CLI, headless -----------------------------------------------------------

@pytest.fixture(scope="module")
def cc_server(tmp_path_factory):
    # Claude Code's first request is long (system, tools, environment): give the default model a
    # 32K context (beyond its trained 8K: the mechanics, not the answers, are under test), and
    # greedy decoding (Claude Code sends no temperature) so every run takes the same path.
    s = ServerProcess(["--context", "32768", "--cache-budget", "1GiB",
                       "--model-default-temperature", "0",
                       "--cache-dir", tmp_path_factory.mktemp("cc-kv")],
                      "pytest-claude-code.log").start()
    yield s
    s.stop()


def run_claude(server, home, project, prompt, *extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE"))}
    env.update(HOME=str(home), ANTHROPIC_BASE_URL=server.base, ANTHROPIC_API_KEY="sk-local",
               CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_AUTOUPDATER="1",
               DISABLE_TELEMETRY="1", CLAUDE_CODE_MAX_OUTPUT_TOKENS=str(MAX_OUTPUT),
               API_TIMEOUT_MS="600000")
    p = subprocess.run([str(claude_cli()), "-p", prompt, "--output-format", "json",
                        "--max-turns", "1", *extra],
                       cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert p.stdout.strip(), f"no output from claude (rc {p.returncode}): {p.stderr[-2000:]}"
    result = json.loads(p.stdout)
    assert result.get("api_error_status") is None, result
    assert result["type"] == "result" and result["session_id"], result
    return result


def test_claude_code_two_turns_and_the_second_reads_the_cache(cc_server, tmp_path):
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    (project / "notes.txt").write_text("semantic keeps a persistent KV cache per agent.\n")
    first = run_claude(cc_server, home, project, "Reply with the single word: ok")
    second = run_claude(cc_server, home, project, "And now reply with: done",
                        "--resume", first["session_id"])
    for turn in (first, second):
        # The tiny model rarely ends a turn by itself: a turn that reaches max_tokens is answered
        # by Claude Code asking it to continue (up to 3 times), then reported as too long. That is
        # the protocol working (stop_reason max_tokens); any API error is not.
        assert turn["subtype"] == "success", turn
        assert not turn["is_error"] or turn["result"].startswith(
            f"API Error: Claude's response exceeded the {MAX_OUTPUT} output token maximum"), turn
        assert turn["usage"]["output_tokens"] >= 1, turn
    u = second["usage"]
    total = u["input_tokens"] + u["cache_read_input_tokens"] + u["cache_creation_input_tokens"]
    assert total > first["usage"]["input_tokens"] + first["usage"]["cache_read_input_tokens"]
    assert u["cache_read_input_tokens"] >= 0.9 * total, u
    # Claude Code's X-Claude-Code-Session-Id names the agent session: both turns are one agent.
    agent = requests.get(f"{cc_server.base}/v1/agents/{first['session_id']}", timeout=10).json()
    assert agent["requests"] >= 2 and agent["cached_tokens"] >= u["cache_read_input_tokens"], agent
    print(f"\nClaude Code TTFT: turn 1 {first.get('ttft_ms')} ms "
          f"({first['usage']['input_tokens']} computed), turn 2 {second.get('ttft_ms')} ms "
          f"({u['cache_read_input_tokens']}/{total} cached)")
