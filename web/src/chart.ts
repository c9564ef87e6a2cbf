// Time-series charts on uPlot (canvas; stays smooth with 10,000 points per series). One wrapper
// for every page and dashboard panel: theme colours, resizing with its container, the unit on the
// axis and in the legend, drag to zoom into a time range, click on a point, and vertical markers
// (deployments, alert starts).

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatValue, formatTime } from './format';
import { cssVar, onThemeChange, seriesColor } from './theme';

export interface ChartSeries {
  name: string;
  points: [number, number | null][]; // [unix seconds, value]
  color?: string;
}

export interface Marker {
  time: number; // unix seconds
  text: string;
  color?: string;
}

export interface ChartOptions {
  height?: number;
  unit?: string;     // Grafana unit name (format.ts)
  min?: number;
  max?: number;
  stacked?: boolean; // fill under lines
  legend?: boolean;  // default: shown when there are at most 12 series
  ariaLabel?: string;
  onRange?: (startSec: number, endSec: number) => void;         // drag-select
  onPoint?: (series: ChartSeries, time: number, value: number) => void; // click
  // Draws over the chart after every uPlot draw (exemplar points and the like); kept across
  // rebuilds (new series, theme change).
  onDraw?: (u: uPlot) => void;
}

// Aligns series on the union of their timestamps (range queries share one grid, so this is cheap).
export function align(series: ChartSeries[]): uPlot.AlignedData {
  const times = new Set<number>();
  for (const s of series) for (const p of s.points) times.add(p[0]);
  const xs = Float64Array.from(times).sort();
  const index = new Map<number, number>();
  xs.forEach((t, i) => index.set(t, i));
  const data: (number | null)[][] = series.map((s) => {
    const ys: (number | null)[] = new Array(xs.length).fill(null);
    for (const [t, v] of s.points) ys[index.get(t)!] = v === null || Number.isNaN(v) ? null : v;
    return ys;
  });
  return [Array.from(xs), ...data] as uPlot.AlignedData;
}

export class TimeSeriesChart {
  private plot: uPlot | null = null;
  private series: ChartSeries[] = [];
  private markers: Marker[] = [];
  private xRange: [number, number] | null = null;
  private readonly resize: ResizeObserver;
  private readonly offTheme: () => void;
  readonly el: HTMLElement;

  constructor(container: HTMLElement, private readonly opts: ChartOptions = {}) {
    this.el = document.createElement('div');
    this.el.className = 'chart';
    this.el.setAttribute('role', 'img');
    this.el.setAttribute('aria-label', opts.ariaLabel ?? 'Time series chart');
    container.append(this.el);
    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(this.el);
    this.offTheme = onThemeChange(() => this.rebuild());
  }

  // `range`: the x axis's [start, end] in unix seconds, normally the selected time range, so that
  // "last 15 minutes" shows 15 minutes however little data there is; default: the data's extent.
  setData(series: ChartSeries[], markers: Marker[] = [], range?: [number, number]): void {
    const sameShape = this.plot && series.length === this.series.length && series.every((s, i) => s.name === this.series[i].name);
    this.series = series;
    this.markers = markers;
    this.xRange = range ?? null;
    if (sameShape && this.plot) {
      this.plot.setData(align(series));
      return;
    }
    this.rebuild();
  }

  // The uPlot instance (null before the first setData), for layers drawn over the chart.
  get uplot(): uPlot | null {
    return this.plot;
  }

  destroy(): void {
    this.resize.disconnect();
    this.offTheme();
    this.plot?.destroy();
    this.plot = null;
  }

  private width(): number {
    return Math.max(200, Math.floor(this.el.clientWidth || this.el.parentElement?.clientWidth || 600));
  }

  private fit(): void {
    if (!this.plot) return;
    const w = this.width();
    if (Math.abs(w - this.plot.width) > 2) this.plot.setSize({ width: w, height: this.opts.height ?? 220 });
  }

  private rebuild(): void {
    this.plot?.destroy();
    this.el.replaceChildren();
    const unit = this.opts.unit ?? 'short';
    const showLegend = this.opts.legend ?? this.series.length <= 12;
    const markers = () => this.markers;
    const o: uPlot.Options = {
      width: this.width(),
      height: this.opts.height ?? 220,
      legend: { show: showLegend, live: true },
      cursor: { drag: { x: true, y: false, setScale: false }, focus: { prox: 16 } },
      focus: { alpha: 0.35 },
      scales: {
        x: { time: true, range: (_u, lo, hi) => this.xRange ?? (lo === hi ? [lo - 60, hi + 60] : [lo, hi]) },
        y: { range: (_u, lo, hi) => rangeWith(lo, hi, this.opts.min, this.opts.max) },
      },
      axes: themedAxes(unit),
      series: [
        { value: (_u, v) => (v == null ? '' : formatTime(v * 1000, true)) },
        ...this.series.map((s, i) => {
          const c = s.color ?? seriesColor(i);
          return {
            label: s.name,
            stroke: c,
            width: 1.5,
            fill: this.opts.stacked ? c + '33' : undefined,
            points: { show: false },
            spanGaps: false,
            value: (_u: uPlot, v: number | null) => formatValue(v, unit),
          } as uPlot.Series;
        }),
      ],
      hooks: {
        setSelect: [selectRange(this.opts.onRange)],
        draw: [(u) => drawMarkers(u, markers()), (u) => this.opts.onDraw?.(u)],
      },
    };
    this.plot = new uPlot(o, align(this.series), this.el);
    if (this.opts.onPoint) {
      const over = this.plot.over;
      over.style.cursor = 'pointer';
      over.addEventListener('click', () => {
        const u = this.plot!;
        const idx = u.cursor.idx;
        if (idx == null || u.select.width > 4) return;
        let si = -1;
        for (let i = 1; i < u.series.length; i++) if ((u.series[i] as { _focus?: boolean })._focus) si = i;
        if (si < 0) si = nearestSeries(u, idx);
        if (si < 1) return;
        const v = u.data[si][idx];
        if (v == null) return;
        this.opts.onPoint!(this.series[si - 1], u.data[0][idx], v);
      });
    }
  }
}

// The axes every chart draws: the theme's colours, times on x, values in `unit` on y.
export function themedAxes(unit = 'short'): uPlot.Axis[] {
  const axisColor = cssVar('--fg-muted') || '#999';
  const gridColor = cssVar('--grid') || 'rgba(128,128,128,0.15)';
  return [
    { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor } },
    { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor }, size: axisSize,
      values: (_u, vals) => vals.map((v) => formatValue(v, unit)) },
  ];
}

// A setSelect hook: a drag across the chart becomes a time range (unix seconds), and the
// selection is cleared, since the caller re-renders at that range.
export function selectRange(onRange?: (startSec: number, endSec: number) => void): (u: uPlot) => void {
  return (u) => {
    if (!onRange || u.select.width < 5) return;
    const a = u.posToVal(u.select.left, 'x');
    const b = u.posToVal(u.select.left + u.select.width, 'x');
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    onRange(a, b);
  };
}

// The y axis is as wide as its longest label ("120.0 req/s", "2600 MHz"), so none is clipped.
function axisSize(u: uPlot, values: string[] | null, axisIdx: number, cycleNum: number): number {
  const axis = u.axes[axisIdx];
  if (cycleNum > 1) return (axis as { _size?: number })._size ?? 50; // settle instead of oscillating
  if (!values) return 50; // the first layout pass, before there are tick labels
  let width = 0;
  {
    // After init uPlot keeps the font as [css font scaled by the pixel ratio, size, css size].
    const f = axis.font as unknown;
    u.ctx.save();
    u.ctx.font = Array.isArray(f) ? String(f[0]) : typeof f === 'string' ? f : '12px system-ui, sans-serif';
    for (const v of values) if (v) width = Math.max(width, u.ctx.measureText(v).width);
    u.ctx.restore();
  }
  return Math.ceil(width / devicePixelRatio) + 18; // tick length and gap
}

function nearestSeries(u: uPlot, idx: number): number {
  const top = u.cursor.top ?? 0;
  let best = -1;
  let bestD = Infinity;
  for (let i = 1; i < u.series.length; i++) {
    const v = u.data[i][idx];
    if (v == null || !u.series[i].show) continue;
    const d = Math.abs(u.valToPos(v, 'y') - top);
    if (d < bestD) { bestD = d; best = i; }
  }
  return best;
}

function rangeWith(lo: number | null, hi: number | null, min?: number, max?: number): uPlot.Range.MinMax {
  let a = min ?? (lo ?? 0);
  let b = max ?? (hi ?? 1);
  if (min === undefined && a > 0 && a < (b - a) * 0.5) a = 0;
  if (a === b) {
    // A flat series: zero sits on the floor (an error rate of 0 is not centred on -1..1).
    const pad = a === 0 ? 1 : Math.abs(a) * 0.1;
    if (a >= 0 && min === undefined) { a = Math.max(0, a - pad); b = b + pad; }
    else { a = a - pad; b = b + pad; }
  }
  if (max === undefined) b = b + (b - a) * 0.05;
  return [a, b];
}

function drawMarkers(u: uPlot, markers: Marker[]): void {
  if (!markers.length) return;
  const ctx = u.ctx;
  const [xMin, xMax] = [u.scales.x.min ?? 0, u.scales.x.max ?? 0];
  ctx.save();
  ctx.lineWidth = 1.5 * devicePixelRatio;
  ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
  ctx.font = `${11 * devicePixelRatio}px sans-serif`;
  for (const m of markers) {
    if (m.time < xMin || m.time > xMax) continue;
    const x = Math.round(u.valToPos(m.time, 'x', true));
    ctx.strokeStyle = m.color ?? (cssVar('--accent') || '#8ab8ff');
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.fillStyle = ctx.strokeStyle;
    ctx.fillText(m.text, x + 3 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
  }
  ctx.restore();
}

// Range query results to chart series.
export function toSeries(result: { metric: Record<string, string>; values: [number, string][] }[], name: (m: Record<string, string>) => string): ChartSeries[] {
  return result.map((r) => ({ name: name(r.metric), points: r.values.map(([t, v]) => [t, parseFloat(v)] as [number, number]) }));
}
