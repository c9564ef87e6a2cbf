// What every panel renderer shares: the environment it queries in, value reduction (Grafana's
// reduceOptions.calcs), thresholds and value mappings, and Grafana colour names.

import type { Marker } from '../chart';
import type { PageContext } from '../router';
import type { Panel, FieldDefaults, Threshold, Annotation } from './model';
import type { Macros, Mode, VariableState } from './variables';
import { interpolate } from './variables';
import { formatValue } from '../format';
import { cssVar } from '../theme';

export interface PanelEnv {
  ctx: PageContext;
  start: number; // unix ms
  end: number;   // unix ms
  step: number;  // seconds, for range queries
  macros: Macros;
  vars: Map<string, VariableState>;
  annotations: Annotation[];
  // The dashboard's annotation markers for this refresh (fetched once, shared by every chart).
  markers(): Promise<Marker[]>;
  signal: AbortSignal;
  // Opens the side panel (quality drill-down and the like).
  openSide(title: string, body: HTMLElement): void;
}

export function interp(env: PanelEnv, s: string, mode: Mode = 'promql', extra?: Record<string, string>): string {
  return interpolate(s, env.vars, env.macros, mode, extra);
}

// One renderer per panel on the page: built once, `update` on each refresh (in place).
export interface PanelView {
  update(env: PanelEnv): Promise<void>;
  destroy?(): void;
}

export type PanelFactory = (panel: Panel, body: HTMLElement) => PanelView;

// Grafana's named colours, mapped onto the theme so both themes stay readable.
export function color(name: string | undefined): string {
  switch ((name ?? '').toLowerCase()) {
    case 'green': case 'dark-green': case 'semi-dark-green': case 'light-green': return cssVar('--ok') || '#73bf69';
    case 'red': case 'dark-red': case 'semi-dark-red': case 'light-red': return cssVar('--crit') || '#ff7383';
    case 'yellow': case 'orange': case 'dark-yellow': case 'dark-orange': case 'semi-dark-orange': case 'light-orange': return cssVar('--warn') || '#f2cc0c';
    case 'blue': case 'dark-blue': case 'semi-dark-blue': case 'light-blue': case 'text': return cssVar('--accent') || '#8ab8ff';
    case 'purple': return '#b877d9';
    case '': return cssVar('--fg') || '#ccc';
    default: return name!;
  }
}

export function thresholdColor(v: number | null, th: FieldDefaults['thresholds']): string | undefined {
  if (!th || !th.steps.length || v === null || Number.isNaN(v)) return undefined;
  let c: Threshold = th.steps[0];
  for (const s of th.steps) if (s.value === null || v >= s.value) c = s;
  return color(c.color);
}

// Value mappings: the text and colour for a value, when a mapping matches.
export function mapValue(v: number | null, d: FieldDefaults): { text?: string; color?: string } {
  for (const m of d.mappings ?? []) {
    const o = m.options;
    if (m.type === 'value' && v !== null) {
      const hit = o[String(v)] as { text?: string; color?: string } | undefined;
      if (hit) return { text: hit.text, color: hit.color ? color(hit.color) : undefined };
    } else if (m.type === 'range' && v !== null) {
      const from = typeof o.from === 'number' ? o.from : -Infinity;
      const to = typeof o.to === 'number' ? o.to : Infinity;
      const r = (o.result ?? {}) as { text?: string; color?: string };
      if (v >= from && v <= to) return { text: r.text, color: r.color ? color(r.color) : undefined };
    } else if (m.type === 'special' && (v === null || Number.isNaN(v))) {
      const r = (o.result ?? {}) as { text?: string; color?: string };
      return { text: r.text, color: r.color ? color(r.color) : undefined };
    }
  }
  return {};
}

export function display(v: number | null, d: FieldDefaults): { text: string; color?: string } {
  const m = mapValue(v, d);
  const unit = d.unit ?? 'short';
  // Counts read as counts: 32, not 32.0.
  const decimals = d.decimals ?? ((unit === 'short' || unit === 'none') && v !== null && Number.isInteger(v) && Math.abs(v) < 1000 ? 0 : undefined);
  return { text: m.text ?? formatValue(v, unit, decimals), color: m.color ?? thresholdColor(v, d.thresholds) };
}

// Grafana's reducers over a series' values.
export function reduce(values: (number | null)[], calc: string): number | null {
  const xs = values.filter((v): v is number => v !== null && !Number.isNaN(v));
  if (!xs.length) return null;
  switch (calc) {
    case 'last': return values[values.length - 1] ?? null;
    case 'first': return values[0] ?? null;
    case 'firstNotNull': return xs[0];
    case 'mean': case 'avg': return xs.reduce((a, b) => a + b, 0) / xs.length;
    case 'max': return Math.max(...xs);
    case 'min': return Math.min(...xs);
    case 'sum': case 'total': return xs.reduce((a, b) => a + b, 0);
    case 'count': return xs.length;
    case 'range': return Math.max(...xs) - Math.min(...xs);
    case 'delta': case 'diff': return xs[xs.length - 1] - xs[0];
    case 'lastNotNull': case 'current': default: return xs[xs.length - 1];
  }
}

export function calcOf(panel: Panel): string {
  const ro = (panel.options.reduceOptions ?? {}) as { calcs?: unknown };
  const c = Array.isArray(ro.calcs) ? ro.calcs[0] : undefined;
  return typeof c === 'string' ? c : 'lastNotNull';
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}
