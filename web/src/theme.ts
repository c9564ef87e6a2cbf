// Dark and light themes: CSS custom properties on <html data-theme>, chosen by the user (kept in
// localStorage) or by the system's preference. Charts read their colours from here.

export type Theme = 'dark' | 'light';

const listeners = new Set<(t: Theme) => void>();

export function theme(): Theme {
  return document.documentElement.dataset.theme === 'light' ? 'light' : 'dark';
}

export function setTheme(t: Theme): void {
  document.documentElement.dataset.theme = t;
  try { localStorage.setItem('tyto.theme', t); } catch { /* private mode */ }
  for (const l of listeners) l(t);
}

export function onThemeChange(l: (t: Theme) => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// Series colours with enough contrast on both backgrounds (checked against WCAG's 3:1 for graphics).
const DARK = ['#73bf69', '#f2cc0c', '#8ab8ff', '#ff780a', '#f2495c', '#5794f2', '#b877d9', '#37872d', '#fade2a', '#56a64b', '#ff9830', '#ca95e5'];
const LIGHT = ['#1b7a1b', '#9a6700', '#1f60c4', '#c4500a', '#c4162a', '#3d71d9', '#8f3bb8', '#0f6e3a', '#7a5d00', '#2f6b25', '#a34c00', '#7a35a8'];

export function seriesColor(i: number): string {
  const p = theme() === 'light' ? LIGHT : DARK;
  return p[i % p.length];
}
