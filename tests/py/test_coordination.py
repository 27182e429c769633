"""The /v1/coordination API and `semantic scenario run` against the real server binary (SmolLM2):
every route, bad bodies, whisper visibility, vote tallies, SSE event order, sequential and
concurrent rounds, and a permanent agent resuming warm from its cache after a restart."""
import json
import subprocess
import time

import pytest
import requests

from conftest import BUILD, ROOT, ServerProcess

API = "/v1/coordination"
FAST = {"max_tokens": 8, "temperature": 0}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    d = tmp_path_factory.mktemp("coord-cache")
    s = ServerProcess(["--context", "2048", "--cache-budget", "128MiB", "--cache-dir", d],
                      "pytest-coordination.log").start()
    yield s
    s.stop()


def post(srv, path, body=None, expect=200):
    r = requests.post(srv.base + API + path, json=body if body is not None else {}, timeout=300)
    assert r.status_code == expect, r.text
    return r.json()


def get(srv, path, expect=200):
    r = requests.get(srv.base + API + path, timeout=60)
    assert r.status_code == expect, r.text
    return r.json()


def create(srv, agents, **fields):
    body = {"agents": [a if isinstance(a, dict) else {"display_name": a} for a in agents]}
    body.update(FAST)
    body.update(fields)
    return post(srv, "/sessions", body, expect=201)


def sse_events(resp):
    """(event, data) pairs of a text/event-stream response."""
    events, name = [], None
    for line in resp.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[6:])))
    return events


def test_session_lifecycle_routes(srv):
    s = create(srv, ["Ada", {"display_name": "Dr. Ben", "role": "critic",
                             "lifecycle": "permanent"}],
               topology="round_robin", debate_format="socratic", decision_mode="consensus",
               initial_prompt="Discuss tabs versus spaces.", max_turns=10,
               persistent_cache_prefix="lifecycle")
    sid = s["session_id"]
    assert sid.startswith("coord_")
    assert (s["topology"], s["debate_format"], s["decision_mode"]) == \
        ("round_robin", "socratic", "consensus")
    assert [a["agent_id"] for a in s["agents"]] == ["ada", "dr_ben"]
    assert s["agents"][0]["cache_key"] == f"{sid}_ada" and not s["agents"][0]["cache_persists"]
    assert s["agents"][1]["cache_key"] == "persist_lifecycle_dr_ben"
    assert s["next_speaker"] == "ada" and s["active"] and s["turns_completed"] == 0
    assert sid in [x["session_id"] for x in get(srv, "/sessions")["sessions"]]
    assert get(srv, f"/sessions/{sid}")["max_turns"] == 10
    msgs = get(srv, f"/sessions/{sid}/messages")["messages"]
    assert [(m["sender_id"], m["content"]) for m in msgs] == \
        [("system", "Discuss tabs versus spaces.")]
    r = requests.delete(srv.base + API + f"/sessions/{sid}", timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["caches_deleted"] == [f"{sid}_ada"]
    assert r.json()["caches_kept"] == ["persist_lifecycle_dr_ben"]
    err = get(srv, f"/sessions/{sid}", expect=404)["error"]
    assert err["code"] == "session_not_found" and err["type"] == "invalid_request_error"
    assert requests.delete(srv.base + API + f"/sessions/{sid}", timeout=30).status_code == 404


BAD_BODIES = [
    ({"agents": [{"display_name": f"a{i}"} for i in range(31)]}, "agents"),
    ({"agents": []}, "agents"),
    ({}, "agents"),
    ({"agents": "Ada"}, "agents"),
    ({"agents": [{"role": "critic"}]}, "agents[0].display_name"),
    ({"agents": [{"display_name": "A" * 51}]}, "agents[0].display_name"),
    ({"agents": [{"display_name": "A"}, {"display_name": "A"}]}, "agents[1].display_name"),
    ({"agents": [{"display_name": "A", "agent_id": "../x"}]}, "agents[0].agent_id"),
    ({"agents": [{"display_name": "A", "lifecycle": "forever"}]}, "agents[0].lifecycle"),
    ({"agents": [{"display_name": "A", "system_prompt": "x" * 2001}]}, "agents[0].system_prompt"),
    ({"agents": [{"display_name": "A"}], "topology": "star"}, "topology"),
    ({"agents": [{"display_name": "A"}], "topology": 3}, "topology"),
    ({"agents": [{"display_name": "A"}], "debate_format": "shouting"}, "debate_format"),
    ({"agents": [{"display_name": "A"}], "decision_mode": "dice"}, "decision_mode"),
    ({"agents": [{"display_name": "A"}], "max_turns": 1001}, "max_turns"),
    ({"agents": [{"display_name": "A"}], "max_turns": -1}, "max_turns"),
    ({"agents": [{"display_name": "A"}], "initial_prompt": "x" * 50001}, "initial_prompt"),
    ({"agents": [{"display_name": "A"}], "per_agent_prompts": {"Zed": "hi"}}, "per_agent_prompts"),
    ({"agents": [{"display_name": "A"}], "prior_agent_messages": {"zed": []}},
     "prior_agent_messages"),
    ({"agents": [{"display_name": "A"}], "prior_agent_messages": {"a": [{"sender_id": "x"}]}},
     "prior_agent_messages.a[0].content"),
    ({"agents": [{"display_name": "A"}], "persistent_cache_prefix": "a/b"},
     "persistent_cache_prefix"),
    ({"agents": [{"display_name": "A"}], "max_tokens": 0}, "max_tokens"),
]


@pytest.mark.parametrize("body,param", BAD_BODIES)
def test_bad_session_bodies_get_400_naming_the_field(srv, body, param):
    r = requests.post(srv.base + API + "/sessions", json=body, timeout=30)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error"
    assert err["param"] == param and err["message"]


def test_other_bad_requests_are_4xx(srv):
    r = requests.post(srv.base + API + "/sessions", data="{not json",
                      headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 400 and "error" in r.json()
    assert post(srv, "/sessions/coord_nope/turn", expect=404)["error"]["code"] == \
        "session_not_found"
    sid = create(srv, ["A", "B"])["session_id"]
    assert post(srv, f"/sessions/{sid}/turn", {"max_tokens": "many"},
                expect=400)["error"]["param"] == "max_tokens"
    assert post(srv, f"/sessions/{sid}/whisper", {"from_agent_id": "a", "to_agent_id": "zed",
                                                  "content": "x"}, expect=404)["error"]["param"] \
        == "to_agent_id"
    assert post(srv, f"/sessions/{sid}/whisper", {"from_agent_id": "a", "to_agent_id": "b"},
                expect=400)["error"]["param"] == "content"
    assert post(srv, f"/sessions/{sid}/whisper", {"from_agent_id": "a", "to_agent_id": "b",
                                                  "content": "x" * 5001}, expect=400)
    assert post(srv, f"/sessions/{sid}/vote", {"agent_id": "a", "question": "q"},
                expect=400)["error"]["param"] == "choice"
    assert post(srv, f"/sessions/{sid}/vote", {"agent_id": "zed", "question": "q",
                                               "choice": "x"}, expect=404)
    assert get(srv, f"/sessions/{sid}/messages?agent_id=zed", expect=404)
    assert requests.delete(srv.base + API + "/caches/a%2Fb", timeout=30).status_code in (400, 404)


def test_turns_and_sequential_rounds_read_each_agents_cache(srv):
    s = create(srv, ["Ada", "Ben"], initial_prompt="Name one fruit each, briefly.")
    sid = s["session_id"]
    t = post(srv, f"/sessions/{sid}/turn")
    turn = t["turn"]
    assert turn["agent_id"] == "ada" and turn["turn"] == 0
    assert t["next_speaker"] == "ben" and t["turns_completed"] == 1
    assert turn["usage"]["prompt_tokens"] > 0 and 0 < turn["usage"]["completion_tokens"] <= 8
    assert turn["ttft_ms"] > 0 and turn["duration_ms"] >= turn["ttft_ms"]
    assert turn["cache_state"] in ("COLD", "WARM", "HOT")
    assert turn["message"]["sender_id"] == "ada" and turn["message"]["kind"] == "public"
    r = post(srv, f"/sessions/{sid}/round", {"max_tokens": 6})
    assert not r["concurrent"]
    assert [x["agent_id"] for x in r["turns"]] == ["ben", "ada"]
    assert [x["turn"] for x in r["turns"]] == [1, 2]
    assert all(x["usage"]["completion_tokens"] <= 6 for x in r["turns"])
    # Ada's second prompt extends her first: all its full blocks come from her cache.
    again = r["turns"][1]
    assert again["usage"]["cached_tokens"] >= turn["usage"]["prompt_tokens"] - 16 > 0
    assert again["cache_state"] == "HOT"
    agent = requests.get(srv.base + f"/v1/agents/{sid}_ada", timeout=10).json()
    assert agent["requests"] == 2 and agent["cache_size_tokens"] > 0
    public = get(srv, f"/sessions/{sid}/messages")["messages"]
    assert [m["sender_id"] for m in public] == ["system", "ada", "ben", "ada"]
    # A later turn of Ben sees Ada's words: his prompt grew by more than his own reply.
    assert r["turns"][0]["usage"]["prompt_tokens"] > turn["usage"]["prompt_tokens"]


def test_whisper_is_visible_to_sender_and_recipient_only(srv):
    s = create(srv, ["Ann", "Bea", "Cat"], initial_prompt="Plan a party.")
    sid = s["session_id"]
    w = post(srv, f"/sessions/{sid}/whisper",
             {"from_agent_id": "ann", "to_agent_id": "bea", "content": "Cat hates balloons."},
             expect=201)
    assert w["kind"] == "whisper" and w["visible_to"] == ["ann", "bea"]
    assert w["recipient_id"] == "bea"

    def seen(agent):
        return [m["content"] for m in get(srv, f"/sessions/{sid}/messages?agent_id={agent}")
                ["messages"]]
    assert "Cat hates balloons." in seen("ann")
    assert "Cat hates balloons." in seen("bea")
    assert "Cat hates balloons." not in seen("cat")
    assert "Cat hates balloons." not in [m["content"] for m in
                                         get(srv, f"/sessions/{sid}/messages")["messages"]]
    # The whisper is in Bea's and Ann's prompts, not Cat's. In a broadcast round all three
    # answer the same history, so the prompts differ only by names and the whisper.
    sid2 = create(srv, ["Ann", "Bea", "Cat"], topology="broadcast",
                  initial_prompt="Plan a party.")["session_id"]
    post(srv, f"/sessions/{sid2}/whisper",
         {"from_agent_id": "ann", "to_agent_id": "bea", "content": "Cat hates balloons."},
         expect=201)
    by = {t["agent_id"]: t["usage"]["prompt_tokens"]
          for t in post(srv, f"/sessions/{sid2}/round", {"max_tokens": 1})["turns"]}
    assert by["bea"] >= by["cat"] + 6 and by["ann"] >= by["cat"] + 6, by


def test_whisper_topology_passes_replies_down_the_line(srv):
    sid = create(srv, ["Ann", "Bea", "Cat"], topology="whisper",
                 initial_prompt="Pass on a secret word.")["session_id"]
    r = post(srv, f"/sessions/{sid}/round")
    assert [t["message"]["recipient_id"] for t in r["turns"]] == ["bea", "cat", "ann"]
    assert all(t["message"]["kind"] == "whisper" for t in r["turns"])
    assert [m["sender_id"] for m in get(srv, f"/sessions/{sid}/messages")["messages"]] == \
        ["system"]
    cat_sees = [m["sender_id"] for m in
                get(srv, f"/sessions/{sid}/messages?agent_id=cat")["messages"]]
    assert cat_sees == ["system", "bea", "cat"]  # not Ann's whisper to Bea


def vote(srv, sid, agent, choice=None, ranking=None, question="Where?"):
    body = {"agent_id": agent, "question": question}
    if choice is not None:
        body["choice"] = choice
    if ranking is not None:
        body["ranking"] = ranking
    return post(srv, f"/sessions/{sid}/vote", body, expect=201)


def test_votes_are_stored_and_tallied_per_decision_mode(srv):
    names = ["Ann", {"display_name": "Bea", "role": "moderator"}, "Cat"]
    sid = create(srv, names, decision_mode="majority_vote")["session_id"]
    t = vote(srv, sid, "ann", "park")["tally"]
    assert t["decided"] and t["winner"] == "park" and t["missing"] == ["bea", "cat"]
    vote(srv, sid, "bea", "beach")
    t = vote(srv, sid, "cat", "beach")
    assert t["vote"]["choice"] == "beach" and t["vote"]["vote_id"]
    assert t["tally"]["winner"] == "beach"
    assert t["tally"]["counts"] == [{"choice": "beach", "votes": 2}, {"choice": "park", "votes": 1}]
    t = vote(srv, sid, "cat", "park")["tally"]  # a changed vote replaces the old one
    assert t["total_votes"] == 3 and t["winner"] == "park"
    votes = get(srv, f"/sessions/{sid}/votes")
    assert len(votes["votes"]) == 3 and votes["tallies"][0]["winner"] == "park"
    assert get(srv, f"/sessions/{sid}")["tallies"][0]["total_votes"] == 3

    sid = create(srv, names, decision_mode="ranked_choice")["session_id"]
    vote(srv, sid, "ann", ranking=["park", "zoo"])
    vote(srv, sid, "bea", ranking=["beach", "zoo"])
    t = vote(srv, sid, "cat", ranking=["zoo", "beach"])["tally"]
    # 1-1-1: nobody can be eliminated alone, so the runoff ends in a tie.
    assert t["tied"] and not t["decided"] and len(t["rounds"]) == 1
    sid = create(srv, names, decision_mode="ranked_choice")["session_id"]
    vote(srv, sid, "ann", ranking=["park", "beach"])
    vote(srv, sid, "bea", ranking=["beach"])
    vote(srv, sid, "cat", ranking=["beach", "park"])
    t = get(srv, f"/sessions/{sid}/votes")["tallies"][0]
    assert t["winner"] == "beach" and t["decided"]

    sid = create(srv, names, decision_mode="coordinator_decides")["session_id"]
    assert get(srv, f"/sessions/{sid}")["coordinator"] == "bea"
    vote(srv, sid, "ann", "park")
    t = vote(srv, sid, "cat", "park")["tally"]
    assert not t["decided"]
    t = vote(srv, sid, "bea", "beach")["tally"]
    assert t["decided"] and t["winner"] == "beach"

    sid = create(srv, names, decision_mode="consensus")["session_id"]
    vote(srv, sid, "ann", "park")
    t = vote(srv, sid, "bea", "park")["tally"]
    assert not t["decided"] and t["missing"] == ["cat"]
    t = vote(srv, sid, "cat", "park")["tally"]
    assert t["decided"] and t["winner"] == "park"

    sid = create(srv, names)["session_id"]  # decision_mode none
    t = vote(srv, sid, "ann", "park")["tally"]
    assert t["decision_mode"] == "none" and not t["decided"] and t["winner"] is None
    assert t["counts"] == [{"choice": "park", "votes": 1}]


def test_round_stream_is_concurrent_for_broadcast_and_ordered_per_agent(srv):
    s = create(srv, ["Ann", "Bea", "Cat"], topology="broadcast",
               initial_prompt="Each of you: say hello.")
    assert s["concurrent_rounds"]
    sid = s["session_id"]
    with requests.post(srv.base + API + f"/sessions/{sid}/round/stream", json={}, stream=True,
                       timeout=300) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r)
    names = [e for e, _ in events]
    assert names[-1] == "round_complete" and "error" not in names
    for agent in ("ann", "bea", "cat"):
        mine = [(e, d) for e, d in events if e != "round_complete" and d["agent_id"] == agent]
        kinds = [e for e, _ in mine]
        assert kinds[0] == "turn_start" and kinds[-1] == "turn_complete", kinds
        assert set(kinds[1:-1]) <= {"token"} and len(kinds) >= 3
        tokens = [d for e, d in mine if e == "token"]
        assert tokens[-1]["accumulated"] == "".join(t["text"] for t in tokens)
    # All three were submitted before any was recorded.
    first_complete = names.index("turn_complete")
    assert names[:first_complete].count("turn_start") == 3
    done = events[-1][1]
    assert done["concurrent"] and [t["agent_id"] for t in done["turns"]] == ["ann", "bea", "cat"]
    # Everyone answered the same history: no prompt contains another agent's reply, so the
    # prompts differ only by the agents' names.
    sizes = [t["usage"]["prompt_tokens"] for t in done["turns"]]
    assert max(sizes) - min(sizes) <= 4, sizes
    assert [m["sender_id"] for m in get(srv, f"/sessions/{sid}/messages")["messages"]] == \
        ["system", "ann", "bea", "cat"]


def test_turn_stream_event_order(srv):
    sid = create(srv, ["Ann", "Bea"], initial_prompt="Say hi.")["session_id"]
    with requests.post(srv.base + API + f"/sessions/{sid}/turn/stream", json={"max_tokens": 5},
                       stream=True, timeout=300) as r:
        events = sse_events(r)
    kinds = [e for e, _ in events]
    assert kinds[0] == "turn_start" and kinds[-1] == "turn_complete" and "token" in kinds
    assert set(kinds[1:-1]) == {"token"}
    done = events[-1][1]
    assert done["agent_id"] == "ann" and done["usage"]["completion_tokens"] <= 5
    assert done["tokens"] == done["usage"]["completion_tokens"] > 0
    assert done["cached_tokens"] == done["usage"]["cached_tokens"]
    assert done["cache_state"] in ("COLD", "WARM", "HOT") and done["ttft_ms"] > 0
    assert get(srv, f"/sessions/{sid}")["next_speaker"] == "bea"


def test_interrupt_round_gives_the_floor_to_the_first_finisher(srv):
    sid = create(srv, ["Ann", "Bea", "Cat"], topology="interrupt", max_tokens=24,
                 temperature=0.8, initial_prompt="Everyone talk at once about the weather.")[
        "session_id"]
    r = post(srv, f"/sessions/{sid}/round")
    assert r["concurrent"] and len(r["turns"]) == 3
    first = r["turns"][0]
    assert not first["interrupted"] and first["finish_reason"] in ("stop", "length")
    for t in r["turns"][1:]:
        assert t["interrupted"] == (t["finish_reason"] == "interrupted")
        if t["interrupted"]:
            assert t["message"]["interrupted"]
            assert t["usage"]["completion_tokens"] <= 24


def test_busy_session_and_max_turns_get_409(srv):
    """A turn asked for while the session's round runs gets 409. The round is long (greedy SmolLM2
    tells its story on to max_tokens: seconds on any machine) and its stream is closed once the
    conflict is checked, so its length costs nothing: a short round could end before the second
    request arrived on a fast machine. The cut round records nothing and frees the session."""
    sid = create(srv, ["Ann", "Bea"], max_turns=3, initial_prompt="Tell a long story.")[
        "session_id"]
    with requests.post(srv.base + API + f"/sessions/{sid}/round/stream", json={"max_tokens": 1900},
                       stream=True, timeout=300) as r:
        assert r.status_code == 200
        for line in r.iter_lines(chunk_size=1, decode_unicode=True):  # unbuffered
            if line == "event: turn_start":
                break
        busy = requests.post(srv.base + API + f"/sessions/{sid}/turn", json={}, timeout=30)
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "session_busy"
    deadline = time.time() + 30
    while get(srv, f"/sessions/{sid}")["busy"]:
        assert time.time() < deadline, "the cut round never freed the session"
        time.sleep(0.01)
    assert get(srv, f"/sessions/{sid}")["turns_completed"] == 0
    assert len(post(srv, f"/sessions/{sid}/round")["turns"]) == 2
    r = post(srv, f"/sessions/{sid}/round")  # 2 done, 1 left: a partial round
    assert len(r["turns"]) == 1 and not r["active"] and r["next_speaker"] is None
    err = post(srv, f"/sessions/{sid}/turn", expect=409)["error"]
    assert err["code"] == "session_finished"


def test_permanent_agent_resumes_warm_after_restart(srv):
    facts = " ".join(f"Fact {i}: the archive keeps record {i * 7} in vault {i % 5}."
                     for i in range(40))
    s = create(srv, [{"display_name": "Keeper", "lifecycle": "permanent"},
                     {"display_name": "Visitor"}],
               initial_prompt="Here are the archive facts. " + facts,
               persistent_cache_prefix="resume-test")
    sid = s["session_id"]
    first = post(srv, f"/sessions/{sid}/round")["turns"]
    assert first[0]["agent_id"] == "keeper"
    keeper_prompt = first[0]["usage"]["prompt_tokens"]
    assert keeper_prompt > 300
    view = get(srv, f"/sessions/{sid}/messages?agent_id=keeper")["messages"]
    visitor_key = s["agents"][1]["cache_key"]
    assert requests.get(srv.base + f"/v1/agents/{visitor_key}", timeout=10).status_code == 200
    deleted = requests.delete(srv.base + API + f"/sessions/{sid}", timeout=30).json()
    assert deleted["caches_deleted"] == [visitor_key]
    assert requests.get(srv.base + f"/v1/agents/{visitor_key}", timeout=10).status_code == 404
    assert deleted["caches_kept"] == ["persist_resume-test_keeper"]

    srv.restart()  # SIGTERM: the cache is flushed to disk; sessions themselves are gone
    assert get(srv, "/sessions")["total"] == 0
    agent = requests.get(srv.base + "/v1/agents/persist_resume-test_keeper", timeout=10)
    assert agent.status_code == 200 and agent.json()["cache_size_tokens"] >= keeper_prompt - 16

    prior = [{"sender_id": m["sender_id"], "sender_name": m["sender_name"],
              "content": m["content"]} for m in view]
    s2 = create(srv, [{"display_name": "Keeper", "lifecycle": "permanent"},
                      {"display_name": "Newcomer"}],
                persistent_cache_prefix="resume-test", prior_agent_messages={"keeper": prior})
    t = post(srv, f"/sessions/{s2['session_id']}/round")["turns"]
    keeper, newcomer = t[0], t[1]
    assert keeper["agent_id"] == "keeper"
    # Its earlier context came back from the disk cache: almost all of its old prompt.
    assert keeper["usage"]["cached_tokens"] >= keeper_prompt - 32
    assert keeper["cache_state"] == "HOT"
    # The newcomer has no cache of its own; only a short common template prefix can match.
    assert newcomer["usage"]["cached_tokens"] <= 16

    gone = requests.delete(srv.base + API + "/caches/resume-test", timeout=30).json()
    assert gone["agents"] == ["persist_resume-test_keeper"] and gone["deleted"] == 1
    assert requests.get(srv.base + "/v1/agents/persist_resume-test_keeper",
                        timeout=10).status_code == 404


def test_scenario_run_gossip_end_to_end(srv):
    sessions_before = get(srv, "/sessions")["total"]
    out = subprocess.run([str(BUILD / "semantic"), "scenario", "run",
                          str(ROOT / "scenarios" / "gossip.yaml"), "--url", srv.base,
                          "--max-tokens", "10", "--rounds", "1", "--fresh"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr + out.stdout
    text = out.stdout
    for label in ("Phase 1: Alice and Bob, alone", "Phase 2: Alice and Eve, alone",
                  "Phase 3: All three together", "== outcome (summary)"):
        assert label in text
    turns = [line for line in text.splitlines() if " ttft " in line]
    assert len(turns) == 7, text  # 2 + 2 + 3 agents, one round each
    assert "turns: 7 (" in text
    # Alice is permanent: in phase 2 her prompt starts with phase 1's context, read from cache.
    alice_phase2 = [line for line in turns if line.split()[1] == "Alice"][1]
    assert "COLD" not in alice_phase2, text
    assert get(srv, "/sessions")["total"] == sessions_before  # the runner deletes its sessions


def test_scenario_run_reports_a_bad_file(srv, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: X\nagents: {}\nphases:\n  - {name: p, label: P, agents: [zed]}\n")
    out = subprocess.run([str(BUILD / "semantic"), "scenario", "run", str(bad), "--url",
                          srv.base], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "zed" in out.stderr


def test_a_prompt_over_the_context_is_a_400_or_an_error_event(srv):
    sid = create(srv, ["Ann", "Bea"], initial_prompt="word " * 4000)["session_id"]  # > 2048
    err = post(srv, f"/sessions/{sid}/turn", expect=400)["error"]
    assert err["code"] == "context_length_exceeded"
    with requests.post(srv.base + API + f"/sessions/{sid}/round/stream", json={}, stream=True,
                       timeout=120) as r:
        events = sse_events(r)
    assert [e for e, _ in events] == ["error"]
    assert events[0][1]["error"]["code"] == "context_length_exceeded"
    s = get(srv, f"/sessions/{sid}")
    assert s["turns_completed"] == 0 and not s["busy"]  # nothing recorded, flag released
