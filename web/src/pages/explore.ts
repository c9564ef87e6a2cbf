// Explore: PromQL queries with autocompletion, drawn as a graph over the page's time range or as a
// table at its end. Everything that shapes the view is in the URL (q0=, legend0=, q1=, ... tab=,
// stacked=, exemplars=, step=, sort=), so a link reproduces it; other pages link here with q=.

import './explore.css';
import { ApiError, getData, legend as legendText, labelsText, type InstantResult, type Labels, type RangeSeries } from '../api';
import { h, notice, replace } from '../dom';
import { parseDuration, durationText } from '../format';
import { href, type PageContext } from '../router';
import { isRelative, resolveRange, stepFor } from '../timerange';
import { metrics } from '../explore/completion';
import { QueryEditor } from '../explore/editor';
import { ExploreGraph, type Exemplar, type GraphSeries } from '../explore/graph';
import { addHistory, clearHistory, loadHistory } from '../explore/history';
import { openPicker } from '../explore/picker';
import { errorOffset } from '../explore/promql';

const MAX_QUERIES = 10;
const MAX_POINTS = 11000; // per series, as Prometheus's query_range allows
const TABLE_ROWS = 2000;
const LETTERS = 'ABCDEFGHIJ';

interface Row { expr: string; legend: string; editor?: QueryEditor; legendInput?: HTMLInputElement; el?: HTMLElement }

type Tab = 'graph' | 'table';

export function render(ctx: PageContext): void {
  const p = ctx.params;
  const rows: Row[] = [];
  for (let i = 0; i < MAX_QUERIES; i++) {
    const q = p.get(`q${i}`) ?? (i === 0 ? p.get('q') : null);
    if (q === null) break;
    rows.push({ expr: q.trim() ? q : '', legend: p.get(`legend${i}`) ?? '' });
  }
  if (!rows.length) rows.push({ expr: '', legend: '' });
  let tab: Tab = p.get('tab') === 'table' ? 'table' : 'graph';
  let stacked = p.get('stacked') === '1';
  let exemplars = p.get('exemplars') === '1';
  let stepText = p.get('step') ?? '';
  let sortCol = p.get('sort') ?? '';
  let sortDesc = p.get('desc') === '1';
  let activeRow = 0;
  let ran = false;
  let running: AbortController | null = null;
  let graph: ExploreGraph | null = null;
  let lastTable: { row: number; result: InstantResult }[] = [];

  // ---- URL ----
  const writeUrl = (push = false) => {
    window.clearTimeout(urlTimer);
    const out: Record<string, string | null> = { q: null };
    for (let i = 0; i < MAX_QUERIES; i++) {
      out[`q${i}`] = i < rows.length ? rows[i].expr || (i === 0 ? null : '') : null;
      out[`legend${i}`] = i < rows.length ? rows[i].legend || null : null;
    }
    // empty queries after the first keep their place (q1= with an empty value would be dropped)
    for (let i = 1; i < rows.length; i++) if (!rows[i].expr) out[`q${i}`] = ' ';
    Object.assign(out, {
      tab: tab === 'graph' ? null : tab, stacked: stacked ? '1' : null, exemplars: exemplars ? '1' : null,
      step: stepText || null, sort: sortCol || null, desc: sortCol && sortDesc ? '1' : null,
    });
    ctx.setParams(out, { push });
  };

  // Typing updates the URL after a pause (browsers throttle frequent history updates).
  let urlTimer = 0;
  const writeUrlSoon = () => {
    window.clearTimeout(urlTimer);
    urlTimer = window.setTimeout(() => { if (!ctx.signal.aborted) writeUrl(); }, 400);
  };

  // ---- layout ----
  const rowsBox = h('div', { class: 'xq-rows' });
  const addButton = h('button', { type: 'button', onclick: () => addRow() }, '+ Add query');
  const runButton = h('button', { type: 'button', class: 'primary', onclick: () => run(true), title: 'Shift+Enter or Ctrl+Enter in a query' }, 'Run queries');
  const metricsButton = h('button', { type: 'button', onclick: () => openMetrics() }, 'Metrics browser');
  const historyButton = h('button', { type: 'button', onclick: () => openHistory() }, 'History');
  const tabGraph = h('button', { type: 'button', role: 'tab', id: 'xr-tab-graph', 'aria-controls': 'xr-panel', onclick: () => setTab('graph') }, 'Graph');
  const tabTable = h('button', { type: 'button', role: 'tab', id: 'xr-tab-table', 'aria-controls': 'xr-panel', onclick: () => setTab('table') }, 'Table');
  const tabList = h('div', { role: 'tablist', 'aria-label': 'Result view', class: 'xr-tabs' }, tabGraph, tabTable);
  tabList.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      setTab(tab === 'graph' ? 'table' : 'graph');
      (tab === 'graph' ? tabGraph : tabTable).focus();
    }
  });
  const stackedBox = h('input', { type: 'checkbox', id: 'xr-stacked', checked: stacked, onchange: () => { stacked = stackedBox.checked; writeUrl(); if (ran) run(false); } });
  const exemplarBox = h('input', { type: 'checkbox', id: 'xr-exemplars', checked: exemplars, onchange: () => { exemplars = exemplarBox.checked; writeUrl(); if (ran) run(false); } });
  const stepInput = h('input', { type: 'text', id: 'xr-step', class: 'xr-step', value: stepText, inputmode: 'decimal', spellcheck: 'false' });
  stepInput.addEventListener('change', () => { stepText = stepInput.value.trim(); writeUrl(); if (ran) run(false); });
  const graphOpts = h('span', { class: 'xr-graph-opts' },
    h('label', { class: 'check' }, stackedBox, ' Stacked'),
    h('label', { class: 'check' }, exemplarBox, ' Exemplars'),
    h('label', { for: 'xr-step' }, 'Step'), stepInput);
  const stats = h('div', { class: 'xr-stats muted', role: 'status', 'aria-live': 'polite' });
  const panel = h('div', { class: 'xr-panel', id: 'xr-panel', role: 'tabpanel' });
  const messages = h('div', { class: 'xr-messages' });
  replace(ctx.root,
    h('div', { class: 'xp-head' }, h('h1', null, 'Explore'),
      h('div', { class: 'toolbar' }, metricsButton, historyButton, addButton, runButton)),
    rowsBox,
    h('div', { class: 'toolbar xr-bar' }, tabList, graphOpts, stats),
    messages,
    panel);

  ctx.signal.addEventListener('abort', () => { running?.abort(); graph?.destroy(); });

  const renderRows = () => {
    rowsBox.replaceChildren();
    rows.forEach((r, i) => {
      const editor = r.editor ?? new QueryEditor({
        value: r.expr,
        label: `Query ${LETTERS[i]} (PromQL)`,
        placeholder: 'PromQL expression, e.g. rate(gen_ai_client_token_usage_sum[5m]): Shift+Enter runs, Ctrl+Space completes',
        onRun: () => run(true),
        onChange: (v) => { r.expr = v; writeUrlSoon(); },
        onFocus: () => { activeRow = rows.indexOf(r); },
      });
      r.editor = editor;
      const legendInput = r.legendInput ?? h('input', {
        type: 'text', class: 'xq-legend', value: r.legend, placeholder: '{{label}} text', spellcheck: 'false',
        'aria-label': `Legend format of query ${LETTERS[i]}`,
      });
      if (!r.legendInput) {
        legendInput.addEventListener('change', () => { r.legend = legendInput.value; writeUrl(); if (ran) run(false); });
        legendInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') { r.legend = legendInput.value; run(true); } });
      }
      r.legendInput = legendInput;
      legendInput.setAttribute('aria-label', `Legend format of query ${LETTERS[i]}`);
      editor.textarea.setAttribute('aria-label', `Query ${LETTERS[i]} (PromQL)`);
      const format = h('button', { type: 'button', onclick: () => formatRow(r), title: 'Format the expression (the server\'s formatter)' }, 'Format');
      const remove = h('button', { type: 'button', class: 'icon-button', 'aria-label': `Remove query ${LETTERS[i]}`, title: 'Remove query', disabled: rows.length === 1, onclick: () => removeRow(r) }, '✕');
      r.el = h('section', { class: 'xq-row', 'aria-label': `Query ${LETTERS[i]}` },
        h('span', { class: 'xq-letter', 'aria-hidden': 'true' }, LETTERS[i]),
        editor.el,
        h('div', { class: 'xq-side' }, legendInput, format, remove));
      rowsBox.append(r.el);
    });
    addButton.disabled = rows.length >= MAX_QUERIES;
  };

  const addRow = () => {
    if (rows.length >= MAX_QUERIES) return;
    rows.push({ expr: '', legend: '' });
    renderRows();
    writeUrl();
    rows[rows.length - 1].editor!.focus();
  };

  const removeRow = (r: Row) => {
    const i = rows.indexOf(r);
    if (i < 0 || rows.length === 1) return;
    rows.splice(i, 1);
    activeRow = Math.min(activeRow, rows.length - 1);
    renderRows();
    writeUrl();
    if (ran) run(false);
    rows[Math.max(0, i - 1)].editor!.focus();
  };

  const formatRow = async (r: Row) => {
    const expr = r.editor!.value;
    if (!expr.trim()) return;
    try {
      const out = await getData<string>('/api/v1/format_query', { query: expr }, ctx.signal);
      r.editor!.setValue(out);
    } catch (e) {
      if (ctx.signal.aborted) return;
      const msg = (e as Error).message;
      r.editor!.setError(msg, errorOffset(msg, expr));
    }
  };

  const setTab = (t: Tab) => {
    tab = t;
    tabGraph.setAttribute('aria-selected', String(t === 'graph'));
    tabTable.setAttribute('aria-selected', String(t === 'table'));
    tabGraph.tabIndex = t === 'graph' ? 0 : -1;
    tabTable.tabIndex = t === 'table' ? 0 : -1;
    panel.setAttribute('aria-labelledby', t === 'graph' ? 'xr-tab-graph' : 'xr-tab-table');
    graphOpts.hidden = t !== 'graph';
    writeUrl();
    if (ran) run(false);
  };

  const openMetrics = () => openPicker({
    title: 'Metrics browser',
    searchLabel: 'Search metric names and help',
    empty: 'No metrics yet: Tyto has stored no series. Add scrape targets or collectors, then come back.',
    load: async () => (await metrics()).map((m) => ({ text: m.name, detail: m.type, help: m.help })),
    onPick: (it) => {
      const r = rows[activeRow] ?? rows[0];
      if (!r.editor!.value.trim()) r.editor!.setValue(it.text); else r.editor!.insertAtCursor(it.text);
      r.editor!.focus();
    },
  });

  const openHistory = () => {
    const clear = h('button', { type: 'button', onclick: () => { clearHistory(); (clear.closest('dialog') as HTMLDialogElement | null)?.close(); } }, 'Clear history');
    openPicker({
      title: 'Query history',
      searchLabel: 'Search past queries',
      empty: 'No history yet: queries you run appear here (kept in this browser).',
      load: async () => loadHistory().map((q) => ({ text: q })),
      extra: clear,
      onPick: (it) => {
        const r = rows[activeRow] ?? rows[0];
        r.editor!.setValue(it.text);
        r.editor!.focus();
        run(true);
      },
    });
  };

  // ---- running ----
  const chooseStep = (startS: number, endS: number): { step: number; raised: boolean } => {
    const auto = stepFor(startS * 1000, endS * 1000, 600, 1);
    stepInput.placeholder = `auto (${durationText(auto)})`;
    let step = auto;
    if (stepText) {
      const v = /^\d+(\.\d+)?$/.test(stepText) ? parseFloat(stepText) : parseDuration(stepText);
      if (v !== null && v > 0) step = v;
    }
    const min = (endS - startS) / MAX_POINTS;
    if (step < min) return { step: Math.ceil(min * 1000) / 1000, raised: true };
    return { step, raised: false };
  };

  const run = async (userAction: boolean) => {
    running?.abort();
    const ctrl = new AbortController();
    running = ctrl;
    const signal = ctrl.signal;
    const active = rows.map((r, i) => ({ r, i })).filter((x) => x.r.expr.trim());
    if (userAction) {
      for (const r of rows) r.editor!.setError(null);
      for (const { r } of active) addHistory(r.expr);
      writeUrl(true);
    }
    messages.replaceChildren();
    if (!active.length) {
      ran = false;
      panel.replaceChildren(notice('empty', 'Type a PromQL expression above (the metrics browser lists what there is) and press Shift+Enter to run it.'));
      stats.textContent = '';
      graph?.destroy();
      graph = null;
      return;
    }
    ran = true;
    // results of a query the user ran are announced; the refreshes on each tick are not
    stats.setAttribute('aria-live', userAction ? 'polite' : 'off');
    if (userAction) stats.textContent = 'Running…';
    const { start, end } = resolveRange(ctx.range);
    const startS = Math.floor(start / 1000);
    const endS = Math.floor(end / 1000);
    const t0 = performance.now();
    try {
      if (tab === 'graph') await runGraph(active, startS, endS, signal, t0);
      else await runTable(active, endS, signal, t0);
    } catch (e) {
      if (signal.aborted || ctx.signal.aborted) return;
      messages.replaceChildren(notice('error', (e as Error).message));
    } finally {
      if (running === ctrl) running = null;
    }
  };

  const showQueryError = (i: number, e: unknown) => {
    const msg = e instanceof ApiError ? e.message : (e as Error).message;
    const r = rows[i];
    r.editor!.setError(`Query ${LETTERS[i]}: ${msg}`, errorOffset(msg, r.expr));
  };

  const runGraph = async (active: { r: Row; i: number }[], startS: number, endS: number, signal: AbortSignal, t0: number) => {
    const { step, raised } = chooseStep(startS, endS);
    const results = await Promise.all(active.map(({ r }) =>
      getData<{ resultType: string; result: RangeSeries[] }>('/api/v1/query_range', { query: r.expr, start: startS, end: endS, step }, signal)
        .then((d) => ({ ok: true as const, d }), (e: unknown) => ({ ok: false as const, e }))));
    const exResults = exemplars ? await Promise.all(active.map(({ r }) =>
      getData<{ seriesLabels: Labels; exemplars: { labels: Labels; value: string; timestamp: number }[] }[]>('/api/v1/query_exemplars', { query: r.expr, start: startS, end: endS }, signal)
        .catch(() => null))) : [];
    if (signal.aborted) return;
    const queryMs = performance.now() - t0;
    // one grid for all queries: start + k*step
    const n = Math.floor((endS - startS) / step + 1e-9) + 1;
    const xs = new Array<number>(n);
    for (let k = 0; k < n; k++) xs[k] = startS + k * step;
    const series: GraphSeries[] = [];
    let points = 0;
    const seen = new Map<string, number>();
    results.forEach((res, j) => {
      const { r, i } = active[j];
      if (!res.ok) { showQueryError(i, res.e); return; }
      r.editor!.setError(null);
      for (const s of res.d.result) {
        const values: (number | null)[] = new Array(n).fill(null);
        for (const [t, v] of s.values) {
          const k = Math.round((t - startS) / step);
          if (k >= 0 && k < n) { values[k] = parseSample(v); points++; }
        }
        let name = r.legend ? legendText(r.legend, s.metric) : labelsText(s.metric);
        if (active.length > 1 && !r.legend) name = `${LETTERS[i]}: ${name}`;
        const dup = seen.get(name) ?? 0;
        seen.set(name, dup + 1);
        if (dup) name = `${name} (${dup + 1})`;
        series.push({ name, values });
      }
    });
    const exList: Exemplar[] = [];
    for (const ex of exResults) {
      if (!ex) continue;
      for (const s of ex) for (const e of s.exemplars) {
        const v = parseSample(e.value);
        if (v !== null) exList.push({ time: e.timestamp, value: v, labels: e.labels, series: labelsText(s.seriesLabels) });
      }
    }
    const notes: string[] = [];
    if (raised) notes.push(`step raised to ${step} s to stay within ${MAX_POINTS.toLocaleString()} points per series`);
    if (exemplars && exResults.some((x) => x === null)) notes.push('exemplars could not be loaded for some queries');
    if (!series.length) {
      graph?.destroy();
      graph = null;
      if (results.some((x) => x.ok)) {
        panel.replaceChildren(notice('empty', 'No data: the queries matched no series in this time range. Check the metric name in the metrics browser, widen the time range, or loosen the label matchers.'));
      } else panel.replaceChildren(notice('empty', 'No result: the error is shown under the query.'));
      stats.textContent = `0 series · query ${Math.round(queryMs)} ms${notes.length ? ' · ' + notes.join(' · ') : ''}`;
      return;
    }
    if (!graph || !panel.contains(graph.el)) {
      panel.replaceChildren();
      graph?.destroy();
      graph = new ExploreGraph(panel, {
        onRange: (a, b) => ctx.setRange({ from: String(Math.floor(a * 1000)), to: String(Math.ceil(b * 1000)) }),
        onExemplar: (e) => {
          const id = e.labels.trace_id ?? e.labels.traceID ?? e.labels.traceId;
          if (id) ctx.navigate(href(`traces/${encodeURIComponent(id)}`));
        },
      });
    }
    const base = `${series.length.toLocaleString()} series · ${points.toLocaleString()} points · step ${stepLabel(step)} · query ${Math.round(queryMs)} ms`;
    const exText = exemplars ? ` · ${exList.length.toLocaleString()} exemplars` : '';
    stats.textContent = base + exText + (notes.length ? ' · ' + notes.join(' · ') : '');
    graph.onDrawn = (ms) => {
      stats.textContent = `${base} · drawn in ${Math.round(ms)} ms${exText}${notes.length ? ' · ' + notes.join(' · ') : ''}`;
      stats.dataset.drawMs = String(ms);
    };
    graph.setData(xs, series, exList, stacked);
  };

  const runTable = async (active: { r: Row; i: number }[], endS: number, signal: AbortSignal, t0: number) => {
    const results = await Promise.all(active.map(({ r }) =>
      getData<InstantResult>('/api/v1/query', { query: r.expr, time: endS }, signal)
        .then((d) => ({ ok: true as const, d }), (e: unknown) => ({ ok: false as const, e }))));
    if (signal.aborted) return;
    const queryMs = performance.now() - t0;
    graph?.destroy();
    graph = null;
    lastTable = [];
    results.forEach((res, j) => {
      if (res.ok) {
        lastTable.push({ row: active[j].i, result: res.d });
        active[j].r.editor!.setError(null);
      } else showQueryError(active[j].i, res.e);
    });
    drawTables();
    const count = lastTable.reduce((a, t) => a + (Array.isArray(t.result.result) && t.result.resultType !== 'scalar' && t.result.resultType !== 'string' ? t.result.result.length : 1), 0);
    stats.textContent = `${count.toLocaleString()} series · at ${new Date(endS * 1000).toLocaleString()} · query ${Math.round(queryMs)} ms`;
  };

  const drawTables = () => {
    const frag = document.createDocumentFragment();
    for (const { row, result } of lastTable) {
      if (lastTable.length > 1 || rows.length > 1) frag.append(h('h2', { class: 'xr-table-title' }, `Query ${LETTERS[row]}`, h('code', null, rows[row]?.expr ?? '')));
      frag.append(resultTable(result));
    }
    if (!lastTable.length) frag.append(notice('empty', 'No result: the error is shown under the query.'));
    panel.replaceChildren(frag);
  };

  const resultTable = (res: InstantResult): HTMLElement => {
    if (res.resultType === 'scalar' || res.resultType === 'string') {
      return h('table', { class: 'data xr-table' }, h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'type'), h('th', { scope: 'col' }, 'value'))),
        h('tbody', null, h('tr', null, h('td', null, res.resultType), h('td', { class: res.resultType === 'scalar' ? 'num' : '' }, res.result[1]))));
    }
    if (!res.result.length) return notice('empty', 'No data: no series matched at the end of the time range. Widen the range, check the metric name, or loosen the label matchers.');
    type Item = { metric: Labels; value: number | null; text: string; detail?: string };
    const items: Item[] = res.resultType === 'vector'
      ? res.result.map((s) => ({ metric: s.metric, value: parseSample(s.value[1]), text: s.value[1] }))
      : res.result.map((s) => {
        const last = s.values[s.values.length - 1];
        return { metric: s.metric, value: last ? parseSample(last[1]) : null, text: last ? last[1] : '', detail: `${s.values.length} samples, last at ${last ? new Date(last[0] * 1000).toLocaleTimeString() : '–'}` };
      });
    const labelSet = new Set<string>();
    for (const it of items) for (const k of Object.keys(it.metric)) labelSet.add(k);
    const cols = [...labelSet].sort((a, b) => (a === '__name__' ? -1 : b === '__name__' ? 1 : a.localeCompare(b)));
    const sortBy = sortCol === 'value' || cols.includes(sortCol) ? sortCol : '';
    if (sortBy) {
      const dir = sortDesc ? -1 : 1;
      items.sort((a, b) => {
        if (sortBy === 'value') return dir * ((a.value ?? -Infinity) - (b.value ?? -Infinity) || 0);
        return dir * (a.metric[sortBy] ?? '').localeCompare(b.metric[sortBy] ?? '', undefined, { numeric: true });
      });
    }
    const header = (col: string, label: string, num = false) => {
      const sorted = sortBy === col;
      return h('th', { scope: 'col', class: num ? 'num' : '', 'aria-sort': sorted ? (sortDesc ? 'descending' : 'ascending') : 'none' },
        h('button', { type: 'button', class: 'xr-sort', onclick: () => {
          if (sortCol === col) sortDesc = !sortDesc; else { sortCol = col; sortDesc = col === 'value'; }
          writeUrl();
          drawTables();
        } }, label, h('span', { 'aria-hidden': 'true', class: 'xr-sort-mark' }, sorted ? (sortDesc ? ' ▼' : ' ▲') : '')));
    };
    const body = document.createDocumentFragment();
    for (const it of items.slice(0, TABLE_ROWS)) {
      body.append(h('tr', null,
        cols.map((c) => h('td', { class: c === '__name__' ? 'mono' : '' }, it.metric[c] ?? '')),
        h('td', { class: 'num mono', title: it.detail ?? '' }, it.text, it.detail ? h('div', { class: 'muted xr-detail' }, it.detail) : null)));
    }
    const table = h('table', { class: 'data xr-table' },
      h('thead', null, h('tr', null, cols.map((c) => header(c, c === '__name__' ? 'metric' : c)), header('value', res.resultType === 'matrix' ? 'last value' : 'value', true))),
      h('tbody', null, body));
    const wrap = h('div', { class: 'xr-table-wrap' }, table);
    if (items.length > TABLE_ROWS) wrap.append(notice('info', `${items.length.toLocaleString()} series; the first ${TABLE_ROWS.toLocaleString()} are shown. Narrow the query (label matchers, topk) to see the rest.`));
    return wrap;
  };

  renderRows();
  setTab(tab);
  if (rows.some((r) => r.expr.trim())) run(false);
  else {
    panel.replaceChildren(notice('empty', 'Type a PromQL expression above (the metrics browser lists what there is) and press Shift+Enter to run it.'));
    rows[0].editor!.focus();
  }
  // A relative range ("last 15 minutes") follows the server's ticks; an absolute one stays put.
  ctx.onTick(() => {
    if (ran && !running && isRelative(ctx.range) && !document.querySelector('dialog[open]')) run(false);
  });
}

function parseSample(v: string): number | null {
  const x = parseFloat(v); // "+Inf" and "-Inf" parse; "NaN" becomes a gap
  return Number.isNaN(x) ? null : x;
}

function stepLabel(step: number): string {
  return Number.isInteger(step) ? durationText(step) : `${step}s`;
}
