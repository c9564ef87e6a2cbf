// A dashboard page: the built-in pages (Fleet, GPU, Models, Quality, Drift, Pipelines) render the
// dashboard whose uid is the page's name; /ui/d/<uid> renders any dashboard (files listed in
// ui.dashboards, or imported). The dashboard JSON comes from GET /api/v1/dashboards/<uid>.

import { getData, takePrefetched, ApiError } from '../api';
import { h, link, notice, replace } from '../dom';
import { dashboardPath, href, parseLocation, type PageContext } from '../router';
import { normalize } from '../dashboard/model';
import { DashboardView } from '../dashboard/view';
import '../dashboard/dashboard.css';

export async function render(ctx: PageContext): Promise<void> {
  const route = parseLocation().route.name;
  const uid = route === 'd' ? ctx.path[0] ?? '' : route;
  if (!uid) {
    replace(ctx.root, notice('empty', 'No dashboard named: open one from the list.'), link(href('dashboards'), 'All dashboards'));
    return;
  }
  replace(ctx.root, h('p', { class: 'loading' }, 'Loading the dashboard…'));
  let raw: unknown;
  try {
    const url = dashboardPath(uid);
    raw = await (takePrefetched<unknown>(url) ?? getData<unknown>(url, undefined, ctx.signal));
  } catch (e) {
    if (ctx.signal.aborted) return;
    const msg = e instanceof ApiError && e.status === 404
      ? `There is no dashboard "${uid}". Built-in dashboards ship with Tyto; others are loaded from the files in ui.dashboards or imported on the Dashboards page.`
      : `Could not load dashboard "${uid}": ${(e as Error).message}`;
    replace(ctx.root, notice('error', msg), h('p', null, link(href('dashboards'), 'All dashboards')));
    return;
  }
  const dash = normalize(raw);
  if (!dash.uid) dash.uid = uid;
  document.title = `${dash.title} · Tyto`;
  await new DashboardView(ctx, dash).render();
}
