// What a page shows, measured inside the browser: the test passes `probePage` to page.evaluate,
// so it must be self-contained (no imports, no closures over this module).
//
// Live data is counted without knowing a page's markup: chart canvases with coloured pixels
// (series colours are saturated; axes, grid and text are grey), table body rows, list items,
// numbers in stat-like elements, and coloured cells (heatmaps drawn with DOM elements). Errors
// are visible role=alert elements (dom.ts notice('error')).

export function probePage() {
  const main = document.getElementById('main') || document.body;
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    const s = getComputedStyle(el);
    return s.visibility !== 'hidden' && s.display !== 'none';
  };
  // A pixel counts when it is opaque enough and coloured (max - min channel >= 60).
  const colouredPixels = (c) => {
    if (!c.width || !c.height || !visible(c)) return 0;
    let ctx;
    try {
      ctx = c.getContext('2d', { willReadFrequently: true });
    } catch {
      return 0;
    }
    if (!ctx) return 0;
    let data;
    try {
      data = ctx.getImageData(0, 0, c.width, c.height).data;
    } catch {
      return 0;
    }
    let n = 0;
    for (let i = 0; i < data.length; i += 16) { // every 4th pixel
      const a = data[i + 3];
      if (a < 100) continue;
      const r = data[i], g = data[i + 1], b = data[i + 2];
      if (Math.max(r, g, b) - Math.min(r, g, b) >= 60) n++;
    }
    return n;
  };
  const isColoured = (css) => {
    const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)/.exec(css || '');
    if (!m) return false;
    const [r, g, b] = [+m[1], +m[2], +m[3]];
    const a = m[4] === undefined ? 1 : +m[4];
    return a > 0.3 && Math.max(r, g, b) - Math.min(r, g, b) >= 40;
  };

  const errors = [...main.querySelectorAll('[role=alert]')].filter(visible)
    .map((e) => e.textContent.trim()).filter(Boolean);
  const empties = [...main.querySelectorAll('.notice-empty')].filter(visible)
    .map((e) => e.textContent.trim()).filter(Boolean);
  const canvases = [...main.querySelectorAll('canvas')];
  const drawn = canvases.filter((c) => colouredPixels(c) >= 20).length;
  const rows = [...main.querySelectorAll('tbody tr, [role=row], [role=treeitem]')]
    .filter((r) => visible(r) && !r.querySelector('th, .notice') && r.textContent.trim() !== '').length;
  const items = [...main.querySelectorAll('li')].filter((l) => visible(l) && l.textContent.trim() !== '').length;
  // Numbers shown as values: leaf-ish elements whose class names a stat, value or gauge.
  const numberRe = /^[-+]?(\d[\d,]*(\.\d+)?|\.\d+)(e[-+]?\d+)?\s*[%a-zA-Zµ°/·\s]{0,12}$/;
  const stats = [...main.querySelectorAll('[class*=stat], [class*=value], [class*=gauge], [class*=big], [class*=number]')]
    .filter((e) => e.children.length <= 2 && visible(e) && numberRe.test(e.textContent.trim())).length;
  // Cells of DOM or SVG heatmaps: small elements with a coloured background or fill.
  let cells = 0;
  for (const e of main.querySelectorAll('[class*=cell], [class*=heat], [class*=tile], svg rect')) {
    if (!visible(e)) continue;
    const s = getComputedStyle(e);
    if (isColoured(s.backgroundColor) || isColoured(s.fill)) cells++;
  }
  // The Fleet page's GPU heatmap (dashboard/tyto_panels.ts): cells that hold a value.
  const heat = [...main.querySelectorAll('.heat-cell:not(.h-novalue)')].filter((e) => visible(e) && /\d/.test(e.textContent)).length;
  const loading = [...main.querySelectorAll('[aria-busy=true], .loading, .spinner')].filter(visible).length;
  return {
    errors, empties, canvases: canvases.length, drawn, rows, items, stats, cells, heat, loading,
    text: (main.innerText || '').length,
    hasData: drawn > 0 || rows > 0 || stats > 0 || cells > 0 || heat > 0,
  };
}

// Installs a requestAnimationFrame loop recording frame-to-frame times (ms) in
// window.__frames; returns nothing. Call stopFrames() to read and stop.
export function startFrames() {
  window.__frames = [];
  window.__framesOn = true;
  let last = performance.now();
  const loop = (t) => {
    if (!window.__framesOn) return;
    window.__frames.push(t - last);
    last = t;
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
  window.__longTasks = [];
  try {
    window.__longObserver = new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push(e.duration); });
    window.__longObserver.observe({ type: 'longtask', buffered: false });
  } catch { /* not supported */ }
}

export function stopFrames() {
  window.__framesOn = false;
  try { window.__longObserver?.disconnect(); } catch { /* ignore */ }
  return { frames: window.__frames.slice(1), longTasks: window.__longTasks || [] };
}
