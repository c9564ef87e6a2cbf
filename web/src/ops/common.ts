// Helpers shared by the operations pages (alerts and incidents, traces, logs): times as the API
// writes them, label chips, label matchers typed in a filter box, write calls that carry a token
// and explain 401/403, and a refresh loop that never overlaps itself.

import { ApiError, authHeaders, storeToken, storedToken } from '../api';
import { h } from '../dom';
import { ago, formatTime } from '../format';
import { href } from '../router';

export type StringMap = Record<string, string>;

// A time from the API (RFC 3339; Go's zero time and null mean "never") as unix milliseconds.
export function parseTime(t: string | null | undefined): number | null {
  if (!t || t.startsWith('0001-01-01')) return null;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : null;
}

// "04:27:07 (3m ago)" with the full date in the tooltip; "–" for never.
export function timeCell(ms: number | null, now = Date.now()): HTMLElement {
  if (ms === null) return h('span', { class: 'muted' }, '–');
  return h('time', { datetime: new Date(ms).toISOString(), title: new Date(ms).toLocaleString() },
    formatTime(ms, now - ms > 20 * 3600e3), ' ', h('span', { class: 'muted' }, `(${ago(ms, now)})`));
}

// Nanoseconds as a decimal string (the telemetry API's form) to milliseconds.
export function nanosToMs(ns: string | number): number {
  if (typeof ns === 'number') return ns / 1e6;
  // Split so that no precision is lost to a double before the division.
  if (ns.length > 6) return Number(ns.slice(0, -6)) + Number(ns.slice(-6)) / 1e6;
  return Number(ns) / 1e6;
}

// Milliseconds as a short duration: 850 µs, 12.3 ms, 4.90 s, 2 min.
export function durationMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms === 0) return '0';
  if (ms < 1) return `${(ms * 1000).toFixed(ms < 0.01 ? 1 : 0)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  return `${(s / 60).toFixed(1)} min`;
}

// Labels as small chips, the interesting ones first.
export function labelChips(labels: StringMap, skip: string[] = []): HTMLElement {
  const keys = Object.keys(labels).filter((k) => !skip.includes(k)).sort();
  return h('span', { class: 'ops-chips' }, keys.map((k) => h('span', { class: 'ops-chip' }, h('span', { class: 'ops-chip-k' }, k), '=', labels[k])));
}

// A PromQL series selector for a label set: name{a="x", b="y"}.
export function selector(labels: StringMap): string {
  const name = labels.__name__ ?? '';
  const parts = Object.entries(labels).filter(([k]) => k !== '__name__').sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${name}{${parts.join(', ')}}`;
}

export function exploreHref(expr: string): string {
  return href('explore', { q: expr });
}

// ---- label matchers: `severity="page", alertname=~"GPU.*"` ----

export interface Matcher { name: string; op: '=' | '!=' | '=~' | '!~'; value: string; re?: RegExp }

// Parses a matcher list (braces optional). Returns null when the text is not matchers, so that
// callers can fall back to a plain substring search.
export function parseMatchers(text: string): Matcher[] | null {
  let s = text.trim();
  if (!s) return [];
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  const out: Matcher[] = [];
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_.]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^,\s"']+))\s*(,|$)/y;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return null;
    let value = m[3] ?? m[4] ?? m[5] ?? '';
    if (m[3] !== undefined) {
      try { value = JSON.parse(`"${m[3]}"`) as string; } catch { return null; }
    }
    const mt: Matcher = { name: m[1], op: m[2] as Matcher['op'], value };
    if (mt.op === '=~' || mt.op === '!~') {
      try { mt.re = new RegExp(`^(?:${value})$`); } catch { return null; }
    }
    out.push(mt);
    pos = re.lastIndex;
    if (m[6] === '') break;
  }
  return out;
}

export function matches(labels: StringMap, ms: Matcher[]): boolean {
  for (const m of ms) {
    const v = labels[m.name] ?? '';
    switch (m.op) {
      case '=': if (v !== m.value) return false; break;
      case '!=': if (v === m.value) return false; break;
      case '=~': if (!m.re!.test(v)) return false; break;
      case '!~': if (m.re!.test(v)) return false; break;
    }
  }
  return true;
}

// A filter from the text box: matchers when the text parses as such, else words that must all
// occur in the labels or annotations (case-insensitive).
export function labelFilter(text: string): (labels: StringMap, extra?: StringMap) => boolean {
  const ms = parseMatchers(text);
  if (ms) return (labels) => matches(labels, ms);
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  return (labels, extra) => {
    const hay = (Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(' ') + ' ' + Object.values(extra ?? {}).join(' ')).toLowerCase();
    return words.every((w) => hay.includes(w));
  };
}

// ---- write calls ----

// The session's token is kept by api.ts, shared with every read and stream.
export { storedToken, storeToken };

// POST/DELETE with the session's bearer token (when one was given). Errors come back as ApiError
// with the server's message; 401/403 say what to do about them.
export async function write<T = unknown>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  Object.assign(headers, authHeaders());
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON: the text is the message */ }
  const b = parsed as { status?: string; errorType?: string; error?: string; message?: string } | null;
  if (!res.ok || (b && b.status === 'error')) {
    const msg = b?.error ?? b?.message ?? (text.slice(0, 200) || `${res.status} ${res.statusText}`);
    throw new ApiError(res.status, b?.errorType ?? 'http', msg);
  }
  return parsed as T;
}

// The message for a failed write, with a hint for authentication failures.
export function writeErrorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 401) return `Not authorized (401): ${e.message}. Enter a token with write access below and try again.`;
    if (e.status === 403) return `Forbidden (403): ${e.message}. This token cannot make changes; use one with write access.`;
    return `${e.status ? `${e.status}: ` : ''}${e.message}`;
  }
  return (e as Error)?.message ?? String(e);
}

// A status line for write actions, with a token field that appears after a 401/403.
export class ActionStatus {
  readonly el: HTMLElement;
  private readonly msg: HTMLElement;
  private readonly tokenRow: HTMLElement;

  constructor() {
    this.msg = h('div', { class: 'ops-action-msg', 'aria-live': 'polite' });
    const input = h('input', { type: 'password', autocomplete: 'off', 'aria-label': 'API token with write access', placeholder: 'Bearer token', value: storedToken() });
    // A div, not a form: the status often sits inside another form (the silence editor).
    const use = () => {
      storeToken(input.value.trim());
      this.ok(input.value.trim() ? 'Token saved for this browser tab. Try the action again.' : 'Token cleared.');
    };
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); use(); } });
    this.tokenRow = h('div', { class: 'ops-token', hidden: true }, h('label', null, 'Token ', input), h('button', { type: 'button', onclick: use }, 'Use token'));
    this.el = h('div', { class: 'ops-action' }, this.msg, this.tokenRow);
  }

  ok(text: string): void {
    this.msg.className = 'ops-action-msg ops-ok';
    this.msg.removeAttribute('role');
    this.msg.textContent = text;
  }

  error(e: unknown): void {
    this.msg.className = 'ops-action-msg notice notice-error';
    this.msg.setAttribute('role', 'alert');
    this.msg.textContent = writeErrorText(e);
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) this.tokenRow.hidden = false;
  }

  clear(): void {
    this.msg.textContent = '';
    this.msg.className = 'ops-action-msg';
  }
}

// Runs `f` (a refresh) at most once at a time; a call while one runs is queued once.
export function serial(f: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const run = async () => {
    if (running) { again = true; return; }
    running = true;
    try {
      await f();
    } finally {
      running = false;
      if (again) { again = false; void run(); }
    }
  };
  return () => { void run(); };
}

export function isAbort(e: unknown): boolean {
  return (e as Error)?.name === 'AbortError';
}

// Severity of an alert or incident as a class: crit, warn or info.
export function severityClass(sev: string | undefined): string {
  const s = (sev ?? '').toLowerCase();
  if (['critical', 'page', 'error', 'high', 'fatal'].includes(s)) return 'crit';
  if (['warning', 'warn', 'ticket', 'medium'].includes(s)) return 'warn';
  return 'info';
}

// A tab bar of links (state lives in the URL, so tabs are links and work with history).
export function tabs(label: string, items: { id: string; text: string; href: string; count?: number | null }[], current: string): HTMLElement {
  return h('nav', { class: 'ops-tabs', 'aria-label': label },
    items.map((t) => h('a', { href: t.href, 'data-link': true, class: 'ops-tab', 'aria-current': t.id === current ? 'page' : undefined },
      t.text, t.count != null ? h('span', { class: 'ops-count' }, String(t.count)) : null)));
}
