// The app shell: header with navigation, live status, alert counters, time range and theme; the
// page area below it. Pages are modules loaded on demand (router.ts).

import './styles.css';
import { prefetchData, storeToken, storedToken } from './api';
import { h, replace, notice } from './dom';
import { Live } from './live';
import { BASE, ROUTES, parseLocation, href, type PageContext, type Route } from './router';
import { DEFAULT_RANGE, PRESETS, describe, type TimeRange } from './timerange';
import { setTheme, theme } from './theme';

const live = new Live(5);
let controller: AbortController | null = null;
let renderSeq = 0;

const app = document.getElementById('app')!;
const main = h('main', { id: 'main', tabindex: '-1' });
const navList = h('ul', { class: 'nav-list' });
const liveDot = h('span', { class: 'live-dot', role: 'status', 'aria-live': 'polite', title: 'Connecting' }, 'connecting');
const alertBadge = h('a', { class: 'badge', href: href('alerts'), 'data-link': true, 'aria-label': 'Alerts firing' }, '');
const rangeSelect = h('select', { 'aria-label': 'Time range', class: 'range' });
const themeButton = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Toggle dark or light theme', title: 'Theme (t)' });

function currentRange(params: URLSearchParams): TimeRange {
  return { from: params.get('from') || DEFAULT_RANGE.from, to: params.get('to') || DEFAULT_RANGE.to };
}

function buildShell(): void {
  for (const r of ROUTES) {
    if (r.nav === false) continue;
    navList.append(h('li', null, h('a', { href: href(r.name), 'data-link': true, 'data-route': r.name, title: r.key ? `g then ${r.key}` : undefined }, r.label)));
  }
  const refresh = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Refresh now', title: 'Refresh (r)', onclick: () => render() }, '⟳');
  themeButton.addEventListener('click', () => toggleTheme());
  rangeSelect.addEventListener('change', () => {
    const v = rangeSelect.value;
    if (v === 'custom') return;
    setRange({ from: v, to: 'now' });
  });
  const header = h('header', { class: 'topbar' },
    h('a', { class: 'brand', href: href('fleet'), 'data-link': true, 'aria-label': 'Tyto home' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '◉'), 'Tyto'),
    h('nav', { 'aria-label': 'Pages' }, navList),
    h('div', { class: 'topbar-right' }, alertBadge, liveDot, rangeSelect, refresh, themeButton),
  );
  replace(app, header, main);
  updateThemeButton();
  live.onState((s) => {
    liveDot.textContent = s;
    liveDot.className = `live-dot live-${s}`;
    liveDot.title = s === 'live' ? 'Updates pushed by the server' : s === 'polling' ? 'Server push unavailable: polling' : 'Connecting';
  });
  live.onAlerts((a) => {
    alertBadge.textContent = a.firing ? `${a.firing} firing` : a.pending ? `${a.pending} pending` : '';
    alertBadge.className = `badge ${a.firing ? 'badge-firing' : a.pending ? 'badge-pending' : ''}`;
  });
}

function updateRangeSelect(r: TimeRange): void {
  rangeSelect.replaceChildren();
  let matched = false;
  for (const p of PRESETS) {
    const sel = r.to === 'now' && r.from === p.from;
    matched ||= sel;
    rangeSelect.append(h('option', { value: p.from, selected: sel }, p.label));
  }
  if (!matched) rangeSelect.append(h('option', { value: 'custom', selected: true }, describe(r)));
}

function updateThemeButton(): void {
  themeButton.textContent = theme() === 'dark' ? '☀' : '☾';
}

function toggleTheme(): void {
  setTheme(theme() === 'dark' ? 'light' : 'dark');
  updateThemeButton();
}

function setRange(r: TimeRange): void {
  const u = new URL(window.location.href);
  u.searchParams.set('from', r.from);
  u.searchParams.set('to', r.to);
  history.pushState(null, '', u.pathname + u.search);
  render();
}

export function navigate(to: string): void {
  history.pushState(null, '', to);
  render();
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

async function render(): Promise<void> {
  const seq = ++renderSeq;
  controller?.abort();
  controller = new AbortController();
  const signal = controller.signal;
  const { route, path, params } = parseLocation();
  const range = currentRange(params);
  updateRangeSelect(range);
  for (const a of navList.querySelectorAll<HTMLAnchorElement>('a[data-route]')) {
    const r = a.dataset.route!;
    a.href = href(r);
    if (r === route.name || (route.name === 'gpu' && r === 'fleet') || (route.name === 'd' && r === 'dashboards')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  alertBadge.href = href('alerts');
  document.title = `${route.label} · Tyto`;
  const root = h('div', { class: `page page-${route.name}` });
  replace(main, root);
  const ctx: PageContext = {
    root,
    path,
    params,
    range,
    signal,
    live,
    onTick(f) {
      const off = live.onTick(() => { if (!signal.aborted) f(); });
      signal.addEventListener('abort', off);
    },
    setParams(p, opts) {
      const u = new URL(window.location.href);
      for (const [k, v] of Object.entries(p)) {
        if (v === null || v === '') u.searchParams.delete(k);
        else u.searchParams.set(k, v);
      }
      const to = u.pathname + u.search;
      if (opts?.push) history.pushState(null, '', to);
      else history.replaceState(null, '', to);
    },
    navigate,
    setRange,
  };
  const first = route.prefetch?.(path);
  if (first) prefetchData(first);
  let mod;
  try {
    mod = await route.load();
  } catch (e) {
    if (seq === renderSeq) replace(root, notice('error', `Could not load the ${route.label} page: ${(e as Error).message}`));
    return;
  }
  if (seq !== renderSeq) return;
  try {
    await mod.render(ctx);
  } catch (e) {
    if (signal.aborted) return;
    console.warn(e);
    root.append(notice('error', (e as Error).message));
  }
}

// ---- keyboard: "g x" jumps to a page, "t" theme, "r" refresh, "/" search, "?" help ----
let pendingG = 0;
function onKey(e: KeyboardEvent): void {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target as HTMLElement;
  if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) {
    if (e.key === 'Escape') t.blur();
    return;
  }
  if (pendingG && Date.now() - pendingG < 1500) {
    pendingG = 0;
    const r: Route | undefined = ROUTES.find((x) => x.key === e.key);
    if (r) { e.preventDefault(); navigate(href(r.name)); }
    return;
  }
  switch (e.key) {
    case 'g': pendingG = Date.now(); break;
    case 't': toggleTheme(); break;
    case 'r': render(); break;
    case '/': {
      const s = main.querySelector<HTMLElement>('input[type=search], textarea, input[type=text]');
      if (s) { e.preventDefault(); s.focus(); }
      break;
    }
    case '?': showHelp(); break;
  }
}

function showHelp(): void {
  const rows = ROUTES.filter((r) => r.key).map((r) => h('tr', null, h('td', null, h('kbd', null, 'g'), ' ', h('kbd', null, r.key!)), h('td', null, r.label)));
  const dlg = h('dialog', { class: 'help', 'aria-label': 'Keyboard shortcuts' },
    h('h2', null, 'Keyboard shortcuts'),
    h('table', null, h('tbody', null, rows,
      h('tr', null, h('td', null, h('kbd', null, 't')), h('td', null, 'Dark / light theme')),
      h('tr', null, h('td', null, h('kbd', null, 'r')), h('td', null, 'Refresh')),
      h('tr', null, h('td', null, h('kbd', null, '/')), h('td', null, 'Focus the search or query field')),
      h('tr', null, h('td', null, h('kbd', null, 'Esc')), h('td', null, 'Leave a field, close a dialog')))),
    h('form', { method: 'dialog' }, h('button', { type: 'submit' }, 'Close')));
  document.body.append(dlg);
  dlg.addEventListener('close', () => dlg.remove());
  dlg.showModal();
}

// ---- API token: asked for on the first 401 (auth.tokens in tyto.yml), kept for the session ----
let tokenDialog: HTMLDialogElement | null = null;
function askToken(message: string): void {
  if (tokenDialog) return;
  const input = h('input', { type: 'password', id: 'token-input', autocomplete: 'off', required: true, value: storedToken() });
  const dlg = h('dialog', { class: 'token-dialog', 'aria-labelledby': 'token-title' },
    h('h2', { id: 'token-title' }, 'This Tyto needs an API token'),
    h('p', null, `The server answered: ${message}. Enter a token with read access (write access to silence, acknowledge and approve). It is kept in this browser tab only.`),
    h('form', { method: 'dialog', class: 'toolbar' },
      h('label', { for: 'token-input' }, 'Token'), input,
      h('button', { type: 'submit', class: 'primary', value: 'use' }, 'Use token'),
      h('button', { type: 'submit', value: 'cancel', formnovalidate: true }, 'Cancel')));
  tokenDialog = dlg;
  document.body.append(dlg);
  dlg.addEventListener('close', () => {
    const use = dlg.returnValue === 'use' && input.value.trim();
    dlg.remove();
    tokenDialog = null;
    if (use) {
      storeToken(input.value.trim());
      live.restart();
      render();
    }
  });
  dlg.showModal();
  input.focus();
}
window.addEventListener('tyto:unauthorized', (e) => askToken(String((e as CustomEvent).detail ?? 'unauthorized')));

document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element).closest?.('a[data-link]') as HTMLAnchorElement | null;
  if (!a || a.target || !a.pathname.startsWith(BASE) || a.origin !== window.location.origin) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
});
window.addEventListener('popstate', () => render());
document.addEventListener('keydown', onKey);

buildShell();
live.start();
render();
