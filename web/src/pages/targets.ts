// Targets: what Tyto scrapes (/api/v1/targets), grouped by scrape pool and job, with each target's health,
// last scrape, duration, samples and error; discovered labels on demand; the targets that
// relabelling dropped. The filter and "unhealthy only" are in the URL. Rows are updated in place
// on each live tick, so scroll, focus and open details stay as they are.

import './targets.css';
import { getData, promString } from '../api';
import { h, notice, replace } from '../dom';
import { ago, seconds } from '../format';
import { href, type PageContext } from '../router';

interface Target {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  lastSamplesScraped?: number;
  health: 'up' | 'down' | 'unknown' | string;
  scrapeInterval: string;
  scrapeTimeout: string;
}

interface TargetsData {
  activeTargets: Target[];
  droppedTargets: { discoveredLabels: Record<string, string> }[];
  droppedTargetCounts?: Record<string, number>;
}

interface RowView {
  tr: HTMLTableRowElement;
  health: HTMLElement;
  last: HTMLElement;
  duration: HTMLElement;
  samples: HTMLElement;
  error: HTMLElement;
  labels: HTMLElement;
  discovered: HTMLDetailsElement;
  target: Target;
}

interface PoolView {
  section: HTMLElement;
  summary: HTMLElement;
  tbody: HTMLTableSectionElement;
  rows: Map<string, RowView>;
  order: string[];
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

export async function render(ctx: PageContext): Promise<void> {
  let filter = ctx.params.get('filter') ?? '';
  let unhealthy = ctx.params.get('unhealthy') === '1';
  let data: TargetsData | null = null;

  const search = h('input', { type: 'search', id: 'tg-filter', value: filter, placeholder: 'job, instance, URL, label or error', 'aria-label': 'Filter targets' });
  const onlyBad = h('input', { type: 'checkbox', id: 'tg-unhealthy', checked: unhealthy });
  const summary = h('div', { class: 'tg-summary', role: 'status', 'aria-live': 'polite' });
  const pools = h('div', { class: 'tg-pools' });
  const dropped = h('div', { class: 'tg-dropped' });
  const messages = h('div');
  replace(ctx.root,
    h('h1', null, 'Targets'),
    h('div', { class: 'toolbar' },
      search,
      h('label', { class: 'check' }, onlyBad, ' Unhealthy only'),
      summary),
    messages, h('div', { class: 'loading' }, 'Loading targets…'), pools, dropped);
  const loadingEl = ctx.root.querySelector('.loading');

  const poolViews = new Map<string, PoolView>();

  let timer = 0;
  search.addEventListener('input', () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => {
      filter = search.value.trim();
      ctx.setParams({ filter: filter || null });
      draw();
    }, 120);
  });
  onlyBad.addEventListener('change', () => {
    unhealthy = onlyBad.checked;
    ctx.setParams({ unhealthy: unhealthy ? '1' : null });
    draw();
  });

  const matches = (t: Target): boolean => {
    if (unhealthy && t.health === 'up') return false;
    if (!filter) return true;
    const hay = [t.scrapePool, t.scrapeUrl, t.lastError, t.health, ...Object.entries(t.labels).map(([k, v]) => `${k}="${v}"`)].join(' ').toLowerCase();
    return filter.toLowerCase().split(/\s+/).every((w) => hay.includes(w));
  };

  const draw = () => {
    if (!data) return;
    const now = Date.now();
    const all = data.activeTargets;
    const counts = { up: 0, down: 0, unknown: 0 };
    for (const t of all) counts[t.health === 'up' ? 'up' : t.health === 'down' ? 'down' : 'unknown']++;
    const summaryKey = `${all.length}/${counts.up}/${counts.down}/${counts.unknown}`;
    if (summary.dataset.key !== summaryKey) summary.replaceChildren(
      `${all.length} targets: `,
      h('span', { class: 'ok' }, `${counts.up} up`), ', ',
      h('span', { class: counts.down ? 'crit' : '' }, `${counts.down} down`), ', ',
      h('span', { class: 'muted' }, `${counts.unknown} unknown`));
    summary.dataset.key = summaryKey;

    // pools in name order; within a pool, unhealthy first, then by URL
    const byPool = new Map<string, Target[]>();
    for (const t of all) {
      const g = groupOf(t);
      const list = byPool.get(g) ?? [];
      list.push(t);
      byPool.set(g, list);
    }
    const names = [...byPool.keys()].sort();
    let shown = 0;
    for (const name of names) {
      const list = byPool.get(name)!.sort((a, b) => rankHealth(a) - rankHealth(b) || a.scrapeUrl.localeCompare(b.scrapeUrl));
      const visible = list.filter(matches);
      shown += visible.length;
      let pv = poolViews.get(name);
      if (!pv) {
        pv = poolView(name);
        poolViews.set(name, pv);
      }
      const up = list.filter((t) => t.health === 'up').length;
      pv.summary.textContent = `${up} of ${list.length} up`;
      pv.summary.className = `tg-pool-count ${up === list.length ? 'ok' : up === 0 ? 'crit' : 'warn'}`;
      pv.section.hidden = visible.length === 0;
      const keys = visible.map(keyOf);
      const live = new Set(keys);
      for (const [k, rv] of pv.rows) if (!live.has(k)) { rv.tr.remove(); pv.rows.delete(k); }
      for (const t of visible) {
        const k = keyOf(t);
        let rv = pv.rows.get(k);
        if (!rv) { rv = rowView(t); pv.rows.set(k, rv); }
        updateRow(rv, t, now);
      }
      // re-order only when the order changed (moving a focused row would drop its focus)
      if (keys.join('\n') !== pv.order.join('\n')) {
        for (const k of keys) pv.tbody.append(pv.rows.get(k)!.tr);
        pv.order = keys;
      }
    }
    // pools that disappeared
    for (const [name, pv] of poolViews) if (!byPool.has(name)) { pv.section.remove(); poolViews.delete(name); }
    // keep sections in name order
    const wanted = names.map((n) => poolViews.get(n)!.section);
    if (wanted.some((s, i) => pools.children[i] !== s)) pools.replaceChildren(...wanted);

    messages.replaceChildren();
    if (!all.length) {
      messages.append(notice('empty', 'No scrape targets. Add scrape_configs (or inference_servers, collectors) to tyto.yml and reload; discovered targets appear here.'));
    } else if (!shown) {
      messages.append(notice('empty', unhealthy && !filter ? 'All targets are healthy.' : 'No target matches the filter.'));
    }
    drawDropped();
  };

  let droppedKey = '';
  const drawDropped = () => {
    const list = data?.droppedTargets ?? [];
    const key = JSON.stringify(data?.droppedTargetCounts ?? {}) + list.length;
    if (key === droppedKey) return;
    droppedKey = key;
    const counts = Object.entries(data?.droppedTargetCounts ?? {}).filter(([, n]) => n > 0);
    const body = h('div', { class: 'tg-dropped-body' });
    const details = h('details', { class: 'tg-dropped-details' },
      h('summary', null, `Dropped targets (${list.length})`,
        counts.length ? h('span', { class: 'muted' }, ` · ${counts.map(([p, n]) => `${p}: ${n}`).join(', ')}`) : ''),
      body);
    // rendered when opened: the list can be long
    details.addEventListener('toggle', () => {
      if (!details.open || body.childElementCount) return;
      if (!list.length) { body.append(notice('empty', 'Relabelling dropped no targets.')); return; }
      body.append(h('table', { class: 'data' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Discovered labels (before relabelling)'))),
        h('tbody', null, list.slice(0, 1000).map((d) => h('tr', null, h('td', null, labelChips(d.discoveredLabels)))))));
      if (list.length > 1000) body.append(notice('info', `${list.length} dropped targets; the first 1000 are listed.`));
    });
    dropped.replaceChildren(details);
  };

  const load = async (first: boolean) => {
    try {
      data = await getData<TargetsData>('/api/v1/targets', undefined, ctx.signal);
      loadingEl?.remove();
      draw();
    } catch (e) {
      if (ctx.signal.aborted) return;
      loadingEl?.remove();
      messages.replaceChildren(notice('error', `Could not load the targets: ${(e as Error).message}`));
      if (first) pools.replaceChildren();
    }
  };

  function poolView(name: string): PoolView {
    const count = h('span', { class: 'tg-pool-count' });
    const tbody = h('tbody');
    const id = `tg-pool-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    const section = h('section', { class: 'tg-pool', 'aria-labelledby': id },
      h('h2', { id }, name, ' ', count),
      h('div', { class: 'tg-table-wrap' },
        h('table', { class: 'data tg-table' },
          h('thead', null, h('tr', null,
            ['Endpoint', 'State', 'Labels', 'Last scrape', 'Duration', 'Samples', 'Error'].map((c) => h('th', { scope: 'col', class: ['Duration', 'Samples'].includes(c) ? 'num' : '' }, c)))),
          tbody)));
    return { section, summary: count, tbody, rows: new Map(), order: [] };
  }

  function rowView(t: Target): RowView {
    const health = h('span');
    const last = h('td');
    const duration = h('td', { class: 'num' });
    const samples = h('td', { class: 'num' });
    const error = h('td', { class: 'tg-error' });
    const labels = h('div', { class: 'chips' });
    const discoveredBody = h('div');
    const discovered = h('details', { class: 'tg-discovered' }, h('summary', null, 'Discovered labels'), discoveredBody);
    discovered.addEventListener('toggle', () => {
      if (discovered.open) discoveredBody.replaceChildren(labelChips(rv.target.discoveredLabels));
    });
    const tr = h('tr', null,
      h('td', { class: 'tg-endpoint' }, h('a', { href: t.scrapeUrl, target: '_blank', rel: 'noopener noreferrer' }, t.scrapeUrl)),
      h('td', null, health, h('div', null, h('a', { class: 'tg-history', href: href('explore', { q: upQuery(t) }), 'data-link': true, title: 'Graph this target\'s up series in Explore' }, 'history'))),
      h('td', null, labels, discovered),
      last, duration, samples, error);
    const rv: RowView = { tr, health, last, duration, samples, error, labels, discovered, target: t };
    return rv;
  }

  function updateRow(rv: RowView, t: Target, now: number): void {
    const prev = rv.target;
    rv.target = t;
    const state = t.health === 'up' ? 'up' : t.health === 'down' ? 'down' : 'unknown';
    const cls = `tg-health tg-${state}`;
    if (rv.health.className !== cls) {
      rv.health.className = cls;
      rv.health.textContent = state === 'up' ? '● up' : state === 'down' ? '▲ down' : '○ unknown';
    }
    const lastMs = t.lastScrape && t.lastScrape !== ZERO_TIME ? Date.parse(t.lastScrape) : NaN;
    setText(rv.last, Number.isFinite(lastMs) ? ago(lastMs, now) : 'never');
    rv.last.title = Number.isFinite(lastMs) ? new Date(lastMs).toLocaleString() + ` · every ${t.scrapeInterval}, timeout ${t.scrapeTimeout}` : `every ${t.scrapeInterval}`;
    setText(rv.duration, Number.isFinite(lastMs) ? seconds(t.lastScrapeDuration) : '–');
    setText(rv.samples, t.lastSamplesScraped === undefined ? '–' : t.lastSamplesScraped.toLocaleString());
    setText(rv.error, t.lastError);
    if (rv.labels.childElementCount === 0 || (prev !== t && JSON.stringify(prev.labels) !== JSON.stringify(t.labels))) {
      rv.labels.replaceChildren(...chipList(t.labels));
    }
    if (rv.discovered.open && JSON.stringify(prev.discoveredLabels) !== JSON.stringify(t.discoveredLabels)) {
      rv.discovered.lastElementChild!.replaceChildren(labelChips(t.discoveredLabels));
    }
  }

  await load(true);
  ctx.onTick(() => { void load(false); });
}

// Targets are grouped by scrape pool, and by job within a pool that scrapes several jobs.
function groupOf(t: Target): string {
  const job = t.labels.job ?? '';
  return !job || job === t.scrapePool ? t.scrapePool : `${t.scrapePool} › ${job}`;
}

function keyOf(t: Target): string {
  return `${t.scrapePool}\n${t.scrapeUrl}\n${JSON.stringify(t.labels)}`;
}

// up{job="...", instance="..."}: the series the scrape writes for this target.
function upQuery(t: Target): string {
  const m = ['job', 'instance'].filter((k) => t.labels[k] !== undefined).map((k) => `${k}=${promString(t.labels[k])}`);
  return `up{${m.join(', ')}}`;
}

function rankHealth(t: Target): number {
  return t.health === 'down' ? 0 : t.health === 'up' ? 2 : 1;
}

function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

function chipList(labels: Record<string, string>): HTMLElement[] {
  return Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => h('span', { class: 'chip' }, `${k}="${v}"`));
}

function labelChips(labels: Record<string, string>): HTMLElement {
  return h('div', { class: 'chips' }, chipList(labels));
}
