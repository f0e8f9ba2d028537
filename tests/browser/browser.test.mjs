// onnxfx in Debian's Chromium (driven by playwright-core; no browser is downloaded): the package
// loads from a plain <script type="module"> with no bundler, lists names and extracts features
// equal to Node's, in the page and in a Worker, threaded (cross-origin isolated server) and not,
// on the relaxed-SIMD build that Chromium gets; toONNX() and explain() answer there too, and
// dispose() can be awaited.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';
import { loadModel, getGraphNodeNames, createFeatureExtractor, Tensor } from '../../web/index.js';
import { repoRoot, modelDir } from '../js/helpers.mjs';

const MODEL = path.join(modelDir, 'naming/flat.onnx');
const modelUrlPath = '/' + path.relative(repoRoot, MODEL).split(path.sep).join('/');
const INPUT_DIMS = [2, 3, 8, 8];
const input = Float32Array.from({ length: 2 * 3 * 8 * 8 }, (_, i) => Math.sin(i * 0.37) * 2);

let browser, userDataDir, servers, reference;

test.before(async () => {
  assert.ok(!modelUrlPath.startsWith('/..'), `the model (${MODEL}) must be inside the repository to be served`);
  userDataDir = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-chromium-'));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  servers = { plain: await startServer(), isolated: await startServer({ isolated: true }) };

  const model = await loadModel(MODEL);
  const [trainNodes, evalNodes] = getGraphNodeNames(model, { suppressDiffWarning: true });
  const returnNodes = [evalNodes[2], evalNodes.at(-1)];
  const fx = await createFeatureExtractor(model, { returnNodes });
  const out = await fx.run(new Tensor('float32', input, INPUT_DIMS));
  const onnx = Array.from(await fx.toONNX());
  reference = { trainNodes, evalNodes, returnNodes, out, onnx };
  await model.dispose();
});

test.after(async () => {
  await browser?.close();
  for (const s of Object.values(servers ?? {})) await s.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

/** Opens the blank page and runs the whole flow there; returns what the page saw. */
async function runInPage(server, { worker }) {
  const page = await browser.newPage();
  const consoleLines = [];
  page.on('console', (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  try {
    await page.goto(`${server.url}/tests/browser/blank.html`);
    await page.waitForFunction(() => window.onnxfxReady === true);
    const result = await page.evaluate(async ({ modelUrl, worker, input, dims, returnNodes }) => {
      const { loadModel, getGraphNodeNames, createFeatureExtractor, Tensor } = window.onnxfx;
      const progress = [];
      const model = await loadModel(modelUrl, { worker, onProgress: (loaded, total) => progress.push([loaded, total]) });
      const [trainNodes, evalNodes] = getGraphNodeNames(model, { suppressDiffWarning: true });
      const fx = await createFeatureExtractor(model, { returnNodes });
      const tensor = new Tensor('float32', Float32Array.from(input), dims);
      // Two runs at once on one extractor: they are queued, and give the same answer.
      const [out, again] = await Promise.all([fx.run(tensor), fx.run(tensor)]);
      const features = {};
      for (const [key, t] of Object.entries(out)) {
        features[key] = { type: t.type, dims: t.dims, data: Array.from(t.data), same: t.data.every((v, i) => v === again[key].data[i]) };
      }
      const info = { threaded: model.threaded, inWorker: model.inWorker, isolated: self.crossOriginIsolated, backend: model.backend,
        cores: navigator.hardwareConcurrency };
      const onnx = Array.from(await fx.toONNX());
      const plan = await fx.explain(tensor);
      const disposing = model.dispose();
      const disposeAnswer = { promise: disposing instanceof Promise, same: model.dispose() === disposing, value: await disposing };
      let disposedCode = null;
      try {
        await fx.run(tensor);
      } catch (err) {
        disposedCode = err.code;
      }
      return { ...info, trainNodes, evalNodes, features, progress, onnx, plan, disposeAnswer, disposedCode };
    }, { modelUrl: modelUrlPath, worker, input: Array.from(input), dims: INPUT_DIMS, returnNodes: reference.returnNodes });
    return { ...result, consoleLines, pageErrors };
  } finally {
    await page.close();
  }
}

for (const isolated of [false, true]) {
  for (const worker of [false, true]) {
    const where = worker ? 'in a Worker' : 'in the page';
    const mode = isolated ? 'cross-origin isolated (threads)' : 'not isolated (1 thread)';
    test(`Chromium, ${where}, ${mode}: names and features match Node`, async () => {
      const r = await runInPage(isolated ? servers.isolated : servers.plain, { worker });
      assert.deepEqual(r.pageErrors, []);
      assert.equal(r.isolated, isolated, 'the server headers decide crossOriginIsolated');
      assert.equal(r.threaded, isolated, 'threaded build exactly when the page is cross-origin isolated');
      assert.equal(r.inWorker, worker);
      // Chromium runs relaxed SIMD: 'auto' loads the relaxed build (FMA kernels), whose features
      // still match Node's SIMD128 build below
      assert.equal(r.backend.simd, 'relaxed', `the relaxed build is picked: ${JSON.stringify(r.backend)}`);
      assert.equal(r.backend.kernels.f32_igemm, 'ofx_f32_igemm_minmax_ukernel_6x8__wasmrelaxedsimd_fma');
      // threads by default where the page may have them: its cores, capped by the pool (4 + this one)
      const threads = isolated ? Math.min(r.cores, 5) : 1;
      assert.equal(r.backend.threads, threads);
      assert.match(r.plan, new RegExp(`^backend: relaxed SIMD, ${threads} threads?; f32 kernels: gemm 6x8__wasmrelaxedsimd_fma`));
      assert.deepEqual(r.trainNodes, reference.trainNodes);
      assert.deepEqual(r.evalNodes, reference.evalNodes);
      assert.deepEqual(Object.keys(r.features), Object.keys(reference.out));
      for (const [key, want] of Object.entries(reference.out)) {
        const got = r.features[key];
        assert.equal(got.type, want.type);
        assert.deepEqual(got.dims, want.dims);
        assert.ok(got.same, `${key}: two queued runs gave different values`);
        let worst = 0;
        want.data.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - got.data[i])); });
        assert.ok(worst <= 1e-5, `${key}: max |browser - node| = ${worst}`);
      }
      const last = r.progress.at(-1);
      assert.ok(last && last[0] > 0 && last[0] === last[1], `onProgress ends at loaded == total: ${JSON.stringify(r.progress)}`);
      assert.deepEqual(r.onnx, reference.onnx, 'toONNX() gives the bytes Node gives');
      for (const name of reference.returnNodes) assert.ok(r.plan.includes(name), `explain() names ${name}: ${r.plan}`);
      assert.deepEqual(r.disposeAnswer, { promise: true, same: true, value: undefined });
      assert.equal(r.disposedCode, 'DISPOSED');
      const notices = r.consoleLines.filter((l) => l.includes('not cross-origin isolated'));
      assert.equal(notices.length, isolated ? 0 : 1, `one 1-thread notice when not isolated: ${r.consoleLines.join(' | ')}`);
      assert.ok(notices.every((l) => l.startsWith('info:')), 'the notice is not an error');
    });
  }
}
