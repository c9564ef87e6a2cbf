// Tyto's own panel types (docs/dashboards.md): the GPU fleet heatmap, drift (reference versus
// current distributions and the tests), data-pipeline runs, and deployments. Like Grafana's, they
// build their DOM once and update it in place on every refresh.

import { getData, vector, type InstantSample } from '../api';
import { h, link, notice, replace } from '../dom';
import { ago, formatTime, formatValue } from '../format';
import { href } from '../router';
import { cssVar, onThemeChange, seriesColor } from '../theme';
import type { Panel } from './model';
import { errorText, interp, isAbort, type PanelEnv, type PanelView } from './panel';

class Status {
  readonly el = h('div', { class: 'dash-status' });
  set(kind: 'error' | 'empty' | null, text = ''): void {
    if (!kind) this.el.replaceChildren();
    else replace(this.el, notice(kind, text));
  }
  fail(e: unknown): void {
    if (!isAbort(e)) this.set('error', errorText(e));
  }
}

function opt(panel: Panel, key: string, d = ''): string {
  const v = panel.options[key];
  return typeof v === 'string' ? v : d;
}

// ---- tyto-gpu-heatmap ----

interface HeatMetric { label: string; unit: string; min: number; max: number; expr: (sel: string) => string }

const SEL = (m: string, sel: string) => (sel ? `${m}{${sel}}` : m);

export const HEAT_METRICS: Record<string, HeatMetric> = {
  utilization: { label: 'Utilization', unit: 'percent', min: 0, max: 100, expr: (s) => SEL('DCGM_FI_DEV_GPU_UTIL', s) },
  temperature: { label: 'Temperature', unit: 'celsius', min: 30, max: 90, expr: (s) => SEL('DCGM_FI_DEV_GPU_TEMP', s) },
  memory: {
    label: 'Memory used', unit: 'percent', min: 0, max: 100,
    expr: (s) => `100 * ${SEL('DCGM_FI_DEV_FB_USED', s)} / (${SEL('DCGM_FI_DEV_FB_USED', s)} + ${SEL('DCGM_FI_DEV_FB_FREE', s)})`,
  },
};

// DCGM's clock throttle reason bits that mean the GPU is being held back (not idle or app clocks).
const THROTTLE_BITS: [number, string][] = [
  [0x4, 'software power cap'], [0x8, 'hardware slowdown'], [0x40, 'software thermal'],
  [0x80, 'hardware thermal'], [0x100, 'power brake'],
];

// A GPU whose newest sample is older than this is drawn as stale (a few scrape intervals).
const STALE_AFTER_S = 120;

type Health = 'xid' | 'ecc' | 'throttle' | 'stale';
const HEALTH_TEXT: Record<Health, string> = { xid: 'XID error', ecc: 'ECC double-bit errors', throttle: 'Throttled', stale: 'Stale or down' };

interface GpuCell { el: HTMLAnchorElement; value: HTMLElement }

// A colour ramp readable on both themes: cool (low) to hot (high).
const RAMP = [[33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240], [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43]];

function rampColor(f: number): [number, number, number] {
  const x = Math.max(0, Math.min(1, f)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const t = x - i;
  return [0, 1, 2].map((k) => Math.round(RAMP[i][k] + (RAMP[i + 1][k] - RAMP[i][k]) * t)) as [number, number, number];
}

// Black or white, whichever contrasts more with the cell (WCAG relative luminance; the better of
// the two is at least 4.58:1 for any background, the mid-ramp oranges included).
function textOn([r, g, b]: [number, number, number]): string {
  const lin = (c: number) => { const v = c / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const l = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  const onWhite = 1.05 / (l + 0.05);
  const onBlack = (l + 0.05) / 0.05;
  return onBlack >= onWhite ? '#000' : '#fff';
}

class GpuHeatmapView implements PanelView {
  private status = new Status();
  private controls: HTMLElement;
  private legend = h('div', { class: 'heat-legend' });
  private grid = h('div', { class: 'heat-grid' });
  private nodes = new Map<string, { el: HTMLElement; cells: HTMLElement; count: HTMLElement }>();
  private cells = new Map<string, GpuCell>();
  private metric: string;
  private env: PanelEnv | null = null;
  private summary = h('span', { class: 'muted heat-summary', 'aria-live': 'polite' });

  constructor(private panel: Panel, body: HTMLElement) {
    this.metric = opt(panel, 'metric', 'utilization');
    const select = h('select', { 'aria-label': 'Colour the GPUs by', class: 'heat-metric' },
      ...Object.entries(HEAT_METRICS).map(([k, m]) => h('option', { value: k }, m.label)));
    select.addEventListener('change', () => {
      this.metric = select.value;
      this.env?.ctx.setParams({ heatmap: this.metric === opt(panel, 'metric', 'utilization') ? null : this.metric });
      if (this.env) void this.update(this.env);
    });
    this.controls = h('div', { class: 'heat-controls' }, h('label', null, 'Colour by ', select), this.summary);
    body.append(this.controls, this.status.el, this.legend, this.grid);
    this.select = select;
  }
  private select: HTMLSelectElement;

  async update(env: PanelEnv): Promise<void> {
    this.env = env;
    const fromUrl = env.ctx.params.get('heatmap');
    if (fromUrl && HEAT_METRICS[fromUrl] && !this.select.dataset.touched) this.metric = fromUrl;
    this.select.dataset.touched = '1';
    if (!HEAT_METRICS[this.metric]) this.metric = 'utilization';
    this.select.value = this.metric;
    const m = HEAT_METRICS[this.metric];
    const sel = interp(env, opt(this.panel, 'selector'));
    const t = env.end / 1000;
    try {
      const util = SEL('DCGM_FI_DEV_GPU_UTIL', sel);
      const [values, xid, ecc, throttle, stale, down, stamps] = await Promise.all([
        vector(m.expr(sel), t, env.signal),
        vector(`${SEL('DCGM_FI_DEV_XID_ERRORS', sel)} > 0`, t, env.signal),
        vector(`${SEL('DCGM_FI_DEV_ECC_DBE_VOL_TOTAL', sel)} > 0`, t, env.signal),
        vector(SEL('DCGM_FI_DEV_CLOCK_THROTTLE_REASONS', sel), t, env.signal),
        vector(`last_over_time(${util}[1h]) unless ${util}`, t, env.signal),
        vector('up == 0', t, env.signal),
        vector(`timestamp(${util})`, t, env.signal),
      ]);
      const key = (s: InstantSample) => `${s.metric.Hostname ?? s.metric.instance ?? '?'}\u0000${s.metric.gpu ?? s.metric.UUID ?? '?'}`;
      // One GPU can have several series: when an exporter comes back on another address (a new
      // `instance`), the old series stay within the look-back. Each GPU is counted once, from the
      // series with the newest sample; the others are ignored, not reported as stale.
      const freshest = new Map<string, { instance: string | undefined; ts: number }>();
      for (const s of stamps) {
        const ts = parseFloat(s.value[1]);
        const prev = freshest.get(key(s));
        if (!prev || ts > prev.ts) freshest.set(key(s), { instance: s.metric.instance, ts });
      }
      const current = (s: InstantSample) => {
        const f = freshest.get(key(s));
        return !f || f.instance === undefined || s.metric.instance === f.instance;
      };
      const health = new Map<string, { kinds: Set<Health>; notes: string[] }>();
      const mark = (s: InstantSample, kind: Health, note: string) => {
        const k = key(s);
        const e = health.get(k) ?? { kinds: new Set<Health>(), notes: [] };
        if (e.kinds.has(kind) && kind === 'stale') return;
        e.kinds.add(kind);
        e.notes.push(note);
        health.set(k, e);
      };
      for (const s of xid) if (current(s)) mark(s, 'xid', `XID ${s.value[1]}`);
      for (const s of ecc) if (current(s)) mark(s, 'ecc', `${s.value[1]} ECC double-bit errors`);
      for (const s of throttle) {
        if (!current(s)) continue;
        const bits = parseInt(s.value[1], 10) || 0;
        const why = THROTTLE_BITS.filter(([b]) => bits & b).map(([, n]) => n);
        if (why.length) mark(s, 'throttle', `throttled: ${why.join(', ')}`);
      }
      const downInstances = new Set(down.map((s) => s.metric.instance));
      const all: InstantSample[] = [];
      const drawn = new Set<string>();
      for (const s of values) {
        const k = key(s);
        if (!current(s) || drawn.has(k)) continue;
        drawn.add(k);
        all.push(s);
        const f = freshest.get(k);
        if (downInstances.has(s.metric.instance)) mark(s, 'stale', 'exporter down');
        else if (f && t - f.ts > STALE_AFTER_S) mark(s, 'stale', `last sample ${ago(f.ts * 1000, t * 1000)}`);
      }
      // GPUs seen in the last hour but with no series now are drawn too, greyed, so a lost GPU
      // stays visible; a GPU whose exporter moved to a new address has a fresh series and is not.
      for (const s of stale) {
        const k = key(s);
        if (freshest.has(k) || drawn.has(k)) continue;
        drawn.add(k);
        mark(s, 'stale', downInstances.has(s.metric.instance) ? 'exporter down' : 'no recent samples');
        all.push({ metric: s.metric, value: [s.value[0], 'NaN'] });
      }
      this.draw(all, health, m);
      const warn = [...health.values()].filter((x) => x.kinds.size).length;
      this.summary.textContent = `${all.length} GPUs on ${this.nodes.size} nodes${warn ? `, ${warn} with health problems` : ''}`;
      this.status.set(all.length ? null : 'empty', 'No GPUs: no dcgm-exporter series (DCGM_FI_DEV_*) in this time range. Add a dcgm-exporter scrape job, or the built-in GPU collector.');
    } catch (e) {
      this.status.fail(e);
    }
  }

  private draw(samples: InstantSample[], health: Map<string, { kinds: Set<Health>; notes: string[] }>, m: HeatMetric): void {
    samples.sort((a, b) => (a.metric.Hostname ?? '').localeCompare(b.metric.Hostname ?? '', undefined, { numeric: true })
      || (a.metric.gpu ?? '').localeCompare(b.metric.gpu ?? '', undefined, { numeric: true }));
    const seenNodes = new Set<string>();
    const seenCells = new Set<string>();
    for (const s of samples.slice(0, 5000)) {
      const host = s.metric.Hostname ?? s.metric.instance ?? '?';
      const gpu = s.metric.gpu ?? s.metric.UUID ?? '?';
      const k = `${host}\u0000${gpu}`;
      if (seenCells.has(k)) continue;
      seenNodes.add(host);
      seenCells.add(k);
      let node = this.nodes.get(host);
      if (!node) {
        const cells = h('div', { class: 'heat-cells' });
        const count = h('span', { class: 'muted' });
        const el = h('section', { class: 'heat-node', 'aria-label': `Node ${host}` },
          h('h3', null, link(href('gpu', { 'var-Hostname': host }), host), ' ', count), cells);
        node = { el, cells, count };
        this.nodes.set(host, node);
      }
      let cell = this.cells.get(k);
      if (!cell) {
        const value = h('span', { class: 'heat-value' });
        const el = link(href('gpu', { 'var-Hostname': host, 'var-gpu': gpu }), h('span', { class: 'heat-gpu' }, gpu), value);
        el.className = 'heat-cell';
        cell = { el, value };
        this.cells.set(k, cell);
      }
      if (cell.el.parentElement !== node.cells) node.cells.append(cell.el);
      const v = parseFloat(s.value[1]);
      const hl = health.get(k);
      const kinds = hl ? [...hl.kinds] : [];
      const model = s.metric.modelName ? ` · ${s.metric.modelName}` : '';
      if (Number.isNaN(v)) {
        cell.el.style.background = '';
        cell.el.style.color = '';
        cell.value.textContent = '–';
      } else {
        const rgb = rampColor((v - m.min) / (m.max - m.min));
        cell.el.style.background = `rgb(${rgb.join(',')})`;
        cell.el.style.color = textOn(rgb);
        cell.value.textContent = formatValue(v, m.unit, 0);
      }
      cell.el.className = `heat-cell${kinds.map((x) => ` h-${x}`).join('')}${Number.isNaN(v) ? ' h-novalue' : ''}`;
      const label = `${host} GPU ${gpu}${model}: ${m.label} ${formatValue(Number.isNaN(v) ? null : v, m.unit)}${hl ? ` · ${hl.notes.join('; ')}` : ''}`;
      cell.el.title = label;
      cell.el.setAttribute('aria-label', label);
    }
    for (const [k, c] of this.cells) if (!seenCells.has(k)) { c.el.remove(); this.cells.delete(k); }
    for (const [host, n] of this.nodes) {
      if (!seenNodes.has(host)) { n.el.remove(); this.nodes.delete(host); continue; }
      n.count.textContent = `${n.cells.childElementCount} GPUs`;
    }
    const order = [...this.nodes.keys()].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    order.forEach((host, i) => {
      const el = this.nodes.get(host)!.el;
      if (this.grid.children[i] !== el) this.grid.insertBefore(el, this.grid.children[i] ?? null);
    });
    this.drawLegend(m);
  }

  private drawLegend(m: HeatMetric): void {
    if (this.legend.dataset.metric === this.metric) return;
    this.legend.dataset.metric = this.metric;
    const stops = RAMP.map((c, i) => `rgb(${c.join(',')}) ${(i / (RAMP.length - 1)) * 100}%`).join(', ');
    replace(this.legend,
      h('span', null, formatValue(m.min, m.unit, 0)),
      h('span', { class: 'heat-ramp', style: { background: `linear-gradient(to right, ${stops})` }, 'aria-hidden': 'true' }),
      h('span', null, formatValue(m.max, m.unit, 0)),
      ...(Object.keys(HEALTH_TEXT) as Health[]).map((k) => h('span', { class: 'heat-key' }, h('span', { class: `heat-swatch h-${k}`, 'aria-hidden': 'true' }), HEALTH_TEXT[k])));
  }
}

// ---- tyto-drift ----

interface DriftColumn {
  feature: string; kind: string; test: string; statistic: number | null; p_value: number | null;
  corrected_p_value: number | null; threshold: number; drift: boolean; current_rows: number; reference_rows: number;
}
interface DriftHistogram { feature: string; edges?: number[]; categories?: string[]; reference: number[]; current: number[] }
interface DriftModel {
  model: string; state: string; reference_source?: string; reference_created?: number; reference_rows?: number;
  current_rows?: number; computed?: number; dataset_drift?: boolean; drift_share?: number;
  columns?: DriftColumn[]; histograms?: DriftHistogram[];
}

const TEST_NAMES: Record<string, string> = {
  ks: 'Kolmogorov–Smirnov', chisquare: 'chi²', chi2: 'chi²', psi: 'PSI', wasserstein: 'Wasserstein (normed)',
  jensenshannon: 'Jensen–Shannon', mmd: 'MMD', kl: 'Kullback–Leibler', ztest: 'z-test',
};

class DriftView implements PanelView {
  private status = new Status();
  private head = h('div', { class: 'drift-head' });
  private list = h('div', { class: 'drift-list' });
  private key = '';
  private offTheme: () => void;
  private last: DriftModel | null = null;

  constructor(private panel: Panel, body: HTMLElement) {
    body.append(this.status.el, this.head, this.list);
    this.offTheme = onThemeChange(() => { if (this.last) this.drawModel(this.last); });
  }

  async update(env: PanelEnv): Promise<void> {
    const model = interp(env, opt(this.panel, 'model', '$model'), 'text');
    try {
      if (!model || model.startsWith('$') || model === 'All') {
        const all = await getData<DriftModel[]>('/api/v1/drift', undefined, env.signal);
        this.drawOverview(all, env);
        return;
      }
      const d = await getData<DriftModel>('/api/v1/drift', { model }, env.signal);
      const key = `${d.model}@${d.computed}@${d.state}`;
      if (key === this.key) return; // drift is recomputed on its own schedule: nothing new
      this.key = key;
      this.last = d;
      this.drawModel(d);
    } catch (e) {
      this.key = '';
      this.status.fail(e);
    }
  }

  private drawOverview(all: DriftModel[], env: PanelEnv): void {
    this.key = '';
    this.list.replaceChildren();
    this.status.set(all.length ? null : 'empty', 'No model tracked for drift: drift needs inference events with features (docs/quality.md).');
    const rows = all.map((m) => h('tr', null,
      h('td', null, link(href('drift', { 'var-model': m.model }), m.model)),
      h('td', null, m.state),
      h('td', { class: m.dataset_drift ? 'crit' : 'ok' }, m.dataset_drift ? 'drifted' : 'no drift'),
      h('td', { class: 'num' }, formatValue(m.drift_share ?? null, 'percentunit')),
      h('td', { class: 'num' }, String(m.reference_rows ?? '–')),
      h('td', { class: 'num' }, String(m.current_rows ?? '–')),
      h('td', null, m.computed ? ago(m.computed * 1000) : '–')));
    void env;
    replace(this.head, h('table', { class: 'data' },
      h('thead', null, h('tr', null, ...['Model', 'State', 'Dataset', 'Features drifted', 'Reference rows', 'Current rows', 'Computed'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, ...rows)));
  }

  private drawModel(d: DriftModel): void {
    const cols = d.columns ?? [];
    const hist = new Map((d.histograms ?? []).map((x) => [x.feature, x]));
    this.status.set(cols.length ? null : 'empty', d.state === 'tracking'
      ? 'No feature compared yet: drift is computed once the current window has enough rows.'
      : `Drift state: ${d.state}. A reference is needed: the first window becomes the baseline, or POST /api/v1/drift/reference.`);
    replace(this.head,
      h('div', { class: `drift-verdict ${d.dataset_drift ? 'crit' : 'ok'}` }, d.dataset_drift ? 'Dataset drift detected' : 'No dataset drift'),
      h('div', { class: 'muted' },
        `${formatValue(d.drift_share ?? 0, 'percentunit')} of features drifted · reference: ${d.reference_source ?? '–'}`,
        d.reference_created ? `, ${formatTime(d.reference_created * 1000, true)}` : '',
        ` (${d.reference_rows ?? 0} rows) · current window: ${d.current_rows ?? 0} rows`,
        d.computed ? ` · computed ${ago(d.computed * 1000)}` : ''));
    const sorted = [...cols].sort((a, b) => Number(b.drift) - Number(a.drift) || a.feature.localeCompare(b.feature));
    const cards = sorted.map((c) => {
      const hg = hist.get(c.feature);
      const canvas = h('canvas', { class: 'drift-canvas', role: 'img', 'aria-label': `${c.feature}: reference and current distributions` });
      const p = c.corrected_p_value ?? c.p_value;
      const card = h('article', { class: `drift-card${c.drift ? ' drifted' : ''}` },
        h('header', null, h('strong', null, c.feature), h('span', { class: 'muted' }, c.kind),
          h('span', { class: `drift-flag ${c.drift ? 'crit' : 'ok'}` }, c.drift ? 'drifted' : 'stable')),
        hg ? canvas : h('p', { class: 'muted' }, c.kind === 'embedding' ? 'Embeddings are compared as a whole (no histogram).' : 'No histogram for this feature.'),
        h('dl', { class: 'drift-test' },
          h('dt', null, 'Test'), h('dd', null, TEST_NAMES[c.test] ?? c.test),
          h('dt', null, 'Statistic'), h('dd', null, c.statistic === null ? '–' : c.statistic.toPrecision(3)),
          h('dt', null, p === null ? 'Threshold' : 'p-value'), h('dd', null, p === null ? `> ${c.threshold} drifts` : `${p.toPrecision(3)} (< ${c.threshold} drifts)`),
          h('dt', null, 'Rows'), h('dd', null, `${c.reference_rows} ref · ${c.current_rows} cur`)));
      if (hg) requestAnimationFrame(() => drawBars(canvas, hg));
      return card;
    });
    this.list.replaceChildren(...cards);
    if (cols.length) {
      const ref = seriesColor(2);
      const cur = seriesColor(1);
      this.head.append(h('div', { class: 'drift-keys' },
        h('span', { class: 'heat-key' }, h('span', { class: 'swatch', style: { background: ref } }), 'reference'),
        h('span', { class: 'heat-key' }, h('span', { class: 'swatch', style: { background: cur } }), 'current')));
    }
  }

  destroy(): void {
    this.offTheme();
  }
}

function drawBars(canvas: HTMLCanvasElement, hg: DriftHistogram): void {
  const w = canvas.clientWidth || 260;
  const hgt = canvas.clientHeight || 110;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(hgt * dpr);
  const g = canvas.getContext('2d');
  if (!g) return;
  g.scale(dpr, dpr);
  const n = Math.min(hg.reference.length, hg.current.length);
  if (!n) return;
  const max = Math.max(...hg.reference.slice(0, n), ...hg.current.slice(0, n), 1e-9);
  const bottom = hgt - 16;
  const slot = w / n;
  const bw = Math.max(1, slot / 2 - 1.5);
  const ref = seriesColor(2);
  const cur = seriesColor(1);
  g.font = '10px sans-serif';
  g.fillStyle = cssVar('--fg-muted') || '#999';
  g.textAlign = 'center';
  for (let i = 0; i < n; i++) {
    const x = i * slot + 1;
    const rh = (hg.reference[i] / max) * (bottom - 4);
    const ch = (hg.current[i] / max) * (bottom - 4);
    g.fillStyle = ref;
    g.fillRect(x, bottom - rh, bw, rh);
    g.fillStyle = cur;
    g.fillRect(x + bw + 1, bottom - ch, bw, ch);
    if (hg.categories && slot > 14) {
      const label = hg.categories[i] ?? '';
      const fit = Math.max(2, Math.floor(slot / 6));
      g.fillStyle = cssVar('--fg-muted') || '#999';
      g.fillText(label.length > fit ? label.slice(0, fit - 1) + '…' : label, x + slot / 2, hgt - 3);
    }
  }
  if (!hg.categories && hg.edges && hg.edges.length > 1) {
    // Numeric features: the range the bins cover, at the two ends of the axis.
    g.fillStyle = cssVar('--fg-muted') || '#999';
    g.textAlign = 'left';
    g.fillText(short(hg.edges[0]), 1, hgt - 3);
    g.textAlign = 'right';
    g.fillText(short(hg.edges[hg.edges.length - 1]), w - 1, hgt - 3);
  }
  g.strokeStyle = cssVar('--border') || '#555';
  g.beginPath();
  g.moveTo(0, bottom + 0.5);
  g.lineTo(w, bottom + 0.5);
  g.stroke();
}

function short(v: number | undefined): string {
  return v === undefined ? '' : formatValue(v, 'short');
}

// ---- tyto-pipeline-runs ----

interface PipelineRun {
  pipeline: string; stage: string; run_id: string; start: number; end: number;
  rows_in?: number; rows_out?: number; rows_rejected?: number; status: string; error?: string; schema_fingerprint?: string;
}

class PipelineRunsView implements PanelView {
  private status = new Status();
  private stages = h('div', { class: 'table-wrap' });
  private runs = h('div', { class: 'table-wrap' });
  constructor(private panel: Panel, body: HTMLElement) {
    body.append(this.status.el, h('h3', { class: 'sub' }, 'Stages'), this.stages, h('h3', { class: 'sub' }, 'Runs'), this.runs);
  }

  async update(env: PanelEnv): Promise<void> {
    const pipeline = interp(env, opt(this.panel, 'pipeline'), 'text');
    const one = pipeline && pipeline !== 'All' && !pipeline.startsWith('$') ? pipeline : undefined;
    const sel = one ? `{pipeline=${JSON.stringify(one)}}` : '';
    const t = env.end / 1000;
    try {
      const [runs, fresh, lastOk, schema, rejected] = await Promise.all([
        getData<PipelineRun[]>('/api/v1/pipelines/runs', { pipeline: one, start: env.start / 1000 - 86400, end: t, limit: 200 }, env.signal),
        vector(`tyto_pipeline_stage_freshness_seconds${sel}`, t, env.signal),
        vector(`tyto_pipeline_stage_last_success_timestamp_seconds${sel}`, t, env.signal),
        vector(`sum by (pipeline, stage) (tyto_pipeline_schema_mismatches_total${sel})`, t, env.signal),
        vector(`tyto_pipeline_stage_last_run_rejected_ratio${sel}`, t, env.signal),
      ]);
      const key = (m: Record<string, string>) => `${m.pipeline}\u0000${m.stage}`;
      const stages = new Map<string, { pipeline: string; stage: string; fresh?: number; ok?: number; schema?: number; rejected?: number; last?: PipelineRun }>();
      const get = (m: Record<string, string>) => {
        const k = key(m);
        const s = stages.get(k) ?? { pipeline: m.pipeline, stage: m.stage };
        stages.set(k, s);
        return s;
      };
      for (const s of fresh) get(s.metric).fresh = parseFloat(s.value[1]);
      for (const s of lastOk) get(s.metric).ok = parseFloat(s.value[1]);
      for (const s of schema) get(s.metric).schema = parseFloat(s.value[1]);
      for (const s of rejected) get(s.metric).rejected = parseFloat(s.value[1]);
      for (const r of runs) {
        const s = get({ pipeline: r.pipeline, stage: r.stage });
        if (!s.last || r.end > s.last.end) s.last = r;
      }
      const maxAge = Number(this.panel.options.maxFreshnessSeconds ?? 86400 + 3600);
      const stageRows = [...stages.values()].sort((a, b) => a.pipeline.localeCompare(b.pipeline) || (a.last?.start ?? 0) - (b.last?.start ?? 0)).map((s) => {
        const stale = s.fresh !== undefined && s.fresh > maxAge;
        return h('tr', null,
          h('td', null, s.pipeline), h('td', null, s.stage),
          h('td', { class: s.last?.status === 'failed' ? 'crit' : s.last ? 'ok' : 'muted' }, s.last?.status ?? '–'),
          h('td', { class: `num ${stale ? 'crit' : ''}` }, s.fresh === undefined ? '–' : formatValue(s.fresh, 's'), stale ? ' (stale)' : ''),
          h('td', null, s.ok ? ago(s.ok * 1000) : '–'),
          h('td', { class: `num ${s.schema ? 'warn' : ''}` }, s.schema === undefined ? '–' : String(s.schema)),
          h('td', { class: `num ${(s.rejected ?? 0) > 0.05 ? 'warn' : ''}` }, s.rejected === undefined ? '–' : formatValue(s.rejected, 'percentunit')));
      });
      replace(this.stages, h('table', { class: 'data' },
        h('thead', null, h('tr', null, ...['Pipeline', 'Stage', 'Last run', 'Freshness', 'Last success', 'Schema mismatches', 'Rejected (last run)'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, ...stageRows)));
      const runRows = [...runs].sort((a, b) => b.start - a.start).map((r) => h('tr', null,
        h('td', null, r.pipeline), h('td', null, r.stage), h('td', { class: 'mono' }, r.run_id),
        h('td', null, formatTime(r.start * 1000, true)),
        h('td', { class: 'num' }, formatValue(r.end - r.start, 's')),
        h('td', { class: 'num' }, formatValue(r.rows_in ?? null, 'short')),
        h('td', { class: 'num' }, formatValue(r.rows_out ?? null, 'short')),
        h('td', { class: `num ${(r.rows_rejected ?? 0) > 0 ? 'warn' : ''}` }, formatValue(r.rows_rejected ?? null, 'short')),
        h('td', { class: r.status === 'failed' ? 'crit' : 'ok' }, r.status, r.error ? h('div', { class: 'muted' }, r.error) : null)));
      replace(this.runs, runRows.length
        ? h('table', { class: 'data' },
          h('thead', null, h('tr', null, ...['Pipeline', 'Stage', 'Run', 'Started', 'Duration', 'Rows in', 'Rows out', 'Rejected', 'Status'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', null, ...runRows))
        : notice('empty', 'No pipeline runs in this range: pipelines report runs with POST /api/v1/events (pipeline_run events), see docs/events-api.md.'));
      this.status.set(stages.size || runs.length ? null : 'empty', 'No data pipelines reported yet.');
    } catch (e) {
      this.status.fail(e);
    }
  }
}

// ---- tyto-deployments ----

interface Deployment { timestamp: number; model: string; version: string; previous_version?: string; action?: string; who?: string; note?: string }

class DeploymentsView implements PanelView {
  private status = new Status();
  private wrap = h('div', { class: 'table-wrap' });
  constructor(private panel: Panel, body: HTMLElement) {
    body.append(this.status.el, this.wrap);
  }
  async update(env: PanelEnv): Promise<void> {
    const model = interp(env, opt(this.panel, 'model'), 'text');
    const one = model && model !== 'All' && !model.startsWith('$') ? model : undefined;
    try {
      const list = await getData<Deployment[]>('/api/v1/deployments', { model: one, limit: 100 }, env.signal);
      const rows = [...list].sort((a, b) => b.timestamp - a.timestamp).map((d) => h('tr', null,
        h('td', null, formatTime(d.timestamp * 1000, true)), h('td', null, d.model),
        h('td', null, d.previous_version ? `${d.previous_version} → ${d.version}` : d.version),
        h('td', null, d.action ?? ''), h('td', null, d.who ?? ''), h('td', { class: 'muted' }, d.note ?? '')));
      replace(this.wrap, h('table', { class: 'data' },
        h('thead', null, h('tr', null, ...['Time', 'Model', 'Version', 'Action', 'By', 'Note'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, ...rows)));
      this.status.set(list.length ? null : 'empty', 'No deployments recorded: report them with POST /api/v1/events (deployment events).');
    } catch (e) {
      this.status.fail(e);
    }
  }
}


// ---- tyto-node-models ----

interface EventRow { timestamp: number; model: string; model_version?: string; node?: string; status?: string; latency_ms?: number }

// The models a node serves, from the inference events (sampled requests) that name the node.
class NodeModelsView implements PanelView {
  private status = new Status();
  private wrap = h('div', { class: 'table-wrap' });
  constructor(private panel: Panel, body: HTMLElement) {
    body.append(this.status.el, this.wrap);
  }
  async update(env: PanelEnv): Promise<void> {
    const node = interp(env, opt(this.panel, 'node', '$Hostname'), 'text');
    try {
      const events = await getData<EventRow[]>('/api/v1/events', { start: env.start / 1000, end: env.end / 1000, limit: 2000 }, env.signal);
      const by = new Map<string, { model: string; version: string; n: number; errors: number; last: number }>();
      for (const e of events) {
        if (e.node !== node) continue;
        const k = `${e.model}\u0000${e.model_version ?? ''}`;
        const r = by.get(k) ?? { model: e.model, version: e.model_version ?? '', n: 0, errors: 0, last: 0 };
        r.n++;
        if (e.status === 'error') r.errors++;
        r.last = Math.max(r.last, e.timestamp);
        by.set(k, r);
      }
      const rows = [...by.values()].sort((a, b) => b.n - a.n).map((r) => h('tr', null,
        h('td', null, link(href('models', { 'var-model': r.model }), r.model)), h('td', null, r.version),
        h('td', { class: 'num' }, String(r.n)), h('td', { class: `num ${r.errors ? 'warn' : ''}` }, String(r.errors)), h('td', null, ago(r.last * 1000))));
      replace(this.wrap, rows.length ? h('table', { class: 'data' },
        h('thead', null, h('tr', null, ...['Model', 'Version', 'Sampled requests', 'Errors', 'Last seen'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, ...rows)) : '');
      this.status.set(rows.length ? null : 'empty', `No sampled requests name node ${node || '(none)'} in this range: inference events carry the node that served them (the "node" field).`);
    } catch (e) {
      this.status.fail(e);
    }
  }
}

export const TYTO_PANELS: Record<string, (p: Panel, body: HTMLElement) => PanelView> = {
  'tyto-gpu-heatmap': (p, b) => new GpuHeatmapView(p, b),
  'tyto-drift': (p, b) => new DriftView(p, b),
  'tyto-pipeline-runs': (p, b) => new PipelineRunsView(p, b),
  'tyto-deployments': (p, b) => new DeploymentsView(p, b),
  'tyto-node-models': (p, b) => new NodeModelsView(p, b),
};

// Deployment markers for charts (annotation type "tyto-deployments").
export async function deploymentMarkers(env: PanelEnv, model: string | undefined, color?: string): Promise<{ time: number; text: string; color?: string }[]> {
  const one = model && model !== 'All' && !model.startsWith('$') ? model : undefined;
  const list = await getData<Deployment[]>('/api/v1/deployments', { model: one, start: env.start / 1000, end: env.end / 1000, limit: 200 }, env.signal);
  return list.map((d) => ({ time: d.timestamp, text: `${d.model.split('/').pop()} ${d.version}`, color }));
}
