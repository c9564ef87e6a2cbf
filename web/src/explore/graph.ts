// Explore's graph: uPlot on one shared time grid, with what the shared chart (chart.ts) does not
// draw: true stacking, exemplars as clickable points, a tooltip for the series under the cursor
// (so thousands of series need no legend rows), and a legend list that toggles series. Data goes
// to uPlot as flat arrays; nothing per point becomes DOM, so 10,000 points per series stay smooth.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { selectRange, themedAxes } from '../chart';
import { h } from '../dom';
import { formatTime, formatValue } from '../format';
import { cssVar, onThemeChange, seriesColor } from '../theme';

export interface GraphSeries {
  name: string;
  values: (number | null)[]; // one per x of the grid
}

export interface Exemplar {
  time: number;   // unix seconds
  value: number;
  labels: Record<string, string>;
  series: string; // the series it was recorded on, for the tooltip
}

export interface GraphOptions {
  height?: number;
  onRange?: (startSec: number, endSec: number) => void;
  onExemplar?: (e: Exemplar) => void;
}

const LEGEND_MAX = 200;

export class ExploreGraph {
  readonly el: HTMLElement;
  private readonly plotBox: HTMLElement;
  private readonly legendBox: HTMLElement;
  private readonly tip: HTMLElement;
  private plot: uPlot | null = null;
  private xs: number[] = [];
  private series: GraphSeries[] = [];
  private exemplars: Exemplar[] = [];
  private drawn: Exemplar[] = []; // the exemplars drawn last, after thinning
  private stacked = false;
  private hidden = new Set<string>();
  private readonly resize: ResizeObserver;
  private readonly offTheme: () => void;
  private drawStart = 0;
  // Called after a draw that followed setData, with the milliseconds from setData to drawn.
  onDrawn: ((ms: number) => void) | null = null;

  constructor(container: HTMLElement, private readonly opts: GraphOptions = {}) {
    this.plotBox = h('div', { class: 'xg-plot', role: 'img', 'aria-label': 'Query results graph' });
    this.tip = h('div', { class: 'xg-tip', hidden: true, role: 'status', 'aria-live': 'off' });
    this.legendBox = h('ul', { class: 'xg-legend', 'aria-label': 'Series (select to hide or show)' });
    this.el = h('div', { class: 'xg' }, h('div', { class: 'xg-wrap' }, this.plotBox, this.tip), this.legendBox);
    container.append(this.el);
    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(this.plotBox);
    this.offTheme = onThemeChange(() => { this.rebuild(); this.renderLegend(); });
  }

  // xs: unix seconds, ascending; each series has one value (or null) per x.
  setData(xs: number[], series: GraphSeries[], exemplars: Exemplar[], stacked: boolean): void {
    const sameShape = this.plot && stacked === this.stacked && series.length === this.series.length &&
      series.every((s, i) => s.name === this.series[i].name);
    this.xs = xs;
    this.series = series;
    this.exemplars = exemplars;
    this.stacked = stacked;
    this.drawStart = performance.now();
    if (sameShape && this.plot) {
      this.plot.setData(this.data());
    } else {
      this.rebuild();
      this.renderLegend();
    }
  }

  destroy(): void {
    this.resize.disconnect();
    this.offTheme();
    this.plot?.destroy();
    this.plot = null;
  }

  private width(): number {
    return Math.max(240, Math.floor(this.plotBox.clientWidth || this.el.clientWidth || 800));
  }

  private fit(): void {
    if (!this.plot) return;
    const w = this.width();
    if (Math.abs(w - this.plot.width) > 2) this.plot.setSize({ width: w, height: this.opts.height ?? 320 });
  }

  // Stacked: each visible series drawn on top of the ones before it (nulls count as 0 below).
  private data(): uPlot.AlignedData {
    if (!this.stacked) return [this.xs, ...this.series.map((s) => s.values)] as uPlot.AlignedData;
    const acc = new Float64Array(this.xs.length);
    const out: (number | null)[][] = [];
    for (const s of this.series) {
      if (this.hidden.has(s.name)) { out.push(s.values.map(() => null)); continue; }
      const ys: (number | null)[] = new Array(this.xs.length);
      for (let i = 0; i < ys.length; i++) {
        const v = s.values[i];
        if (v === null) { ys[i] = null; continue; }
        acc[i] += v;
        ys[i] = acc[i];
      }
      out.push(ys);
    }
    return [this.xs, ...out] as uPlot.AlignedData;
  }

  private rebuild(): void {
    this.plot?.destroy();
    this.plotBox.replaceChildren();
    const stacked = this.stacked;
    const series: uPlot.Series[] = [
      {},
      ...this.series.map((s, i) => {
        const c = seriesColor(i);
        return {
          label: s.name,
          stroke: c,
          width: 1.25,
          fill: stacked ? c + '40' : undefined,
          points: { show: false },
          spanGaps: false,
          show: !this.hidden.has(s.name),
        } as uPlot.Series;
      }),
    ];
    const bands: uPlot.Band[] = [];
    if (stacked) for (let i = 2; i < series.length; i++) bands.push({ series: [i, i - 1] });
    const o: uPlot.Options = {
      width: this.width(),
      height: this.opts.height ?? 320,
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false }, focus: { prox: 24 }, points: { size: 6 } },
      focus: { alpha: 0.4 },
      bands,
      scales: { x: { time: true }, y: { range: (_u, lo, hi) => yRange(lo, hi, this.exemplars) } },
      axes: themedAxes('short'),
      series,
      hooks: {
        setSelect: [selectRange(this.opts.onRange)],
        draw: [(u) => {
          this.drawExemplars(u);
          if (this.drawStart) {
            const ms = performance.now() - this.drawStart;
            this.drawStart = 0;
            this.onDrawn?.(ms);
          }
        }],
        setCursor: [(u) => this.updateTip(u)],
      },
    };
    this.plot = new uPlot(o, this.data(), this.plotBox);
    const over = this.plot.over;
    over.addEventListener('mouseleave', () => { this.tip.hidden = true; });
    over.addEventListener('click', () => {
      const e = this.exemplarAtCursor();
      if (e && this.opts.onExemplar) this.opts.onExemplar(e);
    });
  }

  private renderLegend(): void {
    const frag = document.createDocumentFragment();
    this.series.slice(0, LEGEND_MAX).forEach((s, i) => {
      const hidden = this.hidden.has(s.name);
      frag.append(h('li', null, h('button', {
        type: 'button', class: 'xg-item', 'aria-pressed': hidden ? 'false' : 'true', title: hidden ? 'Show this series' : 'Hide this series',
        onclick: (e: Event) => this.toggle(s.name, e.currentTarget as HTMLButtonElement),
      }, h('span', { class: 'xg-swatch', style: { background: seriesColor(i) }, 'aria-hidden': 'true' }), s.name)));
    });
    if (this.series.length > LEGEND_MAX) frag.append(h('li', { class: 'muted' }, `and ${this.series.length - LEGEND_MAX} more series (hover the graph to name them)`));
    this.legendBox.replaceChildren(frag);
  }

  private toggle(name: string, btn: HTMLButtonElement): void {
    const i = this.series.findIndex((s) => s.name === name);
    if (i < 0 || !this.plot) return;
    if (this.hidden.has(name)) this.hidden.delete(name); else this.hidden.add(name);
    const shown = !this.hidden.has(name);
    btn.setAttribute('aria-pressed', shown ? 'true' : 'false');
    btn.title = shown ? 'Hide this series' : 'Show this series';
    if (this.stacked) this.plot.setData(this.data());
    this.plot.setSeries(i + 1, { show: shown });
  }

  private drawExemplars(u: uPlot): void {
    if (!this.exemplars.length) return;
    const ctx = u.ctx;
    const [x0, x1] = [u.scales.x.min ?? 0, u.scales.x.max ?? 0];
    const r = 4 * devicePixelRatio;
    ctx.save();
    ctx.fillStyle = cssVar('--focus') || '#ffb357';
    ctx.strokeStyle = cssVar('--bg-panel') || '#000';
    ctx.lineWidth = devicePixelRatio;
    // at most one exemplar per 10 px cell: thousands of them would hide the lines and each other
    const cell = 10 * devicePixelRatio;
    const seen = new Set<number>();
    this.drawn = [];
    for (const e of this.exemplars) {
      if (e.time < x0 || e.time > x1) continue;
      const x = u.valToPos(e.time, 'x', true);
      const y = u.valToPos(e.value, 'y', true);
      if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue;
      const key = Math.floor(x / cell) * 100000 + Math.floor(y / cell);
      if (seen.has(key)) continue;
      seen.add(key);
      this.drawn.push(e);
      ctx.beginPath();
      ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); ctx.closePath();
      ctx.fill();
      ctx.stroke();
    }
    ctx.restore();
  }

  // The exemplar within 8 px of the cursor, if any.
  private exemplarAtCursor(): Exemplar | null {
    const u = this.plot;
    if (!u || !this.drawn.length) return null;
    const cx = u.cursor.left ?? -1;
    const cy = u.cursor.top ?? -1;
    if (cx < 0) return null;
    let best: Exemplar | null = null;
    let bestD = 64;
    for (const e of this.drawn) {
      const dx = u.valToPos(e.time, 'x') - cx;
      const dy = u.valToPos(e.value, 'y') - cy;
      const d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = e; }
    }
    return best;
  }

  private updateTip(u: uPlot): void {
    const idx = u.cursor.idx;
    const left = u.cursor.left ?? -1;
    if (idx == null || left < 0) { this.tip.hidden = true; return; }
    const ex = this.exemplarAtCursor();
    const top = u.cursor.top ?? 0;
    const lines: (HTMLElement | string)[] = [];
    if (ex) {
      u.over.style.cursor = 'pointer';
      lines.push(h('div', { class: 'xg-tip-time' }, `Exemplar · ${formatTime(ex.time * 1000, true)}`));
      lines.push(h('div', null, `value ${formatValue(ex.value, 'none')}`));
      for (const [k, v] of Object.entries(ex.labels)) lines.push(h('div', { class: 'mono' }, `${k}="${v}"`));
      lines.push(h('div', { class: 'muted' }, ex.series));
      if (ex.labels.trace_id || ex.labels.traceID) lines.push(h('div', { class: 'muted' }, 'Click to open the trace'));
    } else {
      u.over.style.cursor = '';
      // the series nearest the cursor at this time
      let best = -1;
      let bestD = Infinity;
      for (let i = 1; i < u.series.length; i++) {
        if (!u.series[i].show) continue;
        const v = u.data[i][idx];
        if (v == null) continue;
        const d = Math.abs(u.valToPos(v, 'y') - top);
        if (d < bestD) { bestD = d; best = i; }
      }
      if (best < 0) { this.tip.hidden = true; return; }
      const raw = this.series[best - 1].values[idx];
      lines.push(h('div', { class: 'xg-tip-time' }, formatTime(u.data[0][idx] * 1000, true)));
      lines.push(h('div', null, h('span', { class: 'xg-swatch', style: { background: seriesColor(best - 1) } }), ' ', h('b', null, formatValue(raw, 'none'))));
      lines.push(h('div', { class: 'mono xg-tip-name' }, this.series[best - 1].name));
    }
    this.tip.replaceChildren(...lines);
    this.tip.hidden = false;
    const w = this.plotBox.clientWidth;
    const x = left + u.bbox.left / devicePixelRatio;
    this.tip.style.left = `${x > w / 2 ? Math.max(0, x - this.tip.offsetWidth - 12) : x + 12}px`;
    this.tip.style.top = `${Math.max(0, top + u.bbox.top / devicePixelRatio - 10)}px`;
  }
}

// The data's range, widened to take in the exemplars (which may lie far from a quantile's line).
function yRange(lo: number | null, hi: number | null, exemplars: Exemplar[]): uPlot.Range.MinMax {
  let a = lo ?? (exemplars.length ? Infinity : 0);
  let b = hi ?? (exemplars.length ? -Infinity : 1);
  for (const e of exemplars) {
    if (e.value < a) a = e.value;
    if (e.value > b) b = e.value;
  }
  if (!Number.isFinite(a) || !Number.isFinite(b)) { a = 0; b = 1; }
  if (a > 0 && a < (b - a) * 0.5) a = 0;
  if (a === b) { a -= 1; b += 1; }
  return [a, b + (b - a) * 0.05];
}
