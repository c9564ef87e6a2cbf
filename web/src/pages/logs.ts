// Logs (/ui/logs): search by text, severity, service, trace id and model over the time range (all
// in the URL), a volume histogram by severity, and the records with their attributes; "Live tail"
// (?live=1) keeps adding new records as the server stores them (server-sent events, or the long
// poll where the server does not stream), at most MAX_ROWS kept, pausable, following the newest
// only while scrolled to the bottom.

import '../ops/ops.css';
import { getData, getJson, type Params } from '../api';
import { h, notice, replace } from '../dom';
import { formatTime } from '../format';
import { href, type PageContext } from '../router';
import { resolveRange } from '../timerange';
import { isAbort, nanosToMs } from '../ops/common';
import { LogTail, type LogRecord, type TailMode } from '../ops/logtail';
import { Bars, type Bar } from '../ops/plot';

const MAX_ROWS = 2000;
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

function severityName(r: LogRecord): string {
  const n = r.severityNumber;
  if (n >= 21) return 'fatal';
  if (n >= 17) return 'error';
  if (n >= 13) return 'warn';
  if (n >= 9) return 'info';
  if (n >= 5) return 'debug';
  if (n >= 1) return 'trace';
  const t = (r.severityText || '').toLowerCase();
  if (t.startsWith('err')) return 'error';
  if (t.startsWith('warn')) return 'warn';
  return LEVELS.includes(t) ? t : 'unset';
}

function timeText(ms: number, withDate: boolean): string {
  const frac = String(Math.floor(ms % 1000)).padStart(3, '0');
  return `${formatTime(ms, withDate)}.${frac}`;
}

function kv(obj: Record<string, string>): HTMLElement {
  const keys = Object.keys(obj).sort();
  if (!keys.length) return h('span', { class: 'muted' }, 'none');
  return h('dl', { class: 'ops-kv' }, keys.flatMap((k) => [h('dt', null, k), h('dd', null, obj[k])]));
}

// A record's row; its details (attributes, resource) open in a row below it.
function logRow(r: LogRecord, withDate: boolean): HTMLTableRowElement {
  const sev = severityName(r);
  const ms = nanosToMs(r.timeUnixNano);
  const expand = h('button', { type: 'button', class: 'ops-log-expand', 'aria-expanded': 'false', 'aria-label': 'Show attributes' }, '▸');
  const row = h('tr', { class: `ops-log-row sev-${sev}` },
    h('td', null, expand),
    h('td', { class: 'ops-log-time', title: new Date(ms).toISOString() }, timeText(ms, withDate)),
    h('td', { class: `ops-log-sev sev-text-${sev}` }, r.severityText || sev.toUpperCase()),
    h('td', { class: 'ops-log-svc' }, r.service),
    h('td', { class: 'ops-log-body' }, r.body),
    h('td', null, r.traceId ? h('a', { href: href(`traces/${r.traceId}`, { span: r.spanId }), 'data-link': true, class: 'ops-id', title: `Trace ${r.traceId}` }, r.traceId.slice(0, 8)) : null));
  let detail: HTMLTableRowElement | null = null;
  const toggle = () => {
    if (detail) {
      detail.remove();
      detail = null;
      expand.textContent = '▸';
      expand.setAttribute('aria-expanded', 'false');
      return;
    }
    detail = h('tr', { class: 'ops-log-detail' }, h('td'), h('td', { colspan: '5' },
      h('div', { class: 'ops-incident-grid' },
        h('div', null, h('strong', null, 'Attributes'), kv(r.attributes)),
        h('div', null, h('strong', null, 'Resource'), kv(r.resource),
          r.traceId ? h('p', null, h('a', { href: href(`traces/${r.traceId}`, { span: r.spanId }), 'data-link': true }, 'Open the trace'),
            ' · ', h('a', { href: href('logs', { trace_id: r.traceId }), 'data-link': true }, 'All logs of this trace')) : null,
          h('p', { class: 'muted ops-small' }, `cursor ${r.cursor} · ${new Date(ms).toISOString()}`)))));
    row.after(detail);
    expand.textContent = '▾';
    expand.setAttribute('aria-expanded', 'true');
  };
  (row as HTMLTableRowElement & { detailRow?: () => HTMLTableRowElement | null }).detailRow = () => detail;
  expand.addEventListener('click', (e) => { e.stopPropagation(); toggle(); });
  row.addEventListener('click', (e) => {
    if ((e.target as Element).closest('a, button') || window.getSelection()?.toString()) return;
    toggle();
  });
  return row;
}

function removeRow(row: HTMLTableRowElement): void {
  (row as HTMLTableRowElement & { detailRow?: () => HTMLTableRowElement | null }).detailRow?.()?.remove();
  row.remove();
}

const SEV_STACKS: { name: string; color: string; match: string[] }[] = [
  { name: 'error', color: '--crit', match: ['error', 'fatal'] },
  { name: 'warn', color: '--warn', match: ['warn'] },
  { name: 'info', color: '--info', match: ['info'] },
  { name: 'other', color: '--fg-muted', match: ['debug', 'trace', 'unset'] },
];

// Counts per time bucket and severity, ~60 buckets over [start, end].
function histogram(recs: LogRecord[], start: number, end: number): Bar[] {
  const n = 60;
  const width = Math.max(1, (end - start) / n);
  const bars: Bar[] = Array.from({ length: n }, (_, i) => ({
    start: start + i * width, end: start + (i + 1) * width, stacks: SEV_STACKS.map((s) => ({ name: s.name, color: s.color, value: 0 })),
  }));
  for (const r of recs) {
    const t = nanosToMs(r.timeUnixNano);
    const i = Math.floor((t - start) / width);
    if (i < 0 || i >= n) continue;
    const sev = severityName(r);
    const k = SEV_STACKS.findIndex((s) => s.match.includes(sev));
    bars[i].stacks[k < 0 ? 3 : k].value++;
  }
  return bars;
}

export async function render(ctx: PageContext): Promise<void> {
  const p = ctx.params;
  const text = h('input', { type: 'search', name: 'q', value: p.get('q') ?? '', placeholder: 'words, "a phrase", prefix*, a OR b, -not', 'aria-label': 'Text in the log body' });
  const level = h('select', { name: 'level', 'aria-label': 'Minimum severity' },
    h('option', { value: '' }, 'any'), LEVELS.map((l) => h('option', { value: l, selected: p.get('level') === l }, `${l} and above`)));
  const service = h('input', { type: 'text', name: 'service', value: p.get('service') ?? '', placeholder: 'any', 'aria-label': 'Service', list: 'ops-log-services' });
  const traceId = h('input', { type: 'text', name: 'trace_id', value: p.get('trace_id') ?? '', placeholder: '32 hex digits', 'aria-label': 'Trace id', class: 'ops-id' });
  const model = h('input', { type: 'text', name: 'model', value: p.get('model') ?? '', placeholder: 'any', 'aria-label': 'Model (gen_ai.request.model)' });
  const limit = h('select', { name: 'limit', 'aria-label': 'Most records' },
    ['100', '500', '1000', '2000'].map((n) => h('option', { value: n, selected: (p.get('limit') ?? '500') === n }, n)));
  const liveBox = h('input', { type: 'checkbox', checked: p.get('live') === '1' });
  const servicesList = h('datalist', { id: 'ops-log-services' });
  const form = h('form', { class: 'ops-search', role: 'search', 'aria-label': 'Search logs' },
    h('label', { class: 'ops-grow' }, 'Text', text), h('label', null, 'Severity', level), h('label', null, 'Service', service),
    h('label', null, 'Trace id', traceId), h('label', null, 'Model', model), h('label', null, 'Limit', limit),
    h('button', { type: 'submit', class: 'primary' }, 'Search'),
    h('label', { class: 'ops-check' }, liveBox, 'Live tail'), servicesList);
  const histNote = h('span');
  const overview = h('div', { class: 'ops-overview' },
    h('div', { class: 'ops-overview-title' }, 'Records over time by severity · click a bar to zoom in · ',
      SEV_STACKS.map((s) => h('span', null, h('span', { class: 'ops-legend-dot', style: { background: `var(${s.color})` } }), s.name)), histNote));
  const statusEl = h('div', { class: 'ops-logs-status' });
  const tbody = h('tbody');
  const table = h('table', { class: 'ops-log-table' },
    h('thead', null, h('tr', null, h('th', null, h('span', { class: 'skip' }, 'Details')), ['Time', 'Severity', 'Service', 'Body', 'Trace'].map((t) => h('th', { scope: 'col' }, t)))),
    tbody);
  const scroller = h('div', { class: 'ops-log-scroll', tabindex: '0', 'aria-label': 'Log records' }, table);
  const messages = h('div');
  replace(ctx.root, h('h1', null, 'Logs'), form, overview, statusEl, messages, scroller);
  const bars = new Bars(overview, 110, 'Log volume over time by severity', (b) => {
    ctx.setRange({ from: String(Math.floor(b.start)), to: String(Math.ceil(b.end)) });
  });
  ctx.signal.addEventListener('abort', () => bars.destroy());

  getJson<{ data: string[] | null }>('/api/services', undefined, ctx.signal)
    .then((r) => replace(servicesList, (r.data ?? []).map((s) => h('option', { value: s })))).catch(() => { /* suggestions only */ });

  const filters = (): Params => ({
    query: text.value.trim(), level: level.value, service: service.value.trim(), trace_id: traceId.value.trim(),
    attr: model.value.trim() ? [`gen_ai.request.model=${model.value.trim()}`] : undefined,
  });

  // The records shown, oldest first in live mode (the newest at the bottom), newest first otherwise.
  let records: LogRecord[] = [];
  let rows: HTMLTableRowElement[] = [];
  let tail: LogTail | null = null;
  let paused = false;
  let pending: LogRecord[] = [];
  let frame = 0;
  let newBelow = 0;
  let searchSeq = 0;
  const withDate = () => { const { start, end } = resolveRange(ctx.range); return end - start > 20 * 3600e3; };

  const modeEl = h('span', { class: 'ops-mode' });
  const countEl = h('span', { class: 'muted' });
  const pauseBtn = h('button', { type: 'button' }, 'Pause');
  const jumpBtn = h('button', { type: 'button', hidden: true }, 'Jump to newest');

  let lastHistogram = 0;
  // Whether the records held are not all of the range's (the limit, or the tail's bound): the
  // histogram then covers the span of those held, and says so.
  let clipped = false;
  const drawHistogram = () => {
    lastHistogram = Date.now();
    const r = resolveRange(ctx.range);
    let start = r.start;
    const end = ctx.range.to === 'now' ? Math.max(r.end, Date.now()) : r.end;
    if (clipped && records.length) {
      let oldest = Infinity;
      for (const x of records) oldest = Math.min(oldest, nanosToMs(x.timeUnixNano));
      start = Math.max(start, Math.min(oldest, end - 1000));
    }
    bars.setData(histogram(records, start, end), start, end);
    histNote.textContent = clipped ? `· covers ${formatTime(start)}–${formatTime(end)}, the span of the ${records.length} records held` : '';
  };
  const setCount = () => {
    countEl.textContent = `${records.length} record${records.length === 1 ? '' : 's'}${tail ? ` (at most ${MAX_ROWS} kept)` : ''}`;
  };
  const setMode = (m: TailMode | 'search', detail: string) => {
    const text: Record<string, string> = { search: 'Search', connecting: 'Connecting…', stream: 'Live: streaming', poll: 'Live: long polling', retrying: 'Live: reconnecting', stopped: paused ? 'Paused' : 'Stopped' };
    modeEl.hidden = m === 'search';
    modeEl.textContent = text[m];
    modeEl.className = `ops-mode ${m === 'stream' ? 'ops-mode-live' : m === 'poll' ? 'ops-mode-poll' : ''}`;
    modeEl.title = detail;
    modeEl.setAttribute('aria-label', `${text[m]}. ${detail}`);
  };

  const atBottom = () => scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 8;
  const flush = () => {
    frame = 0;
    if (!pending.length) return;
    const follow = atBottom();
    const wd = withDate();
    const batch = pending.slice(-MAX_ROWS);
    pending = [];
    const frag = document.createDocumentFragment();
    for (const r of batch) {
      const row = logRow(r, wd);
      rows.push(row);
      frag.append(row);
    }
    tbody.append(frag);
    records.push(...batch);
    if (records.length > MAX_ROWS) {
      const drop = records.length - MAX_ROWS;
      for (const row of rows.slice(0, drop)) removeRow(row);
      rows = rows.slice(drop);
      records = records.slice(drop);
      clipped = true;
    }
    if (follow) {
      scroller.scrollTop = scroller.scrollHeight;
    } else {
      newBelow += batch.length;
      jumpBtn.hidden = false;
      jumpBtn.textContent = `${newBelow} new · jump to newest`;
    }
    setCount();
    if (Date.now() - lastHistogram > 2000) drawHistogram();
  };
  scroller.addEventListener('scroll', () => {
    if (newBelow && atBottom()) { newBelow = 0; jumpBtn.hidden = true; }
  });
  jumpBtn.addEventListener('click', () => { scroller.scrollTop = scroller.scrollHeight; newBelow = 0; jumpBtn.hidden = true; });

  const startTail = () => {
    tail?.stop();
    const cursor = records.reduce<number | null>((m, r) => (m === null || r.cursor > m ? r.cursor : m), null);
    tail = new LogTail(active, cursor, {
      records: (recs) => {
        pending.push(...recs);
        if (pending.length > MAX_ROWS) pending = pending.slice(-MAX_ROWS);
        if (!frame) frame = requestAnimationFrame(flush);
      },
      mode: setMode,
    });
    tail.start();
  };
  const stopTail = () => {
    const t = tail;
    tail = null;
    t?.stop();
  };
  ctx.signal.addEventListener('abort', () => { stopTail(); if (frame) cancelAnimationFrame(frame); });
  pauseBtn.addEventListener('click', () => {
    paused = !paused;
    pauseBtn.textContent = paused ? 'Resume' : 'Pause';
    pauseBtn.setAttribute('aria-pressed', String(paused));
    if (paused) {
      tail?.stop();
    } else {
      startTail();
    }
  });

  // The filters of the last search (resuming the tail must not pick up a half-typed field).
  let active: Params = filters();
  const search = async () => {
    const seq = ++searchSeq;
    active = filters();
    stopTail();
    paused = false;
    pauseBtn.textContent = 'Pause';
    const live = liveBox.checked;
    const { start, end } = resolveRange(ctx.range);
    replace(messages, h('p', { class: 'loading' }, 'Searching…'));
    replace(statusEl, modeEl, countEl, live ? pauseBtn : null, live ? jumpBtn : null);
    setMode('search', 'Records stored in the time range');
    try {
      const list = await getData<LogRecord[]>('/api/v1/logs', { ...active, start: (start / 1000).toFixed(3), end: (end / 1000).toFixed(3), limit: live ? Math.min(500, Number(limit.value)) : Number(limit.value) }, ctx.signal);
      if (seq !== searchSeq) return;
      const newestFirst = [...list].sort((a, b) => nanosToMs(b.timeUnixNano) - nanosToMs(a.timeUnixNano));
      records = live ? newestFirst.reverse() : newestFirst;
      const wd = withDate();
      rows = records.map((r) => logRow(r, wd));
      tbody.replaceChildren(...rows);
      newBelow = 0;
      jumpBtn.hidden = true;
      const asked = live ? Math.min(500, Number(limit.value)) : Number(limit.value);
      clipped = list.length >= asked;
      const limited = !live && clipped;
      replace(messages, list.length
        ? limited ? h('p', { class: 'muted ops-small' }, `Showing the newest ${list.length} records (the limit). Narrow the search or the time range, or raise the limit, to see older ones.`) : null
        : notice('empty', live
          ? 'No records in the time range yet; new ones appear below as they arrive.'
          : 'No records match. Widen the time range or clear a filter; logs arrive over OTLP (/v1/logs).'));
      setCount();
      drawHistogram();
      if (live) {
        scroller.scrollTop = scroller.scrollHeight;
        startTail();
      }
    } catch (e) {
      if (isAbort(e) || seq !== searchSeq) return;
      replace(messages, notice('error', `Search failed: ${(e as Error).message}`));
      tbody.replaceChildren();
      records = [];
      clipped = false;
      rows = [];
      setCount();
      drawHistogram();
    }
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = filters();
    ctx.setParams({
      q: f.query as string, level: level.value, service: f.service as string, trace_id: f.trace_id as string, model: model.value.trim(),
      limit: limit.value === '500' ? null : limit.value, live: liveBox.checked ? '1' : null,
    }, { push: true });
    void search();
  });
  liveBox.addEventListener('change', () => {
    ctx.setParams({ live: liveBox.checked ? '1' : null }, { push: true });
    void search();
  });
  ctx.onTick(() => { if (tail) drawHistogram(); });
  await search();
}
