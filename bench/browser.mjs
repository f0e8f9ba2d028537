// The benchmark's measurements in headless Chromium (issue #16): bench/run.mjs --only browser.
//
// Debian's /usr/bin/chromium driven by playwright-core (no browser is downloaded), a fresh browser
// and profile for every measurement (one engine, one row, one round: like bench/engine.mjs's one
// process each, so that engines share no heap, JIT state or workers), on bench/browser.html
// served cross-origin isolated (COOP/COEP: SharedArrayBuffer, hence threads) by
// tests/browser/server.mjs from the repository root. Answers what engine.mjs answers:
// {times, startupMs, rssMB, backend?} or {error}; rssMB is the peak resident size (VmHWM) of the
// page's renderer process, where the page, its wasm heap and its workers live.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../tests/browser/server.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/** A repository file as the server's URL path (models must be inside the repository). */
function urlPath(file) {
  const rel = path.relative(repo, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`${file} is outside the repository, the server cannot serve it`);
  return '/' + rel.split(path.sep).join('/');
}

/** Processes by pid: parent pid and command line (Linux /proc). */
function processes() {
  const out = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(Number(name), { ppid, cmdline: readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ') });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Peak RSS (MB) of the renderer processes of the browser that runs with this profile dir. */
function rendererPeakMB(userDataDir) {
  const procs = processes();
  const roots = [...procs].filter(([, p]) => p.cmdline.includes(`--user-data-dir=${userDataDir}`) && !p.cmdline.includes('--type=')).map(([pid]) => pid);
  const tree = new Set(roots);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, p] of procs) if (!tree.has(pid) && tree.has(p.ppid)) tree.add(pid), (grew = true);
  }
  let best = null;
  for (const pid of tree) {
    if (!procs.get(pid).cmdline.includes('--type=renderer')) continue;
    try {
      const kb = Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)?.[1]);
      if (kb) best = Math.max(best ?? 0, kb / 1024);
    } catch {
      // gone meanwhile
    }
  }
  return best;
}

/** Starts the server; measure(spec) then runs one spec in a fresh browser. */
export async function startBrowserBench() {
  const server = await startServer({ isolated: true });
  let version = null;

  async function inFreshBrowser(spec) {
    const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-bench-chromium-'));
    let context;
    try {
      context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS });
      version ??= context.browser()?.version() ?? null;
      const page = context.pages()[0] ?? (await context.newPage());
      const pageErrors = [];
      page.on('pageerror', (err) => pageErrors.push(String(err)));
      await page.goto(`${server.url}/bench/browser.html`);
      await page.waitForFunction(() => window.benchReady === true);
      const r = await page.evaluate((s) => window.benchRun(s), spec);
      if (!r.error && r.isolated !== true) r.error = 'the page is not cross-origin isolated';
      if (!r.error && pageErrors.length) r.error = `page error: ${pageErrors[0]}`;
      if (!r.error) r.rssMB = rendererPeakMB(userDataDir);
      return r;
    } catch (err) {
      return { error: String(err?.message ?? err).split('\n')[0] };
    } finally {
      await context?.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    }
  }

  return {
    /** One measurement: spec as engine.mjs's, model a file path inside the repository. */
    measure: (spec) => inFreshBrowser({ ...spec, model: spec.model && urlPath(spec.model) }),
    /** {simd128, fma} GFLOP/s from bench/peak.mjs, in a page like the measured ones. */
    peaks: () => inFreshBrowser({ engine: 'peak' }),
    version: () => version,
    close: () => server.close(),
  };
}
