// The UI shell: tabs (hash routes), settings (model, sampling, API keys in localStorage), the
// server status line from /health/ready, /v1/models and /v1/agents/stats, and an error toast.
import { el, getJson, apiKey, setApiKey, adminKey, setAdminKey } from "./api.js";
import { ChatPage } from "./chat.js";
import { MemoryPage } from "./memory.js";
import { CoordinationPage } from "./coordination.js";
import { ScenariosPage } from "./scenarios.js";

const $ = (id) => document.getElementById(id);
const SETTINGS_STORAGE = "semantic.settings";

const stored = (() => { try { return JSON.parse(localStorage.getItem(SETTINGS_STORAGE)) || {}; } catch { return {}; } })();
const settings = {
  model: () => $("model").value || "default",
  maxTokens: () => Math.max(1, parseInt($("max-tokens").value, 10) || 128),
  temperature: () => { const t = parseFloat($("temperature").value); return Number.isFinite(t) ? t : 0.7; },
};

export function toast(message) {
  const t = el("div", { class: "toast" }, message);
  $("toasts").append(t);
  setTimeout(() => t.remove(), 6000);
}

function saveSettings() {
  localStorage.setItem(SETTINGS_STORAGE, JSON.stringify({
    maxTokens: $("max-tokens").value, temperature: $("temperature").value, model: $("model").value,
  }));
}

async function loadModels() {
  try {
    const models = await getJson("/v1/models");
    const select = $("model");
    select.replaceChildren(...models.data.map((m) => el("option", { value: m.id }, m.id)));
    if (stored.model && models.data.some((m) => m.id === stored.model)) select.value = stored.model;
  } catch (e) {
    if (e.status === 401) toast("This server needs an API key: enter it under Settings.");
  }
}

async function refreshStatus() {
  const status = $("status");
  let ready = "unreachable";
  try {
    const r = await fetch("/health/ready");
    ready = (await r.json()).status || (r.ok ? "ready" : "not ready");
  } catch { /* server down */ }
  status.dataset.ready = ready;
  $("status-ready").textContent = ready;
  try {
    const s = await getJson("/v1/agents/stats");
    $("status-agents").textContent =
      `${s.total} agents (${s.hot} hot) · pool ${s.pool_utilization_pct.toFixed(1)} % · ` +
      `cache ${s.total_cache_size_mb.toFixed(1)} MiB`;
  } catch (e) {
    $("status-agents").textContent = e.status === 401 ? "API key needed" : e.status === 404 ? "no agent cache" : "";
  }
}

const pages = {};

function route() {
  const name = (location.hash.slice(1) || "chat").split("/")[0];
  const target = pages[name] ? name : "chat";
  for (const [n, p] of Object.entries(pages)) {
    p.node.hidden = n !== target;
    p.page.show?.(n === target);
    document.querySelector(`nav a[href="#${n}"]`)?.classList.toggle("active", n === target);
  }
}

export function registerPage(name, label, make) {
  const node = el("main", { id: `page-${name}`, hidden: true });
  $("pages").append(node);
  $("nav").append(el("a", { href: `#${name}` }, label));
  pages[name] = { node, page: make(node) };
}

function init() {
  $("api-key").value = apiKey();
  $("admin-key").value = adminKey();
  $("api-key").addEventListener("change", (e) => { setApiKey(e.target.value.trim()); loadModels(); refreshStatus(); });
  $("admin-key").addEventListener("change", (e) => setAdminKey(e.target.value.trim()));
  if (stored.maxTokens) $("max-tokens").value = stored.maxTokens;
  if (stored.temperature) $("temperature").value = stored.temperature;
  for (const id of ["max-tokens", "temperature", "model"]) $(id).addEventListener("change", saveSettings);

  registerPage("chat", "Chat", (n) => new ChatPage(n, settings));
  registerPage("coordination", "Coordination", (n) => new CoordinationPage(n, { onError: toast, settings }));
  registerPage("scenarios", "Scenarios", (n) => new ScenariosPage(n, { onError: toast, settings }));
  registerPage("memory", "Memory", (n) => new MemoryPage(n, { onError: toast }));
  window.addEventListener("hashchange", route);
  route();
  loadModels();
  refreshStatus();
  setInterval(refreshStatus, 3000);
  window.addEventListener("unhandledrejection", (e) => toast(e.reason?.message || String(e.reason)));
  document.body.dataset.ready = "true";
}

init();
