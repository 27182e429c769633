// Running a scenario as a client of /v1/coordination, as `semantic scenario run` does
// (tools/semantic/scenario_cmd.cpp): one session per phase, templates filled from the transcripts
// of earlier phases, permanent agents' earlier views carried over as prior messages (so each one's
// prompt extends what its persistent cache holds), the outcome read from the last statements.
import { getJson, postJson, request } from "./api.js";

// "semantic scenario" uses the scenario id, made safe, as the persistent cache prefix.
export function cachePrefix(id) { return id.replace(/[^A-Za-z0-9.-]/g, "_").slice(0, 64); }

// ${phase.messages[agent]}: the phase's public lines from that agent's view ("You" for its own),
// system lines left out; "(no messages yet)" for a phase not run (scenario.cpp ResolveTemplate).
export function resolveTemplate(tmpl, scenario, transcripts) {
  return tmpl.replace(/\$\{(\w+)\.messages\[(\w+)\]\}/g, (_, phase, agent) => {
    if (!scenario.phases.some((p) => p.name === phase)) throw new Error(`template names phase '${phase}', which is not defined`);
    const lines = (transcripts[phase] || []).filter((e) => e.sender_id !== "system")
      .map((e) => `${e.sender_id === agent ? "You" : e.sender_name}: ${e.content}`);
    return lines.length ? lines.join("\n") : "(no messages yet)";
  });
}

// parse_choice: the last match of the pattern in each statement; a match equal to a choice counts
// for it, else the k-th alternative of the first group counts for choices[k mod n] (ParseChoices).
export function parseChoices(rule, statements) {
  let pattern = rule.pattern || "";
  let flags = "g";
  if (pattern.startsWith("(?i)")) { pattern = pattern.slice(4); flags += "i"; }
  const re = new RegExp(pattern, flags);
  const group = pattern.match(/\(([^()]*)\)/);
  const alts = group ? group[1].replace(/^\?:/, "").split("|") : [];
  return statements.map(([agent, text]) => {
    let matched = "";
    for (const m of text.matchAll(re)) matched = m[0];
    let choice = "";
    if (matched) {
      choice = rule.choices.find((c) => c.toLowerCase() === matched.toLowerCase()) || "";
      for (let k = 0; !choice && k < alts.length; k++) {
        if (new RegExp(`^(?:${alts[k]})$`, flags.replace("g", "")).test(matched)) choice = rule.choices[k % rule.choices.length];
      }
    }
    return { agent, matched, choice };
  });
}

// The state of one run: which phase, its session, what earlier phases left behind.
export class ScenarioRun {
  constructor(scenario) {
    this.scenario = scenario;
    this.prefix = cachePrefix(scenario.id);
    this.phaseIndex = 0;
    this.session = null;      // the current phase's session (POST response)
    this.roundsDone = 0;
    this.transcripts = {};    // phase name -> public messages
    this.history = {};        // agent key -> its view of earlier phases
    this.lastStatement = {};  // agent key -> its last message
    this.order = [];          // agents in order of first turn
    this.finished = false;
  }

  get phase() { return this.scenario.phases[this.phaseIndex]; }
  agent(key) { return this.scenario.agents.find((a) => a.key === key); }

  // Drops the permanent agents' caches of this scenario (a fresh start).
  async forget() { await request("DELETE", `/v1/coordination/caches/${encodeURIComponent(this.prefix)}`); }

  // Creates the current phase's session.
  async startPhase(maxTokens) {
    const ph = this.phase;
    const sc = this.scenario;
    const body = {
      topology: ph.topology, debate_format: ph.debate_format, decision_mode: ph.decision_mode,
      max_turns: ph.max_turns, persistent_cache_prefix: this.prefix,
      initial_prompt: ph.initial_prompt_template ? resolveTemplate(ph.initial_prompt_template, sc, this.transcripts) : ph.initial_prompt,
      agents: [], per_agent_prompts: {}, prior_agent_messages: {},
    };
    if (maxTokens) body.max_tokens = maxTokens;
    for (const key of ph.agents) {
      const a = this.agent(key);
      body.agents.push({ agent_id: a.key, display_name: a.display_name, role: a.role, system_prompt: a.system_prompt, lifecycle: a.lifecycle });
      if (a.lifecycle === "permanent" && this.history[key]) body.prior_agent_messages[key] = this.history[key];
      const t = ph.per_agent_prompt_templates?.[key];
      if (t) body.per_agent_prompts[a.display_name] = resolveTemplate(t, sc, this.transcripts);
    }
    this.session = await postJson("/v1/coordination/sessions", body);
    this.roundsDone = 0;
    return this.session;
  }

  noteTurn(t) {
    this.lastStatement[t.agent_id] = t.content || "";
    if (!this.order.includes(t.agent_id)) this.order.push(t.agent_id);
  }

  // After the phase's rounds: its transcript, each permanent agent's view, votes from the last
  // statements (vote_tally, last phase), then the session is deleted and the next phase is due.
  async endPhase() {
    const ph = this.phase;
    const base = `/v1/coordination/sessions/${this.session.session_id}`;
    const msgs = await getJson(`${base}/messages`);
    this.transcripts[ph.name] = msgs.messages.map((m) => ({ sender_id: m.sender_id, sender_name: m.sender_name, content: m.content }));
    for (const key of ph.agents) {
      if (this.agent(key).lifecycle !== "permanent") continue;
      const view = await getJson(`${base}/messages?agent_id=${encodeURIComponent(key)}`);
      const h = (this.history[key] = this.history[key] || []);
      for (const m of view.messages) if (m.kind !== "prior") h.push({ sender_id: m.sender_id, sender_name: m.sender_name, content: m.content });
    }
    const last = this.phaseIndex + 1 === this.scenario.phases.length;
    const outcome = this.scenario.outcome;
    if (last && outcome?.type === "vote_tally") {
      for (const c of parseChoices(outcome, ph.agents.map((k) => [k, this.lastStatement[k] || ""]))) {
        if (c.choice) await postJson(`${base}/vote`, { agent_id: c.agent, question: this.scenario.title, choice: c.choice });
      }
    }
    this.lastSession = await getJson(base);
    await request("DELETE", base);
    this.session = null;
    if (last) this.finished = true; else this.phaseIndex += 1;
  }

  // The outcome as lines of text.
  outcome() {
    const o = this.scenario.outcome;
    if (!o) return ["no outcome defined"];
    if (o.type === "summary") {
      const t = this.transcripts[this.scenario.phases.at(-1).name] || [];
      return [t.length ? `${t.at(-1).sender_name}: ${t.at(-1).content}` : "(no messages)"];
    }
    if (o.type === "vote_tally") {
      const tallies = this.lastSession?.tallies || [];
      if (!tallies.length) return ["no votes could be read"];
      return tallies.map((t) => `${t.question}: ${t.counts.map((c) => `${c.choice}=${c.votes}`).join(" ")} → ${t.winner ?? "undecided"} (${t.reason})`);
    }
    const st = this.order.filter((k) => this.agent(k).role === "participant").map((k) => [k, this.lastStatement[k] || ""]);
    const choices = parseChoices(o, st);
    const lines = choices.map((c) => `${this.agent(c.agent).display_name}: ${c.choice || "unclear"}${c.matched ? ` (matched '${c.matched}')` : ""}`);
    const p = this.scenario.payoff;
    if (p && choices.length === 2) {
      const idx = (c) => o.choices.findIndex((x) => x.toLowerCase() === c.toLowerCase());
      const i = idx(choices[0].choice), j = idx(choices[1].choice);
      lines.push(`payoff: ${i >= 0 && j >= 0 && p.matrix[i]?.[j] ? p.matrix[i][j] : "undetermined"}`);
    }
    return lines;
  }
}
