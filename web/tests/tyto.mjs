// Starts and stops the processes the browser test runs against: `tyto serve` (with --demo, or
// scraping a `tyto simulate` fleet) on 127.0.0.1 with a free port and a temporary data directory.
// Every wait is bounded; every process started here is stopped by stopAll(), which the test calls
// whatever happens (and on SIGINT/SIGTERM). Plain Node ESM that runs on Node 18.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const children = new Set();
const tempDirs = new Set();

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// A port that was free a moment ago (the kernel picks it; bind-then-close leaves a small race,
// which startServe handles by retrying).
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

// Runs a program, keeping the last lines of its output for error messages.
function startProcess(bin, args, name) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = [];
  const keep = (buf) => {
    for (const line of buf.toString().split('\n')) {
      if (!line) continue;
      tail.push(line);
      if (tail.length > 60) tail.shift();
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const proc = { child, name, tail, exited: null };
  proc.exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      proc.exited = { code, signal };
      children.delete(proc);
      resolve(proc.exited);
    });
    child.on('error', (e) => {
      proc.exited = { code: -1, signal: null, error: e.message };
      tail.push(`cannot run ${bin}: ${e.message}`);
      children.delete(proc);
      resolve(proc.exited);
    });
  });
  children.add(proc);
  return proc;
}

export function outputOf(proc) {
  return proc.tail.map((l) => `    ${proc.name}| ${l}`).join('\n');
}

// GET with a bounded time; resolves to {status, text} or null when nothing answered.
export async function get(url, timeoutMs = 5000) {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const r = await fetch(url, { signal: ac.signal });
    return { status: r.status, type: r.headers.get('content-type') || '', text: await r.text() };
  } catch {
    return null;
  } finally {
    clearTimeout(t);
  }
}

export async function getJson(url, timeoutMs = 5000) {
  const r = await get(url, timeoutMs);
  if (!r || r.status !== 200) throw new Error(`GET ${url}: ${r ? `${r.status} ${r.text.slice(0, 200)}` : 'no answer'}`);
  return JSON.parse(r.text);
}

// The value of an instant query's first sample, or null.
export async function queryValue(base, q) {
  try {
    const j = await getJson(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
    const r = j.data?.result;
    if (j.data?.resultType === 'scalar') return Number(r[1]);
    if (!Array.isArray(r) || r.length === 0) return null;
    return Number(r[0].value[1]);
  } catch {
    return null;
  }
}

// Polls `f` (async, returning a truthy value when done) every `everyMs` until it is done or
// `timeoutMs` passed; throws `what` on time out.
export async function waitFor(what, f, timeoutMs, everyMs = 250) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await f();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    }
    await sleep(everyMs);
  }
}

// Starts `tyto serve` with `args` (plus --data-dir and --listen) and waits until it answers
// /-/ready. Returns {base, proc, dataDir}.
export async function startServe(bin, args, { readyTimeoutMs = 30000 } = {}) {
  if (!fs.existsSync(bin)) throw new Error(`no tyto binary at ${bin}`);
  let lastError = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dataDir = tempDir('tyto-ui-test-');
    const proc = startProcess(bin, ['serve', ...args, '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`], 'tyto');
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitFor(`${base}/-/ready`, async () => {
        if (proc.exited) throw new Error(`tyto exited (${JSON.stringify(proc.exited)})`);
        const r = await get(`${base}/-/ready`, 2000);
        return r && r.status === 200;
      }, readyTimeoutMs, 200);
      return { base, proc, dataDir };
    } catch (e) {
      lastError = new Error(`${e.message}\n${outputOf(proc)}`);
      await stop(proc);
      if (!proc.tail.some((l) => /address already in use|in use/i.test(l))) break;
    }
  }
  throw lastError;
}

// Starts `tyto simulate` with `args`; resolves once its targets file exists.
export async function startSimulate(bin, args, targetsFile, { timeoutMs = 30000 } = {}) {
  const proc = startProcess(bin, ['simulate', ...args, '--listen-base', '127.0.0.1:0', '--targets-file', targetsFile], 'simulate');
  await waitFor(`tyto simulate to write ${targetsFile}`, async () => {
    if (proc.exited) throw new Error(`tyto simulate exited (${JSON.stringify(proc.exited)})\n${outputOf(proc)}`);
    return fs.existsSync(targetsFile) && fs.statSync(targetsFile).size > 0;
  }, timeoutMs, 200);
  return proc;
}

// SIGTERM, then SIGKILL after `graceMs`.
export async function stop(proc, graceMs = 5000) {
  if (!proc || proc.exited) return;
  try { proc.child.kill('SIGTERM'); } catch { /* already gone */ }
  const t = setTimeout(() => { try { proc.child.kill('SIGKILL'); } catch { /* gone */ } }, graceMs);
  await Promise.race([proc.exitPromise, sleep(graceMs + 2000)]);
  clearTimeout(t);
}

export async function stopAll() {
  await Promise.all([...children].map((p) => stop(p)));
  for (const d of tempDirs) {
    try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ }
  }
  tempDirs.clear();
}

// Synchronous last resort for process exit paths where nothing async can run.
export function killAllNow() {
  for (const p of children) {
    try { p.child.kill('SIGKILL'); } catch { /* gone */ }
  }
}
