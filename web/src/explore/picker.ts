// A searchable list in a modal dialog: Explore's metrics browser and query history. Typing filters;
// Up/Down move, Enter picks, Escape closes. At most 300 rows are drawn however long the list is.

import { h, notice } from '../dom';

export interface PickerItem { text: string; detail?: string; help?: string }

export interface PickerOptions {
  title: string;
  searchLabel: string;
  empty: string;                 // shown when there are no items at all
  load: () => Promise<PickerItem[]>;
  onPick: (item: PickerItem) => void;
  extra?: HTMLElement;           // e.g. a "Clear history" button
}

const MAX_ROWS = 300;

export function openPicker(o: PickerOptions): void {
  const search = h('input', { type: 'search', 'aria-label': o.searchLabel, placeholder: 'Filter', class: 'pk-search' });
  const list = h('ul', { class: 'pk-list', role: 'listbox', 'aria-label': o.title, id: 'pk-list' });
  const status = h('div', { class: 'pk-status muted', role: 'status' }, 'Loading…');
  const close = h('button', { type: 'button', 'aria-label': 'Close', class: 'icon-button' }, '✕');
  const dlg = h('dialog', { class: 'pk', 'aria-label': o.title },
    h('div', { class: 'pk-head' }, h('h2', null, o.title), o.extra ?? null, close),
    search, status, list);
  document.body.append(dlg);
  close.addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => dlg.remove());
  dlg.showModal();
  search.focus();

  let items: PickerItem[] = [];
  let shown: PickerItem[] = [];
  let active = 0;
  const render = () => {
    const q = search.value.trim().toLowerCase();
    const words = q.split(/\s+/).filter(Boolean);
    shown = items.filter((it) => {
      const t = `${it.text} ${it.help ?? ''}`.toLowerCase();
      return words.every((w) => t.includes(w));
    });
    // names that match come before those matched by their help only
    if (words.length) shown.sort((a, b) => Number(!a.text.toLowerCase().includes(words[0])) - Number(!b.text.toLowerCase().includes(words[0])));
    active = 0;
    const frag = document.createDocumentFragment();
    shown.slice(0, MAX_ROWS).forEach((it, i) => {
      frag.append(h('li', { role: 'option', id: `pk-o${i}`, 'aria-selected': i === 0 ? 'true' : 'false', 'data-index': i },
        h('span', { class: 'pk-text mono' }, it.text),
        it.detail ? h('span', { class: 'pk-detail' }, it.detail) : null,
        it.help ? h('div', { class: 'pk-help' }, it.help) : null));
    });
    list.replaceChildren(frag);
    status.textContent = items.length === 0 ? o.empty
      : shown.length === 0 ? 'Nothing matches the filter.'
        : shown.length > MAX_ROWS ? `${shown.length} match; the first ${MAX_ROWS} are listed: type to narrow.` : `${shown.length} of ${items.length}`;
    search.setAttribute('aria-activedescendant', shown.length ? 'pk-o0' : '');
  };
  const setActive = (i: number) => {
    const n = Math.min(shown.length, MAX_ROWS);
    if (!n) return;
    list.children[active]?.setAttribute('aria-selected', 'false');
    active = (i + n) % n;
    const li = list.children[active] as HTMLElement;
    li.setAttribute('aria-selected', 'true');
    li.scrollIntoView({ block: 'nearest' });
    search.setAttribute('aria-activedescendant', li.id);
  };
  const pick = (i: number) => {
    const it = shown[i];
    if (!it) return;
    dlg.close();
    o.onPick(it);
  };
  search.setAttribute('role', 'combobox');
  search.setAttribute('aria-controls', 'pk-list');
  search.setAttribute('aria-expanded', 'true');
  search.addEventListener('input', render);
  search.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') { e.preventDefault(); setActive(active + 1); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); setActive(active - 1); }
    else if (e.key === 'Enter') { e.preventDefault(); pick(active); }
  });
  list.addEventListener('click', (e) => {
    const li = (e.target as Element).closest('li[data-index]') as HTMLElement | null;
    if (li) pick(parseInt(li.dataset.index!, 10));
  });
  o.load().then((its) => {
    items = its;
    render();
  }, (e: Error) => {
    status.replaceWith(notice('error', `Could not load the list: ${e.message}`));
  });
}
