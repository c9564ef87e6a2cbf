// DashboardView: renders a normalized dashboard into a page: the header (title, Copy JSON and
// Download JSON), the variables bar (values in the URL as var-<name>=), rows and panels on
// Grafana's 24-column grid, and the side panel for drill-downs. Panels refresh in place on each
// live tick when the time range is relative; a refresh never starts while one is running.

import { rangeQuery } from '../api';
import type { Marker } from '../chart';
import { h, notice, replace } from '../dom';
import type { PageContext } from '../router';
import { resolveRange, stepFor } from '../timerange';
import { byPosition, type Dashboard, type Panel } from './model';
import { errorText, isAbort, type PanelEnv, type PanelView } from './panel';
import { STANDARD, annotationMarkers, unsupported } from './panels';
import { TYTO_PANELS, deploymentMarkers } from './tyto_panels';
import { ALL, SCRAPE_INTERVAL_S, interpolate, loadOptions, minInterval, pickValues, type VariableState } from './variables';

interface Mounted { panel: Panel; view: PanelView; el: HTMLElement }

interface Section { row?: Panel; panels: Panel[]; el?: HTMLElement; grid?: HTMLElement; mounted: boolean }

const UNIT_PX = 30; // Grafana's grid row height, gap included

export class DashboardView {
  private vars = new Map<string, VariableState>();
  private mounted: Mounted[] = [];
  private sections: Section[] = [];
  private running = false;
  private varBar = h('div', { class: 'dash-vars', role: 'group', 'aria-label': 'Dashboard variables' });
  private body = h('div', { class: 'dash-body' });
  private side = h('aside', { class: 'dash-side', hidden: true, tabindex: '-1' });
  private warnings = h('div', { class: 'dash-warnings' });

  constructor(private ctx: PageContext, private dash: Dashboard) {}

  async render(): Promise<void> {
    const { ctx, dash } = this;
    const actions = h('div', { class: 'dash-actions' },
      h('button', { type: 'button', onclick: () => this.copyJson(), title: 'Copy the dashboard JSON to edit it or load it in Tyto or Grafana' }, 'Copy JSON'),
      h('button', { type: 'button', onclick: () => this.downloadJson() }, 'Download JSON'));
    const header = h('div', { class: 'dash-header' },
      h('div', null,
        h('h1', null, dash.title),
        dash.description ? h('p', { class: 'muted dash-desc' }, dash.description) : null),
      actions);
    replace(ctx.root, header, this.varBar, this.warnings, this.body, this.side);
    ctx.signal.addEventListener('abort', () => this.destroy());
    document.addEventListener('keydown', this.onKey);
    await this.loadVariables(0);
    this.layout();
    await this.refresh();
    ctx.onTick(() => {
      if (ctx.range.to === 'now') void this.refresh();
    });
  }

  private onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape' && !this.side.hidden) this.closeSide();
  };

  private destroy(): void {
    document.removeEventListener('keydown', this.onKey);
    for (const m of this.mounted) m.view.destroy?.();
    this.mounted = [];
  }

  private range(): { start: number; end: number } {
    return resolveRange(this.ctx.range);
  }

  // ---- variables ----

  private urlValues(name: string): string[] {
    return new URLSearchParams(window.location.search).getAll(`var-${name}`);
  }

  // Resolves variables from index `from` on (a change re-resolves those after it, which may use it).
  private async loadVariables(from: number): Promise<void> {
    const r = this.range();
    const macros = { intervalS: stepFor(r.start, r.end, 300, SCRAPE_INTERVAL_S), rangeS: (r.end - r.start) / 1000 };
    const defs = this.dash.variables;
    for (let i = from; i < defs.length; i++) {
      const def = defs[i];
      const st: VariableState = { def, options: [], values: [] };
      try {
        st.options = await loadOptions(def, (s) => interpolate(s, this.vars, macros, 'promql'), r, this.ctx.signal);
      } catch (e) {
        if (isAbort(e)) throw e;
        st.error = errorText(e);
      }
      st.values = pickValues(def, st.options, this.urlValues(def.name));
      this.vars.set(def.name, st);
    }
    this.drawVariables();
  }

  private drawVariables(): void {
    const items: HTMLElement[] = [];
    this.dash.variables.forEach((def, index) => {
      const st = this.vars.get(def.name);
      if (!st || def.hide === 2 || def.type === 'constant') return;
      const id = `var-${def.name}`;
      const label = def.label ?? def.name;
      let control: HTMLElement;
      if (def.type === 'textbox') {
        const input = h('input', { type: 'text', id, value: st.values[0] ?? '', class: 'var-text' });
        input.addEventListener('change', () => this.setVariable(index, [input.value]));
        control = input;
      } else if (def.multi) {
        control = this.multiSelect(index, st, id, label);
      } else {
        const sel = h('select', { id },
          def.includeAll ? h('option', { value: ALL, selected: st.values[0] === ALL }, 'All') : null,
          ...st.options.slice(0, 2000).map((o) => h('option', { value: o.value, selected: st.values[0] === o.value }, o.text)));
        sel.addEventListener('change', () => this.setVariable(index, [sel.value]));
        control = sel;
      }
      items.push(h('div', { class: 'var' },
        def.hide === 1 ? null : h('label', { for: id }, label),
        control,
        st.error ? h('span', { class: 'crit var-error', role: 'alert' }, st.error) : null,
        !st.error && !st.options.length && def.type === 'query' ? h('span', { class: 'muted' }, 'no values') : null));
    });
    this.varBar.hidden = items.length === 0;
    replace(this.varBar, ...items);
  }

  private multiSelect(index: number, st: VariableState, id: string, label: string): HTMLElement {
    const all = st.values.length === 1 && st.values[0] === ALL;
    const summary = all ? 'All' : st.values.length ? st.values.map((v) => st.options.find((o) => o.value === v)?.text ?? v).join(' + ') : 'None';
    const boxes: HTMLInputElement[] = [];
    const apply = () => {
      const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
      this.setVariable(index, chosen.includes(ALL) || !chosen.length ? (st.def.includeAll ? [ALL] : chosen) : chosen);
    };
    const opts = [
      ...(st.def.includeAll ? [{ text: 'All', value: ALL }] : []),
      ...st.options.slice(0, 500),
    ].map((o) => {
      const box = h('input', { type: 'checkbox', value: o.value });
      box.checked = all ? o.value === ALL : st.values.includes(o.value);
      box.addEventListener('change', () => {
        if (o.value === ALL && box.checked) boxes.forEach((b) => { if (b !== box) b.checked = false; });
        else if (box.checked) boxes.forEach((b) => { if (b.value === ALL) b.checked = false; });
      });
      boxes.push(box);
      return h('label', { class: 'var-option' }, box, o.text);
    });
    const details = h('details', { class: 'var-multi', id },
      h('summary', { 'aria-label': `${label}: ${summary}` }, summary),
      h('div', { class: 'var-menu' }, ...opts, h('button', { type: 'button', class: 'primary', onclick: () => { details.open = false; apply(); } }, 'Apply')));
    return details;
  }

  private setVariable(index: number, values: string[]): void {
    const def = this.dash.variables[index];
    const u = new URL(window.location.href);
    u.searchParams.delete(`var-${def.name}`);
    for (const v of values) u.searchParams.append(`var-${def.name}`, v === ALL ? '$__all' : v);
    history.replaceState(null, '', u.pathname + u.search);
    const st = this.vars.get(def.name);
    if (st) st.values = values;
    void (async () => {
      try {
        await this.loadVariables(index + 1);
        this.drawVariables();
        await this.refresh(true);
      } catch (e) {
        if (!isAbort(e)) replace(this.warnings, notice('error', errorText(e)));
      }
    })();
  }

  // ---- layout ----

  private layout(): void {
    const top = byPosition(this.dash.panels);
    const sections: Section[] = [{ panels: [], mounted: false }];
    for (const p of top) {
      if (p.type === 'row') {
        sections.push({ row: p, panels: [...(p.panels ?? [])], mounted: false });
        // A collapsed row holds its own panels; top-level panels after it stay in view (Grafana).
        if (p.collapsed) sections.push({ panels: [], mounted: false });
      } else {
        sections[sections.length - 1].panels.push(p);
      }
    }
    this.sections = sections.filter((s) => s.row || s.panels.length);
    if (!this.sections.length) {
      replace(this.body, notice('empty', 'This dashboard has no panels. Add panels to its JSON (docs/dashboards.md).'));
      return;
    }
    const els = this.sections.map((s) => {
      const grid = h('div', { class: 'grid dash-grid' });
      s.grid = grid;
      const parts: HTMLElement[] = [];
      if (s.row) {
        const title = this.text(s.row.title);
        const btn = h('button', { type: 'button', class: 'row-toggle', 'aria-expanded': String(!s.row.collapsed) }, h('span', { class: 'chev', 'aria-hidden': 'true' }, s.row.collapsed ? '▸' : '▾'), ' ', title);
        btn.addEventListener('click', () => {
          s.row!.collapsed = !s.row!.collapsed;
          btn.setAttribute('aria-expanded', String(!s.row!.collapsed));
          btn.querySelector('.chev')!.textContent = s.row!.collapsed ? '▸' : '▾';
          grid.hidden = !!s.row!.collapsed;
          if (!s.row!.collapsed && !s.mounted) { this.mountSection(s); void this.refresh(true); }
        });
        parts.push(h('h2', { class: 'dash-row' }, btn));
      }
      grid.hidden = !!s.row?.collapsed;
      parts.push(grid);
      if (!s.row?.collapsed) this.mountSection(s);
      s.el = h('section', { class: 'dash-section' }, ...parts);
      return s.el;
    });
    replace(this.body, ...els);
  }

  private mountSection(s: Section): void {
    s.mounted = true;
    const ps = byPosition(s.panels);
    const y0 = ps.length ? Math.min(...ps.map((p) => p.gridPos.y)) : 0;
    for (const p of ps) {
      const el = this.panelElement(p, y0);
      s.grid!.append(el);
    }
  }

  private text(s: string): string {
    const r = this.range();
    return interpolate(s, this.vars, { intervalS: stepFor(r.start, r.end, 300, SCRAPE_INTERVAL_S), rangeS: (r.end - r.start) / 1000 }, 'text');
  }

  private panelElement(p: Panel, y0: number): HTMLElement {
    const { x, y, w, h: ph } = p.gridPos;
    const body = h('div', { class: 'panel-body' });
    const titleId = `panel-title-${p.id}`;
    const titleText = this.text(p.title);
    // Long titles wrap to two lines, then end in an ellipsis; the full title is the tooltip.
    const title = h('h3', { class: 'panel-title', id: titleId },
      h('span', { class: 'panel-title-text', title: titleText || undefined }, titleText || '\u00a0'),
      p.description ? h('span', { class: 'panel-info', title: p.description, tabindex: '0', role: 'note', 'aria-label': `About: ${p.description}` }, 'i') : null,
      ...p.links.slice(0, 3).map((l) => h('a', { class: 'panel-link', href: this.linkHref(l.url), 'data-link': this.linkHref(l.url).startsWith('/ui/') ? true : undefined }, l.title || 'Link')));
    const el = h('section', {
      class: `panel dash-panel type-${p.type.replace(/[^a-z0-9-]/gi, '')}`,
      'aria-labelledby': titleId,
      style: {
        gridColumn: `${x + 1} / span ${Math.min(w, 24 - x)}`,
        gridRow: `${y - y0 + 1} / span ${ph}`,
        minHeight: `${ph * UNIT_PX - 8}px`,
      },
    }, title, body);
    const factory = STANDARD[p.type] ?? TYTO_PANELS[p.type] ?? unsupported;
    let view: PanelView;
    try {
      view = factory(p, body);
    } catch (e) {
      body.append(notice('error', errorText(e)));
      view = { update: async () => {} };
    }
    this.mounted.push({ panel: p, view, el });
    return el;
  }

  private linkHref(url: string): string {
    let u = this.text(url);
    if (u.startsWith('/d/')) u = '/ui' + u;
    return /^(https?:|\/)/.test(u) ? u : '#';
  }

  // ---- refresh ----

  private async refresh(force = false): Promise<void> {
    if (this.running && !force) return;
    this.running = true;
    try {
      const r = this.range();
      const rangeS = (r.end - r.start) / 1000;
      let markers: Promise<Marker[]> | null = null;
      const base: Omit<PanelEnv, 'step' | 'macros'> = {
        ctx: this.ctx,
        start: r.start,
        end: r.end,
        vars: this.vars,
        annotations: this.dash.annotations,
        signal: this.ctx.signal,
        openSide: (t, b) => this.openSide(t, b),
        markers: () => (markers ??= this.loadMarkers(r)),
      };
      await Promise.all(this.mounted.map(async (m) => {
        const min = Math.max(SCRAPE_INTERVAL_S, minInterval(m.panel.interval) ?? 0);
        const step = stepFor(r.start, r.end, 300, min);
        const env: PanelEnv = { ...base, step, macros: { intervalS: step, rangeS } };
        try {
          await m.view.update(env);
        } catch (e) {
          if (!isAbort(e)) m.el.querySelector('.panel-body')?.append(notice('error', errorText(e)));
        }
      }));
    } finally {
      this.running = false;
    }
  }

  private async loadMarkers(r: { start: number; end: number }): Promise<Marker[]> {
    const rangeS = (r.end - r.start) / 1000;
    const step = stepFor(r.start, r.end, 300, SCRAPE_INTERVAL_S);
    const env = { start: r.start, end: r.end, signal: this.ctx.signal } as PanelEnv;
    const out: Marker[] = [];
    const problems: string[] = [];
    await Promise.all(this.dash.annotations.filter((a) => a.enable).map(async (a) => {
      try {
        if (a.type === 'tyto-deployments') {
          const model = a.model ? interpolate(a.model, this.vars, { intervalS: step, rangeS }, 'text') : undefined;
          out.push(...await deploymentMarkers(env, model, a.iconColor));
        } else if (a.expr) {
          const expr = interpolate(a.expr, this.vars, { intervalS: step, rangeS }, 'promql');
          const res = await rangeQuery(expr, r.start / 1000, r.end / 1000, step, this.ctx.signal);
          out.push(...annotationMarkers(res, a, step));
        }
      } catch (e) {
        if (isAbort(e)) throw e;
        problems.push(`annotation ${a.name}: ${errorText(e)}`);
      }
    }));
    replace(this.warnings, ...problems.map((p) => notice('error', p)));
    return out;
  }

  // ---- side panel ----

  private openSide(title: string, body: HTMLElement): void {
    const close = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close the side panel', onclick: () => this.closeSide() }, '✕');
    replace(this.side, h('header', { class: 'side-head' }, h('h2', null, title), close), body);
    this.side.setAttribute('aria-label', title);
    this.side.hidden = false;
    this.side.focus();
  }

  private closeSide(): void {
    this.side.hidden = true;
    this.side.replaceChildren();
  }

  // ---- JSON ----

  private json(): string {
    return JSON.stringify(this.dash.raw, null, 2);
  }

  private async copyJson(): Promise<void> {
    const text = this.json();
    try {
      await navigator.clipboard.writeText(text);
      this.flash('Copied the dashboard JSON.');
    } catch {
      const area = h('textarea', { class: 'json-fallback', 'aria-label': 'Dashboard JSON', readonly: true }, text);
      replace(this.warnings, notice('info', 'The clipboard is not available here: select the JSON below and copy it.'), area);
      area.select();
    }
  }

  private downloadJson(): void {
    const blob = new Blob([this.json()], { type: 'application/json' });
    const a = h('a', { href: URL.createObjectURL(blob), download: `${this.dash.uid || 'dashboard'}.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  private flash(text: string): void {
    const n = notice('info', text);
    replace(this.warnings, n);
    setTimeout(() => n.remove(), 2500);
  }
}
