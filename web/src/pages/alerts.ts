// Alerts and incidents (/ui/alerts): tabs for the alerts firing and pending with their rules,
// incidents and their timelines, silences, and playbook runs. The tab and the selected incident
// are in the path (/ui/alerts/incidents/<id>; ?incident=<id> works too), so every view is a link.

import '../ops/ops.css';
import { h } from '../dom';
import { href, type PageContext } from '../router';
import { tabs } from '../ops/common';
import { renderAlertList } from '../ops/alert_list';
import { renderIncident, renderIncidentList } from '../ops/incidents';
import { renderPlaybooks } from '../ops/playbooks';
import { renderSilences } from '../ops/silences';

const TABS = [
  { id: 'alerts', text: 'Alerts', path: 'alerts' },
  { id: 'incidents', text: 'Incidents', path: 'alerts/incidents' },
  { id: 'silences', text: 'Silences', path: 'alerts/silences' },
  { id: 'playbooks', text: 'Playbook runs', path: 'alerts/playbooks' },
];

export async function render(ctx: PageContext): Promise<void> {
  let tab = ctx.path[0] ?? ctx.params.get('tab') ?? 'alerts';
  const incident = ctx.path[0] === 'incidents' && ctx.path[1] ? ctx.path[1] : ctx.params.get('incident');
  if (incident) tab = 'incidents';
  if (!TABS.some((t) => t.id === tab)) tab = 'alerts';
  const body = h('div', { class: 'ops-tab-body' });
  ctx.root.append(
    h('h1', null, 'Alerts and incidents'),
    tabs('Alerts and incidents', TABS.map((t) => ({ id: t.id, text: t.text, href: href(t.path) })), tab),
    body);
  switch (tab) {
    case 'incidents':
      if (incident) {
        document.title = `Incident ${incident} · Tyto`;
        await renderIncident(ctx, body, incident);
      } else {
        await renderIncidentList(ctx, body);
      }
      break;
    case 'silences': await renderSilences(ctx, body); break;
    case 'playbooks': await renderPlaybooks(ctx, body); break;
    default: await renderAlertList(ctx, body);
  }
}
