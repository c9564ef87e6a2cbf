// Silences (Alertmanager API v2): the list with each silence's state and the alerts it mutes, and
// the dialog that creates, edits or recreates one. A silence made from an alert starts with
// matchers for the alert's labels, so one click on "Silence" and one on "Create" mute it.

import { getJson } from '../api';
import { h, notice, replace } from '../dom';
import { durationText, parseDuration } from '../format';
import { type PageContext } from '../router';
import { ActionStatus, isAbort, parseTime, serial, timeCell, write, type StringMap } from './common';

export interface SilenceMatcher { name: string; value: string; isRegex: boolean; isEqual?: boolean }
export interface Silence {
  id: string;
  status: { state: 'active' | 'pending' | 'expired' | string };
  updatedAt: string;
  comment: string;
  createdBy: string;
  startsAt: string;
  endsAt: string;
  matchers: SilenceMatcher[];
}
export interface AmAlert {
  labels: StringMap;
  annotations: StringMap;
  fingerprint: string;
  startsAt: string;
  status: { state: string; silencedBy: string[]; inhibitedBy: string[] };
}

const CREATOR_KEY = 'tyto.silence.creator';
// Labels that identify where an alert came from rather than what it is about: left unchecked in
// a new silence, so that it keeps working when a target moves.
const VOLATILE = new Set(['instance', 'pci_bus_id', 'DCGM_FI_DRIVER_VERSION', 'simulated']);

function opText(m: SilenceMatcher): string {
  const eq = m.isEqual !== false;
  return m.isRegex ? (eq ? '=~' : '!~') : eq ? '=' : '!=';
}

export function matcherText(m: SilenceMatcher): string {
  return `${m.name}${opText(m)}${JSON.stringify(m.value)}`;
}

export function silenceMatches(s: SilenceMatcher[], labels: StringMap): boolean {
  return s.every((m) => {
    const v = labels[m.name] ?? '';
    let hit: boolean;
    if (m.isRegex) {
      try { hit = new RegExp(`^(?:${m.value})$`).test(v); } catch { return false; }
    } else {
      hit = v === m.value;
    }
    return m.isEqual === false ? !hit : hit;
  });
}

export interface SilenceDialogOptions {
  labels?: StringMap;       // new silence for an alert with these labels
  silence?: Silence;        // edit (or recreate, when expired) this one
  alerts?: StringMap[];     // current alerts' labels, to preview what the silence mutes
  onDone: (id: string) => void;
}

// Opens the silence editor as a modal dialog.
export function openSilenceDialog(o: SilenceDialogOptions): void {
  const editing = o.silence && o.silence.status.state !== 'expired' ? o.silence : undefined;
  const rows: { use: HTMLInputElement; name: HTMLInputElement; op: HTMLSelectElement; value: HTMLInputElement; el: HTMLElement }[] = [];
  const rowsEl = h('div', { class: 'ops-matchers' });
  const preview = h('p', { class: 'muted', 'aria-live': 'polite' });
  const addRow = (name: string, op: string, value: string, use = true) => {
    const i = rows.length;
    const r = {
      use: h('input', { type: 'checkbox', checked: use, 'aria-label': `Use matcher ${i + 1}` }),
      name: h('input', { type: 'text', value: name, 'aria-label': `Label name ${i + 1}`, class: 'ops-m-name', required: true }),
      op: h('select', { 'aria-label': `Operator ${i + 1}` }, ['=', '!=', '=~', '!~'].map((x) => h('option', { value: x, selected: x === op }, x))),
      value: h('input', { type: 'text', value, 'aria-label': `Label value ${i + 1}`, class: 'ops-m-value' }),
      el: h('div'),
    };
    r.el = h('div', { class: 'ops-matcher-row' }, r.use, r.name, r.op, r.value);
    for (const x of [r.use, r.name, r.op, r.value]) x.addEventListener('input', updatePreview);
    rows.push(r);
    rowsEl.append(r.el);
  };
  const matchers = (): SilenceMatcher[] => rows.filter((r) => r.use.checked && r.name.value.trim()).map((r) => ({
    name: r.name.value.trim(), value: r.value.value, isRegex: r.op.value.includes('~'), isEqual: !r.op.value.startsWith('!'),
  }));
  function updatePreview(): void {
    const ms = matchers();
    if (!ms.length) { preview.textContent = 'Choose at least one matcher.'; return; }
    if (!o.alerts) { preview.textContent = ''; return; }
    const n = o.alerts.filter((l) => silenceMatches(ms, l)).length;
    preview.textContent = `Mutes ${n} of the ${o.alerts.length} current alert${o.alerts.length === 1 ? '' : 's'}.`;
  }

  if (o.silence) {
    for (const m of o.silence.matchers) addRow(m.name, opText(m), m.value);
  } else if (o.labels) {
    const keys = Object.keys(o.labels).sort((a, b) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a < b ? -1 : 1));
    for (const k of keys) addRow(k, '=', o.labels[k], !VOLATILE.has(k));
  }
  if (!rows.length) addRow('alertname', '=', '');

  let dur = '2h';
  if (editing) {
    const a = parseTime(editing.startsAt) ?? Date.now();
    const b = parseTime(editing.endsAt) ?? Date.now();
    dur = durationText(Math.max(60, Math.round((b - Math.max(a, Date.now())) / 60000) * 60));
  }
  const duration = h('input', { type: 'text', value: dur, 'aria-label': 'Duration', class: 'ops-short', required: true });
  const endsText = h('span', { class: 'muted' });
  const updateEnds = () => {
    const s = parseDuration(duration.value.trim());
    endsText.textContent = s && s > 0 ? `ends ${new Date(Date.now() + s * 1000).toLocaleString()}` : 'expected a duration such as 30m, 2h or 1d';
  };
  duration.addEventListener('input', updateEnds);
  updateEnds();
  let creatorDefault = '';
  try { creatorDefault = localStorage.getItem(CREATOR_KEY) ?? ''; } catch { /* private mode */ }
  const creator = h('input', { type: 'text', value: o.silence?.createdBy || creatorDefault || 'tyto-ui', 'aria-label': 'Created by', required: true, autocomplete: 'username' });
  const alertname = o.labels?.alertname;
  const comment = h('textarea', { rows: 2, 'aria-label': 'Comment', required: true },
    o.silence?.comment ?? (alertname ? `Silenced ${alertname} from the Tyto UI` : ''));
  const status = new ActionStatus();
  const submit = h('button', { type: 'submit', class: 'primary' }, editing ? 'Update silence' : 'Create silence');
  const cancel = h('button', { type: 'button', onclick: () => dlg.close() }, 'Cancel');
  const form = h('form', { class: 'ops-silence-form', method: 'dialog' },
    h('h2', null, editing ? 'Edit silence' : 'New silence'),
    h('fieldset', null, h('legend', null, 'Matchers (all must match)'), rowsEl,
      h('button', { type: 'button', onclick: () => { addRow('', '=', ''); updatePreview(); } }, 'Add matcher')),
    preview,
    h('div', { class: 'ops-form-grid' },
      h('label', null, 'Duration', duration, endsText),
      h('label', null, 'Created by', creator),
      h('label', { class: 'ops-wide' }, 'Comment', comment)),
    status.el,
    h('div', { class: 'ops-buttons' }, submit, cancel));
  const dlg = h('dialog', { class: 'ops-dialog', 'aria-label': editing ? 'Edit silence' : 'New silence' }, form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const ms = matchers();
    const secs = parseDuration(duration.value.trim());
    if (!ms.length) { status.error(new Error('Choose at least one matcher.')); return; }
    if (!secs || secs <= 0) { status.error(new Error(`Duration "${duration.value}": expected a duration such as 30m, 2h or 1d.`)); return; }
    if (!creator.value.trim()) { status.error(new Error('Say who creates the silence (Created by).')); creator.focus(); return; }
    if (!comment.value.trim()) { status.error(new Error('Say why (Comment).')); comment.focus(); return; }
    try { localStorage.setItem(CREATOR_KEY, creator.value.trim()); } catch { /* private mode */ }
    const now = Date.now();
    const starts = editing ? Math.min(parseTime(editing.startsAt) ?? now, now) : now;
    const body: Record<string, unknown> = {
      matchers: ms,
      startsAt: new Date(starts).toISOString(),
      endsAt: new Date(now + secs * 1000).toISOString(),
      createdBy: creator.value.trim(),
      comment: comment.value.trim(),
    };
    if (editing) body.id = editing.id;
    submit.disabled = true;
    try {
      const r = await write<{ silenceID: string }>('POST', '/api/v2/silences', body);
      dlg.close();
      o.onDone(r?.silenceID ?? '');
    } catch (err) {
      status.error(err);
    } finally {
      submit.disabled = false;
    }
  });
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  updatePreview();
  dlg.showModal();
  (editing ? duration : submit).focus();
}

function stateBadge(state: string): HTMLElement {
  const cls = state === 'active' ? 'ops-badge-ok' : state === 'pending' ? 'ops-badge-warn' : 'ops-badge-muted';
  return h('span', { class: `ops-badge ${cls}` }, state);
}

// The Silences tab.
export async function renderSilences(ctx: PageContext, root: HTMLElement): Promise<void> {
  const showExpired = ctx.params.get('expired') === '1';
  const status = new ActionStatus();
  const expiredBox = h('input', { type: 'checkbox', checked: showExpired, id: 'ops-show-expired' });
  const newButton = h('button', { type: 'button', class: 'primary' }, 'New silence');
  const body = h('div', { class: 'ops-silences' }, h('p', { class: 'loading' }, 'Loading silences…'));
  replace(root,
    h('div', { class: 'toolbar' }, newButton, h('label', { for: 'ops-show-expired' }, expiredBox, ' Show expired')),
    status.el, body);
  let alerts: AmAlert[] = [];
  let silences: Silence[] = [];

  const draw = () => {
    const highlight = ctx.params.get('silence');
    const order: Record<string, number> = { active: 0, pending: 1, expired: 2 };
    const list = silences.filter((s) => expiredBox.checked || s.status.state !== 'expired')
      .sort((a, b) => (order[a.status.state] ?? 3) - (order[b.status.state] ?? 3) || (parseTime(b.updatedAt) ?? 0) - (parseTime(a.updatedAt) ?? 0));
    if (!list.length) {
      const expired = silences.length - list.length;
      replace(body, notice('empty', `No ${expiredBox.checked ? '' : 'active or pending '}silences.${expired ? ` ${expired} expired (tick "Show expired").` : ''} Silence an alert from the Alerts tab, or create one with "New silence".`));
      return;
    }
    const focusKey = (document.activeElement as HTMLElement | null)?.dataset?.key;
    const now = Date.now();
    const rows = list.map((s) => {
      const muted = alerts.filter((a) => a.status.silencedBy?.includes(s.id)).length;
      const expired = s.status.state === 'expired';
      return h('tr', { class: s.id === highlight ? 'ops-highlight' : undefined },
        h('td', null, stateBadge(s.status.state)),
        h('td', null, h('span', { class: 'ops-chips' }, s.matchers.map((m) => h('span', { class: 'ops-chip' }, matcherText(m))))),
        h('td', null, timeCell(parseTime(s.startsAt), now)),
        h('td', null, timeCell(parseTime(s.endsAt), now)),
        h('td', { class: 'num' }, expired ? '–' : String(muted)),
        h('td', null, s.createdBy),
        h('td', { class: 'ops-comment' }, s.comment),
        h('td', { class: 'ops-actions' },
          h('button', { type: 'button', 'data-key': `edit-${s.id}`, onclick: () => openSilenceDialog({ silence: s, alerts: alerts.map((a) => a.labels), onDone: done }) }, expired ? 'Recreate' : 'Edit'),
          expired ? null : h('button', { type: 'button', class: 'danger', 'data-key': `expire-${s.id}`, onclick: () => expire(s) }, 'Expire')));
    });
    replace(body, h('table', { class: 'data ops-table' },
      h('thead', null, h('tr', null, ['State', 'Matchers', 'Starts', 'Ends', 'Mutes', 'Created by', 'Comment', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, rows)));
    if (focusKey) body.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusKey)}"]`)?.focus();
  };

  const load = serial(async () => {
    try {
      [silences, alerts] = await Promise.all([
        getJson<Silence[]>('/api/v2/silences', undefined, ctx.signal),
        getJson<AmAlert[]>('/api/v2/alerts', undefined, ctx.signal),
      ]);
      draw();
    } catch (e) {
      if (isAbort(e)) return;
      replace(body, notice('error', `Could not load silences: ${(e as Error).message}`));
    }
  });
  const done = (id: string) => {
    status.ok(id ? `Silence ${id} saved.` : 'Silence saved.');
    if (id) ctx.setParams({ silence: id });
    load();
  };
  async function expire(s: Silence): Promise<void> {
    try {
      await write('DELETE', `/api/v2/silence/${encodeURIComponent(s.id)}`);
      status.ok(`Silence ${s.id} expired.`);
      load();
    } catch (e) {
      status.error(e);
    }
  }
  newButton.addEventListener('click', () => openSilenceDialog({ alerts: alerts.map((a) => a.labels), onDone: done }));
  expiredBox.addEventListener('change', () => { ctx.setParams({ expired: expiredBox.checked ? '1' : null }); draw(); });
  load();
  ctx.onTick(load);
}
