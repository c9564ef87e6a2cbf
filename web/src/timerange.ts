// The time range every page shows, kept in the URL (?from=now-1h&to=now, or absolute unix ms),
// as Grafana does, so a shared link shows the same window.

export interface TimeRange {
  from: string; // "now-1h" or unix milliseconds
  to: string;   // "now" or unix milliseconds
}

export const PRESETS: { label: string; from: string }[] = [
  { label: 'Last 5 minutes', from: 'now-5m' },
  { label: 'Last 15 minutes', from: 'now-15m' },
  { label: 'Last 1 hour', from: 'now-1h' },
  { label: 'Last 6 hours', from: 'now-6h' },
  { label: 'Last 24 hours', from: 'now-24h' },
  { label: 'Last 7 days', from: 'now-7d' },
];

export const DEFAULT_RANGE: TimeRange = { from: 'now-15m', to: 'now' };

const UNIT_MS: Record<string, number> = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 };

// Unix milliseconds of "now", "now-5m", or a number; NaN when malformed.
export function resolveTime(t: string, now = Date.now()): number {
  if (t === 'now') return now;
  const m = /^now-(\d+)([smhdw])$/.exec(t);
  if (m) return now - parseInt(m[1], 10) * UNIT_MS[m[2]];
  if (/^\d+$/.test(t)) return parseInt(t, 10);
  const d = Date.parse(t);
  return d;
}

export function resolveRange(r: TimeRange, now = Date.now()): { start: number; end: number } {
  let start = resolveTime(r.from, now);
  let end = resolveTime(r.to, now);
  if (!isFinite(end)) end = now;
  if (!isFinite(start) || start >= end) start = end - 15 * 60e3;
  return { start, end };
}

export function isRelative(r: TimeRange): boolean {
  return r.to === 'now';
}

// A step (seconds) that gives about `points` points over the range, rounded to a nice value and
// never below `minStep` (the scrape interval, so rate() windows have samples).
export function stepFor(startMs: number, endMs: number, points = 300, minStep = 5): number {
  const raw = (endMs - startMs) / 1000 / points;
  const nice = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];
  for (const n of nice) if (n >= raw) return Math.max(n, minStep);
  return Math.max(Math.ceil(raw / 86400) * 86400, minStep);
}

export function describe(r: TimeRange): string {
  const p = PRESETS.find((x) => x.from === r.from && r.to === 'now');
  if (p) return p.label;
  const { start, end } = resolveRange(r);
  return `${new Date(start).toLocaleString()} – ${new Date(end).toLocaleString()}`;
}
