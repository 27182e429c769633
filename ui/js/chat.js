// Multi-agent chat: one column per agent, each its own session (X-Agent-ID), streaming from
// /v1/chat/completions; per turn the cache badge, TTFT and tok/s; a live TTFT chart per agent.
import { el, streamSse, fmtMs } from "./api.js";
import { setBadge } from "./badge.js";
import { LineChart } from "./chart.js";

const LAYOUT_STORAGE = "semantic.chatAgents";
const DEFAULT_AGENTS = [
  { id: "alice", system: "You are Alice, a cheerful assistant who answers in two sentences." },
  { id: "bob", system: "You are Bob, a terse engineer who answers in one short paragraph." },
  { id: "carol", system: "You are Carol, a curious historian who likes a good anecdote." },
];
const AGENT_ID = /^[A-Za-z0-9_.-]{1,256}$/;

export class ChatPage {
  constructor(root, settings) {
    this.settings = settings;  // {model(), maxTokens(), temperature()}
    this.columns = [];
    this.grid = el("div", { class: "columns", id: "chat-columns" });
    const all = el("textarea", { id: "send-all-input", rows: 2, placeholder: "Message for every agent…" });
    const sendAll = el("button", { id: "send-all", class: "primary", onclick: () => this.sendAll(all) }, "Send to all");
    all.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.sendAll(all); }
    });
    const canvas = el("canvas", { id: "ttft-chart", class: "chart" });
    this.chart = new LineChart(canvas, { yLabel: "TTFT per turn", format: (v) => fmtMs(v) });
    root.append(
      el("div", { class: "toolbar" },
        all, sendAll,
        el("button", { onclick: () => this.stopAll() }, "Stop all"),
        el("button", { id: "add-agent", onclick: () => this.addColumn(this.freshAgent()) }, "+ Agent"),
        el("button", { onclick: () => this.resetAll() }, "New conversations")),
      this.grid,
      el("section", { class: "panel" }, el("h3", {}, "Time to first token per turn"), canvas),
    );
    for (const a of this.loadLayout()) this.addColumn(a);
  }

  loadLayout() {
    try {
      const saved = JSON.parse(localStorage.getItem(LAYOUT_STORAGE));
      if (Array.isArray(saved) && saved.length && saved.every((a) => AGENT_ID.test(a.id))) return saved;
    } catch { /* ignore a bad saved layout */ }
    return DEFAULT_AGENTS.slice(0, 2);
  }

  saveLayout() {
    localStorage.setItem(LAYOUT_STORAGE, JSON.stringify(this.columns.map((c) => ({ id: c.id, system: c.system }))));
  }

  freshAgent() {
    const taken = new Set(this.columns.map((c) => c.id));
    const preset = DEFAULT_AGENTS.find((a) => !taken.has(a.id));
    if (preset) return { ...preset };
    let n = this.columns.length + 1;
    while (taken.has(`agent-${n}`)) n++;
    return { id: `agent-${n}`, system: "You are a helpful assistant." };
  }

  addColumn({ id, system }) {
    const col = { id, system, messages: [], turns: [], busy: false, abort: null };
    const idInput = el("input", { class: "agent-id", value: id, title: "agent id (X-Agent-ID): [A-Za-z0-9_.-]" });
    idInput.addEventListener("change", () => {
      const v = idInput.value.trim();
      if (!AGENT_ID.test(v) || this.columns.some((c) => c !== col && c.id === v)) { idInput.value = col.id; return; }
      col.id = v; col.node.dataset.agent = v; this.saveLayout();
    });
    const sys = el("textarea", { class: "system", rows: 3, value: system });
    sys.addEventListener("change", () => { col.system = sys.value; this.saveLayout(); });
    col.badge = el("span", { class: "badge" });
    setBadge(col.badge);
    col.log = el("div", { class: "log" });
    col.stats = el("div", { class: "turn-stats" }, "no turn yet");
    const input = el("textarea", { class: "message", rows: 2, placeholder: `Message for ${id}…` });
    const send = el("button", { class: "send", onclick: () => this.sendOne(col, input) }, "Send");
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); this.sendOne(col, input); }
    });
    col.node = el("div", { class: "column", dataset: { agent: id } },
      el("div", { class: "column-head" }, idInput, col.badge,
        el("button", { class: "icon", title: "stop", onclick: () => col.abort?.abort() }, "■"),
        el("button", { class: "icon", title: "remove column", onclick: () => this.removeColumn(col) }, "✕")),
      el("details", {}, el("summary", {}, "system prompt"), sys),
      col.log, col.stats,
      el("div", { class: "composer" }, input, send));
    this.columns.push(col);
    this.grid.append(col.node);
    this.saveLayout();
  }

  removeColumn(col) {
    col.abort?.abort();
    col.node.remove();
    this.columns = this.columns.filter((c) => c !== col);
    this.saveLayout();
  }

  resetAll() {
    for (const c of this.columns) {
      c.abort?.abort();
      c.messages = []; c.turns = [];
      c.log.replaceChildren();
      c.stats.textContent = "no turn yet";
      setBadge(c.badge);
    }
    this.chart.clear();
  }

  stopAll() { for (const c of this.columns) c.abort?.abort(); }

  sendOne(col, input) {
    const text = input.value.trim();
    if (!text || col.busy) return;
    input.value = "";
    this.turn(col, text);
  }

  // Every idle column gets the message at once; the requests run concurrently.
  async sendAll(input) {
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    await Promise.all(this.columns.filter((c) => !c.busy).map((c) => this.turn(c, text)));
  }

  async turn(col, text) {
    col.busy = true;
    col.node.classList.add("busy");
    col.messages.push({ role: "user", content: text });
    col.log.append(el("div", { class: "msg user" }, text));
    const out = el("div", { class: "msg assistant streaming", dataset: { chunks: "0" } });
    col.log.append(out);
    col.log.scrollTop = col.log.scrollHeight;
    const messages = col.system.trim() ? [{ role: "system", content: col.system }, ...col.messages] : [...col.messages];
    const body = {
      model: this.settings.model(), messages, stream: true, stream_options: { include_usage: true },
      max_tokens: this.settings.maxTokens(), temperature: this.settings.temperature(),
    };
    col.abort = new AbortController();
    const t0 = performance.now();
    let first = null, usage = null, text_out = "", chunks = 0, finish = null, failure = null;
    try {
      await streamSse("/v1/chat/completions", body, ({ data }) => {
        if (data === "[DONE]" || typeof data !== "object") return;
        if (data.error) { failure = data.error.message || "stream error"; return; }
        const choice = data.choices?.[0];
        const delta = choice?.delta?.content;
        if (delta) {
          if (first === null) first = performance.now();
          text_out += delta;
          out.textContent = text_out;
          out.dataset.chunks = String(++chunks);
          col.log.scrollTop = col.log.scrollHeight;
        }
        if (choice?.finish_reason) finish = choice.finish_reason;
        if (data.usage) usage = data.usage;
      }, { agent: col.id, signal: col.abort.signal });
    } catch (e) {
      failure = e.name === "AbortError" ? "stopped" : e.message;
    }
    const end = performance.now();
    out.classList.remove("streaming");
    col.messages.push({ role: "assistant", content: text_out });
    if (failure) out.append(el("div", { class: "error" }, failure));
    if (usage) {
      const n = col.turns.length + 1;
      const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
      const ttft = (first ?? end) - t0;
      // Decode speed: tokens after the first over the time after the first.
      const decodeS = first === null ? 0 : (end - first) / 1000;
      const tps = usage.completion_tokens > 1 && decodeS > 0 ? (usage.completion_tokens - 1) / decodeS : NaN;
      const turn = { n, ttft, tps, cached, prompt: usage.prompt_tokens, completion: usage.completion_tokens, finish };
      col.turns.push(turn);
      setBadge(col.badge, cached, usage.prompt_tokens);
      col.stats.textContent =
        `turn ${n}: ${col.badge.dataset.state} · ${cached}/${usage.prompt_tokens} cached · ` +
        `TTFT ${fmtMs(ttft)} · ${Number.isFinite(tps) ? tps.toFixed(1) : "–"} tok/s · ${usage.completion_tokens} tokens`;
      col.stats.dataset.turns = String(n);
      out.dataset.turn = String(n);
      out.title = col.stats.textContent;
      this.chart.add(col.id, n, ttft);
    }
    col.abort = null;
    col.busy = false;
    col.node.classList.remove("busy");
  }
}
