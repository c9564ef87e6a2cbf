// What every panel renderer shares: the environment it queries in, value reduction (Grafana's
// reduceOptions.calcs), thresholds and value mappings, and Grafana colour names.

import type { Marker } from '../chart';
import type { PageContext } from '../router';
import type { Panel, FieldDefaults, Threshold, Annotation } from './model';
import type { Macros, Mode, VariableState } from './variables';
import { interpolate } from './variables';
import { formatValue } from '../format';
import { theme } from '../theme';

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

// Grafana's named colours, mapped onto the theme's custom properties so both themes stay readable
// and a theme switch recolours at once. Text contrast of those colours (WCAG 2 ratios):
//   light theme on the panel's #ffffff: --ok #1b7a1b 5.46:1, --warn #8a5a00 5.93:1,
//     --crit #c4162a 6.01:1, --accent #1f5fbf 6.09:1, --dash-purple #8f3bb8 6.02:1 (all >= 4.5);
//   dark theme on the panel's #181b1f: --ok #73bf69 7.72:1, --warn #f2cc0c 11.0:1,
//     --crit #ff7383 6.61:1, --accent #8ab8ff 8.54:1, --dash-purple #b877d9 5.50:1.
// Orange maps to --warn (Grafana's orange is a warning between yellow and red).
export function color(name: string | undefined): string {
  const n = (name ?? '').toLowerCase().replace(/^(dark|semi-dark|light|super-light)-/, '');
  switch (n) {
    case 'green': return 'var(--ok)';
    case 'red': return 'var(--crit)';
    case 'yellow': case 'orange': return 'var(--warn)';
    case 'blue': case 'text': return 'var(--accent)';
    case 'purple': return 'var(--dash-purple)';
    case '': return 'var(--fg)';
    default: return readable(name!);
  }
}

function channels(hex: string): [number, number, number] | null {
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) return null;
  const x = m[1].length === 3 ? m[1].split('').map((c) => c + c).join('') : m[1];
  return [0, 2, 4].map((i) => parseInt(x.slice(i, i + 2), 16)) as [number, number, number];
}

function luminance([r, g, b]: [number, number, number]): number {
  const f = (c: number) => { const v = c / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}

function ratio(a: [number, number, number], b: [number, number, number]): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

// A dashboard's own hex colour, darkened (light theme) or lightened (dark theme) just enough to
// reach 4.5:1 against the panel background; other CSS colours pass through unchanged.
function readable(c: string): string {
  const rgb = channels(c);
  if (!rgb) return c;
  const light = theme() === 'light';
  const bg: [number, number, number] = light ? [255, 255, 255] : [24, 27, 31];
  let cur = rgb;
  for (let i = 0; i < 20 && ratio(cur, bg) < 4.5; ++i) {
    cur = cur.map((v) => Math.round(light ? v * 0.9 : v + (255 - v) * 0.15)) as [number, number, number];
  }
  return `rgb(${cur.join(',')})`;
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
