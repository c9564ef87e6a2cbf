// Completions for the PromQL editor: metric names (with type and help from /api/v1/metadata),
// label names and values for the metric being edited, functions, aggregations, keywords and
// durations. Answers from the server are cached for the session (the page's life in the tab);
// a failed fetch is forgotten so the next keystroke retries it.

import { getData } from '../api';
import {
  AGGREGATIONS, AT_MODIFIERS, DURATIONS, FUNCTIONS, KEYWORDS, type CompletionContext,
} from './promql';

export type CompletionKind = 'metric' | 'function' | 'aggregation' | 'keyword' | 'label' | 'value' | 'duration';

export interface Completion {
  label: string;
  kind: CompletionKind;
  detail?: string; // metric type, function signature
  help?: string;
  match?: [number, number][]; // ranges of `label` that matched the prefix, for bold
}

export interface MetricInfo { name: string; type: string; help: string }

const MAX_ITEMS = 200;
const cache = new Map<string, Promise<unknown>>();

function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
  let p = cache.get(key) as Promise<T> | undefined;
  if (!p) {
    p = load();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

// Metric names with their metadata. Histogram and summary series (_bucket, _sum, _count) take the
// metadata of their family.
export function metrics(): Promise<MetricInfo[]> {
  return cached('metrics', async () => {
    const [names, meta] = await Promise.all([
      getData<string[]>('/api/v1/label/__name__/values'),
      getData<Record<string, { type: string; help: string }[]>>('/api/v1/metadata').catch(() => ({} as Record<string, { type: string; help: string }[]>)),
    ]);
    return names.map((name) => {
      const m = meta[name]?.[0] ?? meta[name.replace(/_(bucket|sum|count|total|created)$/, '')]?.[0];
      return { name, type: m?.type ?? '', help: m?.help ?? '' };
    });
  });
}

function labelNames(metrics: string[]): Promise<string[]> {
  const key = `labels:${metrics.join(',')}`;
  return cached(key, () => getData<string[]>('/api/v1/labels', { 'match[]': metrics.length ? metrics : undefined }));
}

function labelValues(label: string, metrics: string[]): Promise<string[]> {
  const key = `values:${label}:${metrics.join(',')}`;
  return cached(key, () => getData<string[]>(`/api/v1/label/${encodeURIComponent(label)}/values`, { 'match[]': metrics.length ? metrics : undefined }));
}

// Ranks `items` by how well `label` matches `prefix`: prefix, then after a word boundary, then
// anywhere, then as a subsequence; drops the rest. Keeps at most MAX_ITEMS.
export function rank(items: Completion[], prefix: string): Completion[] {
  if (!prefix) return items.slice(0, MAX_ITEMS);
  const p = prefix.toLowerCase();
  const scored: { c: Completion; s: number }[] = [];
  for (const c of items) {
    const l = c.label.toLowerCase();
    let s = -1;
    let match: [number, number][] = [];
    const at = l.indexOf(p);
    if (at === 0) { s = 0; match = [[0, p.length]]; } else if (at > 0) {
      s = /[_:.\-/ ]/.test(l[at - 1]) ? 1 : 2;
      match = [[at, at + p.length]];
    } else {
      // subsequence
      let j = 0;
      const ranges: [number, number][] = [];
      for (let i = 0; i < l.length && j < p.length; i++) {
        if (l[i] === p[j]) {
          const r = ranges[ranges.length - 1];
          if (r && r[1] === i) r[1] = i + 1; else ranges.push([i, i + 1]);
          j++;
        }
      }
      if (j === p.length) { s = 3 + ranges.length; match = ranges; }
    }
    if (s >= 0) scored.push({ c: { ...c, match }, s });
  }
  scored.sort((a, b) => a.s - b.s || popularity(b.c) - popularity(a.c) || a.c.label.length - b.c.label.length || a.c.label.localeCompare(b.c.label));
  return scored.slice(0, MAX_ITEMS).map((x) => x.c);
}

// Functions and aggregations most queries use come first among equally good matches.
const POPULAR = new Set(['rate', 'sum', 'histogram_quantile', 'increase', 'avg', 'max', 'min', 'count', 'topk', 'irate', 'avg_over_time', 'max_over_time', 'label_replace', 'by']);
function popularity(c: Completion): number {
  return (c.kind === 'function' || c.kind === 'aggregation' || c.kind === 'keyword') && POPULAR.has(c.label) ? 1 : 0;
}

const FUNCTION_ITEMS: Completion[] = FUNCTIONS.map((x) => ({
  label: x.name, kind: 'function', detail: x.signature, help: x.help + (x.experimental ? ' (Experimental in Prometheus.)' : ''),
}));
const AGG_ITEMS: Completion[] = AGGREGATIONS.map((x) => ({ label: x.name, kind: 'aggregation', detail: x.detail, help: x.help }));
const KEYWORD_ITEMS: Completion[] = KEYWORDS.map((x) => ({ label: x.name, kind: 'keyword', detail: x.detail, help: x.help }));

// The completions for a context, best first.
export async function complete(ctx: CompletionContext): Promise<Completion[]> {
  switch (ctx.kind) {
    case 'none':
      return [];
    case 'duration':
      return rank(DURATIONS.map((d) => ({ label: d, kind: 'duration', detail: 'duration' })), ctx.prefix);
    case 'atModifier':
      return rank(AT_MODIFIERS.map((x) => ({ label: x.name, kind: 'function', detail: x.detail, help: x.help })), ctx.prefix);
    case 'labelName': {
      const names = await labelNames(ctx.metrics);
      return rank(names.filter((n) => n !== '__name__').map((n) => ({ label: n, kind: 'label', detail: 'label' })), ctx.prefix);
    }
    case 'labelValue': {
      const values = await labelValues(ctx.label, ctx.metrics);
      return rank(values.map((v) => ({ label: v, kind: 'value', detail: ctx.label })), ctx.prefix);
    }
    case 'expression': {
      const ms = await metrics();
      const metricItems: Completion[] = ms.map((m) => ({ label: m.name, kind: 'metric', detail: m.type || 'metric', help: m.help }));
      const all = ctx.afterExpression
        ? [...KEYWORD_ITEMS, ...AGG_ITEMS, ...FUNCTION_ITEMS, ...metricItems]
        : [...FUNCTION_ITEMS, ...AGG_ITEMS, ...metricItems, ...KEYWORD_ITEMS];
      return rank(all, ctx.prefix);
    }
  }
}

// Text to insert for a completion, and where the cursor goes within it.
export function insertion(c: Completion, ctx: CompletionContext, textAfter: string): { text: string; cursor: number; replaceTo?: number; reopen: boolean } {
  switch (c.kind) {
    case 'function':
    case 'aggregation': {
      if (c.label.endsWith(')') || /^\s*\(/.test(textAfter)) return { text: c.label, cursor: c.label.length, reopen: false };
      // before an existing expression: open the call and let the user close it where it ends
      if (/^[A-Za-z0-9_:{]/.test(textAfter)) return { text: `${c.label}(`, cursor: c.label.length + 1, reopen: false };
      return { text: `${c.label}()`, cursor: c.label.length + 1, reopen: false };
    }
    case 'label': {
      // inside braces a matcher is started: job="|"; in a grouping list just the name
      if (ctx.kind === 'labelName' && isInsideBraces(ctx, textAfter)) {
        return { text: `${c.label}=""`, cursor: c.label.length + 2, reopen: true };
      }
      return { text: c.label, cursor: c.label.length, reopen: false };
    }
    case 'value': {
      if (ctx.kind !== 'labelValue') return { text: c.label, cursor: c.label.length, reopen: false };
      const q = ctx.quote;
      const escaped = q === '`' ? c.label : c.label.replace(/\\/g, '\\\\').split(q).join('\\' + q);
      if (ctx.closeAt !== null) return { text: escaped + q, cursor: escaped.length + 1, replaceTo: ctx.closeAt + 1, reopen: false };
      return { text: escaped + q, cursor: escaped.length + 1, reopen: false };
    }
    default:
      return { text: c.label, cursor: c.label.length, reopen: false };
  }
}

// A label name completed inside {...} starts a matcher, unless one is already there.
function isInsideBraces(ctx: CompletionContext, textAfter: string): boolean {
  if (ctx.kind !== 'labelName' || !ctx.inBraces) return false;
  const rest = textAfter.replace(/^[A-Za-z0-9_]*/, '').trimStart();
  return !(rest.startsWith('=') || rest.startsWith('!'));
}
