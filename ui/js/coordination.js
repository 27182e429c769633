// Coordination page: a session builder (topology, debate format, decision mode, agents, prompts)
// for POST /v1/coordination/sessions, the list of sessions, and a session view with turn / round
// controls, whisper and vote.
import { el, getJson, postJson, request } from "./api.js";
import { SessionView } from "./session_view.js";

const TOPOLOGIES = ["turn_by_turn", "round_robin", "broadcast", "whisper", "interrupt"];
const FORMATS = ["free_form", "structured", "socratic", "devils_advocate", "parliamentary"];
const DECISIONS = ["none", "majority_vote", "ranked_choice", "coordinator_decides", "consensus"];
const STARTER = [
  { display_name: "Ada", role: "moderator", system_prompt: "You are Ada, a fair moderator. Keep the discussion on track in two sentences.", lifecycle: "ephemeral" },
  { display_name: "Ben", role: "participant", system_prompt: "You are Ben, an optimist. Answer in two sentences.", lifecycle: "ephemeral" },
  { display_name: "Cleo", role: "participant", system_prompt: "You are Cleo, a sceptic. Answer in two sentences.", lifecycle: "ephemeral" },
];

const select = (id, values, value) =>
  el("select", { id }, ...values.map((v) => el("option", { value: v, selected: v === value }, v)));

export class CoordinationPage {
  constructor(root, { onError, settings }) {
    this.onError = onError;
    this.settings = settings;
    this.agentRows = el("div", { class: "agent-rows" });
    this.list = el("div", { class: "session-list" });
    const form = el("div", { class: "form" },
      el("label", {}, "Topology"), select("co-topology", TOPOLOGIES, "round_robin"),
      el("label", {}, "Debate format"), select("co-format", FORMATS, "free_form"),
      el("label", {}, "Decision mode"), select("co-decision", DECISIONS, "none"),
      el("label", {}, "Max turns"), el("input", { id: "co-max-turns", type: "number", min: 0, max: 1000, value: "0", title: "0: unlimited" }),
      el("label", {}, "Persistent cache prefix"), el("input", { id: "co-prefix", placeholder: "optional: permanent agents keep their cache under persist_<prefix>_<agent>" }),
      el("label", {}, "Initial prompt"), el("textarea", { id: "co-initial", rows: 3, value: "Should our team adopt a four-day work week? Discuss." }),
      el("label", { class: "full" }, "Agents (display name · role · system prompt · lifecycle)"),
      el("div", { class: "full" }, this.agentRows,
        el("button", { onclick: () => this.addAgentRow({ display_name: "", role: "participant", system_prompt: "", lifecycle: "ephemeral" }) }, "+ Agent")),
      el("div", { class: "full" }, el("button", { id: "co-create", class: "primary", onclick: () => this.create() }, "Create session")));
    for (const a of STARTER) this.addAgentRow(a);

    this.viewRoot = el("div", {});
    this.view = new SessionView(this.viewRoot, { onError });
    const rounds = el("input", { id: "co-rounds", type: "number", min: 1, max: 50, value: "1" });
    this.controls = el("div", { class: "toolbar", hidden: true },
      el("button", { id: "co-turn", onclick: () => this.view.run(false, this.turnSettings()) }, "Next turn"),
      el("button", { id: "co-round", class: "primary", onclick: () => this.rounds(1) }, "Run round"),
      el("button", { onclick: () => this.rounds(parseInt(rounds.value, 10) || 1) }, "Run"), rounds, "rounds",
      el("button", { onclick: () => this.view.stop() }, "Stop"),
      el("button", { onclick: () => this.deleteCurrent() }, "Delete session"));
    this.whisperForm = this.makeWhisper();
    this.voteForm = this.makeVote();
    root.append(
      el("section", { class: "panel" }, el("h3", {}, "New session"), form),
      el("section", { class: "panel" }, el("h3", {}, "Sessions"), this.list),
      el("section", { class: "panel session-panel" }, el("h3", {}, "Session"), this.controls, this.viewRoot,
        this.whisperForm, this.voteForm));
  }

  turnSettings() {
    return { max_tokens: this.settings.maxTokens(), temperature: this.settings.temperature() };
  }

  async rounds(n) {
    for (let i = 0; i < n; i++) {
      const r = await this.view.run(true, this.turnSettings());
      if (!r || r.last.active === false) break;
    }
    this.refreshList();
  }

  addAgentRow(a) {
    const row = el("div", { class: "agent-row" },
      el("input", { class: "a-name", value: a.display_name, placeholder: "name" }),
      el("input", { class: "a-role", value: a.role, placeholder: "role" }),
      el("textarea", { class: "a-system", rows: 1, value: a.system_prompt, placeholder: "system prompt" }),
      select("", ["ephemeral", "permanent"], a.lifecycle),
      el("button", { class: "icon", title: "remove", onclick: () => row.remove() }, "✕"));
    this.agentRows.append(row);
  }

  async create() {
    const agents = [...this.agentRows.children].map((r) => ({
      display_name: r.querySelector(".a-name").value.trim(),
      role: r.querySelector(".a-role").value.trim() || "participant",
      system_prompt: r.querySelector(".a-system").value,
      lifecycle: r.querySelector("select").value,
    }));
    const body = {
      topology: document.getElementById("co-topology").value,
      debate_format: document.getElementById("co-format").value,
      decision_mode: document.getElementById("co-decision").value,
      max_turns: parseInt(document.getElementById("co-max-turns").value, 10) || 0,
      initial_prompt: document.getElementById("co-initial").value,
      agents,
    };
    const prefix = document.getElementById("co-prefix").value.trim();
    if (prefix) body.persistent_cache_prefix = prefix;
    try {
      this.open(await postJson("/v1/coordination/sessions", body));
    } catch (e) { this.onError(e.message); }
    this.refreshList();
  }

  open(session) {
    this.view.attach(session);
    this.controls.hidden = this.whisperForm.hidden = this.voteForm.hidden = false;
    for (const s of this.whisperForm.querySelectorAll("select")) {
      s.replaceChildren(...session.agents.map((a) => el("option", { value: a.agent_id }, a.display_name)));
    }
    this.whisperForm.querySelectorAll("select")[1].selectedIndex = Math.min(1, session.agents.length - 1);
    this.voteForm.querySelector("select").replaceChildren(...session.agents.map((a) => el("option", { value: a.agent_id }, a.display_name)));
    this.view.refresh().catch(() => {});
  }

  async deleteCurrent() {
    if (!this.view.session) return;
    try { await request("DELETE", `/v1/coordination/sessions/${this.view.session.session_id}`); } catch (e) { this.onError(e.message); }
    this.view.session = null;
    this.viewRoot.querySelector(".session-columns").replaceChildren();
    this.controls.hidden = this.whisperForm.hidden = this.voteForm.hidden = true;
    this.refreshList();
  }

  makeWhisper() {
    const text = el("input", { placeholder: "whisper…", class: "grow" });
    const form = el("div", { class: "toolbar", hidden: true }, "Whisper from", el("select", {}), "to", el("select", {}), text,
      el("button", { onclick: async () => {
        const [from, to] = form.querySelectorAll("select");
        try { await this.view.whisper(from.value, to.value, text.value); text.value = ""; } catch (e) { this.onError(e.message); }
      } }, "Send whisper"));
    return form;
  }

  makeVote() {
    const q = el("input", { placeholder: "question", value: "Adopt the proposal?" });
    const c = el("input", { placeholder: "choice", value: "yes" });
    const form = el("div", { class: "toolbar", hidden: true }, "Vote as", el("select", {}), q, c,
      el("button", { onclick: async () => {
        try { await this.view.vote(form.querySelector("select").value, q.value, c.value); } catch (e) { this.onError(e.message); }
      } }, "Cast vote"));
    return form;
  }

  async refreshList() {
    let r;
    try { r = await getJson("/v1/coordination/sessions"); } catch (e) {
      this.list.replaceChildren(el("span", { class: "muted" }, e.status === 404 ? "this server has no coordination API" : e.message));
      return;
    }
    const sessions = r.sessions || r.data || [];
    this.list.replaceChildren(...(sessions.length ? sessions.map((s) => el("div", { class: "session-item" },
      el("span", { class: "mono" }, s.session_id), ` · ${s.topology} · ${s.agents.map((a) => a.display_name).join(", ")} · ${s.turns_completed ?? 0} turns `,
      el("button", { class: "small", onclick: () => this.open(s) }, "Open"))) : [el("span", { class: "muted" }, "no sessions")]));
  }

  show(visible) { if (visible) this.refreshList(); }
}
