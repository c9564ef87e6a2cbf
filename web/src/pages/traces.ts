// Traces (/ui/traces): search (service, span name, model, minimum duration, errors, the time range;
// all in the URL) with a duration-over-time scatter and the list of traces; /ui/traces/<trace_id>
// opens one trace as a waterfall with the selected span's attributes, events and resource, and
// links to the trace's logs and to the GPUs that served its model.

import '../ops/ops.css';
import { ApiError, getData, getJson } from '../api';
import { h, notice, replace } from '../dom';
import { href, type PageContext } from '../router';
import { onThemeChange } from '../theme';
import { resolveRange } from '../timerange';
import { durationMs, isAbort, nanosToMs, serial, timeCell } from '../ops/common';
import { Scatter } from '../ops/plot';
import { Waterfall, type Span } from '../ops/waterfall';

interface TraceSummary {
  traceId: string; rootService: string; rootName: string; startTimeUnixNano: string; durationMs: number;
  spanCount: number; errorCount: number; services: string[]; models: string[];
}
interface Trace { traceId: string; logs: string; spans: Span[] }
interface ModelGpus { model: string; nodes: string[]; gpus: { node: string; gpu: string; UUID: string; modelName: string; device: string }[] }

export function traceHref(id: string, span?: string): string {
  return href(`traces/${id}`, { span });
}

export async function render(ctx: PageContext): Promise<void> {
  const id = ctx.path[0] ?? ctx.params.get('trace') ?? '';
  if (id) return renderTrace(ctx, id);
  return renderSearch(ctx);
}

// ---- search ----

async function renderSearch(ctx: PageContext): Promise<void> {
  const p = ctx.params;
  const field = (name: string, label: string, placeholder: string, list?: string) =>
    h('input', { type: 'text', name, value: p.get(name) ?? '', placeholder, 'aria-label': label, list });
  const service = field('service', 'Service', 'any', 'ops-services-list');
  const operation = field('operation', 'Span name', 'any', 'ops-operations-list');
  const model = field('model', 'Model', 'any', 'ops-models-list');
  const minDur = h('input', { type: 'text', name: 'min_duration', value: p.get('min_duration') ?? '', placeholder: 'e.g. 2s, 500ms', 'aria-label': 'Minimum duration', class: 'ops-short' });
  const errors = h('input', { type: 'checkbox', name: 'errors', checked: p.get('status') === 'error' });
  const limit = h('select', { name: 'limit', 'aria-label': 'Most traces' },
    ['20', '50', '100', '200', '500'].map((n) => h('option', { value: n, selected: (p.get('limit') ?? '50') === n }, n)));
  const servicesList = h('datalist', { id: 'ops-services-list' });
  const opsList = h('datalist', { id: 'ops-operations-list' });
  const modelsList = h('datalist', { id: 'ops-models-list' });
  const form = h('form', { class: 'ops-search', role: 'search', 'aria-label': 'Find traces' },
    h('label', null, 'Service', service), h('label', null, 'Span name', operation), h('label', null, 'Model', model),
    h('label', null, 'Min duration', minDur), h('label', { class: 'ops-check' }, errors, 'Errors only'),
    h('label', null, 'Limit', limit), h('button', { type: 'submit', class: 'primary' }, 'Search'),
    servicesList, opsList, modelsList);
  const overview = h('div', { class: 'ops-overview' });
  const summary = h('div', { class: 'ops-overview-title' }, 'Duration of each trace over the time range · click a dot to open it · ',
    h('span', null, h('span', { class: 'ops-legend-dot', style: { background: 'var(--accent)' } }), 'ok'),
    h('span', null, h('span', { class: 'ops-legend-dot', style: { background: 'var(--crit)' } }), 'with errors'));
  overview.append(summary);
  const results = h('div', null, h('p', { class: 'loading' }, 'Searching…'));
  replace(ctx.root, h('h1', null, 'Traces'), form, overview, results);
  const scatter = new Scatter(overview, 150, 'Trace durations over time', (v) => durationMs(v), (pt) => ctx.navigate(traceHref(pt.id)));
  ctx.signal.addEventListener('abort', () => scatter.destroy());

  const seenModels = new Set<string>();
  const fillList = (list: HTMLElement, values: Iterable<string>) => replace(list, [...values].sort().map((v) => h('option', { value: v })));
  getJson<{ data: string[] | null }>('/api/services', undefined, ctx.signal)
    .then((r) => fillList(servicesList, r.data ?? [])).catch(() => { /* suggestions only */ });
  const loadOps = () => {
    const svc = service.value.trim();
    if (!svc) { replace(opsList); return; }
    getJson<{ data: string[] | null }>(`/api/services/${encodeURIComponent(svc)}/operations`, undefined, ctx.signal)
      .then((r) => fillList(opsList, r.data ?? [])).catch(() => { /* suggestions only */ });
  };
  service.addEventListener('change', loadOps);
  loadOps();

  const params = () => ({
    service: service.value.trim(), operation: operation.value.trim(), model: model.value.trim(),
    min_duration: minDur.value.trim(), status: errors.checked ? 'error' : '', limit: limit.value,
  });
  // The search last submitted (a refresh must not pick up a half-typed field).
  let q = params();
  const search = serial(async () => {
    const { start, end } = resolveRange(ctx.range);
    try {
      const list = await getData<TraceSummary[]>('/api/v1/traces', { ...q, start: (start / 1000).toFixed(3), end: (end / 1000).toFixed(3) }, ctx.signal);
      for (const t of list) for (const m of t.models) seenModels.add(m);
      fillList(modelsList, seenModels);
      scatter.setData(list.map((t) => ({
        time: nanosToMs(t.startTimeUnixNano), value: t.durationMs, error: t.errorCount > 0, id: t.traceId,
        text: `${t.rootService}: ${t.rootName} · ${durationMs(t.durationMs)} · ${t.spanCount} spans${t.errorCount ? ` · ${t.errorCount} errors` : ''}`,
      })), start, end);
      const focusKey = (document.activeElement as HTMLElement | null)?.dataset?.key;
      if (!list.length) {
        replace(results, notice('empty', 'No traces match. Widen the time range, clear a filter, or lower the minimum duration; traces arrive over OTLP (/v1/traces).'));
        return;
      }
      const now = Date.now();
      replace(results,
        h('p', { class: 'muted ops-small' }, `${list.length} traces, newest first${list.length >= Number(q.limit) ? ` (the limit: raise it or narrow the search to see others)` : ''}.`),
        h('table', { class: 'data ops-table' },
          h('thead', null, h('tr', null, ['Trace', 'Root span', 'Services', 'Duration', 'Spans', 'Errors', 'Start'].map((t) => h('th', { scope: 'col', class: ['Duration', 'Spans', 'Errors'].includes(t) ? 'num' : undefined }, t)))),
          h('tbody', null, list.map((t) => h('tr', null,
            h('td', null, h('a', { href: traceHref(t.traceId), 'data-link': true, class: 'ops-id', 'data-key': `t-${t.traceId}` }, t.traceId.slice(0, 16))),
            h('td', null, h('span', { class: 'muted' }, t.rootService), ' ', t.rootName,
              t.models.length ? h('div', { class: 'muted ops-small' }, t.models.join(', ')) : null),
            h('td', null, t.services.join(', ')),
            h('td', { class: 'num' }, durationMs(t.durationMs)),
            h('td', { class: 'num' }, String(t.spanCount)),
            h('td', { class: 'num' }, t.errorCount ? h('span', { class: 'ops-err' }, String(t.errorCount)) : '0'),
            h('td', null, timeCell(nanosToMs(t.startTimeUnixNano), now)))))));
      if (focusKey) results.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusKey)}"]`)?.focus();
    } catch (e) {
      if (isAbort(e)) return;
      replace(results, notice('error', `Search failed: ${(e as Error).message}`));
      scatter.setData([], start, end);
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    q = params();
    ctx.setParams({ ...q, status: q.status || null, limit: q.limit === '50' ? null : q.limit }, { push: true });
    replace(results, h('p', { class: 'loading' }, 'Searching…'));
    search();
  });
  search();
  if (ctx.range.to === 'now') ctx.onTick(search);
}

// ---- one trace ----

function kv(obj: Record<string, string>): HTMLElement {
  const keys = Object.keys(obj).sort();
  if (!keys.length) return h('p', { class: 'muted' }, 'None.');
  return h('dl', { class: 'ops-kv' }, keys.flatMap((k) => [h('dt', null, k), h('dd', null, obj[k])]));
}

// Delays before the retries of a trace that answered 404 (then it gives up).
const TRACE_RETRIES = [3000, 6000];

// Resolves true after `ms`, or false at once when the page is left.
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) { resolve(false); return; }
    const t = setTimeout(() => { signal.removeEventListener('abort', stop); resolve(true); }, ms);
    const stop = () => { clearTimeout(t); resolve(false); };
    signal.addEventListener('abort', stop, { once: true });
  });
}

async function renderTrace(ctx: PageContext, id: string): Promise<void> {
  document.title = `Trace ${id.slice(0, 8)} · Tyto`;
  const back = h('p', null, h('a', { href: href('traces'), 'data-link': true }, '← Search traces'));
  replace(ctx.root, h('h1', null, 'Trace'), back, h('p', { class: 'loading' }, `Loading trace ${id}…`));
  let found: Trace | null = null;
  // A 404 is retried a bounded number of times: the hub stores a trace's spans only after the
  // trace has been quiet for sampling.decision_wait (5 s), so an exemplar clicked at once can be
  // ahead of its trace.
  const status = h('div', { class: 'ops-trace-status' });
  for (let attempt = 0; ; ++attempt) {
    try {
      found = await getData<Trace>(`/api/v1/traces/${encodeURIComponent(id)}`, undefined, ctx.signal);
      break;
    } catch (e) {
      if (isAbort(e) || ctx.signal.aborted) return;
      const notFound = e instanceof ApiError && e.status === 404;
      if (notFound && attempt < TRACE_RETRIES.length) {
        const wait = TRACE_RETRIES[attempt];
        replace(status, notice('empty', `Trace ${id} is not stored (yet). Its spans may still be arriving: trying again in ${wait / 1000} s (${attempt + 1} of ${TRACE_RETRIES.length})…`));
        if (attempt === 0) replace(ctx.root, h('h1', null, 'Trace'), back, status);
        if (!(await sleep(wait, ctx.signal))) return;
        continue;
      }
      const retry = h('button', { type: 'button' }, 'Try again');
      retry.addEventListener('click', () => { void renderTrace(ctx, id); });
      const msg = notFound
        ? `This trace was not stored: the inference hub samples traces (inference.sampling: errors and slow requests are always kept, `
          + `of the rest only the share sampling.rate), so an exemplar can point to a trace that was not kept. It may also still be arriving `
          + `(spans are stored a few seconds after the request is measured), or be older than the trace store keeps. (${(e as Error).message})`
        : `Could not load trace ${id}: ${(e as Error).message}`;
      replace(ctx.root, h('h1', null, 'Trace'), back, notice('error', msg), h('p', null, retry));
      return;
    }
  }
  if (!found) return;
  const trace = found;
  if (!trace.spans.length) {
    replace(ctx.root, h('h1', null, 'Trace'), back, notice('empty', `Trace ${id} has no spans stored.`));
    return;
  }
  const panel = h('aside', { class: 'ops-span-panel', 'aria-label': 'Span details', 'aria-live': 'polite' });
  const gpuCache = new Map<string, Promise<ModelGpus>>();
  const wf: Waterfall = new Waterfall(trace.spans, {
    selected: ctx.params.get('span'),
    onSelect: (s) => {
      ctx.setParams({ span: s.spanId });
      drawPanel(s);
    },
  });
  const root = trace.spans.find((s) => !s.parentSpanId) ?? trace.spans[0];
  const errorsN = trace.spans.filter((s) => s.status === 'error').length;
  const models = [...new Set(trace.spans.map((s) => s.attributes['gen_ai.request.model'] ?? s.attributes['gen_ai.response.model']).filter(Boolean))];
  const pad = 5 * 60e3;
  const logsHref = href('logs', { trace_id: trace.traceId, from: String(Math.floor(wf.start - pad)), to: String(Math.ceil(wf.end + pad)) }, false);
  const legend = h('div', { class: 'ops-services' });
  const drawLegend = () => replace(legend, wf.services.map((s) => h('span', null, h('span', { class: 'ops-legend-dot', style: { background: wf.colorOf(s) } }), s)));
  drawLegend();

  function drawPanel(s: Span): void {
    const off = nanosToMs(s.startTimeUnixNano) - wf.start;
    const model = s.attributes['gen_ai.request.model'] ?? s.attributes['gen_ai.response.model'];
    // Only spans that ran a model ran on GPUs; their host is the node to look at.
    const host = model ? s.resource['host.name'] ?? s.attributes['server.address'] : undefined;
    const gpuEl = h('div');
    if (model) {
      const show = h('button', { type: 'button' }, `GPUs serving ${model}`);
      show.addEventListener('click', () => {
        show.disabled = true;
        if (!gpuCache.has(model)) gpuCache.set(model, getData<ModelGpus>(`/api/v1/models/${encodeURIComponent(model)}/gpus`, undefined, ctx.signal));
        gpuCache.get(model)!.then((r) => {
          replace(gpuEl, r.gpus.length
            ? h('ul', { class: 'ops-plain-list' }, r.gpus.map((g) => h('li', null,
              h('a', { href: href('gpu', { 'var-Hostname': g.node, 'var-gpu': g.gpu }), 'data-link': true }, `${g.node} GPU ${g.gpu}`),
              h('span', { class: 'muted' }, ` ${g.modelName}`))))
            : notice('empty', `No GPU metrics name the nodes serving ${model}${r.nodes.length ? ` (${r.nodes.join(', ')})` : ''}.`));
        }).catch((e) => {
          if (isAbort(e)) return;
          gpuCache.delete(model);
          show.disabled = false;
          replace(gpuEl, notice('error', `Could not find the GPUs serving ${model}: ${(e as Error).message}`));
        });
      });
      gpuEl.append(show);
    }
    replace(panel,
      h('h3', null, s.name),
      h('p', null, h('span', { class: 'ops-legend-dot', style: { background: wf.colorOf(s.service) } }), s.service, ' · ', s.kind,
        ' · ', s.status === 'error' ? h('span', { class: 'ops-err' }, 'error') : s.status),
      s.statusMessage ? h('p', { class: 'crit' }, s.statusMessage) : null,
      h('dl', { class: 'ops-kv' },
        h('dt', null, 'duration'), h('dd', null, durationMs(s.durationMs)),
        h('dt', null, 'starts at'), h('dd', null, `+${durationMs(off)}`),
        h('dt', null, 'span id'), h('dd', { class: 'mono' }, s.spanId),
        s.parentSpanId ? [h('dt', null, 'parent'), h('dd', { class: 'mono' }, s.parentSpanId)] : null),
      model || host ? h('div', null, h('h4', null, 'Where it ran'),
        host ? h('p', null, h('a', { href: href('gpu', { 'var-Hostname': host }), 'data-link': true }, `GPUs of ${host}`)) : null,
        gpuEl) : null,
      h('h4', null, 'Attributes'), kv(s.attributes),
      h('h4', null, `Events (${s.events.length})`),
      s.events.length ? h('ul', { class: 'ops-plain-list' }, s.events.map((e) => h('li', null,
        h('strong', null, e.name), ' ', h('span', { class: 'muted' }, `+${durationMs(nanosToMs(e.timeUnixNano) - wf.start)}`), kv(e.attributes))))
        : h('p', { class: 'muted' }, 'None.'),
      h('h4', null, 'Resource'), kv(s.resource),
      h('p', null, h('a', { href: href('logs', { trace_id: trace.traceId, from: String(Math.floor(wf.start - pad)), to: String(Math.ceil(wf.end + pad)) }, false), 'data-link': true }, 'Logs for this trace')));
  }

  replace(ctx.root,
    h('h1', null, 'Trace'), back,
    h('div', { class: 'ops-trace-head' },
      h('h2', null, h('span', { class: 'muted' }, root.service), ' ', root.name),
      h('span', { class: 'ops-id' }, trace.traceId),
      h('span', null, timeCell(wf.start)),
      h('span', null, durationMs(wf.end - wf.start)),
      h('span', null, `${trace.spans.length} spans`),
      errorsN ? h('span', { class: 'ops-err' }, `${errorsN} error${errorsN === 1 ? '' : 's'}`) : null,
      models.length ? h('span', { class: 'muted' }, models.join(', ')) : null),
    h('div', { class: 'ops-trace-links' }, h('a', { href: logsHref, 'data-link': true, class: 'ops-logs-link' }, 'Logs for this trace'), legend),
    h('div', { class: 'ops-trace-grid' }, wf.el, panel));
  const sel = wf.selectedSpan();
  if (sel) drawPanel(sel);
  const off = onThemeChange(() => { wf.recolor(); drawLegend(); const s = wf.selectedSpan(); if (s) drawPanel(s); });
  ctx.signal.addEventListener('abort', off);
}
