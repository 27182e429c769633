// Scenario pages: pick a scenario (scenarios/*.yaml, served as /ui/scenarios.json), then drive it
// phase by phase — start the phase's session, run rounds, end the phase (its transcript feeds the
// next phase's templates) — or run it all; the outcome at the end.
import { el, getJson } from "./api.js";
import { SessionView } from "./session_view.js";
import { ScenarioRun } from "./scenario_run.js";

export class ScenariosPage {
  constructor(root, { onError, settings }) {
    this.onError = onError;
    this.settings = settings;
    this.scenarios = [];
    this.run = null;
    this.picker = el("select", { id: "sc-select", onchange: () => this.pick(this.picker.value) });
    this.info = el("div", { class: "scenario-info" });
    this.phases = el("div", { class: "phase-list", id: "sc-phases" });
    this.status = el("div", { class: "muted", id: "sc-status" });
    this.outcomeBox = el("div", { id: "sc-outcome" });
    const btn = (id, label, f, cls) => el("button", { id, class: cls, onclick: () => this.guard(f) }, label);
    this.fresh = el("input", { type: "checkbox", id: "sc-fresh", checked: true });
    this.controls = el("div", { class: "toolbar" },
      btn("sc-start", "Start phase", () => this.startPhase(), "primary"),
      btn("sc-round", "Run round", () => this.runRounds(1)),
      btn("sc-run-phase", "Run phase", () => this.runRounds(Infinity)),
      btn("sc-end", "End phase", () => this.endPhase()),
      btn("sc-run-all", "Run all phases", () => this.runAll()),
      el("button", { onclick: () => this.view.stop() }, "Stop"),
      btn("sc-reset", "Reset", () => this.reset()),
      el("label", { title: "delete the permanent agents' caches of this scenario before phase 1" }, this.fresh, " fresh caches"),
      this.status);
    const viewRoot = el("div", {});
    this.view = new SessionView(viewRoot, { onError });
    root.append(
      el("section", { class: "panel" }, el("div", { class: "toolbar" }, el("label", {}, "Scenario "), this.picker), this.info, this.phases, this.controls),
      el("section", { class: "panel" }, el("h3", {}, "Outcome"), this.outcomeBox),
      viewRoot);
    this.busy = false;
  }

  // Loads the scenario list once; "#scenarios/<id>" picks that scenario (unless one is running).
  async show(visible) {
    if (!visible) return;
    if (!this.scenarios.length) {
      try {
        this.scenarios = (await getJson("/ui/scenarios.json")).scenarios;
      } catch (e) { this.onError(e.message); return; }
      this.picker.replaceChildren(...this.scenarios.map((s) => el("option", { value: s.id }, s.title || s.id)));
    }
    const wanted = location.hash.split("/")[1];
    const idle = !this.busy && !this.run?.session;
    if (wanted && wanted !== this.run?.scenario.id && idle && this.scenarios.some((s) => s.id === wanted)) {
      this.picker.value = wanted;
      this.pick(wanted);
    } else if (!this.run) {
      this.pick(this.picker.value);
    }
  }

  pick(id) {
    const sc = this.scenarios.find((s) => s.id === id);
    if (!sc) return;
    this.run = new ScenarioRun(sc);
    this.view.colors = Object.fromEntries(sc.agents.filter((a) => a.color).map((a) => [a.key, a.color]));
    this.info.replaceChildren(el("p", {}, sc.description || ""),
      el("div", { class: "legend" }, ...sc.agents.map((a) => {
        const s = el("span", { class: "legend-item" }, `${a.display_name} (${a.role}, ${a.lifecycle})`);
        if (a.color) s.style.color = a.color;
        return s;
      })));
    this.outcomeBox.replaceChildren(el("span", { class: "muted" }, "not finished"));
    this.renderPhases();
  }

  renderPhases() {
    const r = this.run;
    this.phases.replaceChildren(...r.scenario.phases.map((p, i) => el("div", {
      class: "phase" + (i < r.phaseIndex || r.finished ? " done" : i === r.phaseIndex ? " current" : ""),
      dataset: { phase: p.name }, title: `${p.topology} · ${p.agents.join(", ")} · ${p.auto_rounds} rounds`,
    }, p.label || p.name)));
    const ph = r.phase;
    this.status.textContent = r.finished ? "finished"
      : r.session ? `${ph.label || ph.name}: round ${r.roundsDone} of ${ph.auto_rounds}`
        : `${ph.label || ph.name}: not started`;
    this.status.dataset.state = r.finished ? "finished" : r.session ? "running" : "idle";
  }

  async guard(f) {
    if (this.busy) return;
    this.busy = true;
    try { await f(); } catch (e) { this.onError(e.message); }
    this.busy = false;
    this.renderPhases();
  }

  maxTokens() { return this.settings.maxTokens(); }

  async startPhase() {
    const r = this.run;
    if (r.finished || r.session) return;
    if (r.phaseIndex === 0 && this.fresh.checked) await r.forget();
    this.view.attach(await r.startPhase(this.maxTokens()));
  }

  async runRounds(n) {
    const r = this.run;
    if (!r.session) await this.startPhase();
    if (!r.session) return;
    for (let i = 0; i < n && r.roundsDone < r.phase.auto_rounds; i++) {
      const done = await this.view.run(true, { max_tokens: this.maxTokens(), temperature: this.settings.temperature() });
      if (!done) break;
      for (const t of done.turns) r.noteTurn(t);
      r.roundsDone += 1;
      this.renderPhases();
      if (done.last.active === false) break;
    }
  }

  async endPhase() {
    const r = this.run;
    if (!r.session) return;
    await r.endPhase();
    if (r.finished) this.outcomeBox.replaceChildren(...r.outcome().map((l) => el("div", { class: "outcome-line" }, l)));
  }

  async runAll() {
    const r = this.run;
    while (!r.finished) {
      await this.runRounds(Infinity);
      if (!r.session || r.roundsDone < r.phase.auto_rounds) break;  // stopped or failed
      await this.endPhase();
      this.renderPhases();
    }
  }

  async reset() {
    if (this.run?.session) await this.run.endPhase().catch(() => {});
    this.pick(this.run.scenario.id);
  }
}
