// The package in real web builds: a Vite app and a webpack app that `import ... from 'onnxfx'`,
// each built once with its own CLI through `npm run build`, served cross-origin isolated and not,
// run in Debian's Chromium: the .wasm and worker files are found with no configuration (Vite:
// the one line `worker: { format: 'es' }`, docs/api.md), threads where the page is isolated,
// worker mode, features equal to Node's, and no console errors.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { loadModel, createFeatureExtractor, Tensor } from '../../web/index.js';
import { repoRoot } from '../js/helpers.mjs';
import { convReluModel } from '../js/onnx-writer.mjs';

const tools = path.join(repoRoot, 'tests/node_modules');
const MODEL = convReluModel();
const INPUT = Float32Array.from({ length: 3 * 8 * 8 }, (_, i) => Math.sin(i * 0.37));

// The app: loads /model.onnx, extracts 'conv' and 'relu', in the page or (?worker) in a worker.
const MAIN = `import { loadModel, createFeatureExtractor, Tensor } from 'onnxfx';
const worker = new URLSearchParams(location.search).has('worker');
try {
  const model = await loadModel('/model.onnx', { worker });
  const fx = await createFeatureExtractor(model, { returnNodes: ['conv', 'relu'] });
  const x = new Tensor('float32', Float32Array.from({ length: 192 }, (_, i) => Math.sin(i * 0.37)), [1, 3, 8, 8]);
  const out = await fx.run(x);
  document.body.dataset.result = JSON.stringify({
    threaded: model.threaded, inWorker: model.inWorker, simd: model.backend.simd,
    out: Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { dims: t.dims, data: Array.from(t.data) }])),
  });
  await model.dispose();
} catch (err) {
  document.body.dataset.result = JSON.stringify({ error: String(err && err.stack || err) });
}
`;

const APPS = {
  vite: {
    files: {
      'index.html': '<!doctype html><html><head><link rel="icon" href="data:,"></head><body><script type="module" src="/main.js"></script></body></html>\n',
      'main.js': MAIN,
      // the one line Vite needs: onnxfx's worker is a module (it uses top-level await)
      'vite.config.js': "export default { worker: { format: 'es' } };\n",
      'public/model.onnx': MODEL.bytes,
    },
    build: `node ${JSON.stringify(path.join(tools, 'vite/bin/vite.js'))} build --logLevel warn`,
    out: 'dist',
  },
  webpack: {
    files: {
      'src/index.js': MAIN,
      'static/index.html': '<!doctype html><html><head><link rel="icon" href="data:,"></head><body><script src="main.js"></script></body></html>\n',
      'static/model.onnx': MODEL.bytes,
    },
    build: `node ${JSON.stringify(path.join(tools, 'webpack-cli/bin/cli.js'))} --mode production --entry ./src/index.js -o dist/ && cp static/* dist/`,
    out: 'dist',
  },
};

let work, browser, expected;
const built = {};

async function serve(root, isolated) {
  const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
  const server = http.createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.join(root, rel.endsWith('/') ? `${rel}index.html` : rel);
    if (!file.startsWith(root)) { res.writeHead(404); res.end(); return; }
    try {
      const body = await readFile(file);
      const headers = { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' };
      if (isolated) Object.assign(headers, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
      res.writeHead(200, headers);
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections(); // the browser keeps its connections open
    }),
  };
}

test.before(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-bundlers-'));
  for (const [name, app] of Object.entries(APPS)) {
    const dir = path.join(work, name);
    for (const [file, content] of Object.entries(app.files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), content);
    }
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `${name}-app`, private: true, type: 'module', scripts: { build: app.build } }));
    // 'onnxfx' resolves to this checkout's package, as `npm install ../web` links it
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(path.join(repoRoot, 'web'), path.join(dir, 'node_modules/onnxfx'));
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    built[name] = path.join(dir, app.out);
  }
  const model = await loadModel(MODEL.bytes);
  const fx = await createFeatureExtractor(model, { returnNodes: ['conv', 'relu'] });
  const out = await fx.run(new Tensor('float32', INPUT, [1, 3, 8, 8]));
  expected = Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { dims: t.dims, data: Array.from(t.data) }]));
  await model.dispose();
  browser = await chromium.launchPersistentContext(path.join(work, 'chromium'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

test.after(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the builds emit the WebAssembly files and the worker with the app', () => {
  for (const [name, dir] of Object.entries(built)) {
    const files = readdirSync(dir, { recursive: true }).map(String);
    // threaded and single-thread, each on SIMD128 and relaxed SIMD
    assert.equal(files.filter((f) => f.endsWith('.wasm')).length, 4, `${name}: the four builds' .wasm files (${files.join(', ')})`);
    assert.equal(files.filter((f) => f.endsWith('.mjs')).length, 4, `${name}: the four builds' module factories`);
  }
});

for (const app of Object.keys(APPS)) {
  for (const isolated of [true, false]) {
    for (const worker of [false, true]) {
      test(`${app} app, ${isolated ? 'cross-origin isolated' : 'not isolated'}, ${worker ? 'in a worker' : 'in the page'}`, async () => {
        const server = await serve(built[app], isolated);
        const page = await browser.newPage();
        const problems = [];
        page.on('pageerror', (err) => problems.push(`pageerror: ${err}`));
        page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
        page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));
        page.on('response', (res) => { if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`); });
        try {
          await page.goto(`${server.url}/${worker ? '?worker' : ''}`);
          await page.waitForFunction(() => document.body.dataset.result, null, { timeout: 60_000 });
          const result = JSON.parse(await page.evaluate(() => document.body.dataset.result));
          assert.equal(result.error, undefined, result.error);
          assert.equal(result.threaded, isolated, 'threads exactly where the page is cross-origin isolated');
          assert.equal(result.inWorker, worker);
          assert.equal(result.simd, 'relaxed', 'Chromium gets the relaxed-SIMD build, emitted with the app');
          assert.deepEqual(Object.keys(result.out), ['conv', 'relu']);
          for (const key of ['conv', 'relu']) {
            assert.deepEqual(result.out[key].dims, expected[key].dims);
            const worst = Math.max(...result.out[key].data.map((v, i) => Math.abs(v - expected[key].data[i])));
            assert.ok(worst < 1e-5, `${key}: largest difference from Node ${worst}`);
          }
          assert.deepEqual(problems, []);
        } finally {
          await page.close();
          await server.close();
        }
      });
    }
  }
}
