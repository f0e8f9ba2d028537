// In Chromium: imageToTensor from every browser image type (ImageData, ImageBitmap, <img>,
// <canvas>, OffscreenCanvas) against torchvision's preprocessing of the same pixels
// (tests/tools/make_image_fixtures.py), and loadModel from a Response and a Blob.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pngjs from 'pngjs';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';
import { repoRoot, modelDir } from '../js/helpers.mjs';

const imageDir = path.join(repoRoot, '.cache/images');
const modelUrlPath = '/' + path.relative(repoRoot, path.join(modelDir, 'naming/flat.onnx')).split(path.sep).join('/');
let browser, userDataDir, server, page;

test.before(async () => {
  userDataDir = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-chromium-'));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  server = await startServer();
  page = await browser.newPage();
  await page.goto(`${server.url}/tests/browser/blank.html`);
  await page.waitForFunction(() => window.onnxfxReady === true);
});

test.after(async () => {
  await browser?.close();
  await server?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

test('imageToTensor: ImageData matches torchvision; ImageBitmap, <img>, <canvas>, OffscreenCanvas match ImageData', async () => {
  // Pixels decoded in Node (pngjs), so no browser colour management sits between them and torchvision.
  const png = pngjs.PNG.sync.read(readFileSync(path.join(imageDir, 'chelsea.png')));
  const r = await page.evaluate(async ({ width, height, rgba }) => {
    const { imageToTensor } = window.onnxfx;
    const imageData = new ImageData(Uint8ClampedArray.from(rgba), width, height);
    const base = await imageToTensor(imageData);
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d').putImageData(imageData, 0, 0);
    const offscreen = new OffscreenCanvas(width, height);
    offscreen.getContext('2d').putImageData(imageData, 0, 0);
    const bitmap = await createImageBitmap(imageData);
    const blob = await new Promise((done) => canvas.toBlob(done, 'image/png'));
    const img = new Image();
    img.src = URL.createObjectURL(blob);
    await img.decode();
    const others = { bitmap, img, canvas, offscreen, blob };
    const diffs = {};
    for (const [name, source] of Object.entries(others)) {
      const t = await imageToTensor(source);
      let worst = t.dims.join() === base.dims.join() ? 0 : Infinity;
      t.data.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - base.data[i])); });
      diffs[name] = worst;
    }
    let rejected = null;
    try {
      await imageToTensor(42);
    } catch (err) {
      rejected = err.code;
    }
    return { dims: base.dims, data: Array.from(base.data), diffs, rejected };
  }, { width: png.width, height: png.height, rgba: Array.from(png.data) });

  assert.deepEqual(r.dims, [1, 3, 224, 224]);
  const buf = readFileSync(path.join(imageDir, 'chelsea.imagenet.f32'));
  const want = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  // Same bound as tests/js/images.test.mjs for the PIL pipeline: 1 uint8 level (/255/std).
  const level = 1 / 255 / 0.224;
  let worst = 0, sum = 0;
  want.forEach((v, i) => { const d = Math.abs(v - r.data[i]) / level; worst = Math.max(worst, d); sum += d; });
  assert.ok(worst <= 1.001, `max difference ${worst} levels`);
  assert.ok(sum / want.length <= 0.25, `mean difference ${sum / want.length} levels`);
  for (const [name, d] of Object.entries(r.diffs)) assert.equal(d, 0, `${name} gives the ImageData result`);
  assert.equal(r.rejected, 'INVALID_ARGUMENT');
});

test('loadModel from a Response (streamed, with progress), a Blob and an ArrayBuffer: the same model', async () => {
  const r = await page.evaluate(async (url) => {
    const { loadModel, getGraphNodeNames } = window.onnxfx;
    const progress = [];
    const fromResponse = await loadModel(await fetch(url), { onProgress: (loaded, total) => progress.push([loaded, total]) });
    const bytes = await (await fetch(url)).arrayBuffer();
    const fromBlob = await loadModel(new Blob([bytes]));
    const fromBuffer = await loadModel(bytes);
    const names = [fromResponse, fromBlob, fromBuffer].map((m) => getGraphNodeNames(m, { suppressDiffWarning: true })[1]);
    let missing = null;
    try {
      await loadModel(url + '.missing');
    } catch (err) {
      missing = `${err.code}: ${err.message}`;
    }
    return { names, progress, size: bytes.byteLength, missing };
  }, modelUrlPath);
  assert.ok(r.names[0].length > 1);
  assert.deepEqual(r.names[1], r.names[0]);
  assert.deepEqual(r.names[2], r.names[0]);
  assert.deepEqual(r.progress.at(-1), [r.size, r.size]);
  assert.ok(r.progress.every(([loaded], i) => i === 0 || loaded >= r.progress[i - 1][0]), 'progress only grows');
  assert.match(r.missing, /^INVALID_ARGUMENT: cannot fetch the model: HTTP 404/);
});
