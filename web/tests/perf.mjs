// Performance figures of the UI (browser.mjs --perf): printed, never asserted (machines are
// shared; a timing is a measurement, not a test). Three measurements:
//
//   1. First paint on the demo fleet (32 GPUs): first contentful paint and largest contentful
//      paint (Performance API), and the time until the Fleet heatmap shows data (a marker set by
//      a check that runs on every animation frame from navigation start), in fresh contexts.
//   2. A 200-GPU fleet: `tyto simulate --nodes 25 --gpus-per-node 8` scraped by a second
//      `tyto serve` (file_sd); the same timings, the long tasks while loading, and frame times
//      while the page refreshes on live ticks.
//   3. A chart of 10,000 points per series: Explore over a long range with a small step; the
//      time from the query's response to the drawn chart, and frame times while hovering.

import fs from 'node:fs';
import path from 'node:path';
import { getJson, queryValue, sleep, startServe, startSimulate, stop, tempDir, waitFor } from './tyto.mjs';
import { startFrames, stopFrames } from './probe.mjs';

// Runs in the page before its scripts: records in window.__ready the performance.now() of the
// first animation frame at which the page shows `min` GPUs with a value on the Fleet heatmap, or,
// when min is huge (Explore), a drawn chart.
function readyMarker(min) {
  window.__ready = null;
  const canvasDrawn = (c) => {
    if (!c.width || !c.height) return false;
    try {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 64) if (d[i + 3] > 100 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) >= 60 && ++n >= 20) return true;
    } catch { /* unreadable */ }
    return false;
  };
  const check = () => {
    const main = document.getElementById('main');
    if (main) {
      // The GPU heatmap's cells that hold a value (dashboard/tyto_panels.ts), else a drawn chart.
      let cells = 0;
      for (const e of main.querySelectorAll('.heat-cell:not(.h-novalue)')) if (/\d/.test(e.textContent)) cells++;
      if (cells >= min || (min > 1e6 && [...main.querySelectorAll('canvas')].some(canvasDrawn))) {
        window.__ready = performance.now();
        window.__readyCells = cells;
        return;
      }
    }
    if (performance.now() < 60000) requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}

function stats(xs) {
  if (!xs.length) return 'none';
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `median ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms (${s.length} frames)`;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Loads /ui/fleet `runs` times in fresh contexts; prints and returns the medians.
async function firstPaint(browser, base, gpus, runs, log) {
  const out = { fcp: [], lcp: [], ready: [], dcl: [], long: [], cells: [] };
  for (let i = 0; i < runs; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
    await ctx.addInitScript(readyMarker, gpus);
    await ctx.addInitScript(() => {
      window.__lcp = 0;
      window.__long = [];
      try {
        new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__lcp = e.startTime; }).observe({ type: 'largest-contentful-paint', buffered: true });
        new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask', buffered: true });
      } catch { /* unsupported */ }
    });
    const page = await ctx.newPage();
    try {
      await page.goto(`${base}/ui/fleet`, { waitUntil: 'domcontentloaded', timeout: 20000 });
      await page.waitForFunction(() => window.__ready !== null, null, { timeout: 30000, polling: 100 });
      await sleep(300);
      const m = await page.evaluate(() => {
        const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN;
        const nav = performance.getEntriesByType('navigation')[0];
        return { fcp, lcp: window.__lcp, ready: window.__ready, cells: window.__readyCells, dcl: nav ? nav.domContentLoadedEventEnd : NaN, long: window.__long.reduce((a, b) => a + b, 0) };
      });
      for (const k of Object.keys(out)) out[k].push(m[k]);
    } finally {
      await ctx.close();
    }
  }
  const r = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, median(v)]));
  log(`  /ui/fleet, ${gpus} GPUs, median of ${runs} cold loads: first contentful paint ${r.fcp.toFixed(0)} ms, ` +
      `DOMContentLoaded ${r.dcl.toFixed(0)} ms, largest contentful paint ${r.lcp.toFixed(0)} ms, ` +
      `heatmap with data ${r.ready.toFixed(0)} ms (${r.cells} GPUs with a value), long tasks ${r.long.toFixed(0)} ms in all`);
  return r;
}

// Frame times over `ms` while the page stays open (live ticks refresh it every 5 s).
async function idleFrames(page, ms) {
  await page.evaluate(startFrames);
  await sleep(ms);
  return page.evaluate(stopFrames);
}

export async function runPerf({ browser, base, bin, log, newPage }) {
  // 1. The demo fleet (4 nodes x 8 GPUs).
  log('  -- first paint, demo fleet (4 x 8 GPUs)');
  await firstPaint(browser, base, 32, 3, log);

  // 3. 10,000 points per series: 50,000 s at a 5 s step, two series computed from time() (so the
  // points exist however young the data directory is).
  log('  -- a chart of 10,000 points per series (Explore)');
  {
    const page = await newPage();
    const q = 'label_replace(sin(vector(time()) / 600), "wave", "sin", "", "") or label_replace(cos(vector(time()) / 900), "wave", "cos", "", "")';
    const url = `${base}/ui/explore?q0=${encodeURIComponent(q)}&from=now-50000s&to=now&step=5s`;
    await page.addInitScript(readyMarker, 1 << 30);
    const respP = page.waitForResponse((r) => r.url().includes('/api/v1/query_range'), { timeout: 20000 }).catch(() => null);
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    const resp = await respP;
    let points = 0;
    if (resp) {
      const j = await resp.json().catch(() => null);
      points = j?.data?.result?.map((s) => s.values.length) ?? [];
    }
    try {
      await page.waitForFunction(() => window.__ready !== null, null, { timeout: 30000, polling: 100 });
      const t = await page.evaluate(() => {
        const r = performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/v1/query_range')).pop();
        const own = document.querySelector('[data-draw-ms]');
        return { ready: window.__ready, responseEnd: r ? r.responseEnd : NaN, transfer: r ? r.encodedBodySize : 0, start: r ? r.startTime : NaN,
                 own: own ? Number(own.dataset.drawMs) : NaN };
      });
      log(`  points per series: ${JSON.stringify(points)}; query ${(t.responseEnd - t.start).toFixed(0)} ms ` +
          `(${(t.transfer / 1024).toFixed(0)} KiB); from the response to the chart drawn ${(t.ready - t.responseEnd).toFixed(0)} ms ` +
          `(parse, align, draw; measured to the first frame that shows it); Explore's own setData-to-drawn figure ${t.own.toFixed(0)} ms`);
      const box = await page.locator('#main .u-over, #main canvas').first().boundingBox();
      if (box) {
        await page.evaluate(startFrames);
        for (let i = 0; i <= 120; i++) {
          await page.mouse.move(box.x + 2 + ((box.width - 4) * i) / 120, box.y + box.height / 2);
          await sleep(16);
        }
        const f = await page.evaluate(stopFrames);
        log(`  hovering across the chart (121 moves over ~2 s): frame times ${stats(f.frames)}; long tasks: ${f.longTasks.length} (${f.longTasks.map((x) => x.toFixed(0)).join(', ') || 'none'})`);
      }
    } catch (e) {
      log(`  the 10,000-point chart was not measured: ${e.message.split('\n')[0]} (points: ${JSON.stringify(points)})`);
    }
    await page.close();
  }

  // 2. A 200-GPU fleet: tyto simulate (25 x 8) scraped by a second tyto serve.
  log('  -- a 200-GPU fleet (25 nodes x 8 GPUs)');
  const dir = tempDir('tyto-ui-perf-');
  const targets = path.join(dir, 'targets.json');
  const config = path.join(dir, 'tyto.yml');
  fs.writeFileSync(config, [
    '# browser.mjs --perf: scrape a 200-GPU `tyto simulate` fleet',
    'scrape_configs:',
    '  - job_name: fleet',
    '    scrape_interval: 5s',
    '    file_sd_configs:',
    `      - files: [${JSON.stringify(targets)}]`,
    '',
  ].join('\n'));
  const sim = await startSimulate(bin, ['--nodes', '25', '--gpus-per-node', '8'], targets);
  const big = await startServe(bin, ['--config', config]);
  try {
    await waitFor('200 GPUs scraped twice', async () =>
      (await queryValue(big.base, 'count(count_over_time(DCGM_FI_DEV_GPU_UTIL[1m]) >= 2)')) >= 200, 60000, 1000);
    const targets = (await getJson(`${big.base}/api/v1/query?query=count(up)`)).data.result[0].value[1];
    log(`  ${targets} targets scraped (dcgm, node and model-server exporters of 25 nodes)`);
    await firstPaint(browser, big.base, 200, 3, log);
    const page = await newPage();
    await page.goto(`${big.base}/ui/fleet`, { waitUntil: 'domcontentloaded' });
    await sleep(3000);
    const f = await idleFrames(page, 11000);
    log(`  /ui/fleet open for 11 s with 200 GPUs (two live refreshes): frame times ${stats(f.frames)}; long tasks: ${f.longTasks.length} (${f.longTasks.map((x) => x.toFixed(0)).join(', ') || 'none'})`);
    const box = await page.locator('#main').boundingBox();
    if (box) {
      await page.evaluate(startFrames);
      for (let i = 0; i <= 100; i++) {
        await page.mouse.move(box.x + 20 + ((box.width - 40) * i) / 100, box.y + 120 + (i % 10) * 20);
        await sleep(16);
      }
      const h = await page.evaluate(stopFrames);
      log(`  hovering over the 200-GPU heatmap: frame times ${stats(h.frames)}`);
    }
    await page.close();
  } finally {
    await stop(big.proc);
    await stop(sim);
  }
}
