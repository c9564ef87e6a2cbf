// Query history for Explore: the last 50 distinct queries run, newest first, in localStorage.

const KEY = 'tyto.explore.history';
const MAX = 50;

export function loadHistory(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, MAX) : [];
  } catch {
    return [];
  }
}

export function addHistory(expr: string): void {
  const e = expr.trim();
  if (!e) return;
  const list = [e, ...loadHistory().filter((x) => x !== e)].slice(0, MAX);
  try { localStorage.setItem(KEY, JSON.stringify(list)); } catch { /* storage full or private mode */ }
}

export function clearHistory(): void {
  try { localStorage.removeItem(KEY); } catch { /* private mode */ }
}
