// The feature-map explorer (demos/explorer) in Debian's Chromium, served by its own
// serve.mjs (cross-origin isolated): the bundled model's nodes are listed with shapes, search
// filters them, picking nodes renders one heat-map tile per channel (the non-blank ones are those
// whose values vary, as computed in Node on the same photo), a tile opens a zoomed view.
// Another model opened from a file works too. Saves .cache/screenshots/explorer.png.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pngjs from 'pngjs';
import { chromium } from 'playwright-core';
import { startServer } from '../../demos/explorer/serve.mjs';
import { loadModel, createFeatureExtractor, imageToTensor, Tensor } from '../../web/index.js';
import { repoRoot } from '../js/helpers.mjs';

const demos = path.join(repoRoot, '.cache/demos');
const PICK = ['features.2.project', 'features.14.expand_relu'];
let browser, server, userDataDir, expected;

test.before(async () => {
  // What the page should show, computed in Node on the same photo and preprocessing.
  const png = pngjs.PNG.sync.read(readFileSync(path.join(demos, 'photos/chelsea.png')));
  const model = await loadModel(path.join(demos, 'mobilenet_v2.onnx'));
  const fx = await createFeatureExtractor(model, { returnNodes: PICK });
  const x = await imageToTensor({ width: png.width, height: png.height, data: png.data }, { preset: 'none', scale: '0-1', resize: [224, 224], crop: null });
  const out = await fx.run(x);
  expected = { nodeCount: model.nodes.length, maps: {} };
  for (const [name, t] of Object.entries(out)) {
    const [, c, h, w] = t.dims;
    const varying = [];
    for (let k = 0; k < c; k++) {
      const p = t.data.subarray(k * h * w, (k + 1) * h * w);
      varying.push(Math.max(...p) > Math.min(...p));
    }
    expected.maps[name] = { dims: t.dims, varying };
  }
  model.dispose();

  userDataDir = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-chromium-'));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  server = await startServer({ port: 0 });
});

test.after(async () => {
  await browser?.close();
  await server?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

test('serve.mjs: cross-origin isolated, the demo folders only', async () => {
  const page = await fetch(`${server.url}/demos/explorer/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.equal((await fetch(`${server.url}/web/dist/onnxfx.wasm`)).headers.get('content-type'), 'application/wasm');
  for (const other of ['/tests/browser/server.mjs', '/.git/config', '/demos/../README.md', '/%2e%2e/etc/passwd']) {
    assert.equal((await fetch(`${server.url}${other}`)).status, 404, other);
  }
});

test('explorer: node tree, search, channel tiles, zoom', async () => {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  await page.goto(`${server.url}/demos/explorer/?nodes=`);
  await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error', null, { timeout: 60_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready', await page.textContent('#status'));

  // Every node listed once, with a shape from the blank-input run; threaded in a worker.
  assert.equal(await page.locator('#tree .node').count(), expected.nodeCount);
  assert.equal((await page.textContent('#tree .node[data-name="pool"] .shape')).trim(), '[1×1280×1×1]');
  assert.equal((await page.textContent('#tree .node[data-name="pool"] .op')).trim(), 'GlobalAveragePool');
  assert.match(await page.textContent('#status'), /threaded · in a worker/);
  assert.equal(await page.locator('.tile').count(), 0, 'nothing picked yet');

  // Search: the six nodes of block features.3, as full names.
  await page.fill('#search', 'features.3.');
  assert.deepEqual(await page.$$eval('#tree .node', (rows) => rows.map((r) => r.dataset.name)),
    ['features.3.expand', 'features.3.expand_relu', 'features.3.depthwise', 'features.3.depthwise_relu', 'features.3.project', 'features.3.add']);
  await page.fill('#search', '');

  // Pick through search (scopes start collapsed), the way a user finds a node by name.
  for (const name of PICK) {
    await page.fill('#search', name);
    await page.click(`#tree .node[data-name="${name}"]`);
  }
  await page.fill('#search', '');
  await page.waitForFunction((n) => document.body.dataset.state === 'ready' && document.querySelectorAll('.map').length === n, PICK.length, { timeout: 60_000 });
  for (const name of PICK) {
    const want = expected.maps[name];
    const shown = Math.min(want.dims[1], 192);
    const tiles = await page.$$eval(`.map[data-name="${name}"] .tile`, (els) => els.map((el) => {
      const c = el.querySelector('canvas');
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let differs = false;
      for (let i = 4; i < px.length && !differs; i += 4) differs = px[i] !== px[0] || px[i + 1] !== px[1] || px[i + 2] !== px[2];
      return { channel: Number(el.dataset.channel), varying: Number(el.dataset.max) > Number(el.dataset.min), differs, w: c.width, h: c.height };
    }));
    assert.equal(tiles.length, shown, `${name}: one tile per channel (at most 192 before "show all")`);
    assert.deepEqual(tiles.map((t) => t.varying), want.varying.slice(0, shown), `${name}: which channels vary`);
    assert.deepEqual(tiles.map((t) => t.differs), want.varying.slice(0, shown), `${name}: non-blank tiles are the varying channels`);
    assert.ok(tiles.every((t) => t.w === want.dims[3] && t.h === want.dims[2]));
    const nonBlank = tiles.filter((t) => t.differs).length;
    assert.ok(nonBlank > 0, `${name}: some tiles show something`);
  }
  // features.2.project is linear: every one of its 24 channels varies.
  assert.equal(expected.maps['features.2.project'].varying.filter(Boolean).length, 24);
  assert.match(await page.textContent('#timing'), /run\s+[\d.]+ ms/);

  mkdirSync(path.join(repoRoot, '.cache/screenshots'), { recursive: true });
  await page.screenshot({ path: path.join(repoRoot, '.cache/screenshots/explorer.png') });

  // A tile opens the zoomed view of its channel.
  await page.click('.map[data-name="features.2.project"] .tile[data-channel="3"]');
  assert.equal(await page.evaluate(() => document.getElementById('zoom').open), true);
  assert.equal(await page.textContent('#zoom-title'), 'features.2.project · channel 3');
  await page.screenshot({ path: path.join(repoRoot, '.cache/screenshots/explorer-zoom.png') });
  await page.keyboard.press('Escape');

  // Another photo: the picked nodes run again on it.
  const before = await page.getAttribute('.map[data-name="features.2.project"] .tile[data-channel="0"]', 'data-max');
  await page.setInputFiles('#photo-file', path.join(demos, 'photos/coffee.png'));
  await page.waitForFunction((v) => document.body.dataset.state === 'ready' &&
    document.querySelector('.map[data-name="features.2.project"] .tile[data-channel="0"]')?.dataset.max !== v, before, { timeout: 60_000 });
  assert.equal(await page.locator('.map[data-name="features.2.project"] .tile').count(), 24);
  assert.match(await page.getAttribute('#photo', 'src'), /^blob:/);
  assert.deepEqual(pageErrors, []);
});

test('explorer: opening another .onnx (MLSD, NHWC with 4 channels) lists its nodes and maps a picked one', async () => {
  const file = path.join(demos, 'mlsd_320x320_tiny.onnx');
  const model = await loadModel(file);
  const conv = model.nodes.find((n) => n.opType === 'Conv');
  const fx = await createFeatureExtractor(model, { returnNodes: [conv.name] });
  const { dims } = Object.values(await fx.run(new Tensor('float32', new Float32Array(320 * 320 * 4), [1, 320, 320, 4])))[0];
  const nodeCount = model.nodes.length;
  model.dispose();

  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  await page.goto(`${server.url}/demos/explorer/?nodes=`);
  await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 60_000 });
  await page.setInputFiles('#model-file', file);
  await page.waitForFunction(() => document.body.dataset.state === 'ready' && document.getElementById('model-info').textContent.includes('mlsd_320x320_tiny.onnx'), null, { timeout: 60_000 });
  assert.match(await page.textContent('#model-info'), /input input_image_with_alpha:0 NHWC 4×320×320/);
  assert.equal(await page.locator('#tree .node').count(), nodeCount);
  await page.fill('#search', conv.name);
  await page.click(`#tree .node[data-name="${conv.name}"]`);
  await page.waitForFunction(() => document.body.dataset.state === 'ready' && document.querySelectorAll('.map .tile').length > 0, null, { timeout: 60_000 });
  assert.equal(await page.locator('.map .tile').count(), Math.min(dims[1], 192), `${conv.name} ${JSON.stringify(dims)}: one tile per channel`);
  assert.deepEqual(pageErrors, []);
});

test('explorer: every failure is shown in the page with old results cleared; model switches log no errors; a preset per model', async () => {
  const W = await import('../js/onnx-writer.mjs');
  const custom = W.model({
    graph: W.graph({
      nodes: [
        W.node('Conv', ['x', 'w'], ['c'], { name: '/conv/Conv', attrs: { pads: [1, 1, 1, 1] } }),
        W.node('Frobnicate', ['c'], ['f'], { name: '/odd/Frobnicate', domain: 'com.example' }),
      ],
      inputs: [W.valueInfo('x', W.FLOAT, [1, 3, 32, 32])],
      outputs: [W.valueInfo('f', W.FLOAT, null)],
      initializers: [W.tensor({ name: 'w', dims: [4, 3, 3, 3], raw: W.floats(108) })],
    }),
    opsets: [['', 13], ['com.example', 1]],
  });
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err}`));
  page.on('console', (msg) => { if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`); });
  const settle = (pred, arg) => page.waitForFunction(pred, arg, { timeout: 60_000 });
  const state = () => page.evaluate(() => document.body.dataset.state);
  await page.goto(`${server.url}/demos/explorer/?nodes=features.2.project`);
  await settle(() => document.body.dataset.state === 'ready' && document.querySelectorAll('.map .tile').length === 24);
  assert.equal(await page.inputValue('#preset'), 'unit', 'the bundled nsfwjs model takes 0..1');

  // A photo the browser cannot decode: said in the maps panel, old maps and timings gone.
  await page.setInputFiles('#photo-file', { name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from('not a PNG at all') });
  await settle(() => document.body.dataset.state === 'error');
  assert.match(await page.textContent('#maps .error'), /could not read the photo broken\.png: not an image this browser can decode/);
  assert.equal(await page.locator('.map').count(), 0);
  assert.equal(await page.textContent('#timing'), '');
  assert.match(await page.textContent('#status'), /could not read the photo/);

  // ResNet-18 (torchvision, NCHW): ImageNet mean/std, not the previous model's 0..1.
  await page.setInputFiles('#model-file', path.join(repoRoot, '.cache/models/resnet18.onnx'));
  await settle(() => document.body.dataset.state === 'ready' && document.getElementById('model-info').textContent.includes('resnet18.onnx'));
  assert.equal(await page.inputValue('#preset'), 'imagenet');
  assert.equal((await page.textContent('#tree .node[data-name="fc"] .shape')).trim(), '[batch×1000]', 'shapes inferred, symbolic dims by name');
  await page.selectOption('#preset', 'signed'); // the user's choice for this model is kept

  // A file that is not a model: said in the page, the old model's tree, maps and timings gone.
  await page.setInputFiles('#model-file', { name: 'page.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('<!DOCTYPE html><html><body>404</body></html>') });
  await settle(() => document.body.dataset.state === 'error');
  assert.match(await page.textContent('#maps .error'), /could not load page\.onnx[\s\S]*BAD_MODEL: not an ONNX model: it looks like an HTML page/);
  assert.equal(await page.locator('#tree .node').count(), 0);
  assert.equal(await page.textContent('#timing'), '');
  assert.match(await page.textContent('#model-info'), /could not load page\.onnx/);
  // a second bad model at once: its worker is started and ended while its threads still load
  await page.setInputFiles('#model-file', { name: 'notes.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('just some notes, not a model\n') });
  await settle(() => document.body.dataset.state === 'error' && document.getElementById('model-info').textContent.includes('notes.onnx'));
  assert.match(await page.textContent('#maps .error'), /not an ONNX model: it looks like text/);

  // An op onnxfx lacks: listed (no shape), and picking it says why it cannot run.
  await page.setInputFiles('#model-file', { name: 'custom.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(custom) });
  await settle(() => document.body.dataset.state === 'ready' && document.getElementById('model-info').textContent.includes('custom.onnx'));
  assert.equal((await page.textContent('#tree .node[data-name="conv"] .shape')).trim(), '[1×4×32×32]');
  assert.equal((await page.textContent('#tree .node[data-name="odd"] .shape')).trim(), '');
  await page.setInputFiles('#photo-file', path.join(demos, 'photos/coffee.png'));
  await page.fill('#search', 'odd');
  await page.click('#tree .node[data-name="odd"]');
  await settle(() => document.body.dataset.state === 'error');
  assert.match(await page.textContent('#maps .error'), /cannot extract odd[\s\S]*UNSUPPORTED_OP/);
  assert.equal(await page.textContent('#timing'), '');
  await page.click('#tree .node[data-name="odd"]');
  await page.fill('#search', 'conv');
  await page.click('#tree .node[data-name="conv"]');
  await settle(() => document.body.dataset.state === 'ready' && document.querySelectorAll('.map .tile').length === 4);

  // Back to ResNet-18: its preset as the user left it; then the bundled model again: 0..1.
  await page.setInputFiles('#model-file', path.join(repoRoot, '.cache/models/resnet18.onnx'));
  await settle(() => document.body.dataset.state === 'ready' && document.getElementById('model-info').textContent.includes('resnet18.onnx'));
  assert.equal(await page.inputValue('#preset'), 'signed');
  assert.equal(await page.locator('.map').count(), 0, 'the other model\'s maps are gone');
  await page.setInputFiles('#model-file', path.join(demos, 'mobilenet_v2.onnx'));
  await settle(() => document.body.dataset.state === 'ready' && document.getElementById('model-info').textContent.includes('mobilenet_v2.onnx'));
  await page.waitForTimeout(500); // let any late worker message arrive
  assert.deepEqual(problems, [], 'no console errors or warnings across six model switches');
  await page.close();
});

test('explorer: a model with external data opens from its files picked together, and from ?model=URL', async () => {
  const { externalModel, externalData } = await import('./external-model.mjs');
  const dir = path.join(repoRoot, '.cache/demos/explorer-external'); // served by the explorer's server
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  const files = externalData();
  writeFileSync(path.join(dir, 'model.onnx'), externalModel());
  for (const [location, data] of Object.entries(files)) writeFileSync(path.join(dir, location), new Uint8Array(data));
  // picked files carry no folder: the same model naming its bias file 'sub_bias.bin' (same length)
  const flat = Buffer.from(externalModel());
  flat.write('sub_bias.bin', flat.indexOf('sub/bias.bin'), 'latin1');
  writeFileSync(path.join(dir, 'flat.onnx'), flat);
  writeFileSync(path.join(dir, 'sub_bias.bin'), new Uint8Array(files['sub/bias.bin']));
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  try {
    await page.goto(`${server.url}/demos/explorer/?nodes=`);
    await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 60_000 });
    await page.setInputFiles('#model-file', ['flat.onnx', 'weights.bin', 'sub_bias.bin'].map((f) => path.join(dir, f)));
    await page.waitForFunction(() => document.body.dataset.state === 'ready' && document.getElementById('model-info').textContent.includes('flat.onnx'), null, { timeout: 60_000 });
    assert.match(await page.textContent('#model-info'), /3×8×8/);
    await page.click('#tree .node[data-name="conv"]');
    await page.waitForFunction(() => document.body.dataset.state === 'ready' && document.querySelectorAll('.map[data-name="conv"] .tile').length > 0, null, { timeout: 60_000 });
    assert.equal(await page.locator('.map[data-name="conv"] .tile').count(), 4, 'one tile per output channel of the conv');

    await page.goto(`${server.url}/demos/explorer/?model=/.cache/demos/explorer-external/model.onnx&nodes=conv,relu`);
    await page.waitForFunction(() => document.body.dataset.state === 'ready' && document.querySelectorAll('.map .tile').length > 0, null, { timeout: 60_000 });
    assert.match(await page.textContent('#model-info'), /model\.onnx/);
    assert.equal(await page.locator('.map[data-name="relu"] .tile').count(), 4, 'the URL model fetched weights.bin and sub/bias.bin beside it');
    assert.deepEqual(pageErrors, []);
  } finally {
    await page.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
