#!/usr/bin/env node
// The UI's browser test: Debian's headless Chromium, driven by playwright-core, against the UI the
// tyto binary serves at /ui/ (`tyto serve --demo` with a one-rule fixture, web/tests/fixtures).
//
//   node tests/browser.mjs TYTO_BINARY [--screenshots DIR] [--perf] [--only PAGE,...]
//   node tests/browser.mjs --url http://127.0.0.1:PORT ...   (a Tyto already running; development)
//
// It visits every page and checks that each shows live data (a chart drawn, table rows, a number)
// with no console error, page error, failed request or HTTP error; then the key interactions: a
// query in Explore with an accepted completion, silencing an alert (checked through
// /api/v2/alerts), opening a trace from a latency exemplar, the theme toggle, keyboard navigation,
// a shared URL, and WCAG AA text contrast on ten pages in both themes. --screenshots saves one PNG per page (dark; light for a few) at 1440x900.
// --perf prints timings (never asserts them): first contentful paint, time until the Fleet
// heatmap has data, a 200-GPU fleet, and a chart of 10,000 points per series.
//
// Exit status: 0 when every check passed, 1 otherwise (each failure printed), 2 for bad usage.
// Runs on Node 18 or newer. Every wait is bounded; tyto is stopped whatever happens.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { probePage } from './probe.mjs';
import { get, getJson, queryValue, sleep, startServe, stopAll, killAllNow, waitFor, outputOf } from './tyto.mjs';
import { runPerf } from './perf.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const USAGE = 'usage: node tests/browser.mjs TYTO_BINARY [--screenshots DIR] [--perf] [--only PAGE,...] [--chromium PATH]\n' +
  '       node tests/browser.mjs --url BASE_URL [...]   (against a Tyto already running)';

// ---- arguments ----
const opts = { bin: null, url: null, screenshots: null, perf: false, only: null, chromium: process.env.CHROMIUM || '/usr/bin/chromium' };
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const need = () => {
      if (i + 1 >= a.length) { console.error(`${a[i]} needs a value\n${USAGE}`); process.exit(2); }
      return a[++i];
    };
    switch (a[i]) {
      case '--screenshots': opts.screenshots = path.resolve(need()); break;
      case '--perf': opts.perf = true; break;
      case '--url': opts.url = need().replace(/\/+$/, ''); break;
      case '--only': opts.only = new Set(need().split(',')); break;
      case '--chromium': opts.chromium = need(); break;
      case '-h': case '--help': console.log(USAGE); process.exit(0); break;
      default:
        if (a[i].startsWith('-') || opts.bin) { console.error(`unexpected argument '${a[i]}'\n${USAGE}`); process.exit(2); }
        opts.bin = path.resolve(a[i]);
    }
  }
  if (!opts.bin && !opts.url) { console.error(USAGE); process.exit(2); }
}

// ---- bounded everything ----
const TOTAL_LIMIT_MS = (opts.perf ? 420 : 240) * 1000 + (opts.screenshots ? 120000 : 0);
const PAGE_DATA_MS = 30000;   // a page has this long to show live data
const ACTION_MS = 10000;      // one click, fill or wait for an element

const started = Date.now();
const failures = [];
const browserEvents = [];     // {step, kind, text}: console errors, page errors, failed requests
let step = 'start';
let browser = null;
let tyto = null;

function log(s) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${s}`);
}
function fail(msg) {
  failures.push(`${step}: ${msg}`);
  log(`FAIL ${step}: ${msg}`);
}

let finishing = false;
async function finish(code) {
  if (finishing) return;
  finishing = true;
  clearTimeout(watchdog);
  try { if (browser) await Promise.race([browser.close(), sleep(10000)]); } catch { /* closing anyway */ }
  await stopAll();
  process.exit(code);
}
const watchdog = setTimeout(() => {
  fail(`the whole test ran past its limit of ${TOTAL_LIMIT_MS / 1000} s`);
  finish(1);
}, TOTAL_LIMIT_MS);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    log(`${sig}: stopping`);
    killAllNow();
    finish(130);
  });
}
process.on('exit', () => killAllNow());

// ---- browser helpers ----
function watch(page) {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const loc = m.location();
    browserEvents.push({ step, kind: 'console error', text: `${m.text()}${loc?.url ? ` (${loc.url}:${loc.lineNumber})` : ''}` });
  });
  page.on('pageerror', (e) => browserEvents.push({ step, kind: 'page error', text: e.stack || e.message }));
  page.on('requestfailed', (r) => {
    const why = r.failure()?.errorText || '';
    if (why.includes('ERR_ABORTED')) return; // fetches a page aborts on leaving, streams closed on navigation
    browserEvents.push({ step, kind: 'failed request', text: `${r.method()} ${r.url()}: ${why}` });
  });
  page.on('response', (r) => {
    if (r.status() >= 400) browserEvents.push({ step, kind: 'HTTP error', text: `${r.request().method()} ${r.url()}: ${r.status()}` });
  });
  // Requests in flight (the event stream aside), to wait until a page is quiet.
  page.__inflight = new Set();
  page.on('request', (r) => { if (!r.url().includes('/api/v1/stream')) page.__inflight.add(r); });
  page.on('requestfinished', (r) => page.__inflight.delete(r));
  page.on('requestfailed', (r) => page.__inflight.delete(r));
}

async function newPage(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(ACTION_MS);
  page.setDefaultNavigationTimeout(20000);
  watch(page);
  return page;
}

// Waits until no request (but the event stream) is in flight for `quietMs`, at most `maxMs`.
async function waitQuiet(page, quietMs = 400, maxMs = 8000) {
  const end = Date.now() + maxMs;
  let quietSince = Date.now();
  while (Date.now() < end) {
    if (page.__inflight.size > 0) quietSince = Date.now();
    else if (Date.now() - quietSince >= quietMs) return true;
    await sleep(100);
  }
  return false;
}

function describeState(s) {
  return `${s.drawn}/${s.canvases} charts drawn, ${s.rows} rows, ${s.items} list items, ${s.stats} numbers, ${s.cells} coloured cells` +
    (s.heat ? `, ${s.heat} GPUs on the heatmap` : '') +
    (s.empties.length ? `, ${s.empties.length} empty: ${JSON.stringify(s.empties.slice(0, 3))}` : '') +
    (s.errors.length ? `, ERRORS: ${JSON.stringify(s.errors.slice(0, 3))}` : '');
}

// Polls the page's probe until `ok(state)` holds (and no error is shown), at most `ms`; gives up
// early when an error has been shown for 5 s.
async function waitForState(page, ok, ms = PAGE_DATA_MS) {
  const end = Date.now() + ms;
  let s = null;
  let errorSince = 0;
  while (Date.now() < end) {
    try {
      s = await page.evaluate(probePage);
      if (s.errors.length === 0 && ok(s)) return { state: s, ok: true };
      if (s.errors.length === 0) errorSince = 0;
      else if (!errorSince) errorSince = Date.now();
      else if (Date.now() - errorSince > 5000) break;
    } catch (e) {
      s = s ?? { errors: [String(e.message)], empties: [], drawn: 0, canvases: 0, rows: 0, items: 0, stats: 0, cells: 0, hasData: false };
    }
    await sleep(300);
  }
  return { state: s, ok: false };
}

async function mainText(page) {
  return page.evaluate(() => (document.getElementById('main') || document.body).innerText || '');
}

async function screenshot(page, name) {
  if (!opts.screenshots) return;
  await waitQuiet(page);
  await sleep(300); // let the last data drawn settle (uPlot draws on the next frame)
  const file = path.join(opts.screenshots, `${name}.png`);
  await page.screenshot({ path: file });
  log(`  screenshot ${path.relative(process.cwd(), file)}`);
}

// Light-theme copies of a few pages: the header's toggle, then back to dark.
async function screenshotLight(page, name) {
  if (!opts.screenshots) return;
  await page.getByRole('button', { name: /theme/i }).first().click();
  await sleep(500);
  await screenshot(page, `${name}-light`);
  await page.getByRole('button', { name: /theme/i }).first().click();
  await sleep(300);
}

// Runs one step; an exception is a failure of that step, not the end of the test.
async function run(name, f) {
  step = name;
  const t = Date.now();
  log(`${name}`);
  try {
    await f();
  } catch (e) {
    fail(e.message.split('\n').slice(0, 6).join('\n'));
  }
  const evs = browserEvents.filter((e) => e.step === name);
  log(`  ${name} done in ${((Date.now() - t) / 1000).toFixed(1)} s${evs.length ? `, ${evs.length} browser error(s)` : ''}`);
}

const wanted = (name) => !opts.only || opts.only.has(name);

// Visits a page and waits for live data; returns the probe's state.
async function visit(page, name, url, { ok = (s) => s.hasData, texts = [], light = false, ms = PAGE_DATA_MS } = {}) {
  await page.goto(base + url, { waitUntil: 'domcontentloaded' });
  const r = await waitForState(page, ok, ms);
  log(`  ${name}: ${describeState(r.state)}`);
  if (!r.ok) fail(`${url} showed no live data within ${ms / 1000} s (${describeState(r.state)})`);
  const text = await mainText(page);
  for (const t of texts) if (!text.includes(t)) fail(`${url} does not show '${t}'`);
  await screenshot(page, name);
  if (light) await screenshotLight(page, name);
  return r.state;
}

// The query field of Explore: the page's first textarea (the editor is a textarea with
// role=combobox), else a labelled combobox or textbox.
async function queryField(page) {
  const area = page.locator('#main textarea');
  if (await area.count()) return area.first();
  return page.getByRole('combobox', { name: /query|expression|promql/i })
    .or(page.getByRole('textbox', { name: /query|expression|promql/i })).first();
}

async function fieldValue(loc) {
  return loc.evaluate((e) => ('value' in e ? e.value : e.textContent) || '');
}

// ---- main ----
let base = opts.url;
const fixtureConfig = path.join(here, 'fixtures', 'tyto.yml');

async function main() {
  if (opts.screenshots) fs.mkdirSync(opts.screenshots, { recursive: true });
  if (!fs.existsSync(opts.chromium)) throw new Error(`no Chromium at ${opts.chromium} (apt-get install chromium, or set CHROMIUM)`);
  const { chromium } = await import('playwright-core');

  // 1. tyto serve --demo with the fixture rule, on a free port with a temporary data directory.
  await run('start tyto', async () => {
    if (!base) {
      tyto = await startServe(opts.bin, ['--demo', '--config', fixtureConfig]);
      base = tyto.base;
    }
    log(`  tyto at ${base}`);
    const ui = await get(`${base}/ui/`);
    if (!ui || ui.status !== 200 || !/<div id="app">/.test(ui.text)) {
      throw new Error(`${base}/ui/ does not serve the UI (${ui ? `${ui.status}: ${ui.text.slice(0, 160)}` : 'no answer'}): ` +
        'build it (scripts/build-ui.sh), then rebuild tyto so that it embeds web/dist');
    }
    // Two scrapes of the demo fleet (rates need two samples), inference traffic and the fixture alert.
    await waitFor('two scrapes of the demo fleet', async () => (await queryValue(base, 'count(count_over_time(DCGM_FI_DEV_GPU_UTIL[1m]) >= 2)')) > 0, 45000, 500);
    await waitFor('request rates of the demo traffic', async () => (await queryValue(base, 'count(rate(tyto_inference_requests_total[1m]) > 0)')) > 0, 45000, 500);
    await waitFor('traces from the demo traffic', async () => (await getJson(`${base}/api/v1/traces?limit=1`)).data?.length > 0, 30000, 500);
    await waitFor('the fixture alert to fire', async () => (await getJson(`${base}/api/v2/alerts`)).some((a) => a.labels.alertname === 'UITestFixtureFiring'), 20000, 500);
  });
  if (failures.length) return;

  browser = await chromium.launch({ executablePath: opts.chromium, headless: true, timeout: 60000, args: ['--disable-dev-shm-usage'] });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark', deviceScaleFactor: 1 });
  context.setDefaultTimeout(ACTION_MS);
  const page = await newPage(context);

  // 2. Every page, with live data.
  const series = (await getJson(`${base}/api/v1/series?match[]=DCGM_FI_DEV_GPU_UTIL`)).data;
  const gpus = (await queryValue(base, 'count(count by (Hostname, gpu) (DCGM_FI_DEV_GPU_UTIL))')) ?? series.length; // GPUs now, each once (an exporter that moved leaves series behind)
  const gpu = series.map((m) => ({ host: m.Hostname, gpu: m.gpu })).sort((a, b) => (a.host + a.gpu).localeCompare(b.host + b.gpu))[0];
  let gpuHref = null;
  if (wanted('fleet')) await run('page fleet', async () => {
    await visit(page, 'fleet', '/ui/fleet', { ok: (s) => s.heat >= gpus && s.stats >= 4 && s.drawn >= 1, texts: [gpu.host], light: true });
    // The heatmap cell of the GPU picked from the API links to its detail page.
    const cell = page.locator(`#main a[href*="/ui/gpu"][href*="var-Hostname=${encodeURIComponent(gpu.host)}"][href*="var-gpu=${encodeURIComponent(gpu.gpu)}"]`);
    gpuHref = await cell.first().getAttribute('href', { timeout: 2000 }).catch(() => null);
    if (!gpuHref) fail(`no link from the heatmap to GPU ${gpu.gpu} of ${gpu.host}`);
  });
  if (wanted('gpu')) await run('page gpu', async () => {
    const url = gpuHref ?? `/ui/gpu?var-Hostname=${encodeURIComponent(gpu.host)}&var-gpu=${encodeURIComponent(gpu.gpu)}`;
    log(`  ${gpuHref ? 'the heatmap cell\'s link' : 'built from the API'}: ${url}`);
    await visit(page, 'gpu', url, { ok: (s) => s.stats >= 4 && s.drawn >= 1 });
    const chosen = await page.evaluate(() => [...document.querySelectorAll('#main select')].map((e) => e.selectedOptions[0]?.textContent ?? '').join(' '));
    if (!chosen.includes(gpu.host)) fail(`the GPU page does not show ${gpu.host} as its node (selected: ${chosen})`);
  });
  if (wanted('models')) await run('page models', () => visit(page, 'models', '/ui/models', { ok: (s) => s.stats >= 1 && s.drawn >= 1, light: true }));
  for (const name of ['quality', 'drift', 'pipelines']) {
    if (wanted(name)) await run(`page ${name}`, () => visit(page, name, `/ui/${name}`));
  }
  if (wanted('alerts')) await run('page alerts', async () => {
    await visit(page, 'alerts', '/ui/alerts', { texts: ['UITestFixtureFiring'], light: true });
    await openTab(page, /incidents/i, 'incidents');
    const r = await waitForState(page, (s) => s.hasData || s.items > 0);
    log(`  incidents: ${describeState(r.state)}`);
    if (!r.ok) fail(`the incidents tab shows none (${describeState(r.state)})`);
    await screenshot(page, 'alerts-incidents');
  });
  if (wanted('alerts')) await run('silence an alert', () => silenceAlert(page));
  if (wanted('traces')) await run('page traces', async () => {
    await visit(page, 'traces', '/ui/traces', { ok: (s) => s.rows > 0 || s.items > 0 });
    // Open the listed trace with the most spans (the gateway's and a model server's), else the first.
    const listed = (await getJson(`${base}/api/v1/traces?limit=50`)).data ?? [];
    let link = page.locator('#main a[href*="/ui/traces/"]').first();
    for (const t of listed.sort((a, b) => b.spanCount - a.spanCount).slice(0, 10)) {
      const l = page.locator(`#main a[href*="/ui/traces/${t.traceId}"]`);
      if (await l.count()) { link = l.first(); break; }
    }
    await link.click();
    await waitForWaterfall(page);
    await screenshot(page, 'trace');
  });
  if (wanted('logs')) await run('page logs', () => visit(page, 'logs', '/ui/logs', { ok: (s) => s.rows > 0 || s.items > 2 }));
  if (wanted('explore')) await run('page explore', () => exploreQuery(page, context));
  if (wanted('dashboards')) await run('page dashboards', async () => {
    await visit(page, 'dashboards', '/ui/dashboards', { ok: (s) => s.rows > 0 || s.items > 0 });
  });
  if (wanted('targets')) await run('page targets', () => visit(page, 'targets', '/ui/targets', { ok: (s) => s.rows > 0, texts: ['dcgm'] }));
  if (wanted('status')) await run('page status', () => visit(page, 'status', '/ui/status', { ok: (s) => s.hasData || s.items > 0 }));

  // 3. Interactions across pages.
  if (wanted('models')) await run('trace from a latency exemplar', () => traceFromExemplar(page));
  if (wanted('theme')) await run('theme toggle', () => themeToggle(page));
  if (wanted('keyboard')) await run('keyboard navigation', () => keyboard(page));
  if (wanted('contrast')) await run('text contrast in both themes', async () => {
    for (const p of ['fleet', 'models', 'quality', 'drift', 'alerts', 'traces', 'logs', 'explore', 'targets', 'status']) {
      await page.goto(`${base}/ui/${p}`, { waitUntil: 'domcontentloaded' });
      // These pages were checked for data above; here only their text matters, so wait briefly.
      await waitForState(page, (st) => st.hasData || st.rows > 0 || st.items > 0, 5000).catch(() => {});
      await waitQuiet(page, 300, 3000);
      await checkContrast(page, p);
    }
  });

  // 4. Performance (printed, never asserted).
  if (opts.perf) {
    await run('perf', () => runPerf({ browser, base, bin: opts.bin, log, newPage: () => newPage(context), probePage, waitForState, queryField, fail }));
  }
  await context.close();
}

async function openTab(page, name, param) {
  const tab = page.getByRole('tab', { name });
  if (await tab.count()) await tab.first().click();
  else {
    const l = page.getByRole('link', { name }).or(page.getByRole('button', { name }));
    if (await l.count()) await l.first().click();
    else await page.goto(`${base}/ui/alerts/${param}`);
  }
  await waitQuiet(page);
}

// Silences the fixture alert from its row on the Alerts page, then checks the silence through the
// API (/api/v2/silences, /api/v2/alerts: suppressed) and on the page (silenced; listed as a silence).
async function silenceAlert(page) {
  await page.goto(`${base}/ui/alerts`, { waitUntil: 'domcontentloaded' });
  const row = page.locator('#main tr, #main li, #main article, #main [role=row], #main .alert')
    .filter({ hasText: 'UITestFixtureFiring', visible: true }).filter({ has: page.getByRole('button', { name: /silence/i }) }).last();
  await row.waitFor({ timeout: PAGE_DATA_MS });
  const button = row.getByRole('button', { name: /silence/i }).or(row.getByRole('link', { name: /silence/i }));
  await button.first().click();
  // A form (dialog or page) may ask for a comment and a duration: fill what is empty, submit.
  const form = page.locator('dialog[open], [role=dialog], #main form').last();
  if (await form.count()) {
    for (const input of await form.locator('input[type=text]:visible, input:not([type]):visible, textarea:visible').all()) {
      if (!(await input.inputValue())) await input.fill('ui browser test');
    }
    const submit = form.getByRole('button', { name: /silence|create|save|submit|confirm/i });
    await submit.first().click();
  }
  const silence = await waitFor('the silence in /api/v2/silences', async () => {
    const all = await getJson(`${base}/api/v2/silences`);
    return all.find((s) => s.status.state === 'active' && s.matchers.some((m) => m.name === 'alertname' && m.value === 'UITestFixtureFiring'));
  }, 15000, 300);
  log(`  silence ${silence.id}: ${JSON.stringify(silence.matchers.map((m) => `${m.name}${m.isEqual === false ? '!' : ''}${m.isRegex ? '=~' : '='}${m.value}`))}`);
  await waitFor('/api/v2/alerts to show the alert as suppressed by it', async () => {
    const a = (await getJson(`${base}/api/v2/alerts`)).find((x) => x.labels.alertname === 'UITestFixtureFiring');
    return a && a.status.state === 'suppressed' && a.status.silencedBy.includes(silence.id);
  }, 15000, 300);
  const silencedRow = page.locator('#main tr, #main li, #main article, #main [role=row], #main .alert')
    .filter({ hasText: 'UITestFixtureFiring', visible: true }).filter({ hasText: /silenced/i });
  await waitFor('the Alerts page to show the alert as silenced', async () => (await silencedRow.count()) > 0, 15000, 500);
  await screenshot(page, 'alerts-silenced');
  await openTab(page, /silences/i, 'silences');
  await waitFor('the silence listed on the Silences tab', async () => (await mainText(page)).includes('UITestFixtureFiring'), 15000, 500);
  await screenshot(page, 'alerts-silences');
}

// A trace's waterfall: its spans listed (rows of the span tree; a trace may have one span).
async function waitForWaterfall(page) {
  await waitFor('a trace id in the URL', async () => /\/ui\/traces\/[0-9a-f]{16,32}|trace(_id|Id)?=[0-9a-f]{16,32}/.test(page.url()), ACTION_MS, 200);
  const r = await waitForState(page, (s) => s.rows >= 1, 15000);
  log(`  trace ${page.url().replace(base, '')}: ${describeState(r.state)}`);
  if (!r.ok) fail(`the trace's waterfall shows no spans (${describeState(r.state)})`);
}

// Explore: type part of a metric name, accept the completion, run, see a graph and a table; the
// URL reproduces the view in a new page; Tab reaches the query field.
async function exploreQuery(page, context) {
  await visit(page, 'explore-empty', '/ui/explore', { ok: () => true, ms: 3000 });
  const field = await queryField(page);
  await field.click();
  await field.fill('');
  await page.keyboard.type('DCGM_FI_DEV_GPU_UT', { delay: 40 });
  // The list follows the typing (debounced): wait until the selected option is the metric.
  const option = page.locator('[role=option][aria-selected=true]').filter({ hasText: 'DCGM_FI_DEV_GPU_UTIL' }).first();
  await option.waitFor({ timeout: ACTION_MS }).catch(() => { throw new Error('no completion selected for DCGM_FI_DEV_GPU_UT (role=option, aria-selected)'); });
  await page.keyboard.press('Tab');
  let v = await fieldValue(field);
  if (!v.includes('DCGM_FI_DEV_GPU_UTIL')) {
    log(`  Tab did not accept the completion (field: '${v}'): trying Enter`);
    await page.keyboard.press('Enter');
    v = await fieldValue(field);
  }
  if (!v.includes('DCGM_FI_DEV_GPU_UTIL')) throw new Error(`accepting the completion left the field at '${v}'`);
  // Make it an aggregation (fewer series) and run it.
  await field.fill('avg by (Hostname) (DCGM_FI_DEV_GPU_UTIL)');
  await page.keyboard.press('Escape').catch(() => {});
  const runButton = page.getByRole('button', { name: /^(run|execute|query)/i });
  if (await runButton.count()) await runButton.first().click();
  else { await field.focus(); await page.keyboard.press('Control+Enter'); }
  const r = await waitForState(page, (s) => s.drawn > 0);
  log(`  explore graph: ${describeState(r.state)}`);
  if (!r.ok) fail(`the query drew no graph (${describeState(r.state)})`);
  await screenshot(page, 'explore');
  await screenshotLight(page, 'explore');
  // The table: shown beside the graph, or behind a tab.
  const tableTab = page.getByRole('tab', { name: /table/i });
  if (await tableTab.count()) await tableTab.first().click();
  const t = await waitForState(page, (s) => s.rows >= 4);
  log(`  explore table: ${t.state.rows} rows`);
  if (!t.ok) fail(`the query's table has ${t.state.rows} rows, want one per node (4)`);
  if (await tableTab.count()) await screenshot(page, 'explore-table');
  // The URL reproduces the view.
  const url = page.url();
  if (!/[?&](q\d*|query|expr)=/.test(url)) fail(`the query is not in the URL (${url})`);
  const shared = await newPage(context);
  try {
    step = 'page explore (shared URL)';
    await shared.goto(url, { waitUntil: 'domcontentloaded' });
    const f2 = await queryField(shared);
    await waitFor('the shared URL to restore the query', async () => (await fieldValue(f2)).includes('avg by (Hostname) (DCGM_FI_DEV_GPU_UTIL)'), ACTION_MS, 200);
    const s2 = await waitForState(shared, (s) => s.drawn > 0 || s.rows >= 4);
    if (!s2.ok) fail(`the shared URL ${url} did not reproduce the result (${describeState(s2.state)})`);
  } finally {
    await shared.close();
    step = 'page explore';
  }
}

// Opens a trace from a latency exemplar: an exemplar link on the Models page's latency panels,
// else an exemplar point drawn on Explore's graph of the request duration's p99 (found by its
// colour, --focus, on the canvas; hovering it must say it opens the trace).
async function traceFromExemplar(page) {
  await page.goto(`${base}/ui/models`, { waitUntil: 'domcontentloaded' });
  await waitForState(page, (s) => s.hasData);
  const link = page.locator('#main a[href*="/ui/traces/"]');
  await link.first().waitFor({ timeout: ACTION_MS }).catch(() => {});
  if (await link.count()) {
    // An exemplar is recorded when its request is measured; its trace's spans are stored a few
    // seconds later. Click one whose trace is stored (asked of the API, outside the browser).
    const stored = await waitFor('an exemplar whose trace is stored', async () => {
      const hrefs = await link.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      for (const h of hrefs.slice(0, 30)) {
        const id = /\/ui\/traces\/([0-9a-f]+)/.exec(h || '')?.[1];
        if (id && (await get(`${base}/api/v1/traces/${id}`))?.status === 200) return h;
      }
      return null;
    }, 30000, 2000);
    log(`  ${await link.count()} exemplar link(s) on the Models page; opening ${stored}`);
    const chosen = page.locator(`#main a[href="${stored}"]`).first();
    await chosen.click().catch(() => chosen.dispatchEvent('click'));
    await waitForWaterfall(page);
    return;
  }
  log('  no exemplar link on the Models page: trying Explore');
  const q = 'histogram_quantile(0.99, sum by (le) (rate(gen_ai_server_request_duration_seconds_bucket[1m])))';
  await page.goto(`${base}/ui/explore?q0=${encodeURIComponent(q)}&exemplars=1`, { waitUntil: 'domcontentloaded' });
  await waitForState(page, (s) => s.drawn > 0);
  await sleep(500);
  const points = await page.evaluate(() => {
    const hex = getComputedStyle(document.documentElement).getPropertyValue('--focus').trim();
    const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
    if (!m) return [];
    const [R, G, B] = [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
    const out = [];
    for (const c of document.querySelectorAll('#main canvas')) {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const rect = c.getBoundingClientRect();
      for (let y = 0; y < c.height && out.length < 40; y++) {
        for (let x = 0; x < c.width; x++) {
          const i = (y * c.width + x) * 4;
          if (Math.abs(d[i] - R) + Math.abs(d[i + 1] - G) + Math.abs(d[i + 2] - B) < 24 && d[i + 3] > 200) {
            const px = rect.left + (x * rect.width) / c.width, py = rect.top + (y * rect.height) / c.height;
            if (!out.some((p) => Math.abs(p.x - px) < 10 && Math.abs(p.y - py) < 10)) out.push({ x: px, y: py + 3 });
          }
        }
      }
    }
    return out;
  });
  log(`  ${points.length} exemplar point(s) drawn on Explore's graph`);
  for (const pt of points.slice(0, 40)) {
    await page.mouse.move(pt.x, pt.y);
    await sleep(150);
    const tip = await mainText(page);
    if (!tip.includes('Click to open the trace')) continue;
    // Only an exemplar whose trace is stored already (spans arrive seconds after the measurement).
    const id = /trace_id="([0-9a-f]+)"/.exec(tip)?.[1];
    if (!id || (await get(`${base}/api/v1/traces/${id}`))?.status !== 200) continue;
    await page.mouse.click(pt.x, pt.y);
    await waitForWaterfall(page);
    return;
  }
  throw new Error('no exemplar linking a latency point to its trace, on Models or on Explore');
}

async function themeToggle(page) {
  await page.goto(`${base}/ui/fleet`, { waitUntil: 'domcontentloaded' });
  await waitForState(page, (s) => s.hasData);
  const look = () => page.evaluate(() => ({ theme: document.documentElement.dataset.theme, bg: getComputedStyle(document.body).backgroundColor }));
  const a = await look();
  await page.getByRole('button', { name: /theme/i }).first().click();
  const b = await look();
  if (a.theme === b.theme || a.bg === b.bg) fail(`the theme button did not switch the theme (${JSON.stringify(a)} -> ${JSON.stringify(b)})`);
  await page.locator('body').click({ position: { x: 5, y: 890 } }).catch(() => {});
  await page.keyboard.press('t');
  const c = await look();
  if (c.theme !== a.theme) fail(`"t" did not switch the theme back (${JSON.stringify(c)})`);
  await page.reload({ waitUntil: 'domcontentloaded' });
  const d = await look();
  if (d.theme !== c.theme) fail(`the theme was not kept across a reload (${c.theme} -> ${d.theme})`);
}

// WCAG AA contrast of the text shown on a page in the current theme: every visible element with
// its own text, against the first opaque background behind it; 4.5:1, or 3:1 for large text
// (24 px, or 18.66 px bold). Returns the worst offenders.
async function contrastProblems(page) {
  return page.evaluate(() => {
    const parse = (c) => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (!m) return null;
      const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a };
    };
    const lum = ({ r, g, b }) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const blend = (fg, bg) => ({ r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a), b: fg.b * fg.a + bg.b * (1 - fg.a), a: 1 });
    const background = (el) => {
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
      }
      let bg = parse(getComputedStyle(document.body).backgroundColor) ?? { r: 255, g: 255, b: 255, a: 1 };
      for (const c of layers.reverse()) bg = blend(c, bg);
      return bg;
    };
    const out = [];
    const all = document.querySelectorAll('header *, #main *');
    for (const el of all) {
      if (out.length > 20) break;
      if (el.closest('canvas, svg, [aria-hidden="true"], [disabled], option')) continue;
      const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!own) continue;
      const r = el.getBoundingClientRect();
      const st = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || st.visibility === 'hidden' || Number(st.opacity) < 0.1) continue;
      const fg = parse(st.color);
      if (!fg) continue;
      const bg = background(el);
      const c = blend(fg, bg);
      const [l1, l2] = [lum(c), lum(bg)];
      const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
      const px = parseFloat(st.fontSize);
      const large = px >= 24 || (px >= 18.66 && Number(st.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) out.push(`${el.tagName.toLowerCase()}.${String(el.className).slice(0, 30)} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1 (${st.color} on rgb(${Math.round(bg.r)},${Math.round(bg.g)},${Math.round(bg.b)}))`);
    }
    return out;
  });
}

async function checkContrast(page, where) {
  for (const theme of ['dark', 'light']) {
    // Through the header's button, as a user switches (pages recolour on the theme's change event).
    if (await page.evaluate(() => document.documentElement.dataset.theme) !== theme) {
      await page.getByRole('button', { name: /theme/i }).first().click();
    }
    await page.waitForTimeout(300);
    const bad = await contrastProblems(page);
    if (bad.length) fail(`${where}, ${theme} theme: text below WCAG AA contrast: ${bad.slice(0, 8).join('; ')}`);
  }
}

// "g e" goes to Explore; Tab from the top of the page reaches the query field.
async function keyboard(page) {
  await page.goto(`${base}/ui/fleet`, { waitUntil: 'domcontentloaded' });
  await waitForState(page, (s) => s.hasData);
  await page.evaluate(() => { document.activeElement?.blur?.(); });
  await page.keyboard.press('g');
  await page.keyboard.press('e');
  await waitFor('"g e" to open Explore', async () => new URL(page.url()).pathname.startsWith('/ui/explore'), ACTION_MS, 100);
  await page.evaluate(() => { document.activeElement?.blur?.(); window.scrollTo(0, 0); });
  const field = await queryField(page);
  await field.waitFor();
  const handle = await field.elementHandle();
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((el) => document.activeElement === el, handle)) {
      log(`  Tab reached the query field after ${i + 1} presses`);
      // The ring may be drawn by the field or by a wrapper (:focus-within).
      const ring = await page.evaluate(() => {
        for (let e = document.activeElement, i = 0; e && i < 4; e = e.parentElement, i++) {
          const s = getComputedStyle(e);
          if (s.outlineStyle !== 'none' && s.outlineWidth !== '0px') return `outline on ${e.className || e.tagName}`;
          if (s.boxShadow && s.boxShadow !== 'none') return `box-shadow on ${e.className || e.tagName}`;
        }
        return '';
      });
      if (!ring) fail('the focused query field shows no focus ring (outline or box-shadow)');
      return;
    }
  }
  fail('60 presses of Tab did not reach the query field');
}

try {
  await main();
} catch (e) {
  fail(e.stack || e.message);
}
step = 'end';
if (tyto && tyto.proc.exited) fail(`tyto exited during the test (${JSON.stringify(tyto.proc.exited)})\n${outputOf(tyto.proc)}`);
for (const e of browserEvents) failures.push(`${e.step}: ${e.kind}: ${e.text}`);
const secs = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length) {
  console.log(`\nui browser test FAILED in ${secs} s, ${failures.length} problem(s):`);
  for (const f of failures) console.log(`  - ${f}`);
  await finish(1);
} else {
  console.log(`\nui browser test passed in ${secs} s`);
  await finish(0);
}
