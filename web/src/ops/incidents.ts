// Incidents: the list, and one incident's story as a vertical timeline (alerts firing and
// resolving, notifications, correlated series, playbook steps, notes, acknowledgement,
// resolution), with Acknowledge, Resolve and Add note, and the correlated series linked to Explore.

import { getData } from '../api';
import { h, notice, replace } from '../dom';
import { href, type PageContext } from '../router';
import { ActionStatus, exploreHref, isAbort, labelChips, parseTime, selector, serial, severityClass, timeCell, write, type StringMap } from './common';
import { runStateBadge, type PlaybookRun } from './playbooks';

interface IncidentSummary {
  id: number; title: string; state: 'open' | 'acknowledged' | 'resolved'; severity: string;
  openedAt: string; updatedAt: string; acknowledgedAt: string | null; acknowledgedBy: string;
  resolvedAt: string | null; resolvedBy: string; firingAlerts: number; totalAlerts: number;
}
interface IncidentAlert { fingerprint: string; state: string; labels: StringMap; annotations: StringMap; startsAt: string | null; endsAt: string | null; generatorURL: string }
interface Correlation { labels: StringMap; kind: string; score: number | string; before: number | string; after: number | string; direction: string }
interface TimelineEntry { time: string | null; kind: string; by: string; text: string; fields: StringMap }
interface Incident extends IncidentSummary { alerts: IncidentAlert[]; correlations: Correlation[]; timeline: TimelineEntry[] }

export function incidentHref(id: number | string): string {
  return href(`alerts/incidents/${id}`);
}

function stateBadge(state: string): HTMLElement {
  const cls = state === 'open' ? 'ops-badge-crit' : state === 'acknowledged' ? 'ops-badge-warn' : 'ops-badge-ok';
  return h('span', { class: `ops-badge ${cls}` }, state);
}

// The expression behind an alert, from its generator URL (Prometheus's /graph?g0.expr=...).
export function exprFromGeneratorURL(u: string): string | null {
  if (!u) return null;
  try {
    return new URL(u, location.origin).searchParams.get('g0.expr');
  } catch {
    return null;
  }
}

function num(v: number | string): string {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) return String(v);
  return Math.abs(n) >= 1e4 || (Math.abs(n) < 1e-3 && n !== 0) ? n.toExponential(3) : String(Math.round(n * 1000) / 1000);
}

// ---- list ----

export async function renderIncidentList(ctx: PageContext, root: HTMLElement): Promise<void> {
  const stateSel = h('select', { 'aria-label': 'Incident state' },
    [['', 'All states'], ['open', 'Open'], ['acknowledged', 'Acknowledged'], ['resolved', 'Resolved']]
      .map(([v, t]) => h('option', { value: v, selected: (ctx.params.get('istate') ?? '') === v }, t)));
  const body = h('div', null, h('p', { class: 'loading' }, 'Loading incidents…'));
  replace(root, h('div', { class: 'toolbar' }, stateSel), body);
  const load = serial(async () => {
    try {
      const list = await getData<IncidentSummary[]>('/api/v1/incidents', { state: stateSel.value, limit: 500 }, ctx.signal);
      if (!list.length) {
        replace(body, notice('empty', stateSel.value
          ? `No ${stateSel.value} incidents. Choose "All states" to see the others.`
          : 'No incidents. An incident opens when an alert fires and groups the alerts, notifications and playbook runs that follow.'));
        return;
      }
      const focusKey = (document.activeElement as HTMLElement | null)?.dataset?.key;
      const now = Date.now();
      replace(body, h('table', { class: 'data ops-table' },
        h('thead', null, h('tr', null, ['#', 'Incident', 'State', 'Severity', 'Opened', 'Alerts firing', 'Acknowledged by', 'Resolved'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, list.map((i) => h('tr', null,
          h('td', { class: 'num' }, String(i.id)),
          h('td', null, h('a', { href: incidentHref(i.id), 'data-link': true, 'data-key': `inc-${i.id}` }, i.title || `Incident ${i.id}`)),
          h('td', null, stateBadge(i.state)),
          h('td', null, h('span', { class: `ops-sev ops-sev-${severityClass(i.severity)}` }, i.severity || '–')),
          h('td', null, timeCell(parseTime(i.openedAt), now)),
          h('td', { class: 'num' }, `${i.firingAlerts} / ${i.totalAlerts}`),
          h('td', null, i.acknowledgedBy || '–'),
          h('td', null, timeCell(parseTime(i.resolvedAt), now)))))));
      if (focusKey) body.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusKey)}"]`)?.focus();
    } catch (e) {
      if (isAbort(e)) return;
      replace(body, notice('error', `Could not load incidents: ${(e as Error).message}`));
    }
  });
  stateSel.addEventListener('change', () => { ctx.setParams({ istate: stateSel.value || null }); load(); });
  load();
  ctx.onTick(load);
}

// ---- one incident ----

const KIND_TEXT: Record<string, string> = {
  alert_firing: 'Alert firing', alert_resolved: 'Alert resolved', notification: 'Notification', correlation: 'Correlation',
  playbook_step: 'Playbook step', note: 'Note', acknowledged: 'Acknowledged', resolved: 'Resolved', reopened: 'Reopened',
};

function timelineItem(e: TimelineEntry, now: number): HTMLElement {
  const fields = Object.entries(e.fields ?? {}).filter(([k]) => k !== 'labels');
  const labelsText = e.fields?.labels;
  return h('li', { class: `ops-tl-item ops-tl-${e.kind}` },
    h('span', { class: 'ops-tl-dot', 'aria-hidden': 'true' }),
    h('div', { class: 'ops-tl-head' },
      h('span', { class: 'ops-tl-kind' }, KIND_TEXT[e.kind] ?? e.kind),
      timeCell(parseTime(e.time), now),
      e.by ? h('span', { class: 'muted' }, `by ${e.by}`) : null),
    h('div', { class: e.kind === 'note' ? 'ops-tl-text ops-note' : 'ops-tl-text' }, e.text,
      e.kind === 'playbook_step' && e.fields?.run
        ? [' · ', h('a', { href: href('alerts/playbooks', { run: e.fields.run }), 'data-link': true }, e.fields.kind === 'awaiting_approval' ? 'Review and approve' : 'Run details')]
        : null),
    fields.length || labelsText ? h('details', { class: 'ops-tl-fields' }, h('summary', null, 'Details'),
      h('dl', { class: 'ops-kv' }, fields.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
        labelsText ? [h('dt', null, 'labels'), h('dd', { class: 'mono' }, labelsText)] : null)) : null);
}

export async function renderIncident(ctx: PageContext, root: HTMLElement, id: string): Promise<void> {
  const status = new ActionStatus();
  const head = h('div', { class: 'ops-incident-head' }, h('p', { class: 'loading' }, `Loading incident ${id}…`));
  const ack = h('button', { type: 'button', class: 'primary' }, 'Acknowledge');
  const resolve = h('button', { type: 'button' }, 'Resolve');
  const noteText = h('textarea', { rows: 2, 'aria-label': 'Note', placeholder: 'What was found or done' });
  const noteBy = h('input', { type: 'text', 'aria-label': 'Your name', placeholder: 'Your name (optional)', autocomplete: 'username' });
  try { noteBy.value = localStorage.getItem('tyto.silence.creator') ?? ''; } catch { /* private mode */ }
  const noteForm = h('form', { class: 'ops-note-form' }, noteText, noteBy, h('button', { type: 'submit' }, 'Add note'));
  const alertsEl = h('div');
  const corrEl = h('div');
  const runsEl = h('div');
  const timelineEl = h('ol', { class: 'ops-timeline', 'aria-label': 'Timeline' });
  replace(root,
    h('p', null, h('a', { href: href('alerts/incidents'), 'data-link': true }, '← All incidents')),
    head,
    h('div', { class: 'toolbar' }, ack, resolve),
    status.el,
    h('div', { class: 'ops-incident-grid' },
      h('section', { class: 'ops-incident-main', 'aria-label': 'Timeline' }, h('h2', null, 'Timeline'), timelineEl,
        h('h2', null, 'Add a note'), noteForm),
      h('aside', { class: 'ops-incident-side' },
        h('h2', null, 'Alerts'), alertsEl,
        h('h2', null, 'Correlated series'), corrEl,
        h('h2', null, 'Playbook runs'), runsEl)));

  let current: Incident | null = null;
  let lastSig = '';
  const draw = (inc: Incident, runs: PlaybookRun[]) => {
    const sig = JSON.stringify([inc.updatedAt, inc.state, inc.timeline.length, inc.alerts.map((a) => a.state), runs.map((r) => [r.state, r.steps_done])]);
    const now = Date.now();
    replace(head,
      h('h2', { class: 'ops-incident-title' }, `#${inc.id} `, inc.title,
        ' ', stateBadge(inc.state), ' ', h('span', { class: `ops-sev ops-sev-${severityClass(inc.severity)}` }, inc.severity || 'no severity')),
      h('p', { class: 'muted' }, 'Opened ', timeCell(parseTime(inc.openedAt), now),
        inc.acknowledgedAt ? [' · acknowledged ', timeCell(parseTime(inc.acknowledgedAt), now), inc.acknowledgedBy ? ` by ${inc.acknowledgedBy}` : ''] : null,
        inc.resolvedAt ? [' · resolved ', timeCell(parseTime(inc.resolvedAt), now), inc.resolvedBy ? ` by ${inc.resolvedBy}` : ''] : null,
        ` · ${inc.firingAlerts} of ${inc.totalAlerts} alerts firing`));
    ack.disabled = inc.state !== 'open';
    resolve.disabled = inc.state === 'resolved';
    if (sig === lastSig) return; // nothing new: keep the lists (and focus, open details) as they are
    lastSig = sig;
    replace(timelineEl, inc.timeline.length
      ? [...inc.timeline].sort((a, b) => (parseTime(a.time) ?? 0) - (parseTime(b.time) ?? 0)).map((e) => timelineItem(e, now))
      : h('li', null, notice('empty', 'Nothing recorded yet.')));
    replace(alertsEl, inc.alerts.length ? h('ul', { class: 'ops-plain-list' }, inc.alerts.map((a) => {
      const expr = exprFromGeneratorURL(a.generatorURL);
      return h('li', { class: 'ops-incident-alert' },
        h('div', null, h('span', { class: `ops-badge ${a.state === 'firing' ? 'ops-badge-crit' : 'ops-badge-ok'}` }, a.state), ' ',
          h('strong', null, a.labels.alertname ?? a.fingerprint), ' ', a.annotations.summary ?? ''),
        h('div', null, labelChips(a.labels, ['alertname'])),
        h('div', { class: 'muted' }, 'since ', timeCell(parseTime(a.startsAt), now),
          expr ? [' · ', h('a', { href: exploreHref(expr), 'data-link': true }, 'Open in Explore')] : null));
    })) : notice('empty', 'No alerts.'));
    replace(corrEl, inc.correlations.length ? h('ul', { class: 'ops-plain-list' }, inc.correlations.map((c) => {
      const sel = selector(c.labels);
      return h('li', { class: 'ops-corr' },
        h('a', { href: exploreHref(sel), 'data-link': true, class: 'mono' }, sel),
        h('div', { class: 'muted' }, `${c.kind} · score ${num(c.score)} · ${num(c.before)} → ${num(c.after)} (${c.direction})`));
    })) : notice('empty', 'No correlated series were found around the time the incident opened.'));
    replace(runsEl, runs.length ? h('ul', { class: 'ops-plain-list' }, runs.map((r) => h('li', null,
      runStateBadge(r.state), ' ',
      h('a', { href: href('alerts/playbooks', { run: r.id }), 'data-link': true }, r.playbook), ' ',
      h('span', { class: 'muted' }, `${r.steps_done} steps · `, timeCell(parseTime(r.created), now))))) : notice('empty', 'No playbook ran for this incident.'));
  };

  const load = serial(async () => {
    try {
      const [inc, runs] = await Promise.all([
        getData<Incident>(`/api/v1/incidents/${encodeURIComponent(id)}`, undefined, ctx.signal),
        getData<{ runs: PlaybookRun[] }>('/api/v1/playbooks/runs', { incident: id }, ctx.signal).catch((e) => { if (isAbort(e)) throw e; return { runs: [] }; }),
      ]);
      current = inc;
      draw(inc, runs.runs ?? []);
    } catch (e) {
      if (isAbort(e)) return;
      if (!current) {
        replace(head, notice('error', `Could not load incident ${id}: ${(e as Error).message}`));
        ack.disabled = resolve.disabled = true;
      } else {
        status.error(e);
      }
    }
  });

  const act = async (button: HTMLButtonElement, path: string, body: unknown, done: string) => {
    button.disabled = true;
    try {
      const inc = await write<{ data: Incident }>('POST', `/api/v1/incidents/${encodeURIComponent(id)}/${path}`, body);
      status.ok(done);
      if (inc?.data) current = inc.data;
      load();
      return true;
    } catch (e) {
      status.error(e);
      button.disabled = false;
      return false;
    }
  };
  const by = () => noteBy.value.trim() || undefined;
  ack.addEventListener('click', () => act(ack, 'acknowledge', { by: by() }, 'Acknowledged.'));
  resolve.addEventListener('click', () => act(resolve, 'resolve', { by: by() }, 'Resolved.'));
  noteForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = noteText.value.trim();
    if (!text) { status.error(new Error('Write the note first.')); noteText.focus(); return; }
    const submit = noteForm.querySelector('button')!;
    if (await act(submit, 'notes', { text, by: by() }, 'Note added.')) {
      noteText.value = '';
      submit.disabled = false;
    }
  });
  load();
  ctx.onTick(load);
}
