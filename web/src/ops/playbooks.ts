// Playbook runs: the runs with their state, one run's steps (what was rendered, its output and
// outcome), Approve/Reject for a run waiting for approval, the playbooks loaded, and the
// tamper-evident audit log.

import { getData } from '../api';
import { h, notice, replace } from '../dom';
import { href, type PageContext } from '../router';
import { ActionStatus, isAbort, labelChips, parseTime, serial, timeCell, write, type StringMap } from './common';

export interface PlaybookRun {
  id: string; playbook: string; incident: string; state: string; dry_run: boolean; escalated: boolean; reason: string;
  alert_labels: StringMap; created: string | null; started: string | null; finished: string | null; approval_expires?: string | null;
  decided_by: string; comment: string; steps_done: number;
  steps?: RunStep[]; alert_annotations?: StringMap;
}
interface RunStep {
  index: number; name: string; kind: string; outcome: string; rendered: string; output: string; error: string;
  exit_code?: number; http_status?: number; started: string | null; finished: string | null;
}
interface Playbook {
  name: string; description: string; file: string; match: string[]; dry_run: boolean; approval: string;
  approval_timeout: string; cooldown: string; max_runs_per_hour: number; on_failure: string; steps: { name: string; kind: string }[];
}
type AuditRecord = Record<string, unknown> & { seq?: number; time?: string; time_ms?: number; type?: string };

export function runStateBadge(state: string): HTMLElement {
  const cls = state === 'succeeded' ? 'ops-badge-ok'
    : state === 'failed' || state === 'expired' ? 'ops-badge-crit'
      : state === 'awaiting_approval' || state === 'running' || state === 'queued' ? 'ops-badge-warn' : 'ops-badge-muted';
  return h('span', { class: `ops-badge ${cls}` }, state.replace('_', ' '));
}

function outcomeClass(o: string): string {
  if (/^(ok|success|succeeded|done|dry.?run)/i.test(o)) return 'ok';
  if (/fail|error|timeout/i.test(o)) return 'crit';
  return 'muted';
}

export async function renderPlaybooks(ctx: PageContext, root: HTMLElement): Promise<void> {
  const status = new ActionStatus();
  const runsEl = h('div', null, h('p', { class: 'loading' }, 'Loading playbook runs…'));
  const runEl = h('div', { class: 'ops-run-detail' });
  const booksEl = h('div');
  const auditEl = h('div');
  replace(root, status.el,
    h('h2', null, 'Runs'), runsEl, runEl,
    h('h2', null, 'Playbooks'), booksEl,
    h('h2', null, 'Audit log ', h('span', { class: 'muted ops-small' }, '(newest first, each record chained to the previous by its hash)')), auditEl);

  let selected = ctx.params.get('run');
  let lastRunSig = '';

  const decide = async (run: PlaybookRun, action: 'approve' | 'reject', comment: string, button: HTMLButtonElement) => {
    button.disabled = true;
    try {
      let by = '';
      try { by = localStorage.getItem('tyto.silence.creator') ?? ''; } catch { /* private mode */ }
      await write('POST', `/api/v1/playbooks/runs/${encodeURIComponent(run.id)}/${action}`, { comment, ...(by ? { by } : {}) });
      status.ok(`Run ${run.id} ${action === 'approve' ? 'approved' : 'rejected'}.`);
      lastRunSig = '';
      load();
    } catch (e) {
      status.error(e);
      button.disabled = false;
    }
  };

  const approveButtons = (r: PlaybookRun, withComment: boolean): HTMLElement => {
    const comment = h('input', { type: 'text', 'aria-label': `Comment on run ${r.id}`, placeholder: 'Comment (optional)' });
    const approve = h('button', { type: 'button', class: 'primary', 'data-key': `approve-${r.id}` }, 'Approve');
    const reject = h('button', { type: 'button', class: 'danger', 'data-key': `reject-${r.id}` }, 'Reject');
    approve.addEventListener('click', () => decide(r, 'approve', comment.value, approve));
    reject.addEventListener('click', () => decide(r, 'reject', comment.value, reject));
    return h('span', { class: 'ops-actions' }, withComment ? comment : null, approve, reject);
  };

  const drawRun = (r: PlaybookRun) => {
    const sig = JSON.stringify([r.id, r.state, r.steps?.length, r.finished]);
    if (sig === lastRunSig) return;
    lastRunSig = sig;
    const now = Date.now();
    replace(runEl, h('section', { class: 'ops-card', 'aria-label': `Run ${r.id}` },
      h('h3', null, `Run ${r.id} · ${r.playbook} `, runStateBadge(r.state), r.dry_run ? h('span', { class: 'ops-badge ops-badge-muted' }, 'dry run') : null,
        r.escalated ? h('span', { class: 'ops-badge ops-badge-crit' }, 'escalated') : null,
        h('button', { type: 'button', class: 'icon-button ops-close', 'aria-label': 'Close run details', onclick: () => { selected = null; ctx.setParams({ run: null }); replace(runEl); lastRunSig = ''; } }, '×')),
      h('p', { class: 'muted' }, [
        r.reason || null,
        r.incident ? ['incident ', h('a', { href: href(`alerts/incidents/${r.incident}`), 'data-link': true }, `#${r.incident}`)] : null,
        ['created ', timeCell(parseTime(r.created), now)],
        r.finished ? ['finished ', timeCell(parseTime(r.finished), now)] : null,
        r.decided_by ? `decided by ${r.decided_by}${r.comment ? ` (“${r.comment}”)` : ''}` : null,
      ].filter((x) => x !== null).flatMap((x, i) => (i ? [' · ', x] : [x]))),
      r.state === 'awaiting_approval' ? h('div', { class: 'ops-approval' },
        h('p', null, 'This run waits for approval', r.approval_expires ? [' until ', timeCell(parseTime(r.approval_expires), now)] : null, '.'),
        approveButtons(r, true)) : null,
      Object.keys(r.alert_labels ?? {}).length ? h('div', null, 'Alert: ', labelChips(r.alert_labels)) : null,
      r.steps?.length ? h('ol', { class: 'ops-steps' }, r.steps.map((s) => h('li', { class: 'ops-step' },
        h('div', { class: 'ops-step-head' }, h('strong', null, s.name), h('span', { class: 'muted' }, s.kind),
          h('span', { class: outcomeClass(s.outcome) }, s.outcome || 'pending'),
          s.exit_code !== undefined && s.exit_code >= 0 ? h('span', { class: 'muted' }, `exit ${s.exit_code}`) : null,
          s.http_status ? h('span', { class: 'muted' }, `HTTP ${s.http_status}`) : null,
          timeCell(parseTime(s.started), now)),
        s.rendered ? h('details', null, h('summary', null, 'What ran'), h('pre', { class: 'ops-pre' }, s.rendered)) : null,
        s.output ? h('details', null, h('summary', null, 'Output'), h('pre', { class: 'ops-pre' }, s.output)) : null,
        s.error ? h('div', { class: 'crit' }, s.error) : null)))
        : notice('empty', r.state === 'awaiting_approval' ? 'No step has run yet: the run waits for approval.' : 'No step has run yet.')));
  };

  const load = serial(async () => {
    try {
      const [runs, books, audit] = await Promise.all([
        getData<{ runs: PlaybookRun[] }>('/api/v1/playbooks/runs', undefined, ctx.signal),
        getData<{ playbooks: Playbook[] }>('/api/v1/playbooks', undefined, ctx.signal),
        getData<{ records: AuditRecord[] }>('/api/v1/playbooks/audit', { limit: 100 }, ctx.signal).catch((e) => { if (isAbort(e)) throw e; return { records: [] as AuditRecord[], error: (e as Error).message }; }),
      ]);
      const now = Date.now();
      const focusKey = (document.activeElement as HTMLElement | null)?.dataset?.key;
      const list = (runs.runs ?? []).slice().sort((a, b) => (parseTime(b.created) ?? 0) - (parseTime(a.created) ?? 0));
      replace(runsEl, list.length ? h('table', { class: 'data ops-table' },
        h('thead', null, h('tr', null, ['Run', 'Playbook', 'State', 'Incident', 'Created', 'Finished', 'Steps', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, list.map((r) => h('tr', { class: r.id === selected ? 'ops-highlight' : undefined },
          h('td', null, h('a', { href: href('alerts/playbooks', { run: r.id }), 'data-key': `run-${r.id}`, onclick: (e: MouseEvent) => { if (e.button || e.ctrlKey || e.metaKey) return; e.preventDefault(); select(r.id); } }, r.id)),
          h('td', null, r.playbook, r.dry_run ? h('span', { class: 'muted' }, ' (dry run)') : null),
          h('td', null, runStateBadge(r.state)),
          h('td', null, r.incident ? h('a', { href: href(`alerts/incidents/${r.incident}`), 'data-link': true }, `#${r.incident}`) : '–'),
          h('td', null, timeCell(parseTime(r.created), now)),
          h('td', null, timeCell(parseTime(r.finished), now)),
          h('td', { class: 'num' }, String(r.steps_done)),
          h('td', null, r.state === 'awaiting_approval' ? approveButtons(r, false) : null)))))
        : notice('empty', 'No playbook has run. A run starts when an alert matches a playbook (below); one that needs approval waits here for it.'));
      replace(booksEl, books.playbooks?.length ? h('table', { class: 'data ops-table' },
        h('thead', null, h('tr', null, ['Playbook', 'Matches', 'Steps', 'Approval', 'Limits'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, books.playbooks.map((b) => h('tr', null,
          h('td', null, h('strong', null, b.name), b.dry_run ? h('span', { class: 'muted' }, ' (dry run)') : null, h('div', { class: 'muted' }, b.description)),
          h('td', { class: 'mono' }, b.match.join(', ')),
          h('td', null, b.steps.map((s) => `${s.name} (${s.kind})`).join(' → ')),
          h('td', null, b.approval === 'required' ? `required, within ${b.approval_timeout}` : 'none'),
          h('td', null, `cooldown ${b.cooldown}, at most ${b.max_runs_per_hour}/h, on failure ${b.on_failure}`)))))
        : notice('empty', 'No playbooks are loaded. Add playbook files to the configuration (playbooks:) to automate responses to alerts.'));
      const records = audit.records ?? [];
      const auditErr = (audit as { error?: string }).error;
      replace(auditEl, auditErr ? notice('error', `Could not load the audit log: ${auditErr}`) : records.length ? h('table', { class: 'data ops-table' },
        h('thead', null, h('tr', null, ['#', 'Time', 'Event', 'Details', 'Hash'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, records.slice().sort((a, b) => (b.seq ?? 0) - (a.seq ?? 0)).map((r) => {
          const rest = Object.entries(r).filter(([k]) => !['seq', 'time', 'time_ms', 'type', 'prev', 'hash'].includes(k));
          const t = typeof r.time_ms === 'number' ? r.time_ms : parseTime(r.time as string);
          return h('tr', null,
            h('td', { class: 'num' }, String(r.seq ?? '')),
            h('td', null, timeCell(t, now)),
            h('td', null, String(r.type ?? '')),
            h('td', { class: 'ops-audit-details' }, rest.map(([k, v]) => h('span', { class: 'ops-chip' }, h('span', { class: 'ops-chip-k' }, k), '=', typeof v === 'string' ? v : JSON.stringify(v)))),
            h('td', { class: 'mono', title: String(r.hash ?? '') }, String(r.hash ?? '').slice(0, 12)));
        })))
        : notice('empty', 'The audit log is empty.'));
      if (focusKey) root.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusKey)}"]`)?.focus();
      if (selected) {
        const r = await getData<{ run: PlaybookRun }>(`/api/v1/playbooks/runs/${encodeURIComponent(selected)}`, undefined, ctx.signal)
          .catch((e) => { if (isAbort(e)) throw e; replace(runEl, notice('error', `Run ${selected}: ${(e as Error).message}`)); return null; });
        if (r?.run) drawRun(r.run);
      }
    } catch (e) {
      if (isAbort(e)) return;
      replace(runsEl, notice('error', `Could not load playbook runs: ${(e as Error).message}`));
    }
  });
  const select = (id: string) => {
    selected = id;
    lastRunSig = '';
    ctx.setParams({ run: id }, { push: true });
    load();
  };
  load();
  ctx.onTick(load);
}
