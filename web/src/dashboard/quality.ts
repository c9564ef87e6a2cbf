// Quality drill-down: a click on a point of a quality score chart opens, in the side panel, the
// sampled requests scored around that time for the series' model and version: each evaluator's
// score, label and explanation (the evaluation records stored as logs by the quality monitor,
// service "tyto-quality"), the request's prompt and response when the event was kept, and a link
// to its trace.

import { getData, type Labels } from '../api';
import { h, link, notice, replace } from '../dom';
import { formatTime } from '../format';
import { href } from '../router';
import { errorText, isAbort, type PanelEnv } from './panel';

interface LogRecord {
  timeUnixNano: string;
  body: string;
  traceId?: string;
  attributes: Record<string, string>;
}

interface InferenceEvent {
  request_id: string;
  prompt?: string;
  response?: string;
  latency_ms?: number;
  status?: string;
  tenant?: string;
}

const MAX_REQUESTS = 50;

export async function openQualitySamples(env: PanelEnv, labels: Labels, time: number, title: string): Promise<void> {
  const model = labels.model ?? labels.gen_ai_request_model;
  const version = labels.version ?? labels.model_version;
  const evaluator = labels.evaluator;
  const body = h('div', { class: 'side-body' });
  const window = Math.max(env.step * 2, 120);
  const start = time - window;
  const end = time + Math.max(env.step / 2, 5);
  env.openSide(`${title || 'Quality'} · ${formatTime(time * 1000, true)}`, body);
  if (!model) {
    replace(body, notice('empty', 'This series has no model label, so the requests behind it cannot be found. Quality score series carry model and version labels (tyto_quality_score).'));
    return;
  }
  replace(body, h('p', { class: 'loading' }, 'Loading the sampled requests…'));
  const attrs = [`gen_ai.request.model=${model}`];
  if (version) attrs.push(`tyto.model_version=${version}`);
  try {
    const [logs, events] = await Promise.all([
      getData<LogRecord[]>('/api/v1/logs', { service: 'tyto-quality', attr: attrs, start, end, limit: 1000 }, env.signal),
      getData<InferenceEvent[]>('/api/v1/events', { model, start: start - 120, end, limit: 1000 }, env.signal).catch((e) => {
        if (isAbort(e)) throw e;
        return [] as InferenceEvent[];
      }),
    ]);
    const byId = new Map<string, { time: number; trace?: string; scores: LogRecord[] }>();
    for (const r of logs) {
      const id = r.attributes['gen_ai.response.id'] || r.traceId || '';
      const e = byId.get(id) ?? { time: Number(r.timeUnixNano) / 1e6, trace: r.traceId, scores: [] };
      e.scores.push(r);
      byId.set(id, e);
    }
    const eventsById = new Map(events.map((e) => [e.request_id, e]));
    const summary = h('p', { class: 'muted' },
      `${byId.size} scored request${byId.size === 1 ? '' : 's'} of ${model}${version ? ` ${version}` : ''} between ${formatTime(start * 1000)} and ${formatTime(end * 1000)}`,
      evaluator ? `; ${evaluator} highlighted` : '', '.');
    if (!byId.size) {
      replace(body, summary, notice('empty', 'No evaluation records in this window: the quality monitor scores a sample of requests; widen the time range or pick a point where the score count is higher.'));
      return;
    }
    const items = [...byId.entries()].sort((a, b) => b[1].time - a[1].time).slice(0, MAX_REQUESTS).map(([id, r]) => {
      const ev = eventsById.get(id);
      const scores = r.scores.sort((a, b) => (a.attributes['gen_ai.evaluation.name'] ?? '').localeCompare(b.attributes['gen_ai.evaluation.name'] ?? ''));
      const rows = scores.map((s) => {
        const name = s.attributes['gen_ai.evaluation.name'] ?? '';
        const value = parseFloat(s.attributes['gen_ai.evaluation.score.value'] ?? '');
        const cls = Number.isNaN(value) ? '' : value >= 0.8 ? 'ok' : value >= 0.5 ? 'warn' : 'crit';
        return h('tr', { class: name === evaluator ? 'hl' : undefined },
          h('th', { scope: 'row' }, name),
          h('td', { class: `num ${cls}` }, s.attributes['gen_ai.evaluation.score.value'] ?? ''),
          h('td', null, s.attributes['gen_ai.evaluation.score.label'] ?? ''),
          h('td', { class: 'muted' }, s.attributes['gen_ai.evaluation.explanation'] ?? ''));
      });
      return h('article', { class: 'sample' },
        h('header', null,
          h('span', { class: 'mono' }, id || '(no request id)'),
          h('span', { class: 'muted' }, formatTime(r.time, true)),
          r.trace ? link(href(`traces/${r.trace}`), 'Open trace') : null),
        ev?.prompt ? h('details', null, h('summary', null, 'Prompt and response'),
          h('p', null, h('strong', null, 'Prompt: '), ev.prompt), ev.response ? h('p', null, h('strong', null, 'Response: '), ev.response) : null) : null,
        h('table', { class: 'data' }, h('tbody', null, ...rows)));
    });
    replace(body, summary, ...items, byId.size > MAX_REQUESTS ? h('p', { class: 'muted' }, `The ${MAX_REQUESTS} newest of ${byId.size} are shown.`) : null);
  } catch (e) {
    if (isAbort(e)) return;
    replace(body, notice('error', errorText(e)));
  }
}
