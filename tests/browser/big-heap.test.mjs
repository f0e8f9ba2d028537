// The whole 4 GiB wasm32 heap in Chromium, threaded (cross-origin isolated page) and not, as
// tests/js/big-heap.test.mjs does in Node: the page builds a model with a 780 MiB initializer
// itself (tests/js/onnx-writer.mjs, imported by the page), loads its bytes, and runs y = x + w,
// z = y * 2; the model, the input and the two outputs hold more than 3 GiB of heap at once, so
// they sit past 2 GiB, where a pointer read as a signed 32-bit number turns negative. Values are
// checked at both ends and in between; heap use is read from malloc (_ofx_wasm_heap_used).
// Then external data passed as `externalData: {'weights.bin': bytes}` (a few MB, read through
// the deferred path: core.js loadModelDeferred + wasm/api.c ofx_js_read_external) gives the
// values Node gives, in the page and in a Worker; fetched beside a URL model, whole, or by range
// requests as a worker packs the weights.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { defaultRoot, startServer } from './server.mjs';
import { loadModel, createFeatureExtractor, Tensor } from '../../web/index.js';
import { externalModel, externalData, X, X_DIMS, RETURN_NODES } from './external-model.mjs';
import { RANGED_MIN_BYTES } from '../../web/src/source.js';
import * as W from '../js/onnx-writer.mjs';

const GiB = 1024 ** 3;
const N = (780 * 1024 ** 2) / 4; // floats per tensor: 780 MiB, as in Node

let browser, userDataDir, servers;
const requests = []; // what the ranged and unranged servers were asked
let refuseReads = false; // the ranged servers answer reads past a probe with 404
const record = (r) => (requests.push(r), !(refuseReads && r.range && r.range !== 'bytes=0-0'));

test.before(async () => {
  userDataDir = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-chromium-'));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  servers = {
    plain: await startServer(),
    isolated: await startServer({ isolated: true }),
    ranged: await startServer({ isolated: true, onRequest: record }),
    rangedPlain: await startServer({ onRequest: record }), // no SharedArrayBuffer: synchronous requests
    unranged: await startServer({ isolated: true, ranges: false, onRequest: record }),
  };
});

test.after(async () => {
  await browser?.close();
  for (const s of Object.values(servers ?? {})) await s.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

/** A fresh page on the blank test page; runs fn(arg) there and returns its answer and the page's errors. */
async function inPage(server, fn, arg) {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  let crashed = false;
  page.on('crash', () => { crashed = true; });
  try {
    await page.goto(`${server.url}/tests/browser/blank.html`);
    await page.waitForFunction(() => window.onnxfxReady === true);
    const result = await page.evaluate(fn, arg).catch((err) => ({ evaluateError: String(err), crashed }));
    return { ...result, pageErrors };
  } finally {
    await page.close();
  }
}

/** Runs in the page: builds the big model, runs it, returns heap use and checked values. */
async function bigHeapInPage({ N, numThreads }) {
  const W = await import('/tests/js/onnx-writer.mjs');
  const { loadWasm } = await import('/web/src/loader.js'); // the module instance index.js uses
  const { loadModel, createFeatureExtractor, Tensor } = window.onnxfx;
  let bytes = W.addMulModel(N);
  const model = await loadModel(bytes, { numThreads, worker: false });
  bytes = null;
  try {
    const fx = await createFeatureExtractor(model, { returnNodes: ['add', 'mul'] });
    const out = await fx.run(new Tensor('float32', new Float32Array(N).fill(1), [N]));
    const loaded = await loadWasm({});
    const used = (loaded.mod ?? loaded)._ofx_wasm_heap_used();
    const y = out.add.data, z = out.mul.data;
    const checked = [];
    for (const i of [0, 1, 1000, N >>> 1, N - 1009, N - 2, N - 1]) checked.push([i, y[i], z[i]]);
    for (let i = 0; i < N; i += 99991) checked.push([i, y[i], z[i]]);
    await fx.dispose();
    return { used, lengths: [y.length, z.length], checked, threaded: model.threaded, isolated: self.crossOriginIsolated };
  } finally {
    await model.dispose();
  }
}

for (const isolated of [false, true]) {
  const mode = isolated ? 'cross-origin isolated (threads)' : 'not isolated (1 thread)';
  test(`Chromium, ${mode}: past 2 and 3 GiB of heap, values stay right`, async () => {
    const r = await inPage(isolated ? servers.isolated : servers.plain, bigHeapInPage, { N, numThreads: isolated ? 2 : 1 });
    assert.equal(r.evaluateError, undefined, `the page failed (renderer crashed: ${r.crashed}): ${r.evaluateError}`);
    assert.deepEqual(r.pageErrors, []);
    assert.equal(r.isolated, isolated);
    assert.equal(r.threaded, isolated, 'threaded build exactly when the page is cross-origin isolated');
    assert.ok(r.used > 3 * GiB, `heap in use during the run: ${r.used} bytes, more than 3 GiB expected`);
    assert.deepEqual(r.lengths, [N, N]);
    assert.ok(r.checked.length > 2000);
    for (const [i, y, z] of r.checked) {
      const want = 1 + (i % 1009) * 0.5;
      assert.equal(y, want, `add[${i}]`);
      assert.equal(z, 2 * want, `mul[${i}]`);
    }
  });
}

async function nodeFeatures(bytes, options) {
  const model = await loadModel(bytes, options);
  try {
    const fx = await createFeatureExtractor(model, { returnNodes: RETURN_NODES });
    const out = await fx.run(new Tensor('float32', X, X_DIMS));
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data)]));
  } finally {
    await model.dispose();
  }
}

for (const isolated of [false, true]) {
  const mode = isolated ? 'cross-origin isolated (threads)' : 'not isolated (1 thread)';
  test(`Chromium, ${mode}: externalData bytes are read as needed and give Node's values, in the page and in a Worker`, async () => {
    const want = await nodeFeatures(externalModel(), { externalData: externalData() });
    assert.deepEqual(want, await nodeFeatures(externalModel({ inline: true })), 'Node: external data equals the same weights inline');
    // the page builds the same model and files itself (external-model.mjs): no megabytes through evaluate()
    const r = await inPage(isolated ? servers.isolated : servers.plain, async () => {
      const { externalModel, externalData, X, X_DIMS, RETURN_NODES } = await import('/tests/browser/external-model.mjs');
      const { loadModel, createFeatureExtractor, Tensor } = window.onnxfx;
      const answers = {};
      for (const worker of [false, true]) {
        const m = await loadModel(externalModel(), { worker, externalData: externalData() });
        const fx = await createFeatureExtractor(m, { returnNodes: RETURN_NODES });
        const out = await fx.run(new Tensor('float32', X, X_DIMS));
        answers[worker ? 'worker' : 'page'] = {
          threaded: m.threaded, inWorker: m.inWorker,
          out: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data)])),
        };
        await m.dispose();
      }
      let missing = null;
      try {
        await loadModel(externalModel());
      } catch (err) {
        missing = { code: err.code, message: err.message };
      }
      return { answers, missing };
    });
    assert.equal(r.evaluateError, undefined, r.evaluateError);
    assert.deepEqual(r.pageErrors, []);
    for (const where of ['page', 'worker']) {
      const a = r.answers[where];
      assert.equal(a.threaded, isolated, `${where}: threaded exactly when isolated`);
      assert.equal(a.inWorker, where === 'worker');
      assert.deepEqual(Object.keys(a.out), Object.keys(want));
      for (const [key, values] of Object.entries(want)) {
        assert.equal(a.out[key].length, values.length, `${where} ${key}: length`);
        let worst = 0;
        values.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - a.out[key][i])); });
        // Chromium runs the relaxed-SIMD (FMA) build, Node the SIMD128 one: equal up to rounding
        assert.ok(worst <= 1e-4 * Math.max(1, ...values.map(Math.abs)), `${where} ${key}: max |browser - node| = ${worst}`);
      }
    }
    assert.equal(r.missing?.code, 'BAD_MODEL', 'without externalData the page is told what is missing');
    assert.match(r.missing.message, /external file 'weights.bin'.*externalData/);
  });
}

/** The files as a server holds them, under the repository's `folder`: model.onnx, weights.bin and sub/bias.bin. */
function serveExternalModel(folder) {
  const dir = path.join(defaultRoot, folder);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'model.onnx'), externalModel());
  for (const [location, data] of Object.entries(externalData())) writeFileSync(path.join(dir, location), new Uint8Array(data));
  return dir;
}

test('Chromium: a model loaded from a URL fetches its external data files beside it', async () => {
  const dir = serveExternalModel('.cache/browser-external');
  // a model naming a location outside its folder is refused before anything is fetched
  const escape = Buffer.from(externalModel());
  escape.write('../bias.bin.', escape.indexOf('sub/bias.bin'), 'latin1'); // the same length, so the framing holds
  writeFileSync(path.join(dir, 'escape.onnx'), escape);
  try {
    const want = await nodeFeatures(externalModel(), { externalData: externalData() });
    const r = await inPage(servers.isolated, async () => {
      const { X, X_DIMS, RETURN_NODES } = await import('/tests/browser/external-model.mjs');
      const { loadModel, createFeatureExtractor, Tensor } = window.onnxfx;
      const m = await loadModel('/.cache/browser-external/model.onnx');
      const fx = await createFeatureExtractor(m, { returnNodes: RETURN_NODES });
      const out = await fx.run(new Tensor('float32', X, X_DIMS));
      await m.dispose();
      let refused = null;
      try {
        await loadModel('/.cache/browser-external/escape.onnx');
      } catch (err) {
        refused = { code: err.code, message: err.message };
      }
      return { out: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data)])), refused };
    });
    assert.equal(r.evaluateError, undefined, r.evaluateError);
    for (const [key, values] of Object.entries(want)) {
      let worst = 0;
      values.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - r.out[key][i])); });
      assert.ok(worst <= 1e-4 * Math.max(1, ...values.map(Math.abs)), `${key}: max |browser - node| = ${worst}`);
    }
    assert.equal(r.refused?.code, 'BAD_MODEL');
    assert.match(r.refused.message, /location '\.\.\/bias\.bin.*' is refused: it has a '\.\.' segment/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * y = x · w + b, w 4096 × 8200 float32 (131 MB, past RANGED_MIN_BYTES), as one file or with w in
 * weights.bin and b in sub/bias.bin, written under the repository's `folder`; returns the model
 * file's path and size, and the input.
 */
function serveBigMatMul(folder, { external }) {
  const K = 4096, N = 8200;
  assert.ok(K * N * 4 >= RANGED_MIN_BYTES);
  const w = new Float32Array(K * N), b = Float32Array.from({ length: N }, (_, j) => (j % 13) - 6);
  for (let i = 0; i < w.length; i++) w[i] = ((i * 7919) % 2003) / 2003 - 0.5;
  const raw = (a) => new Uint8Array(a.buffer);
  const ref = (location) => [W.int(14, 1), W.msg(13, W.str(1, 'location'), W.str(2, location))]; // data_location EXTERNAL
  const bytes = W.model({
    graph: W.graph({
      nodes: [W.node('MatMul', ['x', 'w'], ['y'], { name: 'fc' }), W.node('Add', ['y', 'b'], ['z'], { name: 'bias' })],
      inputs: [W.valueInfo('x', W.FLOAT, [1, K])],
      outputs: [W.valueInfo('z', W.FLOAT, [1, N])],
      initializers: external
        ? [W.tensor({ name: 'w', dims: [K, N], extra: ref('weights.bin') }), W.tensor({ name: 'b', dims: [N], extra: ref('sub/bias.bin') })]
        : [W.tensor({ name: 'w', dims: [K, N], raw: raw(w) }), W.tensor({ name: 'b', dims: [N], raw: raw(b) })],
    }),
  });
  const dir = path.join(defaultRoot, folder);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'model.onnx'), bytes);
  if (external) writeFileSync(path.join(dir, 'weights.bin'), raw(w)), writeFileSync(path.join(dir, 'sub/bias.bin'), raw(b));
  return { dir, file: path.join(dir, 'model.onnx'), size: bytes.length, K, N, x: Float32Array.from({ length: K }, (_, i) => Math.cos(i)) };
}

/** Length and a sum of every 997th byte: enough to tell two 131 MB toONNX() outputs apart. */
const DIGEST = 'let d = b.length; for (let i = 0; i < b.length; i += 997) d = (d * 31 + b[i]) >>> 0; return [b.length, d];';
const digest = new Function('b', DIGEST);

/** Loads `url` in a worker of a page of `server`; returns its 'bias' features for x and toONNX()'s digest. */
async function workerFeatures(server, url, { K, x }) {
  return inPage(server, async ({ url, K, x, DIGEST }) => {
    const { loadModel, createFeatureExtractor, Tensor } = window.onnxfx;
    const m = await loadModel(url, { worker: true });
    const fx = await createFeatureExtractor(m, { returnNodes: ['bias'] });
    const z = (await fx.run(new Tensor('float32', Float32Array.from(x), [1, K]))).bias.data;
    const onnx = new Function('b', DIGEST)(await fx.toONNX());
    await m.dispose();
    return { z: Array.from(z), onnx };
  }, { url, K, x: Array.from(x), DIGEST });
}

/** Node's features for the same file, and its toONNX() digest (the weights inline, read from the files). */
async function nodeBiasFeatures({ file, K, x }) {
  const model = await loadModel(file);
  try {
    const fx = await createFeatureExtractor(model, { returnNodes: ['bias'] });
    return { z: Array.from((await fx.run(new Tensor('float32', x, [1, K]))).bias.data), onnx: digest(await fx.toONNX()) };
  } finally {
    await model.dispose();
  }
}

function assertClose(got, want, what) {
  assert.equal(got.length, want.length, what);
  let worst = 0;
  want.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - got[i])); });
  assert.ok(worst <= 1e-4 * Math.max(1, ...want.map(Math.abs)), `${what}: max |browser - node| = ${worst}`);
}

/** Bytes the requests for paths ending in `suffix` asked for by range. */
const rangeBytes = (suffix) => requests.filter((q) => q.path.endsWith(suffix) && q.range)
  .reduce((sum, q) => sum + (([, a, b]) => Number(b) - Number(a) + 1)(/bytes=(\d+)-(\d+)/.exec(q.range)), 0);

test('Chromium, a worker: big external data beside a URL model is read by range requests as extractors pack it', async () => {
  const model = serveBigMatMul('.cache/browser-ranged', { external: true });
  try {
    const want = await nodeBiasFeatures(model);
    for (const server of ['ranged', 'rangedPlain', 'unranged']) {
      requests.length = 0;
      const r = await workerFeatures(servers[server], '/.cache/browser-ranged/model.onnx', model);
      assert.equal(r.evaluateError, undefined, r.evaluateError);
      assertClose(r.z, want.z, server);
      assert.deepEqual(r.onnx, want.onnx, `${server}: toONNX() gives Node's bytes`);
      const files = requests.filter((q) => q.path.endsWith('.bin'));
      if (server !== 'unranged') {
        // a probe per file at load, then one read per tensor as the worker packs it (fetched by
        // the page into shared memory when isolated, else by the worker's synchronous requests)
        assert.deepEqual(files.filter((q) => q.range === null), [], 'no file fetched whole');
        assert.equal(rangeBytes('/weights.bin'), 1 + 4096 * 8200 * 4, 'weights.bin: the probe, then w once');
      } else {
        // each probe is answered with the whole file, which is then used: one request per file
        assert.equal(files.length, 2, `weights.bin and sub/bias.bin requested once each: ${JSON.stringify(files)}`);
      }
    }
  } finally {
    rmSync(model.dir, { recursive: true, force: true });
  }
});

test('Chromium, a worker: a range read that fails is a BadModelError naming the file, and the worker goes on', async () => {
  const model = serveBigMatMul('.cache/browser-ranged-fail', { external: true });
  refuseReads = true;
  try {
    for (const server of ['ranged', 'rangedPlain']) {
      const r = await inPage(servers[server], async () => {
        const { loadModel, createFeatureExtractor } = window.onnxfx;
        const m = await loadModel('/.cache/browser-ranged-fail/model.onnx', { worker: true });
        let failed = null;
        try {
          await createFeatureExtractor(m, { returnNodes: ['bias'] });
        } catch (err) {
          failed = { code: err.code, message: err.message };
        }
        const nodes = m.nodes.length; // the model is still there
        await m.dispose();
        return { failed, nodes };
      });
      assert.equal(r.evaluateError, undefined, `${server}: ${r.evaluateError}`);
      assert.equal(r.failed?.code, 'BAD_MODEL', `${server}: ${JSON.stringify(r.failed)}`);
      assert.match(r.failed.message, /weights\.bin|bias\.bin/, `${server}: ${r.failed.message}`);
      assert.equal(r.nodes, 3, `${server}: the model still answers, then is disposed`);
    }
  } finally {
    refuseReads = false;
    rmSync(model.dir, { recursive: true, force: true });
  }
});

test('Chromium, a worker: a big single-file model by URL is read by range requests, never fetched whole', async () => {
  const model = serveBigMatMul('.cache/browser-ranged-model', { external: false });
  try {
    const want = await nodeBiasFeatures(model);
    requests.length = 0;
    const r = await workerFeatures(servers.ranged, '/.cache/browser-ranged-model/model.onnx', model);
    assert.equal(r.evaluateError, undefined, r.evaluateError);
    assertClose(r.z, want.z, 'single file');
    assert.deepEqual(r.onnx, want.onnx, "toONNX() gives Node's bytes: the weights read back inline");
    assert.deepEqual(requests.filter((q) => q.path.endsWith('/model.onnx') && q.range === null), [], 'model.onnx never fetched whole');
    const read = rangeBytes('/model.onnx');
    // w twice (packed once, read back inline by toONNX()), the framing a little
    assert.ok(read >= 2 * model.K * model.N * 4 && read < 2.1 * model.size, `${read} bytes requested for a ${model.size}-byte model`);
  } finally {
    rmSync(model.dir, { recursive: true, force: true });
  }
});
