// The Alerts tab: firing and pending alerts from the rule evaluator (/api/v1/alerts), grouped by
// alert name or severity, each with its rule's expression (a link to Explore), its silences
// (from the Alertmanager's view, /api/v2/alerts) and a one-click silence; then the rule groups.

import { getData, getJson } from '../api';
import { h, notice, replace } from '../dom';
import { formatTime } from '../format';
import { href, type PageContext } from '../router';
import { ActionStatus, exploreHref, isAbort, labelChips, labelFilter, parseTime, serial, severityClass, timeCell, type StringMap } from './common';
import { openSilenceDialog, silenceMatches, type Silence } from './silences';

interface RuleAlert { labels: StringMap; annotations: StringMap; state: string; activeAt?: string; value: string }
interface Rule {
  name: string; query: string; type: 'alerting' | 'recording'; state?: string; health: string; lastError?: string;
  duration?: number; labels?: StringMap; annotations?: StringMap; alerts?: RuleAlert[]; lastEvaluation: string; evaluationTime: number;
}
// A group's last evaluation; the zero time (0001-01-01) or none means it has not run yet.
function lastEvaluated(t: string | undefined): string {
  const ms = parseTime(t);
  return ms === null || ms <= 0 ? 'not yet evaluated' : `last ${formatTime(ms)}`;
}

interface RuleGroup { name: string; file: string; rules: Rule[]; interval: number; lastEvaluation: string; evaluationTime: number }

function key(l: StringMap): string {
  return JSON.stringify(Object.keys(l).sort().map((k) => [k, l[k]]));
}

function stateBadge(state: string, silenced: boolean): HTMLElement {
  if (silenced) return h('span', { class: 'ops-badge ops-badge-muted', title: 'Silenced: no notifications are sent' }, 'silenced');
  const cls = state === 'firing' ? 'ops-badge-crit' : state === 'pending' ? 'ops-badge-warn' : 'ops-badge-ok';
  return h('span', { class: `ops-badge ${cls}` }, state);
}

function valueText(v: string): string {
  const n = Number(v);
  if (!Number.isFinite(n)) return v;
  return Math.abs(n) >= 1e4 || (Math.abs(n) < 1e-3 && n !== 0) ? n.toExponential(3) : String(Math.round(n * 1000) / 1000);
}

export async function renderAlertList(ctx: PageContext, root: HTMLElement): Promise<void> {
  const p = ctx.params;
  const filter = h('input', { type: 'search', value: p.get('filter') ?? '', placeholder: 'severity="page", alertname=~"GPU.*" or words', 'aria-label': 'Filter alerts by label matchers or words', class: 'ops-filter' });
  const groupBy = h('select', { 'aria-label': 'Group by' },
    [['alertname', 'Group by alert name'], ['severity', 'Group by severity'], ['none', 'No grouping']].map(([v, t]) => h('option', { value: v, selected: (p.get('group') ?? 'alertname') === v }, t)));
  const stateSel = h('select', { 'aria-label': 'State' },
    [['', 'Firing and pending'], ['firing', 'Firing'], ['pending', 'Pending']].map(([v, t]) => h('option', { value: v, selected: (p.get('state') ?? '') === v }, t)));
  const status = new ActionStatus();
  const listEl = h('div', { class: 'ops-alerts' }, h('p', { class: 'loading' }, 'Loading alerts…'));
  const rulesEl = h('div', { class: 'ops-rules' });
  const summary = h('span', { class: 'muted', 'aria-live': 'polite' });
  replace(root,
    h('div', { class: 'toolbar' }, filter, groupBy, stateSel, summary),
    status.el, listEl,
    h('h2', null, 'Rule groups'), rulesEl);

  let alerts: RuleAlert[] = [];
  let groups: RuleGroup[] = [];
  let silencedBy = new Map<string, string[]>();
  const ruleOf = new Map<string, Rule>();
  const openDetails = new Set<string>();

  const draw = () => {
    const f = labelFilter(filter.value);
    const st = stateSel.value;
    const shown = alerts.filter((a) => (!st || a.state === st) && f(a.labels, a.annotations));
    const firing = shown.filter((a) => a.state === 'firing').length;
    summary.textContent = `${firing} firing, ${shown.length - firing} pending${shown.length !== alerts.length ? ` (of ${alerts.length})` : ''}`;
    const focusKey = (document.activeElement as HTMLElement | null)?.dataset?.key;
    if (!shown.length) {
      replace(listEl, notice('empty', alerts.length
        ? 'No alert matches the filter. Clear it or change the state to see the others.'
        : 'No alerts are firing or pending. Alerts appear here when a rule of the groups below holds for its "for" duration.'));
    } else {
      const by = groupBy.value;
      const buckets = new Map<string, RuleAlert[]>();
      for (const a of shown) {
        const g = by === 'none' ? '' : a.labels[by] ?? '(none)';
        if (!buckets.has(g)) buckets.set(g, []);
        buckets.get(g)!.push(a);
      }
      const sevRank = (s: string) => ({ crit: 0, warn: 1, info: 2 }[severityClass(s)] ?? 3);
      const names = [...buckets.keys()].sort((a, b) => (by === 'severity' ? sevRank(a) - sevRank(b) : 0) || (a < b ? -1 : a > b ? 1 : 0));
      const now = Date.now();
      replace(listEl, names.map((g) => {
        const items = buckets.get(g)!.sort((a, b) => (a.state === b.state ? 0 : a.state === 'firing' ? -1 : 1) || (parseTime(a.activeAt) ?? 0) - (parseTime(b.activeAt) ?? 0));
        const nf = items.filter((a) => a.state === 'firing').length;
        return h('section', { class: 'ops-group', 'aria-label': g || 'Alerts' },
          g ? h('h3', { class: 'ops-group-title' }, by === 'severity' ? h('span', { class: `ops-sev ops-sev-${severityClass(g)}` }, g) : g,
            h('span', { class: 'muted' }, [nf ? `${nf} firing` : '', items.length - nf ? `${items.length - nf} pending` : ''].filter(Boolean).join(', '))) : null,
          h('ul', { class: 'ops-alert-list' }, items.map((a) => alertItem(a, now))));
      }));
    }
    if (focusKey) listEl.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusKey)}"]`)?.focus();
  };

  const alertItem = (a: RuleAlert, now: number): HTMLElement => {
    const k = key(a.labels);
    const rule = ruleOf.get(k);
    const sil = silencedBy.get(k) ?? [];
    const sev = a.labels.severity;
    const details = h('details', { class: 'ops-alert-more', open: openDetails.has(k) },
      h('summary', null, 'Labels and annotations'),
      h('div', null, labelChips(a.labels)),
      h('dl', { class: 'ops-kv' }, Object.entries(a.annotations).filter(([n]) => n !== 'summary').flatMap(([n, v]) => [h('dt', null, n), h('dd', null, v)])),
      rule ? h('p', null, 'Rule ', h('code', null, rule.query), rule.duration ? ` for ${rule.duration}s` : '') : null);
    details.addEventListener('toggle', () => { if (details.open) openDetails.add(k); else openDetails.delete(k); });
    const alertname = a.labels.alertname ?? '';
    return h('li', { class: `ops-alert ops-alert-${a.state}` },
      h('div', { class: 'ops-alert-head' },
        stateBadge(a.state, sil.length > 0),
        sev ? h('span', { class: `ops-sev ops-sev-${severityClass(sev)}` }, sev) : null,
        h('strong', null, alertname),
        h('span', { class: 'ops-alert-summary' }, a.annotations.summary ?? ''),
        h('span', { class: 'ops-alert-meta muted' }, 'active since ', timeCell(parseTime(a.activeAt), now), ' · value ', h('span', { class: 'mono' }, valueText(a.value)))),
      h('div', { class: 'ops-alert-labels' }, labelChips(a.labels, ['alertname', 'severity'])),
      h('div', { class: 'ops-alert-actions' },
        sil.length
          ? h('a', { href: href('alerts/silences', { silence: sil[0] }), 'data-link': true, 'data-key': `sil-${k}` }, `Silenced by ${sil[0].slice(0, 8)}`)
          : h('button', { type: 'button', 'data-key': `silence-${k}`, 'aria-label': `Silence ${alertname} ${a.labels.Hostname ?? a.labels.instance ?? ''}`.trim(), onclick: () => silence(a) }, 'Silence…'),
        rule ? h('a', { href: exploreHref(rule.query), 'data-link': true, 'data-key': `explore-${k}` }, 'Open in Explore') : null),
      details);
  };

  const silence = (a: RuleAlert) => openSilenceDialog({
    labels: a.labels,
    alerts: alerts.map((x) => x.labels),
    onDone: (id) => {
      status.ok(`Silence ${id} created for ${a.labels.alertname ?? 'the alert'}.`);
      load();
    },
  });

  const drawRules = () => {
    if (!groups.length) {
      replace(rulesEl, notice('empty', 'No rule groups are loaded. Add rule files to the configuration (rule_files) and reload.'));
      return;
    }
    const open = new Set([...rulesEl.querySelectorAll<HTMLDetailsElement>('details[open]')].map((d) => d.dataset.group));
    replace(rulesEl, groups.map((g) => {
      const firing = g.rules.filter((r) => r.state === 'firing').length;
      const pending = g.rules.filter((r) => r.state === 'pending').length;
      const bad = g.rules.filter((r) => r.health !== 'ok' && r.health !== 'unknown').length;
      return h('details', { class: 'ops-rule-group', 'data-group': g.name, open: open.has(g.name) },
        h('summary', null, h('strong', null, g.name), ' ', h('span', { class: 'muted' }, `${g.file} · ${g.rules.length} rules · every ${g.interval}s · ${lastEvaluated(g.lastEvaluation)}`),
          firing ? h('span', { class: 'ops-badge ops-badge-crit' }, `${firing} firing`) : null,
          pending ? h('span', { class: 'ops-badge ops-badge-warn' }, `${pending} pending`) : null,
          bad ? h('span', { class: 'ops-badge ops-badge-crit' }, `${bad} unhealthy`) : null),
        h('table', { class: 'data ops-table' },
          h('thead', null, h('tr', null, ['Rule', 'State', 'Expression', 'Health'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', null, g.rules.map((r) => h('tr', null,
            h('td', null, r.name, r.type === 'recording' ? h('span', { class: 'muted' }, ' (recording)') : null),
            h('td', null, r.type === 'alerting' ? stateBadge(r.state ?? 'inactive', false) : '–'),
            h('td', { class: 'ops-expr' }, h('a', { href: exploreHref(r.query), 'data-link': true, class: 'mono' }, r.query)),
            h('td', null, r.health === 'ok' ? h('span', { class: 'ok' }, 'ok') : h('span', { class: r.health === 'err' ? 'crit' : 'muted' }, r.health, r.lastError ? `: ${r.lastError}` : '')))))));
    }));
  };

  const load = serial(async () => {
    try {
      const [a, r, silences] = await Promise.all([
        getData<{ alerts: RuleAlert[] }>('/api/v1/alerts', undefined, ctx.signal),
        getData<{ groups: RuleGroup[] }>('/api/v1/rules', undefined, ctx.signal),
        getJson<Silence[]>('/api/v2/silences', undefined, ctx.signal).catch((e) => { if (isAbort(e)) throw e; return [] as Silence[]; }),
      ]);
      alerts = a.alerts ?? [];
      groups = r.groups ?? [];
      ruleOf.clear();
      for (const g of groups) for (const rule of g.rules) for (const x of rule.alerts ?? []) ruleOf.set(key(x.labels), rule);
      // Matched here rather than taken from the Alertmanager, which sees firing alerts only: a
      // pending alert shows the silence that will mute it when it fires.
      const active = silences.filter((s) => s.status.state === 'active');
      silencedBy = new Map();
      for (const x of alerts) {
        const ids = active.filter((s) => silenceMatches(s.matchers, x.labels)).map((s) => s.id);
        if (ids.length) silencedBy.set(key(x.labels), ids);
      }
      draw();
      drawRules();
    } catch (e) {
      if (isAbort(e)) return;
      replace(listEl, notice('error', `Could not load alerts: ${(e as Error).message}`));
    }
  });
  let debounce = 0;
  filter.addEventListener('input', () => {
    window.clearTimeout(debounce);
    debounce = window.setTimeout(() => { ctx.setParams({ filter: filter.value || null }); draw(); }, 150);
  });
  groupBy.addEventListener('change', () => { ctx.setParams({ group: groupBy.value === 'alertname' ? null : groupBy.value }); draw(); });
  stateSel.addEventListener('change', () => { ctx.setParams({ state: stateSel.value || null }); draw(); });
  load();
  ctx.onTick(load);
}
