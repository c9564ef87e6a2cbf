// The client of Tyto's HTTP API. Every call takes an AbortSignal so a page that is left stops its
// requests. Errors come back as ApiError with the server's message (Prometheus's error shape:
// {"status":"error","errorType":"bad_data","error":"..."}).

export class ApiError extends Error {
  constructor(public readonly status: number, public readonly type: string, message: string) {
    super(message);
  }
}

// ---- API token ----
// With tokens configured (auth.tokens in tyto.yml) every API call needs one. The user enters it
// once (main.ts asks on the first 401); it is kept for the browser session only.

const TOKEN_KEY = 'tyto.token';

export function storedToken(): string {
  try { return sessionStorage.getItem(TOKEN_KEY) ?? ''; } catch { return ''; }
}

export function storeToken(t: string): void {
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* private mode: the token is not kept */ }
}

// Headers for every API request: the token when there is one, and X-Requested-With so that a
// refusal carries no Basic challenge (which would make the browser show its own login prompt).
export function authHeaders(): Record<string, string> {
  const t = storedToken();
  const h: Record<string, string> = { 'X-Requested-With': 'XMLHttpRequest' };
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

// A read refused for want of a token: the shell listens and asks for one.
export function unauthorized(status: number, message: string): void {
  if (status === 401) window.dispatchEvent(new CustomEvent('tyto:unauthorized', { detail: message }));
}

export type Params = Record<string, string | number | boolean | undefined | null | string[]>;

export function qs(params?: Params): string {
  if (!params) return '';
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) for (const x of v) u.append(k, x);
    else u.append(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}

async function parse<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    unauthorized(res.status, res.statusText);
    if (!res.ok) throw new ApiError(res.status, 'http', `${res.status} ${res.statusText}: ${text.slice(0, 200)}`);
    throw new ApiError(res.status, 'parse', `the server's answer is not JSON: ${text.slice(0, 120)}`);
  }
  const b = body as { status?: string; errorType?: string; error?: string; data?: unknown } | null;
  if (!res.ok || (b && b.status === 'error')) {
    unauthorized(res.status, b?.error ?? res.statusText);
    throw new ApiError(res.status, b?.errorType ?? 'http', b?.error ?? `${res.status} ${res.statusText}`);
  }
  return body as T;
}

// GET path?params; returns the whole JSON body.
export async function getJson<T = unknown>(path: string, params?: Params, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path + qs(params), { signal, headers: { Accept: 'application/json', ...authHeaders() } });
  return parse<T>(res);
}

// GET of an endpoint in the Prometheus envelope; returns `data`.
export async function getData<T = unknown>(path: string, params?: Params, signal?: AbortSignal): Promise<T> {
  const body = await getJson<{ data: T }>(path, params, signal);
  return body.data;
}

// A GET started before the page that needs it is loaded (the shell starts a dashboard's JSON
// while the dashboard code downloads); the page takes it once, or fetches again itself.
const prefetched = new Map<string, Promise<unknown>>();

export function prefetchData(path: string): void {
  prefetched.clear(); // one page at a time: a prefetch the user navigated away from is dropped
  const p = getData(path);
  p.catch(() => undefined); // the page that takes it sees the error
  prefetched.set(path, p);
}

export function takePrefetched<T>(path: string): Promise<T> | undefined {
  const p = prefetched.get(path);
  prefetched.delete(path);
  return p as Promise<T> | undefined;
}

export async function send<T = unknown>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    method,
    signal,
    headers: body === undefined ? authHeaders() : { 'Content-Type': 'application/json', ...authHeaders() },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return parse<T>(res);
}

// ---- PromQL ----

export type Labels = Record<string, string>;
export interface InstantSample { metric: Labels; value: [number, string] }
export interface RangeSeries { metric: Labels; values: [number, string][] }
export type InstantResult =
  | { resultType: 'vector'; result: InstantSample[] }
  | { resultType: 'scalar'; result: [number, string] }
  | { resultType: 'string'; result: [number, string] }
  | { resultType: 'matrix'; result: RangeSeries[] };

export function instantQuery(query: string, time?: number, signal?: AbortSignal): Promise<InstantResult> {
  return getData<InstantResult>('/api/v1/query', { query, time }, signal);
}

// Convenience: an instant query's vector (empty for scalars and strings).
export async function vector(query: string, time?: number, signal?: AbortSignal): Promise<InstantSample[]> {
  const r = await instantQuery(query, time, signal);
  return r.resultType === 'vector' ? r.result : [];
}

export async function rangeQuery(query: string, start: number, end: number, step: number, signal?: AbortSignal): Promise<RangeSeries[]> {
  const r = await getData<{ resultType: string; result: RangeSeries[] }>('/api/v1/query_range', { query, start, end, step }, signal);
  return r.result;
}

export function labelValues(label: string, match?: string[], signal?: AbortSignal): Promise<string[]> {
  return getData<string[]>(`/api/v1/label/${encodeURIComponent(label)}/values`, { 'match[]': match }, signal);
}

export function labelNames(match?: string[], signal?: AbortSignal): Promise<string[]> {
  return getData<string[]>('/api/v1/labels', { 'match[]': match }, signal);
}

// {a="x", b="y"} for display.
export function labelsText(m: Labels, skipName = true): string {
  const parts = Object.entries(m)
    .filter(([k]) => !(skipName && k === '__name__'))
    .map(([k, v]) => `${k}="${v}"`);
  return `${skipName && m.__name__ ? m.__name__ : ''}{${parts.join(', ')}}`;
}

// Grafana's legendFormat: "{{model}} p99" with the series' labels.
export function legend(format: string | undefined, m: Labels): string {
  if (!format || format === '__auto') return labelsText(m);
  return format.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, k: string) => m[k] ?? '');
}

// Quotes a string for a PromQL label matcher.
export function promString(v: string): string {
  return JSON.stringify(v);
}
