// Grafana's panel types that Tyto renders: timeseries (and the old graph), stat (and singlestat),
// gauge, bargauge, table, text; anything else says it is not supported, inside the panel. Each
// renderer builds its DOM once and updates it in place on every refresh.

import type uPlot from 'uplot';
import { getData, legend, rangeQuery, vector, type Labels, type RangeSeries } from '../api';
import { TimeSeriesChart, type ChartOptions, type ChartSeries, type Marker } from '../chart';
import { h, link, notice, replace } from '../dom';
import { formatTime, formatValue } from '../format';
import { href } from '../router';
import { seriesColor } from '../theme';
import { renderMarkdown } from './markdown';
import type { Panel, Target } from './model';
import { calcOf, display, errorText, interp, isAbort, reduce, type PanelEnv, type PanelView } from './panel';
import { openQualitySamples } from './quality';

export interface QueryResult {
  target: Target;
  series: { labels: Labels; points: [number, number | null][] }[];
}

function num(v: string): number | null {
  const x = parseFloat(v);
  return Number.isNaN(x) ? null : x;
}

// Runs a panel's visible targets: range queries, or instant queries for `instant` targets (and
// when `instant` is forced, e.g. for tables and gauges that show the latest value).
export async function runTargets(panel: Panel, env: PanelEnv, forceInstant = false): Promise<QueryResult[]> {
  const targets = panel.targets.filter((t) => !t.hide && t.expr.trim());
  return Promise.all(targets.map(async (t) => {
    const expr = interp(env, t.expr);
    if (forceInstant || (t.instant && t.range !== true)) {
      const r = await vector(expr, env.end / 1000, env.signal);
      return { target: t, series: r.map((s) => ({ labels: s.metric, points: [[s.value[0], num(s.value[1])]] as [number, number | null][] })) };
    }
    const r: RangeSeries[] = await rangeQuery(expr, env.start / 1000, env.end / 1000, env.step, env.signal);
    return { target: t, series: r.map((s) => ({ labels: s.metric, points: s.values.map(([ts, v]) => [ts, num(v)] as [number, number | null]) })) };
  }));
}

function seriesName(t: Target, labels: Labels, env: PanelEnv): string {
  return legend(t.legendFormat ? interp(env, t.legendFormat, 'text') : undefined, labels) || t.expr;
}

// A status line inside a panel (loading, empty, error) that replaces nothing else.
class Status {
  readonly el = h('div', { class: 'dash-status' });
  set(kind: 'error' | 'empty' | null, text = ''): void {
    if (!kind) { this.el.replaceChildren(); return; }
    replace(this.el, notice(kind, text));
  }
}

function fail(status: Status, e: unknown): void {
  if (isAbort(e)) return;
  status.set('error', errorText(e));
}

const EMPTY = 'No data in this time range: the query matched no series (widen the range, or check that the exporter is scraped).';

// ---- timeseries ----

interface Exemplar { labels: Labels; seriesLabels: Labels; time: number; value: number }

class TimeSeriesView implements PanelView {
  private chart: TimeSeriesChart;
  private status = new Status();
  private labelsByName = new Map<string, Labels>();
  private exemplars: Exemplar[] = [];
  private env: PanelEnv | null = null;
  private body: HTMLElement;
  private opts: ChartOptions;
  private showLegend: boolean;

  // The chart fills the panel: its grid height less the title, the padding and the legend's rows
  // (uPlot lays legend entries inline: a swatch, the name and the value, about 7 px a character).
  private chartHeight(names: string[]): number {
    const width = Math.max(200, (this.body?.clientWidth || 600) - 20);
    const shown = this.opts?.legend ?? names.length <= 12; // the chart's own default
    let rows = 0;
    if (this.showLegend && shown && names.length) {
      rows = 1;
      let x = 130; // "Time: <time>"
      for (const n of names) {
        const w = 70 + 7 * n.length;
        if (x + w > width && x > 0) { rows++; x = 0; }
        x += w;
      }
      rows = Math.min(4, rows);
    }
    const hint = this.panel.options.drilldown === 'quality' ? 22 : 0;
    return Math.max(60, this.panel.gridPos.h * 30 - 8 - 44 - rows * 22 - hint);
  }

  constructor(private panel: Panel, body: HTMLElement) {
    const d = panel.fieldConfig.defaults;
    const custom = (panel.options.legend ?? {}) as { showLegend?: boolean; displayMode?: string };
    const drill = panel.options.drilldown === 'quality';
    body.append(this.status.el);
    this.body = body;
    this.opts = {
      height: this.chartHeight([]),
      unit: d.unit,
      min: d.min,
      max: d.max,
      legend: custom.showLegend === false || custom.displayMode === 'hidden' ? false : undefined,
      ariaLabel: panel.title || 'Time series',
      stacked: (panel.options.stacking as { mode?: string } | undefined)?.mode === 'normal',
      onRange: (a, b) => this.env?.ctx.setRange({ from: String(Math.round(a * 1000)), to: String(Math.round(b * 1000)) }),
      onDraw: (u) => this.drawExemplars(u),
      onPoint: drill ? (s, t) => { if (this.env) openQualitySamples(this.env, this.labelsByName.get(s.name) ?? {}, t, this.panel.title); } : undefined,
    };
    this.showLegend = this.opts.legend !== false;
    this.chart = new TimeSeriesChart(body, this.opts);
    if (drill) body.append(h('p', { class: 'dash-hint' }, 'Click a point to see the sampled requests scored around that time.'));
  }

  async update(env: PanelEnv): Promise<void> {
    this.env = env;
    try {
      const [results, markers] = await Promise.all([runTargets(this.panel, env), env.markers()]);
      const series: ChartSeries[] = [];
      this.labelsByName.clear();
      for (const r of results) {
        for (const s of r.series) {
          let name = seriesName(r.target, s.labels, env);
          while (this.labelsByName.has(name)) name += ' ';
          this.labelsByName.set(name, s.labels);
          series.push({ name, points: s.points });
        }
      }
      series.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
      this.status.set(series.length ? null : 'empty', EMPTY);
      this.exemplars = await this.loadExemplars(env);
      this.opts.height = this.chartHeight(series.map((x) => x.name)); // read by the chart when it rebuilds (new series)
      this.chart.el.hidden = series.length === 0;
      this.chart.setData(series, markers, [env.start / 1000, env.end / 1000]);
      const plot = this.chart.uplot;
      if (plot) this.drawExemplars(plot);
    } catch (e) {
      fail(this.status, e);
    }
  }

  private async loadExemplars(env: PanelEnv): Promise<Exemplar[]> {
    const targets = this.panel.targets.filter((t) => t.exemplar && !t.hide && t.expr.trim());
    if (!targets.length) return [];
    const out: Exemplar[] = [];
    for (const t of targets) {
      const data = await getData<{ seriesLabels: Labels; exemplars: { labels: Labels; value: string; timestamp: number }[] }[]>(
        '/api/v1/query_exemplars', { query: interp(env, t.expr), start: env.start / 1000, end: env.end / 1000 }, env.signal);
      for (const s of data ?? []) for (const e of s.exemplars) {
        const v = parseFloat(e.value);
        if (!Number.isNaN(v)) out.push({ labels: e.labels, seriesLabels: s.seriesLabels, time: e.timestamp, value: v });
      }
    }
    // Keep the slowest per time slot (60 slots over the range): they are the ones worth opening,
    // and the chart stays readable.
    const slot = (env.end - env.start) / 1000 / 60 || 1;
    const best = new Map<number, Exemplar>();
    for (const e of out) {
      const k = Math.floor((e.time - env.start / 1000) / slot);
      const b = best.get(k);
      if (!b || e.value > b.value) best.set(k, e);
    }
    return [...best.values()];
  }

  // Exemplars are links drawn over the chart at (time, value); redrawn with every uPlot draw
  // (the chart's onDraw), so a rebuilt chart (new series, theme change) keeps them.
  private drawExemplars(u: uPlot): void {
    let layer = u.over.querySelector<HTMLElement>('.exemplars');
    if (!this.exemplars.length) { layer?.remove(); return; }
    if (!layer) {
      layer = h('div', { class: 'exemplars' });
      u.over.append(layer);
    }
    const [x0, x1] = [u.scales.x.min ?? 0, u.scales.x.max ?? 0];
    const [y0, y1] = [u.scales.y.min ?? 0, u.scales.y.max ?? 0];
    const unit = this.panel.fieldConfig.defaults.unit;
    const dots: HTMLElement[] = [];
    for (const e of this.exemplars) {
      if (e.time < x0 || e.time > x1 || e.value < y0 || e.value > y1) continue;
      const id = e.labels.trace_id ?? e.labels.traceID ?? e.labels.traceId;
      const title = `Exemplar ${formatValue(e.value, unit)} at ${formatTime(e.time * 1000)}${id ? ` · trace ${id}` : ''}`;
      const dot = id ? link(href(`traces/${id}`), '') : h('span', {});
      dot.className = 'exemplar';
      dot.setAttribute('aria-label', title);
      dot.title = title;
      dot.style.left = `${u.valToPos(e.time, 'x')}px`;
      dot.style.top = `${u.valToPos(e.value, 'y')}px`;
      dots.push(dot);
    }
    layer.replaceChildren(...dots);
  }

  destroy(): void {
    this.chart.destroy();
  }
}

// ---- stat ----

class StatView implements PanelView {
  private status = new Status();
  private grid = h('div', { class: 'stat-grid' });
  constructor(private panel: Panel, body: HTMLElement) {
    body.append(this.status.el, this.grid);
  }
  async update(env: PanelEnv): Promise<void> {
    try {
      const results = await runTargets(this.panel, env);
      const d = this.panel.fieldConfig.defaults;
      const calc = calcOf(this.panel);
      const spark = this.panel.options.graphMode !== 'none';
      const colorBg = this.panel.options.colorMode === 'background';
      const items: HTMLElement[] = [];
      for (const r of results) for (const s of r.series.slice(0, 50)) {
        const v = reduce(s.points.map((p) => p[1]), calc);
        const shown = display(v, d);
        const name = r.series.length > 1 || results.length > 1 ? seriesName(r.target, s.labels, env) : '';
        const value = h('div', { class: 'stat-value' }, shown.text);
        const cell = h('div', { class: 'stat-cell' }, value, name ? h('div', { class: 'stat-label' }, name) : null);
        if (shown.color) {
          if (colorBg) { cell.style.background = shown.color; cell.classList.add('stat-bg'); } else value.style.color = shown.color;
        }
        if (spark && s.points.length > 1) cell.append(sparkline(s.points, shown.color));
        items.push(cell);
      }
      this.grid.replaceChildren(...items);
      this.status.set(items.length ? null : 'empty', 'No data: the query matched no series.');
    } catch (e) {
      fail(this.status, e);
    }
  }
}

function sparkline(points: [number, number | null][], c?: string): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'sparkline');
  svg.setAttribute('viewBox', '0 0 100 30');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('aria-hidden', 'true');
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]).filter((v): v is number => v !== null);
  if (!ys.length) return svg;
  const [x0, x1] = [xs[0], xs[xs.length - 1] || xs[0] + 1];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) { y0 -= 1; y1 += 1; }
  let d = '';
  for (const [t, v] of points) {
    if (v === null) continue;
    const x = ((t - x0) / (x1 - x0 || 1)) * 100;
    const y = 29 - ((v - y0) / (y1 - y0)) * 28;
    d += `${d ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
  }
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', 'none');
  path.style.stroke = c ?? 'var(--accent)';
  path.setAttribute('stroke-width', '1.5');
  path.setAttribute('vector-effect', 'non-scaling-stroke');
  svg.append(path);
  return svg;
}

// ---- gauge and bar gauge ----

class GaugeView implements PanelView {
  private status = new Status();
  private grid: HTMLElement;
  constructor(private panel: Panel, body: HTMLElement, private bars: boolean) {
    this.grid = h('div', { class: bars ? 'bargauge' : 'gauge-grid' });
    body.append(this.status.el, this.grid);
  }
  async update(env: PanelEnv): Promise<void> {
    try {
      const results = await runTargets(this.panel, env);
      const d = this.panel.fieldConfig.defaults;
      const calc = calcOf(this.panel);
      const items: HTMLElement[] = [];
      const all: { name: string; v: number | null }[] = [];
      for (const r of results) for (const s of r.series.slice(0, 100)) {
        all.push({ name: seriesName(r.target, s.labels, env), v: reduce(s.points.map((p) => p[1]), calc) });
      }
      const vals = all.map((a) => a.v).filter((v): v is number => v !== null);
      const min = d.min ?? 0;
      const max = d.max ?? (d.unit === 'percent' ? 100 : d.unit === 'percentunit' ? 1 : Math.max(1, ...vals));
      for (const a of all) {
        const shown = display(a.v, d);
        const frac = a.v === null ? 0 : Math.max(0, Math.min(1, (a.v - min) / (max - min || 1)));
        if (this.bars) {
          const fill = h('div', { class: 'bar-fill', style: { width: `${(frac * 100).toFixed(1)}%`, background: shown.color ?? 'var(--accent)' } });
          items.push(h('div', { class: 'bar-row' },
            h('div', { class: 'bar-name', title: a.name }, a.name),
            h('div', { class: 'bar-track', role: 'meter', 'aria-valuemin': min, 'aria-valuemax': max, 'aria-valuenow': a.v ?? undefined, 'aria-label': a.name }, fill),
            h('div', { class: 'bar-value' }, shown.text)));
        } else {
          items.push(h('div', { class: 'gauge-cell' }, gauge(frac, shown.color), h('div', { class: 'gauge-value', style: { color: shown.color } }, shown.text),
            all.length > 1 ? h('div', { class: 'stat-label' }, a.name) : null));
        }
      }
      this.grid.replaceChildren(...items);
      this.status.set(items.length ? null : 'empty', 'No data: the query matched no series.');
    } catch (e) {
      fail(this.status, e);
    }
  }
}

function gauge(frac: number, c?: string): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 100 56');
  svg.setAttribute('class', 'gauge');
  svg.setAttribute('aria-hidden', 'true');
  const arc = (f: number) => {
    const a = Math.PI * (1 - f);
    return `M10,50 A40,40 0 0 1 ${(50 + 40 * Math.cos(a)).toFixed(2)},${(50 - 40 * Math.sin(a)).toFixed(2)}`;
  };
  const track = document.createElementNS(ns, 'path');
  track.setAttribute('d', arc(1));
  track.setAttribute('class', 'gauge-track');
  const val = document.createElementNS(ns, 'path');
  val.setAttribute('d', arc(Math.max(0.001, frac)));
  val.setAttribute('class', 'gauge-val');
  val.style.stroke = c ?? 'var(--accent)';
  svg.append(track, val);
  return svg;
}

// ---- table ----

class TableView implements PanelView {
  private status = new Status();
  private wrap = h('div', { class: 'table-wrap' });
  constructor(private panel: Panel, body: HTMLElement) {
    body.append(this.status.el, this.wrap);
  }
  async update(env: PanelEnv): Promise<void> {
    try {
      const instant = this.panel.targets.every((t) => t.instant || t.format === 'table');
      const results = await runTargets(this.panel, env, instant);
      const d = this.panel.fieldConfig.defaults;
      const calc = calcOf(this.panel);
      // One row per label set; one value column per target (Value, or "Value #A" with several).
      const rows = new Map<string, { labels: Labels; values: Map<string, number | null> }>();
      const labelCols = new Set<string>();
      for (const r of results) for (const s of r.series.slice(0, 2000)) {
        const labels = { ...s.labels };
        delete labels.__name__;
        const key = JSON.stringify(Object.entries(labels).sort());
        Object.keys(labels).forEach((k) => labelCols.add(k));
        const row = rows.get(key) ?? { labels, values: new Map() };
        row.values.set(r.target.refId, reduce(s.points.map((p) => p[1]), calc));
        rows.set(key, row);
      }
      const hidden = new Set<string>(((this.panel.options.hiddenColumns as string[] | undefined) ?? []).map(String));
      const cols = [...labelCols].filter((c) => !hidden.has(c)).sort();
      const valueCols = results.map((r) => r.target);
      const many = valueCols.length > 1;
      const links = this.panel.links;
      const head = h('tr', null, ...cols.map((c) => h('th', { scope: 'col' }, c)),
        ...valueCols.map((t) => h('th', { scope: 'col', class: 'num' }, many ? (t.legendFormat && !t.legendFormat.includes('{{') ? t.legendFormat : `Value #${t.refId}`) : 'Value')));
      // Grafana's options.sortBy [{displayName, desc}] first, then every label column in order.
      const sortBy = ((this.panel.options.sortBy as { displayName?: string; desc?: boolean }[] | undefined) ?? []).filter((x) => x && x.displayName);
      const cmp = (a: { labels: Labels }, b: { labels: Labels }) => {
        for (const sb of sortBy) {
          const k = sb.displayName!;
          const c = (a.labels[k] ?? '').localeCompare(b.labels[k] ?? '', undefined, { numeric: true });
          if (c) return sb.desc ? -c : c;
        }
        return cols.map((c) => (a.labels[c] ?? '').localeCompare(b.labels[c] ?? '', undefined, { numeric: true })).find((x) => x !== 0) ?? 0;
      };
      const body = [...rows.values()].sort(cmp)
        .slice(0, 1000).map((row) => {
          const extra: Record<string, string> = {};
          for (const [k, v] of Object.entries(row.labels)) extra[`__field.labels.${k}`] = v;
          const first = row.values.values().next().value;
          extra['__value.raw'] = first === null || first === undefined ? '' : String(first);
          const cells = cols.map((c, i) => {
            const text = row.labels[c] ?? '';
            if (i === 0 && links.length) return h('td', null, linkTo(links[0].url, env, extra, text));
            return h('td', null, text);
          });
          const vcells = valueCols.map((t) => {
            const v = row.values.get(t.refId) ?? null;
            const shown = display(v, d);
            return h('td', { class: 'num', style: { color: shown.color } }, shown.text);
          });
          return h('tr', null, ...cells, ...vcells);
        });
      replace(this.wrap, h('table', { class: 'data' }, h('thead', null, head), h('tbody', null, ...body)));
      this.status.set(rows.size ? null : 'empty', 'No data: the query matched no series.');
    } catch (e) {
      fail(this.status, e);
    }
  }
}

// A data link with variables and the row's ${__field.labels.x}; inside the app it navigates in place.
export function linkTo(url: string, env: PanelEnv, extra: Record<string, string>, text: string): HTMLAnchorElement {
  let u = interp(env, url, 'url', Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, encodeURIComponent(v)])));
  if (u.startsWith('/d/')) u = '/ui' + u; // Grafana's dashboard paths
  const internal = u.startsWith('/ui/');
  if (internal) {
    const [path, q] = u.slice(4).split('?');
    const p = new URLSearchParams(q ?? '');
    const rec: Record<string, string> = {};
    p.forEach((v, k) => { rec[k] = v; });
    const a = link(href(path), text);
    const full = new URL(a.href, window.location.origin);
    p.forEach((v, k) => full.searchParams.append(k, v));
    a.href = full.pathname + full.search;
    return a;
  }
  if (!/^(https?:|\/)/.test(u)) return h('a', { href: '#', 'aria-disabled': 'true' }, text);
  return h('a', { href: u, rel: 'noopener noreferrer' }, text);
}

// ---- text ----

class TextView implements PanelView {
  constructor(private panel: Panel, private body: HTMLElement) {}
  async update(env: PanelEnv): Promise<void> {
    const content = String(this.panel.options.content ?? '');
    const mode = String(this.panel.options.mode ?? 'markdown');
    const text = interp(env, content, 'text');
    const el = h('div', { class: 'text-panel' });
    if (mode === 'markdown') renderMarkdown(el, text);
    else el.append(h('pre', null, text)); // html mode is shown as text: outside HTML is never trusted
    replace(this.body, el);
  }
}

class UnsupportedView implements PanelView {
  constructor(panel: Panel, body: HTMLElement) {
    body.append(notice('info', `panel type ${panel.type} is not supported`));
  }
  async update(): Promise<void> {}
}

export const STANDARD: Record<string, (p: Panel, body: HTMLElement) => PanelView> = {
  timeseries: (p, b) => new TimeSeriesView(p, b),
  stat: (p, b) => new StatView(p, b),
  gauge: (p, b) => new GaugeView(p, b, false),
  bargauge: (p, b) => new GaugeView(p, b, true),
  table: (p, b) => new TableView(p, b),
  text: (p, b) => new TextView(p, b),
};

export function unsupported(p: Panel, b: HTMLElement): PanelView {
  return new UnsupportedView(p, b);
}

// Markers for a PromQL annotation: one where each run of values starts (or at the value itself,
// with useValueForTime), titled by titleFormat with the series' labels.
export function annotationMarkers(res: RangeSeries[], a: { titleFormat?: string; textFormat?: string; useValueForTime?: boolean; iconColor?: string; name: string }, step: number): Marker[] {
  const out: Marker[] = [];
  const seen = new Set<string>();
  for (const s of res) {
    const text = a.titleFormat ? legend(a.titleFormat, s.metric) : a.textFormat ? legend(a.textFormat, s.metric) : a.name;
    let prev = -Infinity;
    for (const [t, v] of s.values) {
      const time = a.useValueForTime ? parseFloat(v) : t;
      if (a.useValueForTime) {
        const k = `${text}@${time}`;
        if (!seen.has(k) && isFinite(time)) { seen.add(k); out.push({ time, text, color: a.iconColor }); }
      } else if (t - prev > step * 1.5) {
        out.push({ time, text, color: a.iconColor });
      }
      prev = t;
    }
  }
  return out.slice(0, 200).map((m, i) => ({ ...m, color: m.color ?? seriesColor(4 + (i % 2)) }));
}
