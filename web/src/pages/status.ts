// Status: how this Tyto runs. Build and runtime information, command-line flags, the running
// configuration (secrets already hidden by the server), storage (TSDB) statistics and the health
// of the rule groups. The selected tab is in the URL (tab=); the live tabs refresh on each tick.

import './status.css';
import { authHeaders, getData } from '../api';
import { h, notice, replace } from '../dom';
import { ago, bytes, durationText, formatTime, seconds } from '../format';
import { href, type PageContext } from '../router';

type TabId = 'runtime' | 'flags' | 'config' | 'tsdb' | 'rules';
const TABS: { id: TabId; label: string; live: boolean }[] = [
  { id: 'runtime', label: 'Runtime & build', live: true },
  { id: 'flags', label: 'Flags', live: false },
  { id: 'config', label: 'Configuration', live: false },
  { id: 'tsdb', label: 'Storage (TSDB)', live: true },
  { id: 'rules', label: 'Rule groups', live: true },
];

interface BuildInfo { version: string; revision: string; branch: string; buildUser: string; buildDate: string; goVersion: string }
interface RuntimeInfo {
  startTime: string; CWD: string; hostname?: string; serverTime?: string; reloadConfigSuccess: boolean; lastConfigTime: string;
  corruptionCount: number; goroutineCount: number; GOMAXPROCS: number; GOMEMLIMIT: number; GOGC: string; GODEBUG: string; storageRetention: string;
}
interface Stat { name: string; value: number }
interface TsdbStatus {
  headStats: { numSeries: number; numLabelPairs: number; chunkCount: number; minTime: number; maxTime: number };
  seriesCountByMetricName: Stat[]; labelValueCountByLabelName: Stat[]; memoryInBytesByLabelName: Stat[]; seriesCountByLabelValuePair: Stat[];
}
interface Rule { name: string; health: string; lastError?: string; type: string; state?: string; lastEvaluation?: string; evaluationTime?: number; query: string }
interface RuleGroup { name: string; file: string; interval: number; rules: Rule[]; evaluationTime: number; lastEvaluation: string; limit?: number }

const ZERO_TIME = '0001-01-01T00:00:00Z';

export function render(ctx: PageContext): void {
  let tab: TabId = (TABS.find((t) => t.id === ctx.params.get('tab'))?.id) ?? 'runtime';
  const buttons = TABS.map((t) => h('button', {
    type: 'button', role: 'tab', id: `st-tab-${t.id}`, 'aria-controls': 'st-panel', onclick: () => select(t.id, true),
  }, t.label));
  const tabList = h('div', { role: 'tablist', 'aria-label': 'Status sections', class: 'st-tabs' }, buttons);
  tabList.addEventListener('keydown', (e) => {
    const i = TABS.findIndex((t) => t.id === tab);
    let j = -1;
    if (e.key === 'ArrowRight') j = (i + 1) % TABS.length;
    else if (e.key === 'ArrowLeft') j = (i - 1 + TABS.length) % TABS.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = TABS.length - 1;
    if (j < 0) return;
    e.preventDefault();
    select(TABS[j].id, true);
    buttons[j].focus();
  });
  const panel = h('div', { id: 'st-panel', role: 'tabpanel', class: 'st-panel', tabindex: '0' });
  replace(ctx.root, h('h1', null, 'Status'), tabList, panel);

  let seq = 0;
  let lastKey = '';
  // Loads the tab's data; redraws only when it changed, so a tick does not disturb scroll or selection.
  const load = async (initial: boolean) => {
    const my = ++seq;
    const t = tab;
    if (initial) panel.replaceChildren(h('div', { class: 'loading' }, 'Loading…'));
    try {
      const view = await LOADERS[t](ctx.signal);
      if (my !== seq || ctx.signal.aborted) return;
      if (!initial && view.key === lastKey) return;
      lastKey = view.key;
      panel.replaceChildren(...view.nodes().filter((n): n is Node => n !== null));
    } catch (e) {
      if (my !== seq || ctx.signal.aborted) return;
      lastKey = '';
      panel.replaceChildren(notice('error', `Could not load ${TABS.find((x) => x.id === t)!.label.toLowerCase()}: ${(e as Error).message}`));
    }
  };

  function select(t: TabId, user: boolean): void {
    tab = t;
    buttons.forEach((b, i) => {
      const on = TABS[i].id === t;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    });
    panel.setAttribute('aria-labelledby', `st-tab-${t}`);
    if (user) ctx.setParams({ tab: t === 'runtime' ? null : t }, { push: true });
    void load(true);
  }

  select(tab, false);
  ctx.onTick(() => {
    if (TABS.find((t) => t.id === tab)!.live) void load(false);
  });
}

interface View { key: string; nodes: () => (Node | null)[] }

const LOADERS: Record<TabId, (signal: AbortSignal) => Promise<View>> = {
  async runtime(signal) {
    const [b, r] = await Promise.all([
      getData<BuildInfo>('/api/v1/status/buildinfo', undefined, signal),
      getData<RuntimeInfo>('/api/v1/status/runtimeinfo', undefined, signal),
    ]);
    // WAL settings come from the running configuration; a failure there leaves them out
    const cfg = await getData<{ yaml: string }>('/api/v1/status/config', undefined, signal).catch(() => null);
    const storage = cfg ? yamlSection(cfg.yaml, 'storage') : {};
    const start = Date.parse(r.startTime);
    const cfgTime = Date.parse(r.lastConfigTime);
    const key = JSON.stringify([b, { ...r, serverTime: '' }, Math.floor(Date.now() / 60000)]);
    return {
      key,
      nodes: () => [
        h('div', { class: 'st-cards' },
          card('Version', b.version, b.revision ? `revision ${b.revision}` : ''),
          card('Up since', Number.isFinite(start) ? ago(start).replace(' ago', '') : '–', Number.isFinite(start) ? new Date(start).toLocaleString() : ''),
          card('Configuration', r.reloadConfigSuccess ? 'loaded' : 'reload failed',
            Number.isFinite(cfgTime) ? `last ${r.reloadConfigSuccess ? 'loaded' : 'attempt'} ${ago(cfgTime)}` : '', r.reloadConfigSuccess ? 'ok' : 'crit'),
          card('Retention', r.storageRetention || '–', storage.retention_5m ? `5m roll-up ${storage.retention_5m}, 1h roll-up ${storage.retention_1h ?? '–'}` : ''),
          card('Corrupt blocks', String(r.corruptionCount), 'found at start-up', r.corruptionCount ? 'crit' : 'ok')),
        h('div', { class: 'st-columns' },
          section('Build', kvTable([
            ['Version', b.version], ['Revision', b.revision], ['Branch', b.branch], ['Built by', b.buildUser],
            ['Build date', b.buildDate], ['Compiler', b.goVersion],
          ])),
          section('Runtime', kvTable([
            ['Start time', Number.isFinite(start) ? `${new Date(start).toLocaleString()} (${ago(start)})` : r.startTime],
            ['Host', r.hostname ?? ''],
            ['Working directory', r.CWD],
            ['Configuration reload', r.reloadConfigSuccess ? 'successful' : 'failed (the previous configuration stays in force)'],
            ['Last configuration time', Number.isFinite(cfgTime) ? `${new Date(cfgTime).toLocaleString()} (${ago(cfgTime)})` : r.lastConfigTime],
            ['Storage retention', r.storageRetention],
            ['Data directory', storage.data_dir ?? ''],
            ['WAL fsync', storage.wal_fsync ? `${storage.wal_fsync}${storage.wal_fsync === 'interval' && storage.wal_fsync_interval ? ` (every ${storage.wal_fsync_interval})` : ''}` : ''],
            ['Out-of-order window', storage.out_of_order_window ?? ''],
            ['Corrupt blocks at start-up', String(r.corruptionCount)],
            ['Threads and tasks (goroutineCount)', String(r.goroutineCount)],
            ['Worker threads (GOMAXPROCS)', String(r.GOMAXPROCS)],
            ['Memory limit (GOMEMLIMIT)', r.GOMEMLIMIT >= 9e18 ? 'none' : bytes(r.GOMEMLIMIT)],
          ]))),
      ],
    };
  },

  async flags(signal) {
    const f = await getData<Record<string, string>>('/api/v1/status/flags', undefined, signal);
    const rows = Object.entries(f).sort(([a], [b]) => a.localeCompare(b));
    return {
      key: JSON.stringify(rows),
      nodes: () => [
        h('p', { class: 'muted' }, 'The command line Tyto was started with (tyto serve); an empty value is the default.'),
        rows.length ? h('table', { class: 'data st-kv' },
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Flag'), h('th', { scope: 'col' }, 'Value'))),
          h('tbody', null, rows.map(([k, v]) => h('tr', null, h('td', { class: 'mono' }, `--${k}`), h('td', { class: 'mono' }, v === '' ? h('span', { class: 'muted' }, '(default)') : v)))))
          : notice('empty', 'No flags reported.'),
      ],
    };
  },

  async config(signal) {
    const c = await getData<{ yaml: string }>('/api/v1/status/config', undefined, signal);
    return {
      key: c.yaml,
      nodes: () => {
        const copy = h('button', { type: 'button', onclick: async () => {
          try {
            await navigator.clipboard.writeText(c.yaml);
            copy.textContent = 'Copied';
          } catch {
            copy.textContent = 'Copy failed: select the text instead';
          }
        } }, 'Copy');
        return [
          h('div', { class: 'toolbar' }, h('span', { class: 'muted' }, 'The configuration in force, with defaults filled in and secrets hidden.'), copy),
          c.yaml.trim() ? h('pre', { class: 'st-yaml', tabindex: '0', 'aria-label': 'Running configuration (YAML)' }, c.yaml) : notice('empty', 'The server reported an empty configuration.'),
        ];
      },
    };
  },

  async tsdb(signal) {
    const [s, own] = await Promise.all([
      getData<TsdbStatus>('/api/v1/status/tsdb', undefined, signal),
      ownMetrics(signal),
    ]);
    const hs = s.headStats;
    const key = JSON.stringify([s, own]);
    return {
      key,
      nodes: () => [
        h('div', { class: 'st-cards' },
          card('Head series', hs.numSeries.toLocaleString(), 'in memory now'),
          card('Label pairs', hs.numLabelPairs.toLocaleString(), 'distinct name=value'),
          card('Head chunks', hs.chunkCount.toLocaleString(), ''),
          card('Head time range', hs.maxTime > hs.minTime ? seconds((hs.maxTime - hs.minTime) / 1000) : '–',
            hs.maxTime > hs.minTime ? `${formatTime(hs.minTime)} – ${formatTime(hs.maxTime)}` : 'no samples yet'),
          own.tyto_tsdb_blocks !== undefined ? card('Blocks on disk', own.tyto_tsdb_blocks.toLocaleString(), own.tyto_tsdb_blocks_bytes !== undefined ? bytes(own.tyto_tsdb_blocks_bytes) : '') : null,
          own.tyto_tsdb_head_samples_appended_total !== undefined ? card('Samples appended', own.tyto_tsdb_head_samples_appended_total.toLocaleString(), 'since start') : null),
        h('div', { class: 'st-grid' },
          statTable('Top metrics by series count', 'Metric', s.seriesCountByMetricName, 'Series', (n) => h('a', { href: href('explore', { q: n }), 'data-link': true, class: 'mono', title: 'Open in Explore' }, breakable(n))),
          statTable('Label names by number of values (cardinality)', 'Label', s.labelValueCountByLabelName, 'Values'),
          statTable('Label names by memory used', 'Label', s.memoryInBytesByLabelName, 'Memory', undefined, (v) => bytes(v)),
          statTable('Label pairs by series count', 'Pair', s.seriesCountByLabelValuePair, 'Series')),
      ],
    };
  },

  async rules(signal) {
    const d = await getData<{ groups: RuleGroup[] }>('/api/v1/rules', undefined, signal);
    const groups = d.groups;
    const key = JSON.stringify(groups.map((g) => [g.name, g.lastEvaluation, g.rules.map((r) => [r.health, r.lastError, r.state])]));
    const totals = { ok: 0, err: 0, unknown: 0 };
    for (const g of groups) for (const r of g.rules) totals[r.health === 'ok' ? 'ok' : r.health === 'err' ? 'err' : 'unknown']++;
    return {
      key,
      nodes: () => {
        if (!groups.length) return [notice('empty', 'No rule groups loaded. Add rule_files to tyto.yml (or enable the stock rules) and reload.')];
        const failing = groups.flatMap((g) => g.rules.filter((r) => r.health === 'err').map((r) => ({ g, r })));
        return [
          h('div', { class: 'st-cards' },
            card('Groups', String(groups.length), `${groups.reduce((a, g) => a + g.rules.length, 0)} rules`),
            card('Healthy rules', String(totals.ok), 'last evaluation succeeded', 'ok'),
            card('Failing rules', String(totals.err), totals.err ? 'see below' : 'none', totals.err ? 'crit' : 'ok'),
            card('Not yet evaluated', String(totals.unknown), '')),
          failing.length ? section('Failing rules', h('table', { class: 'data' },
            h('thead', null, h('tr', null, ['Group', 'Rule', 'Error'].map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', null, failing.map(({ g, r }) => h('tr', null, h('td', null, g.name), h('td', { class: 'mono' }, r.name), h('td', { class: 'crit' }, r.lastError ?? '')))))) : null,
          section('Rule groups', h('div', { class: 'st-table-wrap' }, h('table', { class: 'data' },
            h('thead', null, h('tr', null,
              ['Group', 'File', 'Interval', 'Rules', 'Health', 'Last evaluation', 'Took'].map((c) => h('th', { scope: 'col', class: c === 'Took' || c === 'Rules' ? 'num' : '' }, c)))),
            h('tbody', null, groups.map((g) => {
              const err = g.rules.filter((r) => r.health === 'err').length;
              const unk = g.rules.filter((r) => r.health !== 'ok' && r.health !== 'err').length;
              const last = g.lastEvaluation && g.lastEvaluation !== ZERO_TIME ? Date.parse(g.lastEvaluation) : NaN;
              return h('tr', null,
                h('td', null, g.name),
                h('td', { class: 'mono' }, g.file),
                h('td', null, durationText(g.interval)),
                h('td', { class: 'num' }, String(g.rules.length)),
                h('td', null, err ? h('span', { class: 'st-health st-err' }, `▲ ${err} failing`) : unk === g.rules.length ? h('span', { class: 'st-health st-unknown' }, '○ not evaluated') : h('span', { class: 'st-health st-ok' }, '● ok'),
                  unk && unk < g.rules.length ? h('span', { class: 'muted' }, ` (${unk} not evaluated)`) : null),
                h('td', { title: Number.isFinite(last) ? new Date(last).toLocaleString() : '' }, Number.isFinite(last) ? ago(last) : 'never'),
                h('td', { class: 'num' }, seconds(g.evaluationTime)));
            }))))),
        ];
      },
    };
  },
};

function card(label: string, value: string, sub: string, cls = ''): HTMLElement {
  return h('div', { class: 'st-card' }, h('div', { class: 'stat-label' }, label), h('div', { class: `st-card-value ${cls}` }, value), sub ? h('div', { class: 'stat-label' }, sub) : null);
}

function section(title: string, body: Node): HTMLElement {
  return h('section', { class: 'st-section' }, h('h2', null, title), body);
}

function kvTable(rows: [string, string][]): HTMLElement {
  return h('table', { class: 'data st-kv' }, h('tbody', null, rows.filter(([, v]) => v !== undefined).map(([k, v]) =>
    h('tr', null, h('th', { scope: 'row' }, k), h('td', null, v === '' ? h('span', { class: 'muted' }, '–') : v)))));
}

function statTable(title: string, what: string, stats: Stat[], valueLabel: string, cell?: (name: string) => Node, fmt: (v: number) => string = (v) => v.toLocaleString()): HTMLElement {
  const max = Math.max(1, ...stats.map((s) => s.value));
  return section(title, stats.length ? h('table', { class: 'data st-stat' },
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, what), h('th', { scope: 'col', class: 'num' }, valueLabel))),
    h('tbody', null, stats.map((s) => h('tr', null,
      h('td', { class: 'st-stat-name' }, h('span', { class: 'st-bar', style: { width: `${(s.value / max) * 100}%` }, 'aria-hidden': 'true' }), cell ? cell(s.name) : h('span', { class: 'mono' }, breakable(s.name))),
      h('td', { class: 'num' }, fmt(s.value)))))) : notice('empty', 'No data yet: nothing has been stored.'));
}

// A long metric or label name that may wrap after its underscores, slashes and equals signs.
function breakable(name: string): Node[] {
  const out: Node[] = [];
  for (const part of name.split(/(?<=[_/=:])/)) {
    if (out.length) out.push(document.createElement('wbr'));
    out.push(document.createTextNode(part));
  }
  return out;
}

// The "key: value" lines directly under a top-level section of the YAML the server reports.
function yamlSection(yaml: string, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  let inside = false;
  for (const line of yaml.split('\n')) {
    if (/^\S/.test(line)) { inside = line.startsWith(`${name}:`); continue; }
    if (!inside) continue;
    const m = /^ {2}([A-Za-z0-9_]+):\s*(.*)$/.exec(line);
    if (m && m[2] !== '') out[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  return out;
}

// A few of Tyto's own storage metrics from /metrics (Prometheus text format). Optional: when the
// endpoint cannot be read (a development proxy, a token without access), the cards are left out.
async function ownMetrics(signal: AbortSignal): Promise<Record<string, number>> {
  const wanted = new Set(['tyto_tsdb_blocks', 'tyto_tsdb_blocks_bytes', 'tyto_tsdb_head_samples_appended_total']);
  const out: Record<string, number> = {};
  try {
    const res = await fetch('/metrics', { signal, headers: { Accept: 'text/plain', ...authHeaders() } });
    if (!res.ok || !(res.headers.get('content-type') ?? '').includes('text/plain')) return out;
    const text = await res.text();
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+) (\S+)$/.exec(line);
      if (m && wanted.has(m[1])) out[m[1]] = parseFloat(m[2]);
    }
  } catch {
    if (signal.aborted) throw new DOMException('aborted', 'AbortError');
  }
  return out;
}
