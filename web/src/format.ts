// Number, unit and time formatting shared by charts, stats and tables. Units follow Grafana's
// names (fieldConfig.defaults.unit), so imported dashboards read the same.

const SI = ['', 'k', 'M', 'G', 'T', 'P'];
const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

function trim(n: number, digits = 3): string {
  if (!isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a === 0) return '0';
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(Math.max(0, digits - 2));
  if (a >= 1) return n.toFixed(Math.max(0, digits - 1));
  return n.toPrecision(digits).replace(/\.?0+$/, '');
}

export function short(n: number): string {
  if (!isFinite(n)) return String(n);
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1000 && i < SI.length - 1) { v /= 1000; i++; }
  return trim(v) + SI[i];
}

export function bytes(n: number, base = 1): string {
  let v = n * base;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < IEC.length - 1) { v /= 1024; i++; }
  return `${trim(v)} ${IEC[i]}`;
}

export function seconds(s: number): string {
  const a = Math.abs(s);
  if (a === 0) return '0 s';
  if (a < 1e-3) return `${trim(s * 1e6)} µs`;
  if (a < 1) return `${trim(s * 1e3)} ms`;
  if (a < 120) return `${trim(s)} s`;
  if (a < 7200) return `${trim(s / 60)} min`;
  if (a < 172800) return `${trim(s / 3600)} h`;
  return `${trim(s / 86400)} d`;
}

// Formats a value in a Grafana unit: percent (0-100), percentunit (0-1), bytes, decbytes, s, ms,
// µs, reqps, short, watt, celsius, hertz, MHz, currencyUSD, none...
export function formatValue(v: number | null | undefined, unit = 'short', decimals?: number): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (!isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const fixed = (x: number) => (decimals !== undefined ? x.toFixed(decimals) : trim(x));
  switch (unit) {
    case 'percent': return `${fixed(v)}%`;
    case 'percentunit': return `${fixed(v * 100)}%`;
    case 'bytes': return bytes(v);
    case 'decbytes': return `${short(v)}B`;
    case 'mbytes': return bytes(v, 1024 * 1024);
    case 's': return seconds(v);
    case 'ms': return seconds(v / 1e3);
    case 'µs': case 'us': return seconds(v / 1e6);
    case 'reqps': return `${short(v)} req/s`;
    case 'ops': return `${short(v)} ops/s`;
    case 'tps': return `${short(v)} tok/s`;
    case 'watt': return `${short(v)}W`;
    case 'celsius': return `${fixed(v)} °C`;
    case 'hertz': return `${short(v)}Hz`;
    case 'MHz': return `${fixed(v)} MHz`;
    case 'currencyUSD': return `$${v >= 100 ? v.toFixed(0) : v.toFixed(2)}`;
    case 'none': return fixed(v);
    default: return decimals !== undefined ? v.toFixed(decimals) : short(v);
  }
}

export function formatTime(ms: number, withDate = false): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  const t = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return withDate ? `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${t}` : t;
}

// "2m ago", "in 5s": for timelines and tables.
export function ago(ms: number, now = Date.now()): string {
  const s = Math.round((now - ms) / 1000);
  const a = Math.abs(s);
  const txt = a < 60 ? `${a}s` : a < 3600 ? `${Math.round(a / 60)}m` : a < 86400 ? `${Math.round(a / 3600)}h` : `${Math.round(a / 86400)}d`;
  return s >= 0 ? `${txt} ago` : `in ${txt}`;
}

// Prometheus duration ("5m", "1h30m", "250ms") to seconds; null when malformed.
export function parseDuration(text: string): number | null {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/y;
  const mult: Record<string, number> = { ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  let total = 0;
  re.lastIndex = 0;
  let pos = 0;
  if (!text) return null;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return null;
    total += parseFloat(m[1]) * mult[m[2]];
    pos = re.lastIndex;
  }
  return total;
}

export function durationText(sec: number): string {
  if (sec % 86400 === 0) return `${sec / 86400}d`;
  if (sec % 3600 === 0) return `${sec / 3600}h`;
  if (sec % 60 === 0) return `${sec / 60}m`;
  if (sec >= 1) return `${Math.round(sec)}s`;
  return `${Math.round(sec * 1000)}ms`;
}
