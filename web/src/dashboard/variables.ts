// Dashboard variables (Grafana's templating): their options, their values (kept in the URL as
// var-<name>=<value>, repeated for several values, as Grafana does), and the interpolation of
// variables and Grafana's macros ($__interval, $__rate_interval, $__range...) into expressions,
// titles and links.

import { instantQuery, labelValues, labelsText } from '../api';
import { durationText, parseDuration } from '../format';
import type { Variable } from './model';

export const ALL = '$__all';
// Grafana's default scrape interval for $__rate_interval; Tyto's demo and stock config scrape every 15 s.
export const SCRAPE_INTERVAL_S = 15;

export interface VariableOption { text: string; value: string }

export interface VariableState {
  def: Variable;
  options: VariableOption[];
  values: string[]; // selected values; [ALL] for All
  error?: string;
}

// The options of a custom or interval variable: "a,b,c" or "text : value, ...".
function listOptions(q: string): VariableOption[] {
  return q.split(/(?<!\\),/).map((s) => s.replace(/\\,/g, ',').trim()).filter(Boolean).map((s) => {
    const m = /^(.*?)\s+:\s+(.*)$/.exec(s);
    return m ? { text: m[1], value: m[2] } : { text: s, value: s };
  });
}

function applyRegex(values: string[], regex: string | undefined): VariableOption[] {
  const out: VariableOption[] = [];
  const seen = new Set<string>();
  let re: RegExp | null = null;
  if (regex) {
    const m = /^\/(.*)\/([gimsuy]*)$/.exec(regex);
    try { re = m ? new RegExp(m[1], m[2].replace('g', '')) : new RegExp(regex); } catch { re = null; }
  }
  for (const v of values) {
    let text = v;
    let value = v;
    if (re) {
      const m = re.exec(v);
      if (!m) continue;
      const g = m.groups ?? {};
      if (g.value !== undefined || g.text !== undefined) {
        value = g.value ?? g.text!;
        text = g.text ?? value;
      } else if (m[1] !== undefined) {
        text = value = m[1];
      }
    }
    if (seen.has(value)) continue;
    seen.add(value);
    out.push({ text, value });
  }
  return out;
}

// Fetches a variable's options. `interp` resolves variables the query refers to (chained variables).
export async function loadOptions(v: Variable, interp: (s: string) => string, range: { start: number; end: number }, signal: AbortSignal): Promise<VariableOption[]> {
  switch (v.type) {
    case 'custom':
    case 'interval':
      return listOptions(v.query).filter((o) => o.value !== 'auto');
    case 'constant':
    case 'textbox':
      return [{ text: v.query, value: v.query }];
    case 'query': {
      const q = interp((v.query || v.definition || '').trim());
      let values: string[] = [];
      let m: RegExpExecArray | null;
      if ((m = /^label_values\(\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/.exec(q))) {
        values = await labelValues(m[1], undefined, signal);
      } else if ((m = /^label_values\(\s*(.+?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/s.exec(q))) {
        const ms = await labelValues(m[2], [m[1]], signal);
        values = ms;
      } else if ((m = /^metrics\(\s*(.*?)\s*\)$/.exec(q))) {
        const names = await labelValues('__name__', undefined, signal);
        let re: RegExp | null = null;
        try { re = new RegExp(m[1]); } catch { re = null; }
        values = re ? names.filter((n) => re!.test(n)) : names;
      } else if ((m = /^query_result\(\s*(.+)\s*\)$/s.exec(q))) {
        const r = await instantQuery(m[1], range.end / 1000, signal);
        if (r.resultType === 'vector') values = r.result.map((s) => `${labelsText(s.metric)} ${s.value[1]} ${Math.round(s.value[0] * 1000)}`);
        else if (r.resultType === 'scalar' || r.resultType === 'string') values = [r.result[1]];
      } else if (q) {
        throw new Error(`variable ${v.name}: unsupported query "${q}" (use label_values(...), query_result(...) or metrics(...))`);
      }
      values.sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
      return applyRegex(values.slice(0, 10000), v.regex);
    }
    default:
      throw new Error(`variable ${v.name}: type "${v.type}" is not supported`);
  }
}

// The selected values: the URL's var-<name> first, then the dashboard's `current`, then the first
// option (or All when the variable allows it).
export function pickValues(v: Variable, options: VariableOption[], fromUrl: string[]): string[] {
  const valid = (x: string) => x === ALL ? v.includeAll : v.type === 'textbox' || v.type === 'constant' || options.some((o) => o.value === x) || options.length === 0;
  let want = fromUrl.length ? fromUrl : currentValues(v);
  if (v.type === 'constant') return [v.query];
  if (v.type === 'textbox' && fromUrl.length) return [fromUrl[0]];
  want = want.map((x) => (x === '$__all' || x === 'All' && v.includeAll ? ALL : x)).filter(valid);
  if (!v.multi && want.length > 1) want = want.slice(0, 1);
  if (want.length) return want;
  if (v.includeAll) return [ALL];
  return options.length ? [options[0].value] : [];
}

function currentValues(v: Variable): string[] {
  const c = v.current?.value;
  if (Array.isArray(c)) return c.map(String);
  if (typeof c === 'string' && c !== '') return [c];
  if (v.type === 'textbox') return [v.query];
  return [];
}

// Regex metacharacters escaped for a PromQL double-quoted string (so `\.` reaches RE2).
function regexEscape(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, (c) => (c === '-' || c === '/' ? c : `\\\\${c}`));
}

export interface Macros {
  intervalS: number; // the step of range queries
  rangeS: number;    // the dashboard's time range
}

export function rateInterval(intervalS: number): number {
  return Math.max(4 * SCRAPE_INTERVAL_S, intervalS + SCRAPE_INTERVAL_S);
}

export type Mode = 'promql' | 'text' | 'url';

// Replaces $var, ${var}, ${var:format}, [[var]] and the $__ macros. In PromQL, a multi-value or
// All selection becomes a regex (a|b, or the variable's allValue, else .*); in text it is a list.
export function interpolate(s: string, vars: Map<string, VariableState>, macros: Macros, mode: Mode = 'promql', extra?: Record<string, string>): string {
  if (!s || s.indexOf('$') < 0 && s.indexOf('[[') < 0) return s;
  const macro = (name: string): string | undefined => {
    switch (name) {
      case '__interval': return durationText(Math.max(1, Math.round(macros.intervalS)));
      case '__interval_ms': return String(Math.round(macros.intervalS * 1000));
      case '__rate_interval': return durationText(rateInterval(Math.round(macros.intervalS)));
      case '__range': return durationText(Math.max(1, Math.round(macros.rangeS)));
      case '__range_s': return String(Math.round(macros.rangeS));
      case '__range_ms': return String(Math.round(macros.rangeS * 1000));
      default: return extra?.[name];
    }
  };
  const value = (name: string, fmt?: string): string | undefined => {
    const m = macro(name);
    if (m !== undefined) return m;
    const st = vars.get(name);
    if (!st) return undefined;
    const all = st.values.length === 1 && st.values[0] === ALL;
    const vals = all ? st.options.map((o) => o.value) : st.values;
    const asRegex = () => {
      if (all) return st.def.allValue ?? '.*';
      if (vals.length === 1) return st.def.multi || st.def.includeAll ? regexEscape(vals[0]) : vals[0];
      return vals.map(regexEscape).join('|');
    };
    switch (fmt) {
      case 'regex': return all ? (st.def.allValue ?? '.*') : vals.length === 1 ? regexEscape(vals[0]) : `(${vals.map(regexEscape).join('|')})`;
      case 'pipe': return vals.join('|');
      case 'csv': return vals.join(',');
      case 'raw': return all && st.def.allValue ? st.def.allValue : vals.join(',');
      case 'text': return all ? 'All' : vals.map((v) => st.options.find((o) => o.value === v)?.text ?? v).join(' + ');
      case 'percentencode': return encodeURIComponent(vals.join(','));
      case 'queryparam': return vals.map((v) => `var-${encodeURIComponent(name)}=${encodeURIComponent(v)}`).join('&');
      default:
        if (mode === 'promql') return asRegex();
        if (mode === 'url') return encodeURIComponent(all ? (st.def.allValue ?? ALL) : vals[0] ?? '');
        return all ? 'All' : vals.join(', ');
    }
  };
  return s.replace(/\$\{([a-zA-Z_][a-zA-Z0-9_.]*)(?::([a-zA-Z]+))?\}|\[\[([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-zA-Z]+))?\]\]|\$([a-zA-Z_][a-zA-Z0-9_]*)/g,
    (whole, a?: string, af?: string, b?: string, bf?: string, c?: string) => {
      const name = a ?? b ?? c!;
      const v = value(name, af ?? bf);
      return v === undefined ? whole : v;
    });
}

// Grafana's interval variables and panels' min interval ("1m", ">30s").
export function minInterval(text: string | undefined): number | null {
  if (!text) return null;
  return parseDuration(text.replace(/^>/, ''));
}
