// Client-side routing under /ui/: every view is a path plus query parameters, so any view can be
// shared as a link. Pages are loaded on demand (one chunk each) to keep the first paint small.

import type { Live } from './live';
import type { TimeRange } from './timerange';

export const BASE = '/ui/';

export interface PageContext {
  root: HTMLElement;       // the page's container (cleared before render)
  path: string[];          // segments after the page's name: /ui/d/fleet -> ['fleet']
  params: URLSearchParams; // the query string at render time
  range: TimeRange;        // from the URL (from=, to=), defaulting to the last 15 minutes
  signal: AbortSignal;     // aborted when the user leaves the page or it re-renders
  live: Live;
  // Calls `f` on every live tick while this page is shown (never after `signal` aborts).
  onTick(f: () => void): void;
  // Writes state into the URL without re-rendering (replace by default; push makes a history
  // entry). A null value removes the parameter.
  setParams(p: Record<string, string | null>, opts?: { push?: boolean }): void;
  // Goes to another view (a path under /ui/, with its query), re-rendering.
  navigate(href: string): void;
  // Changes the shared time range (re-rendering the page).
  setRange(r: TimeRange): void;
}

export interface PageModule {
  render(ctx: PageContext): void | Promise<void>;
}

export interface Route {
  name: string;       // first path segment
  label: string;      // shown in the navigation
  key?: string;       // "g <key>" jumps here
  nav?: boolean;      // listed in the navigation bar (default true)
  load: () => Promise<PageModule>;
  // The API path of the data the page reads first, fetched while its code loads.
  prefetch?: (path: string[]) => string | null;
}

// Pages built as dashboards (Fleet, GPU, Models, Quality, Drift, Pipelines) render the built-in
// dashboard of the same uid, served by /api/v1/dashboards/<uid>: users can copy and edit them.
const dashboard = () => import('./pages/dashboard');
export const dashboardPath = (uid: string) => `/api/v1/dashboards/${encodeURIComponent(uid)}`;

export const ROUTES: Route[] = [
  { name: 'fleet', prefetch: () => dashboardPath('fleet'), label: 'Fleet', key: 'f', load: dashboard },
  { name: 'gpu', prefetch: () => dashboardPath('gpu'), label: 'GPU', nav: false, load: dashboard },
  { name: 'models', prefetch: () => dashboardPath('models'), label: 'Models', key: 'm', load: dashboard },
  { name: 'quality', prefetch: () => dashboardPath('quality'), label: 'Quality', key: 'q', load: dashboard },
  { name: 'drift', prefetch: () => dashboardPath('drift'), label: 'Drift', key: 'd', load: dashboard },
  { name: 'pipelines', prefetch: () => dashboardPath('pipelines'), label: 'Pipelines', key: 'p', load: dashboard },
  { name: 'alerts', label: 'Alerts', key: 'a', load: () => import('./pages/alerts') },
  { name: 'traces', label: 'Traces', key: 't', load: () => import('./pages/traces') },
  { name: 'logs', label: 'Logs', key: 'l', load: () => import('./pages/logs') },
  { name: 'explore', label: 'Explore', key: 'e', load: () => import('./pages/explore') },
  { name: 'dashboards', label: 'Dashboards', key: 'b', load: () => import('./pages/dashboards') },
  { name: 'd', label: 'Dashboard', nav: false, load: dashboard, prefetch: (p) => (p[0] ? dashboardPath(p[0]) : null) },
  { name: 'targets', label: 'Targets', key: 's', load: () => import('./pages/targets') },
  { name: 'status', label: 'Status', key: 'c', load: () => import('./pages/status') },
];

export const DEFAULT_ROUTE = 'fleet';

// Splits location into the route and the rest of the path.
export function parseLocation(loc: Location = window.location): { route: Route; path: string[]; params: URLSearchParams } {
  let p = loc.pathname.startsWith(BASE) ? loc.pathname.slice(BASE.length) : loc.pathname.replace(/^\/+/, '');
  p = p.replace(/\/+$/, '');
  const segs = p ? p.split('/').map(decodeURIComponent) : [];
  const name = segs[0] || DEFAULT_ROUTE;
  const route = ROUTES.find((r) => r.name === name) ?? ROUTES.find((r) => r.name === DEFAULT_ROUTE)!;
  return { route, path: segs.slice(1), params: new URLSearchParams(loc.search) };
}

// href for a page, keeping the shared time range.
export function href(path: string, params?: Record<string, string | undefined>, keepRange = true): string {
  const cur = new URLSearchParams(window.location.search);
  const out = new URLSearchParams();
  if (keepRange) {
    for (const k of ['from', 'to']) {
      const v = cur.get(k);
      if (v) out.set(k, v);
    }
  }
  if (params) for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') out.set(k, v);
  const q = out.toString();
  return BASE + path.replace(/^\/+/, '') + (q ? `?${q}` : '');
}
