// The dashboards list: built-in, loaded from files (ui.dashboards in tyto.yml) and imported ones;
// import of a Grafana dashboard JSON (pasted or chosen as a file), with the server's warnings
// (unsupported panels, queries that do not parse); delete of imported dashboards.

import { getData, send, ApiError } from '../api';
import { h, link, notice, replace } from '../dom';
import { href, type PageContext } from '../router';
import '../dashboard/dashboard.css';

interface Listed { uid: string; title: string; tags?: string[]; source: 'builtin' | 'file' | 'imported' | string }

const BUILTIN_PAGES = new Set(['fleet', 'gpu', 'models', 'quality', 'drift', 'pipelines']);
const SOURCE_TEXT: Record<string, string> = { builtin: 'built-in', file: 'file', imported: 'imported' };

export async function render(ctx: PageContext): Promise<void> {
  const filter = h('input', { type: 'search', id: 'dash-filter', placeholder: 'Filter by title or tag', value: ctx.params.get('q') ?? '' });
  const listEl = h('div', { class: 'dash-list', 'aria-live': 'polite' });
  const importResult = h('div', { class: 'import-result' });
  const area = h('textarea', { id: 'import-json', rows: 8, spellcheck: 'false', placeholder: '{"dashboard": {...}} or the dashboard JSON itself' });
  const file = h('input', { type: 'file', id: 'import-file', accept: 'application/json,.json' });
  const importBtn = h('button', { type: 'button', class: 'primary' }, 'Import');
  let items: Listed[] = [];

  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = items.filter((d) => !q || d.title.toLowerCase().includes(q) || d.uid.toLowerCase().includes(q) || (d.tags ?? []).some((t) => t.toLowerCase().includes(q)));
    if (!items.length) { replace(listEl, notice('empty', 'No dashboards: the built-in ones ship with Tyto; add files with ui.dashboards in tyto.yml, or import a Grafana dashboard below.')); return; }
    if (!shown.length) { replace(listEl, notice('empty', `No dashboard matches "${filter.value}".`)); return; }
    const rows = shown.map((d) => {
      // A file or an imported copy under a built-in uid replaces that page's dashboard.
      const to = BUILTIN_PAGES.has(d.uid) ? href(d.uid) : href(`d/${encodeURIComponent(d.uid)}`);
      const del = d.source === 'imported'
        ? h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${d.title}`, onclick: () => remove(d) }, 'Delete')
        : null;
      return h('tr', null,
        h('td', null, link(to, d.title || d.uid)),
        h('td', { class: 'mono' }, d.uid),
        h('td', null, ...(d.tags ?? []).map((t) => h('span', { class: 'tag' }, t))),
        h('td', null, SOURCE_TEXT[d.source] ?? d.source),
        h('td', null, del));
    });
    replace(listEl, h('table', { class: 'data' },
      h('thead', null, h('tr', null, ...['Title', 'UID', 'Tags', 'Source', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, ...rows)));
  };

  const load = async () => {
    try {
      items = await getData<Listed[]>('/api/v1/dashboards', undefined, ctx.signal);
      items.sort((a, b) => (a.source === 'builtin' ? 0 : 1) - (b.source === 'builtin' ? 0 : 1) || a.title.localeCompare(b.title));
      draw();
    } catch (e) {
      if (!ctx.signal.aborted) replace(listEl, notice('error', `Could not list the dashboards: ${(e as Error).message}`));
    }
  };

  const remove = async (d: Listed) => {
    if (!window.confirm(`Delete the imported dashboard "${d.title}"?`)) return;
    try {
      await send('DELETE', `/api/v1/dashboards/${encodeURIComponent(d.uid)}`, undefined, ctx.signal);
      replace(importResult, notice('info', `Deleted "${d.title}".`));
      await load();
    } catch (e) {
      if (!ctx.signal.aborted) replace(importResult, notice('error', `Could not delete "${d.title}": ${(e as Error).message}`));
    }
  };

  const doImport = async () => {
    const text = area.value.trim();
    if (!text) { replace(importResult, notice('error', 'Paste a dashboard JSON or choose a file first.')); return; }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      replace(importResult, notice('error', `This is not JSON: ${(e as Error).message}`));
      return;
    }
    importBtn.disabled = true;
    try {
      const res = await send<{ data: { uid: string; warnings?: string[] } }>('POST', '/api/v1/dashboards', body, ctx.signal);
      const { uid, warnings = [] } = res.data;
      replace(importResult,
        notice('info', `Imported as "${uid}".`),
        h('p', null, link(href(`d/${encodeURIComponent(uid)}`), 'Open it')),
        warnings.length ? h('div', { class: 'notice notice-empty', role: 'status' }, h('strong', null, `${warnings.length} warning${warnings.length > 1 ? 's' : ''}:`),
          h('ul', null, ...warnings.slice(0, 100).map((w) => h('li', null, w)))) : null);
      area.value = '';
      file.value = '';
      await load();
    } catch (e) {
      if (ctx.signal.aborted) return;
      const msg = e instanceof ApiError ? e.message : (e as Error).message;
      replace(importResult, notice('error', `Import failed: ${msg}`));
    } finally {
      importBtn.disabled = false;
    }
  };

  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (!f) return;
    if (f.size > 5 * 1024 * 1024) { replace(importResult, notice('error', 'That file is over 5 MiB: a dashboard JSON is much smaller.')); return; }
    area.value = await f.text();
  });
  importBtn.addEventListener('click', () => void doImport());
  filter.addEventListener('input', () => {
    ctx.setParams({ q: filter.value || null });
    draw();
  });

  replace(ctx.root,
    h('h1', null, 'Dashboards'),
    h('p', { class: 'muted' }, 'Every page of Fleet, GPU, Models, Quality, Drift and Pipelines is a dashboard file: copy one (Copy JSON on its page), edit it, and load it with ui.dashboards in tyto.yml, or import it here. Grafana dashboards whose panels query Prometheus import as they are.'),
    h('div', { class: 'toolbar' }, h('label', { for: 'dash-filter' }, 'Filter'), filter),
    listEl,
    h('section', { class: 'panel import', 'aria-labelledby': 'import-title' },
      h('h2', { id: 'import-title' }, 'Import a Grafana dashboard'),
      h('p', { class: 'muted' }, 'Export it from Grafana (Share → Export → Save to file), then choose the file or paste its JSON. Data source fields are ignored: Tyto answers the Prometheus queries.'),
      h('div', { class: 'toolbar' }, h('label', { for: 'import-file' }, 'File'), file),
      h('label', { for: 'import-json' }, 'Dashboard JSON'),
      area,
      h('div', { class: 'toolbar' }, importBtn),
      importResult));
  replace(listEl, h('p', { class: 'loading' }, 'Loading…'));
  await load();
}
