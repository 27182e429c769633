// One coordination session on screen: a column per agent into which its turns stream (SSE from
// /v1/coordination/sessions/{id}/turn/stream and …/round/stream), the cache badge and TTFT of each
// turn, a TTFT chart per agent, the public transcript, and whisper / vote forms.
import { el, streamSse, getJson, postJson, fmtMs } from "./api.js";
import { setBadge } from "./badge.js";
import { LineChart } from "./chart.js";

export class SessionView {
  constructor(root, { onError, colors = {} } = {}) {
    this.onError = onError || (() => {});
    this.colors = colors;  // agent id -> CSS colour (scenario hints)
    this.session = null;
    this.abort = null;
    this.cols = new Map();  // agent id -> {node, log, badge, stats, turns}
    this.head = el("div", { class: "session-head muted" });
    this.grid = el("div", { class: "columns session-columns" });
    const canvas = el("canvas", { class: "chart session-chart" });
    this.chart = new LineChart(canvas, { yLabel: "TTFT per turn (server)", format: (v) => fmtMs(v) });
    this.transcript = el("div", { class: "transcript" });
    this.tallies = el("div", { class: "tallies" });
    root.append(this.head, this.grid,
      el("section", { class: "panel" }, el("h3", {}, "Time to first token per turn"), canvas),
      el("section", { class: "panel" }, el("h3", {}, "Public transcript"), this.transcript),
      el("section", { class: "panel" }, el("h3", {}, "Votes"), this.tallies));
  }

  get busy() { return this.abort !== null; }

  attach(session) {
    this.session = session;
    this.cols.clear();
    this.grid.replaceChildren();
    this.chart.clear();
    for (const a of session.agents) {
      const badge = el("span", { class: "badge" });
      setBadge(badge);
      const log = el("div", { class: "log" });
      const stats = el("div", { class: "turn-stats" }, "no turn yet");
      const name = el("span", { class: "agent-name" }, a.display_name);
      if (this.colors[a.agent_id]) name.style.color = this.colors[a.agent_id];
      const node = el("div", { class: "column", dataset: { agent: a.agent_id } },
        el("div", { class: "column-head" }, name, el("span", { class: "muted small" }, a.role), badge),
        el("details", {}, el("summary", {}, "system prompt · cache " + a.cache_key), el("div", { class: "muted small" }, a.system_prompt || "(none)")),
        log, stats);
      this.cols.set(a.agent_id, { node, log, badge, stats, turns: 0, current: null });
      this.grid.append(node);
    }
    this.updateHead(session);
    this.refreshTranscript();
  }

  updateHead(s) {
    this.head.textContent = `${s.session_id} · ${s.topology} · ${s.debate_format} · decision ${s.decision_mode}` +
      ` · turns ${s.turns_completed ?? 0}${s.max_turns ? "/" + s.max_turns : ""} · ` +
      (s.active === false ? "finished" : `next: ${s.next_speaker ?? "–"}`);
  }

  async refresh() {
    if (!this.session) return;
    const s = await getJson(`/v1/coordination/sessions/${this.session.session_id}`);
    this.session = s;
    this.updateHead(s);
    this.showTallies(s.tallies || []);
  }

  showTallies(tallies) {
    this.tallies.replaceChildren(...(tallies.length ? tallies.map((t) => el("div", { class: "tally" },
      el("strong", {}, t.question), ": ",
      t.counts.map((c) => `${c.choice} ${c.votes}`).join(", "),
      ` → ${t.winner ?? "undecided"}`, t.reason ? ` (${t.reason})` : "")) : [el("span", { class: "muted" }, "no votes")]));
  }

  async refreshTranscript() {
    if (!this.session) return;
    try {
      const m = await getJson(`/v1/coordination/sessions/${this.session.session_id}/messages`);
      this.transcript.replaceChildren(...m.messages.map((x) => el("div", { class: "line", dataset: { kind: x.kind } },
        el("strong", {}, x.sender_name + ": "), x.content)));
    } catch (e) { this.onError(e.message); }
  }

  // One streamed turn (`round` false) or round (true). Resolves to {last, turns}: the final event's
  // data (round_complete, or the turn's turn_complete) and every turn_complete of the run; null
  // when nothing could run.
  async run(round, settings = {}) {
    if (!this.session || this.busy) return null;
    this.abort = new AbortController();
    const path = `/v1/coordination/sessions/${this.session.session_id}/${round ? "round" : "turn"}/stream`;
    const result = { last: null, turns: [], failed: false };
    try {
      await streamSse(path, settings, ({ event, data }) => this.onEvent(event, data, result),
        { signal: this.abort.signal });
    } catch (e) {
      result.failed = true;
      if (e.name !== "AbortError") this.onError(e.message);
    } finally {
      this.abort = null;
      for (const c of this.cols.values()) c.node.classList.remove("busy");
    }
    await this.refresh().catch((e) => this.onError(e.message));
    await this.refreshTranscript();
    return result.failed || !result.last ? null : result;
  }

  stop() { this.abort?.abort(); }

  onEvent(event, d, result) {
    const col = d && this.cols.get(d.agent_id);
    if (event === "turn_start" && col) {
      col.node.classList.add("busy");
      col.current = el("div", { class: "msg assistant streaming", dataset: { chunks: "0", turn: String(d.turn) } });
      col.log.append(col.current);
    } else if (event === "token" && col) {
      if (!col.current) { col.current = el("div", { class: "msg assistant streaming", dataset: { chunks: "0" } }); col.log.append(col.current); }
      col.current.textContent = d.accumulated ?? (col.current.textContent + d.text);
      col.current.dataset.chunks = String(Number(col.current.dataset.chunks) + 1);
      col.log.scrollTop = col.log.scrollHeight;
    } else if (event === "turn_complete" && col) {
      col.node.classList.remove("busy");
      const msg = col.current || el("div", { class: "msg assistant" });
      if (!col.current) col.log.append(msg);
      msg.classList.remove("streaming");
      msg.textContent = d.content ?? msg.textContent;
      if (d.interrupted) msg.append(el("div", { class: "muted small" }, "(interrupted)"));
      col.current = null;
      col.turns += 1;
      const u = d.usage || {};
      setBadge(col.badge, u.cached_tokens ?? 0, u.prompt_tokens ?? 0, d.cache_state);
      col.stats.textContent = `turn ${col.turns}: ${col.badge.dataset.state} · ${u.cached_tokens}/${u.prompt_tokens} cached · ` +
        `TTFT ${fmtMs(d.ttft_ms)} · ${u.completion_tokens} tokens · ${fmtMs(d.duration_ms)}`;
      col.stats.dataset.turns = String(col.turns);
      msg.title = col.stats.textContent;
      this.chart.add(this.agentName(d.agent_id), col.turns, d.ttft_ms, this.colors[d.agent_id]);
      result.turns.push(d);
      result.last = d;
    } else if (event === "round_complete") {
      result.last = d;
    } else if (event === "error") {
      result.failed = true;
      this.onError(d?.error?.message || "the turn failed");
      for (const c of this.cols.values()) { c.current?.classList.remove("streaming"); c.current = null; }
    }
  }

  agentName(id) {
    return this.session.agents.find((a) => a.agent_id === id)?.display_name || id;
  }

  async whisper(from, to, content) {
    await postJson(`/v1/coordination/sessions/${this.session.session_id}/whisper`,
      { from_agent_id: from, to_agent_id: to, content });
    await this.refreshTranscript();
  }

  async vote(agent, question, choice) {
    const r = await postJson(`/v1/coordination/sessions/${this.session.session_id}/vote`,
      { agent_id: agent, question, choice });
    await this.refresh();
    return r;
  }
}
