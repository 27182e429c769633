// HTTP helpers for the UI: the API key from localStorage on every call, JSON requests with the
// server's error message, and a reader for server-sent events over a POST (EventSource can't POST).

const KEY_STORAGE = "semantic.apiKey";
const ADMIN_KEY_STORAGE = "semantic.adminKey";

export function apiKey() { return localStorage.getItem(KEY_STORAGE) || ""; }
export function setApiKey(k) { k ? localStorage.setItem(KEY_STORAGE, k) : localStorage.removeItem(KEY_STORAGE); }
export function adminKey() { return localStorage.getItem(ADMIN_KEY_STORAGE) || ""; }
export function setAdminKey(k) { k ? localStorage.setItem(ADMIN_KEY_STORAGE, k) : localStorage.removeItem(ADMIN_KEY_STORAGE); }

export class ApiError extends Error {
  constructor(status, message, body) { super(message); this.status = status; this.body = body; }
}

function headers(extra = {}) {
  const h = { ...extra };
  const k = apiKey();
  if (k) h["Authorization"] = "Bearer " + k;
  return h;
}

// The message of an error body in any of the server's shapes (OpenAI, Anthropic, plain).
async function errorOf(res) {
  let body = null;
  let text = "";
  try { text = await res.text(); body = JSON.parse(text); } catch { /* not JSON */ }
  const msg = body?.error?.message || body?.message || text || res.statusText;
  return new ApiError(res.status, `${res.status}: ${msg}`, body);
}

// fetch() with the key; resolves to parsed JSON (null for 204), rejects with ApiError on >= 400.
export async function request(method, path, { body, agent, admin, signal } = {}) {
  const extra = {};
  if (body !== undefined) extra["Content-Type"] = "application/json";
  if (agent) extra["X-Agent-ID"] = agent;
  if (admin) extra["X-Admin-Key"] = adminKey();
  const res = await fetch(path, {
    method, signal, headers: headers(extra),
    body: body === undefined ? (method === "POST" ? "" : undefined) : JSON.stringify(body),
  });
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return null;
  const type = res.headers.get("Content-Type") || "";
  return type.includes("json") ? res.json() : res.text();
}

export const getJson = (path, opts) => request("GET", path, opts);
export const postJson = (path, body, opts = {}) => request("POST", path, { ...opts, body });

// POSTs `body` and calls onEvent({event, data}) for each server-sent event as it arrives; `data`
// is parsed JSON where it parses ("[DONE]" stays a string). Resolves when the stream ends.
export async function streamSse(path, body, onEvent, { agent, signal } = {}) {
  const extra = { "Content-Type": "application/json", "Accept": "text/event-stream" };
  if (agent) extra["X-Agent-ID"] = agent;
  const res = await fetch(path, { method: "POST", signal, headers: headers(extra), body: JSON.stringify(body) });
  if (!res.ok) throw await errorOf(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value.replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const ev = parseEvent(block);
      if (ev) onEvent(ev);
    }
  }
  const last = parseEvent(buf);
  if (last) onEvent(last);
}

function parseEvent(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  const text = data.join("\n");
  try { return { event, data: JSON.parse(text) }; } catch { return { event, data: text }; }
}

// Small DOM helper: el("div", {class: "x", onclick: f}, child, "text", ...).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k === "value") e.value = v;
    else if (k in e && typeof v !== "string") e[k] = v;
    else e.setAttribute(k === "className" ? "class" : k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function fmtMs(ms) {
  if (!Number.isFinite(ms)) return "–";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
