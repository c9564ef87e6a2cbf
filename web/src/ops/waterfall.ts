// A trace's waterfall: one row per span, nested under its parent (collapsible), a bar on the
// trace's time axis coloured by service, error spans marked. The rows form an ARIA tree: arrow
// keys move (selection follows focus), Left/Right collapse and expand, Home/End jump.

import { h } from '../dom';
import { seriesColor } from '../theme';
import { durationMs, nanosToMs } from './common';

export interface Span {
  spanId: string; parentSpanId: string; depth: number; orphan: boolean; service: string; name: string; kind: string;
  startTimeUnixNano: string; endTimeUnixNano: string; durationMs: number; status: string; statusMessage?: string;
  attributes: Record<string, string>; resource: Record<string, string>;
  events: { timeUnixNano: string; name: string; attributes: Record<string, string> }[];
}

export interface WaterfallOptions {
  selected?: string | null;
  onSelect: (span: Span) => void;
}

export class Waterfall {
  readonly el: HTMLElement;
  readonly start: number; // ms
  readonly end: number;
  readonly services: string[];
  private readonly rowsEl: HTMLElement;
  private readonly children = new Map<string, number>();
  private readonly collapsed = new Set<string>();
  private readonly rows = new Map<string, HTMLElement>();
  private selected: string | null;

  constructor(private readonly spans: Span[], private readonly opts: WaterfallOptions) {
    this.start = Math.min(...spans.map((s) => nanosToMs(s.startTimeUnixNano)));
    this.end = Math.max(...spans.map((s) => nanosToMs(s.endTimeUnixNano)));
    this.services = [...new Set(spans.map((s) => s.service))];
    for (const s of spans) if (s.parentSpanId) this.children.set(s.parentSpanId, (this.children.get(s.parentSpanId) ?? 0) + 1);
    this.selected = opts.selected && spans.some((s) => s.spanId === opts.selected) ? opts.selected : spans[0]?.spanId ?? null;
    this.rowsEl = h('div', { class: 'ops-wf-rows', role: 'tree', 'aria-label': 'Spans' });
    this.rowsEl.addEventListener('keydown', (e) => this.key(e));
    this.el = h('div', { class: 'ops-wf' }, this.axis(), this.rowsEl);
    this.build();
  }

  colorOf(service: string): string {
    return seriesColor(Math.max(0, this.services.indexOf(service)));
  }

  selectedSpan(): Span | null {
    return this.spans.find((s) => s.spanId === this.selected) ?? null;
  }

  // Redraws the bars' colours (after a theme change).
  recolor(): void {
    this.build();
  }

  private axis(): HTMLElement {
    const total = this.end - this.start;
    const ticks = h('div', { class: 'ops-wf-ticks', 'aria-hidden': 'true' });
    for (let i = 0; i <= 4; i++) {
      ticks.append(h('span', { class: 'ops-wf-tick', style: { left: `${i * 25}%` } }, i === 0 ? '0' : durationMs((total * i) / 4)));
    }
    return h('div', { class: 'ops-wf-axis' }, h('div', null, `Span (${this.spans.length})`), h('div', { class: 'ops-wf-dur' }, 'Duration'), ticks);
  }

  private hidden(s: Span, byId: Map<string, Span>): boolean {
    let p = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
    for (let guard = 0; p && guard < 10000; guard++) {
      if (this.collapsed.has(p.spanId)) return true;
      p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined;
    }
    return false;
  }

  private build(): void {
    const byId = new Map(this.spans.map((s) => [s.spanId, s]));
    const total = Math.max(1e-6, this.end - this.start);
    const focused = this.rowsEl.contains(document.activeElement);
    this.rows.clear();
    const out: HTMLElement[] = [];
    for (const s of this.spans) {
      if (this.hidden(s, byId)) continue;
      const a = nanosToMs(s.startTimeUnixNano) - this.start;
      const left = (a / total) * 100;
      const width = Math.max(0, (s.durationMs / total) * 100);
      const n = this.children.get(s.spanId) ?? 0;
      const isErr = s.status === 'error';
      const color = this.colorOf(s.service);
      const toggle = n ? h('button', {
        type: 'button', class: 'ops-wf-toggle', tabindex: '-1', 'aria-label': `${this.collapsed.has(s.spanId) ? 'Expand' : 'Collapse'} ${n} child spans`,
        onclick: (e: Event) => { e.stopPropagation(); this.toggle(s.spanId); },
      }, this.collapsed.has(s.spanId) ? '▶' : '▼') : h('span', { class: 'ops-wf-toggle', 'aria-hidden': 'true' }, '');
      const row = h('div', {
        class: 'ops-wf-row', role: 'treeitem', 'aria-level': String(s.depth + 1), 'aria-selected': String(s.spanId === this.selected),
        'aria-expanded': n ? String(!this.collapsed.has(s.spanId)) : undefined, tabindex: s.spanId === this.selected ? '0' : '-1',
        'data-span': s.spanId, 'aria-label': `${s.service} ${s.name}, ${durationMs(s.durationMs)}${isErr ? ', error' : ''}`,
        onclick: () => this.select(s.spanId, true),
      },
        h('div', { class: 'ops-wf-name', style: { paddingLeft: `${6 + Math.min(s.depth, 24) * 14}px` } },
          toggle, h('span', { class: 'ops-wf-svc', style: { background: color }, 'aria-hidden': 'true' }),
          isErr ? h('span', { class: 'ops-err-mark', title: 'Error' }, '!') : null,
          h('span', { class: 'ops-wf-text', title: `${s.service}: ${s.name}` }, h('span', { class: 'muted' }, s.service), ' ', s.name),
          s.orphan ? h('span', { class: 'muted', title: 'Its parent span was not received' }, ' (orphan)') : null),
        h('div', { class: 'ops-wf-dur', 'aria-hidden': 'true' }, durationMs(s.durationMs)),
        h('div', { class: 'ops-wf-bar-cell', 'aria-hidden': 'true' },
          h('div', { class: `ops-wf-bar${isErr ? ' ops-wf-error' : ''}`, style: { left: `${left}%`, width: `${width}%`, background: color } })));
      this.rows.set(s.spanId, row);
      out.push(row);
    }
    this.rowsEl.replaceChildren(...out);
    if (focused && this.selected) this.rows.get(this.selected)?.focus();
  }

  private toggle(id: string): void {
    if (this.collapsed.has(id)) this.collapsed.delete(id);
    else this.collapsed.add(id);
    this.build();
    this.rows.get(id)?.focus();
  }

  select(id: string, focus: boolean): void {
    const prev = this.selected ? this.rows.get(this.selected) : undefined;
    if (prev) { prev.setAttribute('aria-selected', 'false'); prev.tabIndex = -1; }
    this.selected = id;
    const row = this.rows.get(id);
    if (row) {
      row.setAttribute('aria-selected', 'true');
      row.tabIndex = 0;
      if (focus) row.focus();
      row.scrollIntoView({ block: 'nearest' });
    }
    const s = this.selectedSpan();
    if (s) this.opts.onSelect(s);
  }

  private key(e: KeyboardEvent): void {
    const order = [...this.rows.keys()];
    const i = this.selected ? order.indexOf(this.selected) : -1;
    const s = this.selectedSpan();
    let next: string | undefined;
    switch (e.key) {
      case 'ArrowDown': next = order[Math.min(order.length - 1, i + 1)]; break;
      case 'ArrowUp': next = order[Math.max(0, i - 1)]; break;
      case 'Home': next = order[0]; break;
      case 'End': next = order[order.length - 1]; break;
      case 'ArrowRight':
        if (s && this.collapsed.has(s.spanId)) { this.toggle(s.spanId); e.preventDefault(); return; }
        if (s && this.children.get(s.spanId)) next = order[i + 1];
        break;
      case 'ArrowLeft':
        if (s && this.children.get(s.spanId) && !this.collapsed.has(s.spanId)) { this.toggle(s.spanId); e.preventDefault(); return; }
        if (s?.parentSpanId && this.rows.has(s.parentSpanId)) next = s.parentSpanId;
        break;
      case 'Enter': case ' ':
        if (s) this.opts.onSelect(s);
        e.preventDefault();
        return;
      default: return;
    }
    e.preventDefault();
    if (next) this.select(next, true);
  }
}
