// Memory inspector: /v1/agents/stats (tiers, bytes, pool use, hits) and /v1/agents/list (every
// session with its tier), with pin / unpin / evict-to-disk / delete per agent.
import { el, getJson, request, fmtBytes, adminKey } from "./api.js";

function card(label, value, note) {
  return el("div", { class: "card" }, el("div", { class: "card-label" }, label),
    el("div", { class: "card-value" }, value), note ? el("div", { class: "card-note" }, note) : null);
}

function bar(pct) {
  const fill = el("div", { class: "bar-fill" });
  fill.style.width = `${Math.min(100, Math.max(0, pct)).toFixed(1)}%`;
  return el("div", { class: "bar", title: `${pct.toFixed(1)}%` }, fill);
}

function ago(unixSeconds) {
  if (!unixSeconds) return "–";
  const s = Date.now() / 1000 - unixSeconds;
  if (s < 60) return `${Math.max(0, Math.round(s))} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${(s / 3600).toFixed(1)} h ago`;
}

export class MemoryPage {
  constructor(root, { onError }) {
    this.onError = onError;
    this.cards = el("div", { class: "cards", id: "memory-cards" });
    this.tiers = el("div", { class: "cards", id: "memory-tiers" });
    this.body = el("tbody", {});
    this.note = el("div", { class: "muted" });
    root.append(
      el("div", { class: "toolbar" },
        el("button", { onclick: () => this.refresh() }, "Refresh"),
        el("label", {}, el("input", { type: "checkbox", id: "memory-auto", checked: true,
          onchange: (e) => { this.auto = e.target.checked; } }), " auto-refresh every 2 s"),
        el("button", { title: "DELETE /admin/caches: every session and cached block (needs the admin key in Settings)",
          onclick: () => this.clearAll() }, "Clear every cache"),
        this.note),
      el("section", { class: "panel" }, el("h3", {}, "Cache and pool"), this.cards),
      el("section", { class: "panel" }, el("h3", {}, "Agents per tier"), this.tiers),
      el("section", { class: "panel" }, el("h3", {}, "Agents"),
        el("table", { class: "agents", id: "agents-table" },
          el("thead", {}, el("tr", {}, ...["agent", "tier", "tokens", "blocks RAM / disk", "pinned",
            "requests", "cached / prompt tokens", "last used", ""].map((h) => el("th", {}, h)))),
          this.body)));
    this.auto = true;
    this.timer = null;
  }

  show(visible) {
    clearInterval(this.timer);
    this.timer = null;
    if (!visible) return;
    this.refresh();
    this.timer = setInterval(() => this.auto && this.refresh(), 2000);
  }

  async refresh() {
    let stats, list;
    try {
      [stats, list] = await Promise.all([getJson("/v1/agents/stats"), getJson("/v1/agents/list")]);
    } catch (e) {
      this.note.textContent = e.status === 404 ? "this server runs without an agent cache" : e.message;
      return;
    }
    this.note.textContent = `updated ${new Date().toLocaleTimeString()}`;
    const ram = stats.ram, disk = stats.disk;
    this.cards.replaceChildren(
      card("Pool in use", `${stats.pool_utilization_pct.toFixed(1)} %`,
        [bar(stats.pool_utilization_pct), `${ram.blocks_in_use} active + ${ram.blocks_cached} cached of ${ram.blocks} blocks`]),
      card("RAM", fmtBytes(ram.bytes_in_use + ram.bytes_cached),
        `${fmtBytes(ram.bytes_in_use)} active, ${fmtBytes(ram.bytes_cached)} cached · ${fmtBytes(ram.block_bytes)}/block · ${ram.evictions} evicted`),
      card("Disk", disk.enabled ? fmtBytes(disk.bytes) : "off",
        disk.enabled ? [disk.budget_bytes ? bar(100 * disk.bytes / disk.budget_bytes) : null,
          `${disk.files} files of budget ${fmtBytes(disk.budget_bytes)} · ${disk.pending_writes} pending · ${disk.quarantined} quarantined`] : null),
      card("Prefix hits", `${stats.hits.ram_blocks + stats.hits.disk_blocks} blocks`,
        `${stats.hits.ram_blocks} from RAM, ${stats.hits.disk_blocks} from disk, ${stats.misses_blocks} misses`),
      card("Prompt tokens from cache", stats.prompt_tokens ? `${(100 * stats.cached_prompt_tokens / stats.prompt_tokens).toFixed(1)} %` : "–",
        `${stats.cached_prompt_tokens} of ${stats.prompt_tokens}`),
    );
    const perTier = { hot: [], warm: [], cold: [] };
    for (const a of list.agents) (perTier[a.tier] || (perTier[a.tier] = [])).push(a);
    const tierNote = { hot: "blocks in RAM", warm: "on disk only", cold: "no blocks kept" };
    this.tiers.replaceChildren(...Object.entries(perTier).map(([t, as]) =>
      el("div", { class: `card tier-${t}`, dataset: { tier: t } },
        el("div", { class: "card-label" }, `${t} · ${tierNote[t] || ""}`),
        el("div", { class: "card-value" }, String(as.length)),
        el("div", { class: "card-note" }, fmtBytes(as.reduce((n, a) => n + a.blocks_in_ram * ram.block_bytes, 0)) + " in RAM"))));
    this.body.replaceChildren(...list.agents
      .sort((a, b) => b.last_used_at - a.last_used_at)
      .map((a) => this.row(a)));
    if (!list.agents.length) this.body.append(el("tr", {}, el("td", { colspan: 9, class: "muted" }, "no agent sessions yet")));
  }

  async clearAll() {
    if (!adminKey()) { this.onError("Enter the server's admin key under Settings first."); return; }
    try { await request("DELETE", "/admin/caches", { admin: true }); } catch (e) { this.onError(e.message); }
    this.refresh();
  }

  row(a) {
    const act = (label, method, path, title) => el("button", {
      class: "small", title, onclick: async () => {
        try { await request(method, path); } catch (e) { this.onError(e.message); }
        this.refresh();
      },
    }, label);
    const id = encodeURIComponent(a.agent_id);
    return el("tr", { dataset: { agent: a.agent_id } },
      el("td", { class: "mono" }, a.agent_id),
      el("td", {}, el("span", { class: `tier tier-${a.tier}` }, a.tier), a.active ? " · active" : ""),
      el("td", {}, String(a.cache_size_tokens)),
      el("td", {}, `${a.blocks_in_ram} / ${a.blocks_on_disk}`),
      el("td", {}, a.pinned ? "yes" : "no"),
      el("td", {}, String(a.requests)),
      el("td", {}, `${a.cached_tokens} / ${a.prompt_tokens}`),
      el("td", {}, ago(a.last_used_at)),
      el("td", { class: "actions" },
        a.pinned ? act("Unpin", "POST", `/v1/agents/${id}/unpin`, "let its blocks be evicted again")
          : act("Pin", "POST", `/v1/agents/${id}/pin`, "keep its blocks in RAM and on disk"),
        act("Evict", "DELETE", `/v1/agents/${id}?evict_only=true`, "drop its RAM blocks, keep the disk copy"),
        act("Delete", "DELETE", `/v1/agents/${id}`, "delete the session and its blocks")));
  }
}
