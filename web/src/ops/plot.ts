// Small canvas charts for the traces and logs pages: a scatter of trace durations over time (click
// a dot to open the trace) and a stacked bar histogram (log volume by severity; click a bar to zoom
// into its time). Colours come from the theme and follow its changes; the canvas follows its
// container's width. Drawing is proportional to the points shown, done once per setData or resize.

import { formatTime } from '../format';
import { cssVar, onThemeChange } from '../theme';

const PAD = { left: 56, right: 10, top: 8, bottom: 20 };

abstract class CanvasChart {
  readonly el: HTMLCanvasElement;
  protected width = 0;
  protected readonly tip: HTMLElement;
  private readonly ro: ResizeObserver;
  private readonly offTheme: () => void;

  constructor(container: HTMLElement, protected readonly height: number, ariaLabel: string) {
    this.el = document.createElement('canvas');
    this.el.setAttribute('role', 'img');
    this.el.setAttribute('aria-label', ariaLabel);
    this.el.style.height = `${height}px`;
    this.tip = document.createElement('div');
    this.tip.className = 'muted ops-small';
    this.tip.setAttribute('aria-hidden', 'true');
    this.tip.style.minHeight = '1.4em';
    container.append(this.el, this.tip);
    this.ro = new ResizeObserver(() => this.resize());
    this.ro.observe(this.el);
    this.offTheme = onThemeChange(() => this.draw());
    this.el.addEventListener('mousemove', (e) => this.hover(e.offsetX, e.offsetY));
    this.el.addEventListener('mouseleave', () => { this.tip.textContent = ''; this.el.style.cursor = ''; });
    this.el.addEventListener('click', (e) => this.click(e.offsetX, e.offsetY));
  }

  destroy(): void {
    this.ro.disconnect();
    this.offTheme();
  }

  private resize(): void {
    const w = Math.floor(this.el.clientWidth);
    if (w && w !== this.width) {
      this.width = w;
      this.draw();
    }
  }

  protected context(): CanvasRenderingContext2D | null {
    if (!this.width) this.width = Math.floor(this.el.clientWidth) || 600;
    const dpr = window.devicePixelRatio || 1;
    this.el.width = Math.round(this.width * dpr);
    this.el.height = Math.round(this.height * dpr);
    const ctx = this.el.getContext('2d');
    if (!ctx) return null;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    return ctx;
  }

  // Axes and grid for x in [x0, x1] (unix ms) and y in [0, y1].
  protected axes(ctx: CanvasRenderingContext2D, x0: number, x1: number, y1: number, yText: (v: number) => string): void {
    const fg = cssVar('--fg-muted') || '#999';
    const grid = cssVar('--grid') || 'rgba(128,128,128,0.15)';
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = fg;
    ctx.strokeStyle = grid;
    ctx.lineWidth = 1;
    const plotW = this.width - PAD.left - PAD.right;
    const plotH = this.height - PAD.top - PAD.bottom;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let i = 0; i <= 2; i++) {
      const v = (y1 * i) / 2;
      const y = PAD.top + plotH - (plotH * i) / 2;
      ctx.beginPath();
      ctx.moveTo(PAD.left, Math.round(y) + 0.5);
      ctx.lineTo(PAD.left + plotW, Math.round(y) + 0.5);
      ctx.stroke();
      ctx.fillText(yText(v), PAD.left - 6, y);
    }
    ctx.textBaseline = 'top';
    const n = Math.max(2, Math.min(8, Math.floor(plotW / 110)));
    const withDate = x1 - x0 > 36 * 3600e3;
    for (let i = 0; i <= n; i++) {
      const t = x0 + ((x1 - x0) * i) / n;
      const x = PAD.left + (plotW * i) / n;
      ctx.textAlign = i === 0 ? 'left' : i === n ? 'right' : 'center';
      ctx.fillText(formatTime(t, withDate).slice(withDate ? 5 : 0, withDate ? 16 : 8), x, PAD.top + plotH + 4);
    }
  }

  protected xPos(t: number, x0: number, x1: number): number {
    const plotW = this.width - PAD.left - PAD.right;
    return PAD.left + ((t - x0) / Math.max(1, x1 - x0)) * plotW;
  }

  protected yPos(v: number, y1: number): number {
    const plotH = this.height - PAD.top - PAD.bottom;
    return PAD.top + plotH - (v / (y1 || 1)) * plotH;
  }

  protected abstract draw(): void;
  protected abstract hover(x: number, y: number): void;
  protected abstract click(x: number, y: number): void;
}

// A nice upper bound for an axis: 1, 2 or 5 times a power of ten, at least `v`.
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export interface ScatterPoint { time: number; value: number; error: boolean; id: string; text: string }

export class Scatter extends CanvasChart {
  private points: ScatterPoint[] = [];
  private x0 = 0;
  private x1 = 1;
  private y1 = 1;

  constructor(container: HTMLElement, height: number, ariaLabel: string, private readonly yText: (v: number) => string,
    private readonly onPick: (p: ScatterPoint) => void) {
    super(container, height, ariaLabel);
  }

  setData(points: ScatterPoint[], start: number, end: number): void {
    this.points = points;
    this.x0 = start;
    this.x1 = end;
    this.y1 = niceMax(Math.max(0, ...points.map((p) => p.value)) * 1.05);
    this.draw();
  }

  protected draw(): void {
    const ctx = this.context();
    if (!ctx) return;
    this.axes(ctx, this.x0, this.x1, this.y1, this.yText);
    const ok = cssVar('--accent') || '#8ab8ff';
    const bad = cssVar('--crit') || '#ff7383';
    for (const pass of [false, true]) { // errors drawn last, on top
      ctx.fillStyle = pass ? bad : ok;
      ctx.globalAlpha = pass ? 0.95 : 0.75;
      for (const p of this.points) {
        if (p.error !== pass) continue;
        ctx.beginPath();
        ctx.arc(this.xPos(p.time, this.x0, this.x1), this.yPos(p.value, this.y1), pass ? 4 : 3.2, 0, Math.PI * 2);
        ctx.fill();
      }
    }
    ctx.globalAlpha = 1;
  }

  private nearest(x: number, y: number): ScatterPoint | null {
    let best: ScatterPoint | null = null;
    let bestD = 64; // within 8 px
    for (const p of this.points) {
      const dx = this.xPos(p.time, this.x0, this.x1) - x;
      const dy = this.yPos(p.value, this.y1) - y;
      const d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = p; }
    }
    return best;
  }

  protected hover(x: number, y: number): void {
    const p = this.nearest(x, y);
    this.tip.textContent = p ? p.text : '';
    this.el.style.cursor = p ? 'pointer' : '';
  }

  protected click(x: number, y: number): void {
    const p = this.nearest(x, y);
    if (p) this.onPick(p);
  }
}

export interface BarStack { value: number; color: string; name: string }
export interface Bar { start: number; end: number; stacks: BarStack[] }

export class Bars extends CanvasChart {
  private bars: Bar[] = [];
  private x0 = 0;
  private x1 = 1;
  private y1 = 1;

  constructor(container: HTMLElement, height: number, ariaLabel: string, private readonly onPick: (b: Bar) => void) {
    super(container, height, ariaLabel);
  }

  setData(bars: Bar[], start: number, end: number): void {
    this.bars = bars;
    this.x0 = start;
    this.x1 = end;
    this.y1 = niceMax(Math.max(0, ...bars.map((b) => b.stacks.reduce((s, x) => s + x.value, 0))));
    this.draw();
  }

  protected draw(): void {
    const ctx = this.context();
    if (!ctx) return;
    this.axes(ctx, this.x0, this.x1, this.y1, (v) => (v >= 1000 ? `${Math.round(v / 100) / 10}k` : String(Math.round(v * 10) / 10)));
    for (const b of this.bars) {
      const xa = this.xPos(b.start, this.x0, this.x1);
      const xb = this.xPos(b.end, this.x0, this.x1);
      const w = Math.max(1, xb - xa - 1);
      let acc = 0;
      for (const s of b.stacks) {
        if (!s.value) continue;
        const ya = this.yPos(acc, this.y1);
        acc += s.value;
        const yb = this.yPos(acc, this.y1);
        ctx.fillStyle = cssVar(s.color) || s.color;
        ctx.fillRect(xa, yb, w, ya - yb);
      }
    }
  }

  private at(x: number): Bar | null {
    for (const b of this.bars) {
      if (x >= this.xPos(b.start, this.x0, this.x1) && x < this.xPos(b.end, this.x0, this.x1)) return b;
    }
    return null;
  }

  protected hover(x: number): void {
    const b = this.at(x);
    if (!b) { this.tip.textContent = ''; this.el.style.cursor = ''; return; }
    const total = b.stacks.reduce((s, v) => s + v.value, 0);
    this.tip.textContent = `${formatTime(b.start)}–${formatTime(b.end)}: ${total} records` +
      (total ? ` (${b.stacks.filter((s) => s.value).map((s) => `${s.value} ${s.name}`).join(', ')}) · click to zoom in` : '');
    this.el.style.cursor = total ? 'zoom-in' : '';
  }

  protected click(x: number): void {
    const b = this.at(x);
    if (b && b.stacks.some((s) => s.value)) this.onPick(b);
  }
}
