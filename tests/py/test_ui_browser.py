"""The web UI in headless Chromium (Debian's chromium + chromedriver, Selenium from PyPI) against
the real server: the multi-agent chat streams into each agent's column concurrently and the cache
badges go COLD -> WARM/HOT on the second turn; the TTFT chart and the memory inspector follow.
Screenshots go to the test's tmp directory (the path is printed)."""
import os
import shutil
import time

import pytest

from conftest import ServerProcess

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    pytest.skip("Debian chromium and chromium-driver are not installed (scripts/setup.sh installs "
                "them)", allow_module_level=True)
from selenium import webdriver  # noqa: E402  (pinned in scripts/requirements-test.txt)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory):
    s = ServerProcess(["--context", "2048", "--cache-budget", "128MiB", "--server-admin-key", "ui-adm",
                       "--cache-dir", tmp_path_factory.mktemp("ui-kv")], "pytest-ui.log").start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    d = tmp_path_factory.mktemp("ui-screenshots")
    print(f"\nUI screenshots: {d}")
    return d


@pytest.fixture(scope="module")
def browser():
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager go online
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1500,1100", "--no-first-run", "--disable-extensions"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    d.set_script_timeout(30)
    yield d
    d.quit()


def wait(d, what, timeout=90):
    """Polls what() until truthy; an element replaced while being read counts as not yet."""
    return WebDriverWait(d, timeout, poll_frequency=0.1,
                         ignored_exceptions=[StaleElementReferenceException]).until(lambda _: what())


def columns(d):
    return d.find_elements(By.CSS_SELECTOR, "#chat-columns .column")


def set_field(d, element_id, value):
    d.execute_script("const e = document.getElementById(arguments[0]); e.value = arguments[1];"
                     "e.dispatchEvent(new Event('change'));", element_id, str(value))


# Records, for every column, each distinct length its streaming answer had in the DOM: a streamed
# answer shows several growing lengths, one set in a single piece shows one.
RECORDER = """
window.__lengths = {};
const grid = document.getElementById('chat-columns');
new MutationObserver(() => {
  for (const col of grid.querySelectorAll('.column')) {
    const msgs = col.querySelectorAll('.msg.assistant');
    const last = msgs[msgs.length - 1];
    if (!last) continue;
    const key = col.dataset.agent + '#' + msgs.length;
    const seen = (window.__lengths[key] = window.__lengths[key] || []);
    const n = last.textContent.length;
    if (n && seen[seen.length - 1] !== n) seen.push(n);
  }
}).observe(grid, {subtree: true, childList: true, characterData: true});
"""


def send_to_all(d, text, turn):
    box = d.find_element(By.ID, "send-all-input")
    box.clear()
    box.send_keys(text)
    d.find_element(By.ID, "send-all").click()
    wait(d, lambda: all(c.find_element(By.CSS_SELECTOR, ".turn-stats").get_attribute("data-turns")
                        == str(turn) for c in columns(d)))


def badge_of(col):
    return col.find_element(By.CSS_SELECTOR, ".column-head .badge").get_attribute("data-state")


def severe_console_errors(d):
    return [e for e in d.get_log("browser") if e["level"] == "SEVERE"]


def test_multi_agent_chat_streams_and_warms_the_cache(ui_server, browser, shots):
    d = browser
    d.get(ui_server.base + "/ui")
    wait(d, lambda: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true", 20)
    wait(d, lambda: d.find_element(By.ID, "status-ready").text == "ready", 20)
    assert len(columns(d)) == 2
    d.find_element(By.ID, "add-agent").click()
    agents = [c.get_attribute("data-agent") for c in columns(d)]
    assert agents == ["alice", "bob", "carol"]
    assert all(badge_of(c) == "NEW" for c in columns(d))
    set_field(d, "max-tokens", 48)
    set_field(d, "temperature", 0)
    d.execute_script(RECORDER)

    started = time.time()
    send_to_all(d, "Say hello and introduce yourself.", 1)
    d.save_screenshot(str(shots / "chat-turn1.png"))
    lengths = d.execute_script("return window.__lengths")
    for col in columns(d):
        agent = col.get_attribute("data-agent")
        answer = col.find_elements(By.CSS_SELECTOR, ".msg.assistant")[-1]
        assert answer.text.strip(), agent
        assert "streaming" not in answer.get_attribute("class")
        assert int(answer.get_attribute("data-chunks")) > 1, agent
        # Tokens arrived in the column one piece after another, not as one final text.
        seen = lengths[agent + "#1"]
        assert len(seen) > 1 and seen == sorted(seen), (agent, seen)
        assert badge_of(col) == "COLD", (agent, col.find_element(By.CSS_SELECTOR, ".turn-stats").text)
        stats = col.find_element(By.CSS_SELECTOR, ".turn-stats").text
        assert stats.startswith("turn 1: COLD · 0/") and "TTFT" in stats and "tok/s" in stats

    send_to_all(d, "Now tell me one fact about caches.", 2)
    d.save_screenshot(str(shots / "chat-turn2.png"))
    for col in columns(d):
        agent = col.get_attribute("data-agent")
        badge = col.find_element(By.CSS_SELECTOR, ".column-head .badge")
        assert badge.get_attribute("data-state") in ("WARM", "HOT"), agent
        cached, prompt = badge.get_attribute("title").split(" prompt")[0].split(" of ")
        assert 0 < int(cached) <= int(prompt), (agent, badge.get_attribute("title"))
        assert len(d.execute_script("return window.__lengths")[agent + "#2"]) > 1, agent
    # The TTFT chart has one point per agent per turn.
    assert d.find_element(By.ID, "ttft-chart").get_attribute("data-points") == "6"
    print(f"chat: 2 turns x 3 agents in {time.time() - started:.1f} s")

    # Memory inspector: the three sessions, in RAM, with the pool in use. Auto-refresh off, so
    # the table is not rebuilt while the test reads it.
    d.find_element(By.CSS_SELECTOR, 'nav a[href="#memory"]').click()
    d.find_element(By.ID, "memory-auto").click()
    wait(d, lambda: len(d.find_elements(By.CSS_SELECTOR, "#agents-table tbody tr[data-agent]")) == 3,
         20)
    rows = {r.get_attribute("data-agent"): r
            for r in d.find_elements(By.CSS_SELECTOR, "#agents-table tbody tr[data-agent]")}
    assert set(rows) == set(agents)
    assert all(r.find_element(By.CSS_SELECTOR, ".tier").text == "hot" for r in rows.values())
    hot = d.find_element(By.CSS_SELECTOR, '#memory-tiers [data-tier="hot"] .card-value').text
    assert hot == "3"
    # Pin one agent from the table; the row shows it after the refresh.
    rows["bob"].find_element(By.XPATH, ".//button[text()='Pin']").click()
    wait(d, lambda: d.find_element(By.CSS_SELECTOR, '#agents-table tr[data-agent="bob"] td:nth-child(5)')
         .text == "yes", 20)
    d.save_screenshot(str(shots / "memory.png"))
    # Clear every cache (DELETE /admin/caches with the admin key entered under Settings).
    set_field(d, "admin-key", "ui-adm")
    d.find_element(By.XPATH, "//button[text()='Clear every cache']").click()
    wait(d, lambda: not d.find_elements(By.CSS_SELECTOR, "#agents-table tbody tr[data-agent]"), 20)
    assert d.find_element(By.CSS_SELECTOR, '#memory-tiers [data-tier="hot"] .card-value').text == "0"
    assert severe_console_errors(d) == []


# Same recorder for the session columns of the scenario page.
SESSION_RECORDER = """
window.__slengths = {};
const root = document.getElementById('page-scenarios');
new MutationObserver(() => {
  for (const col of root.querySelectorAll('.session-columns .column')) {
    const msgs = col.querySelectorAll('.msg.assistant');
    const last = msgs[msgs.length - 1];
    if (!last) continue;
    const key = col.dataset.agent + '#' + msgs.length;
    const seen = (window.__slengths[key] = window.__slengths[key] || []);
    const n = last.textContent.length;
    if (n && seen[seen.length - 1] !== n) seen.push(n);
  }
}).observe(root, {subtree: true, childList: true, characterData: true});
"""


def scenario_columns(d):
    return {c.get_attribute("data-agent"): c
            for c in d.find_elements(By.CSS_SELECTOR, "#page-scenarios .session-columns .column")}


def run_scenario_round(d, rounds_done):
    d.find_element(By.ID, "sc-round").click()
    wait(d, lambda: f"round {rounds_done} of" in d.find_element(By.ID, "sc-status").text)


def test_gossip_scenario_round_streams_and_reuses_caches(ui_server, browser, shots):
    d = browser
    d.get(ui_server.base + "/ui#scenarios/gossip")
    wait(d, lambda: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true", 20)
    wait(d, lambda: d.find_element(By.ID, "sc-select").get_attribute("value") == "gossip", 20)
    phases = [p.get_attribute("data-phase") for p in d.find_elements(By.CSS_SELECTOR, "#sc-phases .phase")]
    assert phases == ["alice_bob", "alice_eve", "reunion"]
    set_field(d, "max-tokens", 32)
    d.execute_script(SESSION_RECORDER)

    # Phase 1, round 1: Alice and Bob speak for the first time.
    d.find_element(By.ID, "sc-start").click()
    wait(d, lambda: set(scenario_columns(d)) == {"alice", "bob"}, 20)
    run_scenario_round(d, 1)
    cols = scenario_columns(d)
    lengths = d.execute_script("return window.__slengths")
    for agent, col in cols.items():
        answer = col.find_elements(By.CSS_SELECTOR, ".msg.assistant")[-1]
        assert answer.text.strip(), agent
        assert len(lengths[agent + "#1"]) > 1, (agent, lengths)  # streamed, not set at once
        assert badge_of(col) == "COLD", (agent, col.find_element(By.CSS_SELECTOR, ".turn-stats").text)
    d.save_screenshot(str(shots / "gossip-round1.png"))

    # Round 2: each agent's prompt extends its own cached context.
    run_scenario_round(d, 2)
    for agent, col in scenario_columns(d).items():
        assert badge_of(col) in ("WARM", "HOT"), (agent, col.find_element(By.CSS_SELECTOR, ".turn-stats").text)
        assert len(d.execute_script("return window.__slengths")[agent + "#2"]) > 1, agent
    d.save_screenshot(str(shots / "gossip-round2.png"))

    # Next phase: Alice is permanent, so her first turn in the new session reuses her cache from
    # phase 1; Eve has never spoken.
    d.find_element(By.ID, "sc-end").click()
    wait(d, lambda: d.find_element(By.CSS_SELECTOR, '#sc-phases .phase.current').get_attribute("data-phase")
         == "alice_eve", 20)
    d.find_element(By.ID, "sc-start").click()
    wait(d, lambda: set(scenario_columns(d)) == {"alice", "eve"}, 20)
    run_scenario_round(d, 1)
    cols = scenario_columns(d)
    assert badge_of(cols["alice"]) in ("WARM", "HOT"), cols["alice"].find_element(By.CSS_SELECTOR, ".turn-stats").text
    assert badge_of(cols["eve"]) == "COLD", cols["eve"].find_element(By.CSS_SELECTOR, ".turn-stats").text
    assert d.find_elements(By.CSS_SELECTOR, "#page-scenarios .transcript .line")
    d.save_screenshot(str(shots / "gossip-phase2.png"))

    # The rest in one go, shorter: phase 3 (all three, each with its private memories from the
    # transcripts of phases 1 and 2), then the outcome.
    set_field(d, "max-tokens", 12)
    d.find_element(By.ID, "sc-run-all").click()
    wait(d, lambda: d.find_element(By.ID, "sc-status").get_attribute("data-state") == "finished", 120)
    assert set(scenario_columns(d)) == {"alice", "bob", "eve"}
    outcome = d.find_element(By.ID, "sc-outcome").text
    assert outcome and outcome != "not finished" and ": " in outcome
    assert all(p.get_attribute("class") == "phase done"
               for p in d.find_elements(By.CSS_SELECTOR, "#sc-phases .phase"))
    d.save_screenshot(str(shots / "gossip-outcome.png"))
    assert severe_console_errors(d) == []


def test_session_builder_creates_a_session_and_runs_a_round(ui_server, browser, shots):
    d = browser
    d.get(ui_server.base + "/ui#coordination")
    wait(d, lambda: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true", 20)
    set_field(d, "max-tokens", 16)
    d.find_element(By.ID, "co-create").click()
    cols = lambda: d.find_elements(By.CSS_SELECTOR, "#page-coordination .session-columns .column")  # noqa: E731
    wait(d, lambda: len(cols()) == 3, 20)
    assert [c.get_attribute("data-agent") for c in cols()] == ["ada", "ben", "cleo"]
    d.find_element(By.ID, "co-round").click()
    wait(d, lambda: all(c.find_element(By.CSS_SELECTOR, ".turn-stats").get_attribute("data-turns") == "1"
                        for c in cols()))
    for c in cols():
        assert c.find_elements(By.CSS_SELECTOR, ".msg.assistant")[-1].text.strip()
        assert badge_of(c) in ("COLD", "WARM", "HOT")
    # The session is listed, and its public transcript holds the prompt and three turns.
    wait(d, lambda: "round_robin" in d.find_element(By.CSS_SELECTOR, "#page-coordination .session-list").text, 20)
    wait(d, lambda: len(d.find_elements(By.CSS_SELECTOR, "#page-coordination .transcript .line")) >= 4,
         20)
    d.save_screenshot(str(shots / "coordination.png"))
    assert severe_console_errors(d) == []


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    s = ServerProcess(["--context", "1024", "--api-keys", "ui-secret",
                       "--cache-dir", tmp_path_factory.mktemp("ui-kv-keyed")],
                      "pytest-ui-keyed.log").start()
    yield s
    s.stop()


def test_ui_with_auth_sends_the_key_the_user_enters(keyed_server, browser, shots):
    d = browser
    d.get(keyed_server.base + "/ui")
    d.execute_script("localStorage.clear()")
    d.get(keyed_server.base + "/ui")
    wait(d, lambda: d.find_element(By.ID, "status-agents").text == "API key needed", 20)
    d.find_element(By.CSS_SELECTOR, "details.settings summary").click()
    set_field(d, "api-key", "ui-secret")
    wait(d, lambda: "agents" in d.find_element(By.ID, "status-agents").text, 20)
    assert d.execute_script("return localStorage.getItem('semantic.apiKey')") == "ui-secret"
    d.find_element(By.CSS_SELECTOR, "details.settings summary").click()
    set_field(d, "max-tokens", 8)
    col = columns(d)[0]
    col.find_element(By.CSS_SELECTOR, ".composer textarea").send_keys("Hi")
    col.find_element(By.CSS_SELECTOR, ".composer .send").click()
    wait(d, lambda: col.find_element(By.CSS_SELECTOR, ".turn-stats").get_attribute("data-turns") == "1")
    assert not col.find_elements(By.CSS_SELECTOR, ".msg .error")
    assert badge_of(col) == "COLD"
    d.save_screenshot(str(shots / "auth.png"))
    # A wrong key: the turn fails with the server's 401 message in the column.
    set_field(d, "api-key", "wrong")
    col.find_element(By.CSS_SELECTOR, ".composer textarea").send_keys("Again")
    col.find_element(By.CSS_SELECTOR, ".composer .send").click()
    wait(d, lambda: col.find_elements(By.CSS_SELECTOR, ".msg .error"), 20)
    assert "401" in col.find_element(By.CSS_SELECTOR, ".msg .error").text
    d.execute_script("localStorage.clear()")
