// The dashboard format: a subset of Grafana's dashboard JSON model (docs/dashboards.md), so a
// Grafana dashboard whose panels query Prometheus imports as it is, and Tyto's built-in
// dashboards (dashboards/*.json) can be copied and edited. normalize() turns whatever JSON was
// loaded into a checked, flattened Dashboard: rows keep their nested panels, old panel types map
// to new ones ("graph" -> timeseries, "singlestat" -> stat), and missing fields get defaults.

export interface Threshold { color: string; value: number | null }

export interface ValueMapping {
  type: 'value' | 'range' | 'special';
  // value: {"<raw value>": {text, color}}; range: {from, to, result: {text, color}}
  options: Record<string, unknown>;
}

export interface FieldDefaults {
  unit?: string;
  min?: number;
  max?: number;
  decimals?: number;
  thresholds?: { mode?: string; steps: Threshold[] };
  mappings?: ValueMapping[];
  links?: PanelLink[];
}

export interface PanelLink { title?: string; url: string; targetBlank?: boolean }

export interface Target {
  expr: string;
  legendFormat?: string;
  refId: string;
  instant?: boolean;
  range?: boolean;
  format?: 'time_series' | 'table' | 'heatmap';
  hide?: boolean;
  exemplar?: boolean;
  interval?: string;
}

export interface GridPos { x: number; y: number; w: number; h: number }

export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: GridPos;
  targets: Target[];
  fieldConfig: { defaults: FieldDefaults };
  options: Record<string, unknown>;
  links: PanelLink[];
  interval?: string;
  collapsed?: boolean;
  panels?: Panel[]; // a row's nested panels (Grafana keeps them here when the row is collapsed)
}

export interface Variable {
  name: string;
  label?: string;
  type: 'query' | 'custom' | 'constant' | 'textbox' | 'interval' | string;
  query: string;
  definition?: string;
  regex?: string;
  multi: boolean;
  includeAll: boolean;
  allValue?: string;
  current?: { text?: string | string[]; value?: string | string[] };
  options?: { text: string; value: string; selected?: boolean }[];
  hide?: number; // 0 shown, 1 label hidden, 2 variable hidden (Grafana)
}

export interface Annotation {
  name: string;
  enable: boolean;
  expr?: string;
  type?: string; // "tyto-deployments" for Tyto's deployment store; otherwise PromQL `expr`
  iconColor?: string;
  titleFormat?: string;
  textFormat?: string;
  step?: string;
  useValueForTime?: boolean;
  model?: string; // tyto-deployments: only this model (variables allowed)
  builtIn?: number;
}

export interface Dashboard {
  uid: string;
  title: string;
  description?: string;
  tags: string[];
  time: { from: string; to: string };
  refresh?: string;
  variables: Variable[];
  annotations: Annotation[];
  panels: Panel[]; // top level, in reading order (rows included)
  raw: unknown;    // the JSON as loaded, for Copy / Download
}

// Grafana's old panel types and their current names.
const TYPE_ALIASES: Record<string, string> = {
  graph: 'timeseries',
  singlestat: 'stat',
  'grafana-singlestat-panel': 'stat',
  'table-old': 'table',
  'grafana-piechart-panel': 'piechart',
};

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown, d = ''): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : d;
}
function num(v: unknown): number | undefined {
  if (typeof v === 'number' && isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && isFinite(Number(v))) return Number(v);
  return undefined;
}

function normalizeTarget(t: Json, i: number): Target {
  const format = str(t.format);
  return {
    expr: str(t.expr ?? t.query),
    legendFormat: typeof t.legendFormat === 'string' ? t.legendFormat : undefined,
    refId: str(t.refId, String.fromCharCode(65 + (i % 26))),
    instant: t.instant === true,
    range: t.range === undefined ? undefined : t.range === true,
    format: format === 'table' || format === 'heatmap' ? format : 'time_series',
    hide: t.hide === true,
    exemplar: t.exemplar === true,
    interval: typeof t.interval === 'string' && t.interval ? t.interval : undefined,
  };
}

function normalizeDefaults(p: Json): FieldDefaults {
  const d = obj(obj(p.fieldConfig).defaults);
  const out: FieldDefaults = {};
  if (typeof d.unit === 'string') out.unit = d.unit;
  else if (typeof p.format === 'string') out.unit = p.format; // singlestat
  else {
    const y = arr(p.yaxes)[0]; // old graph
    if (y && typeof obj(y).format === 'string') out.unit = str(obj(y).format);
  }
  out.min = num(d.min);
  out.max = num(d.max);
  out.decimals = num(d.decimals);
  const th = obj(d.thresholds);
  const steps = arr(th.steps).map((s) => ({ color: str(obj(s).color, 'green'), value: num(obj(s).value) ?? null }));
  if (steps.length) out.thresholds = { mode: str(th.mode, 'absolute'), steps };
  const maps = arr(d.mappings).map((m) => ({ type: str(obj(m).type, 'value'), options: obj(obj(m).options) }) as ValueMapping);
  if (maps.length) out.mappings = maps;
  const links = arr(d.links).map(normalizeLink).filter((l): l is PanelLink => l !== null);
  if (links.length) out.links = links;
  return out;
}

function normalizeLink(l: unknown): PanelLink | null {
  const o = obj(l);
  const url = str(o.url);
  if (!url) return null;
  return { title: str(o.title), url, targetBlank: o.targetBlank === true };
}

export function normalizePanel(raw: unknown, fallbackId: number): Panel {
  const p = obj(raw);
  const g = obj(p.gridPos);
  let type = str(p.type, 'timeseries');
  type = TYPE_ALIASES[type] ?? type;
  const options = { ...obj(p.options) };
  // singlestat's sparkline and value name map onto stat's options.
  if (str(p.type) === 'singlestat') {
    if (obj(p.sparkline).show === true) options.graphMode = 'area';
    const vn = str(p.valueName);
    if (vn) options.reduceOptions = { calcs: [vn === 'current' ? 'lastNotNull' : vn === 'avg' ? 'mean' : vn] };
  }
  const links = [...arr(p.links), ...arr(obj(obj(p.fieldConfig).defaults).links)]
    .map(normalizeLink).filter((l): l is PanelLink => l !== null);
  const panel: Panel = {
    id: num(p.id) ?? fallbackId,
    type,
    title: str(p.title),
    description: typeof p.description === 'string' ? p.description : undefined,
    gridPos: {
      x: Math.max(0, Math.min(23, num(g.x) ?? 0)),
      y: Math.max(0, num(g.y) ?? 0),
      w: Math.max(1, Math.min(24, num(g.w) ?? 12)),
      h: Math.max(1, Math.min(100, num(g.h) ?? 8)),
    },
    targets: arr(p.targets).slice(0, 26).map((t, i) => normalizeTarget(obj(t), i)),
    fieldConfig: { defaults: normalizeDefaults(p) },
    options,
    links,
    interval: typeof p.interval === 'string' && p.interval ? p.interval : undefined,
  };
  if (type === 'text' && typeof p.content === 'string' && typeof options.content !== 'string') options.content = p.content;
  if (type === 'row') {
    panel.collapsed = p.collapsed === true;
    panel.panels = arr(p.panels).slice(0, 200).map((c, i) => normalizePanel(c, fallbackId * 1000 + i + 1));
  }
  return panel;
}

function normalizeVariable(raw: unknown): Variable | null {
  const v = obj(raw);
  const name = str(v.name);
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) return null;
  const q = v.query;
  const query = typeof q === 'string' ? q : str(obj(q).query);
  const cur = obj(v.current);
  return {
    name,
    label: typeof v.label === 'string' && v.label ? v.label : undefined,
    type: str(v.type, 'query'),
    query,
    definition: typeof v.definition === 'string' ? v.definition : undefined,
    regex: typeof v.regex === 'string' && v.regex ? v.regex : undefined,
    multi: v.multi === true,
    includeAll: v.includeAll === true,
    allValue: typeof v.allValue === 'string' && v.allValue ? v.allValue : undefined,
    current: Object.keys(cur).length ? { text: cur.text as string | string[], value: cur.value as string | string[] } : undefined,
    options: arr(v.options).map((o) => ({ text: str(obj(o).text), value: str(obj(o).value), selected: obj(o).selected === true })),
    hide: num(v.hide),
  };
}

function normalizeAnnotation(raw: unknown): Annotation | null {
  const a = obj(raw);
  const type = str(a.type);
  const expr = str(a.expr);
  if (a.builtIn === 1 || (!expr && type !== 'tyto-deployments')) return null; // Grafana's own "Annotations & Alerts"
  return {
    name: str(a.name, 'Annotations'),
    enable: a.enable !== false,
    expr: expr || undefined,
    type: type || undefined,
    iconColor: typeof a.iconColor === 'string' ? a.iconColor : undefined,
    titleFormat: typeof a.titleFormat === 'string' ? a.titleFormat : undefined,
    textFormat: typeof a.textFormat === 'string' ? a.textFormat : undefined,
    step: typeof a.step === 'string' ? a.step : undefined,
    useValueForTime: a.useValueForTime === true,
    model: typeof a.model === 'string' ? a.model : undefined,
  };
}

// Accepts a dashboard or Grafana's export wrapper {"dashboard": {...}}.
export function normalize(input: unknown): Dashboard {
  let d = obj(input);
  if (d.dashboard && typeof d.dashboard === 'object') d = obj(d.dashboard);
  const time = obj(d.time);
  const panels = arr(d.panels).slice(0, 500).map((p, i) => normalizePanel(p, i + 1));
  // Grafana's oldest format: rows[] each with panels[] and a height in pixels.
  if (!panels.length && Array.isArray(d.rows)) {
    let y = 0;
    let id = 1;
    for (const r of arr(d.rows)) {
      const row = obj(r);
      const h = Math.max(3, Math.round((parseInt(str(row.height, '250'), 10) || 250) / 30));
      if (row.showTitle === true || str(row.title)) panels.push(normalizePanel({ type: 'row', title: str(row.title), id: 10000 + id, gridPos: { x: 0, y, w: 24, h: 1 } }, id++));
      let x = 0;
      for (const p of arr(row.panels)) {
        const span = num(obj(p).span) ?? 12;
        const w = Math.max(1, Math.min(24, Math.round(span * 2)));
        if (x + w > 24) { x = 0; y += h; }
        panels.push(normalizePanel({ ...obj(p), gridPos: { x, y, w, h } }, id++));
        x += w;
      }
      y += h;
    }
  }
  return {
    uid: str(d.uid),
    title: str(d.title, 'Untitled dashboard'),
    description: typeof d.description === 'string' ? d.description : undefined,
    tags: arr(d.tags).map((t) => str(t)).filter(Boolean),
    time: { from: str(time.from, 'now-1h'), to: str(time.to, 'now') },
    refresh: typeof d.refresh === 'string' ? d.refresh : undefined,
    variables: arr(obj(d.templating).list).map(normalizeVariable).filter((v): v is Variable => v !== null),
    annotations: arr(obj(d.annotations).list).map(normalizeAnnotation).filter((a): a is Annotation => a !== null),
    panels,
    raw: d,
  };
}

// Panels in reading order (by gridPos y, then x), as Grafana lays them out.
export function byPosition(panels: Panel[]): Panel[] {
  return [...panels].sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x);
}
