// imageToTensor in Node against torchvision's preprocessing of the same photos
// (tests/tools/make_image_fixtures.py), through the package as npm installs it (its PNG/JPEG
// decoders are its dependencies).
//
// Tolerance, in uint8 levels (1 level = 1/255 before Normalize): resizing matches torchvision's
// antialiased bilinear to at most 1 level per value. onnxfx resamples in floating point and
// rounds once; PIL (the `imagenet` cases) uses fixed-point weights and rounds to uint8 between
// its horizontal and vertical passes, so about 1 value in 6 differs by 1 level (mean <= 0.25);
// torchvision's uint8 tensor path differs in about 1 value in 100 (mean <= 0.05). Crops without
// resampling are exact. JPEG: jpeg-js and libjpeg (PIL) use different IDCTs: <= 4 levels, mean <= 1.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './helpers.mjs';
import { installPacked } from './packed.mjs';

const dir = path.join(repoRoot, '.cache/images');
const { cases } = JSON.parse(readFileSync(path.join(dir, 'cases.json'), 'utf8'));
const BOUNDS = {
  imagenet: { max: 1, mean: 0.25 },
  resize: { max: 1, mean: 0.05 },
  exact: { max: 1e-4, mean: 1e-5 },
  jpeg: { max: 4, mean: 1 },
};
let onnxfx, packed;

test.before(() => {
  packed = installPacked();
  onnxfx = packed.load();
});
test.after(() => packed && rmSync(packed.root, { recursive: true, force: true }));

function readF32(file) {
  const buf = readFileSync(path.join(dir, file));
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Differences in uint8 levels: undo the std scaling and the 0-1 scale. */
function levelStats(got, want, options, presets) {
  const o = { ...presets[options.preset ?? 'imagenet'], ...options };
  const std = o.std ?? [1, 1, 1];
  const unit = (o.scale === '0-255' ? 1 : 1 / 255) / Math.min(...std);
  let max = 0, sum = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]) / unit;
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / want.length };
}

for (const c of cases) {
  test(`${c.source} ${c.case}: matches torchvision (${JSON.stringify(c.options)})`, async () => {
    const { imageToTensor, imagePresets } = await onnxfx;
    const t = await imageToTensor(path.join(dir, c.source), c.options);
    assert.equal(t.type, 'float32');
    assert.deepEqual(t.dims, c.dims);
    const bound = BOUNDS[c.case === 'imagenet' ? 'imagenet' : c.kind];
    const { max, mean } = levelStats(t.data, readF32(c.file), c.options, imagePresets);
    assert.ok(max <= bound.max + 1e-3, `max difference ${max} levels > ${bound.max}`);
    assert.ok(mean <= bound.mean, `mean difference ${mean} levels > ${bound.mean}`);
  });
}

test('bytes, ArrayBuffer and {width, height, data} give what the file path gives', async () => {
  const { imageToTensor } = await onnxfx;
  const file = path.join(dir, 'coffee.png');
  const fromPath = await imageToTensor(file);
  const buf = readFileSync(file);
  const fromBytes = await imageToTensor(new Uint8Array(buf));
  const fromArrayBuffer = await imageToTensor(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  assert.deepEqual(fromBytes.data, fromPath.data);
  assert.deepEqual(fromArrayBuffer.data, fromPath.data);
  // RGBA pixels: a 2 x 1 image, no resize: values / 255, alpha dropped, NHWC + BGR honoured.
  const rgba = { width: 2, height: 1, data: new Uint8ClampedArray([255, 0, 51, 7, 0, 102, 255, 255]) };
  const t = await imageToTensor(rgba, { preset: 'none', layout: 'NHWC', channels: 'BGR' });
  assert.deepEqual(t.dims, [1, 1, 2, 3]);
  assert.deepEqual(Array.from(t.data, (v) => Math.round(v * 255)), [51, 0, 255, 255, 102, 0]);
  const nchw = await imageToTensor(rgba, { preset: 'none', batch: false });
  assert.deepEqual(nchw.dims, [3, 1, 2]);
  assert.deepEqual(Array.from(nchw.data, (v) => Math.round(v * 255)), [255, 0, 0, 102, 51, 255]);
});

test('bad options and bad bytes: INVALID_ARGUMENT and BAD_INPUT', async () => {
  const { imageToTensor, InvalidArgumentError, BadInputError } = await onnxfx;
  const file = path.join(dir, 'coffee.png');
  await assert.rejects(imageToTensor(file, { preset: 'cifar' }), (e) => e instanceof InvalidArgumentError && /unknown preset/.test(e.message));
  await assert.rejects(imageToTensor(file, { layout: 'CHW' }), (e) => e.code === 'INVALID_ARGUMENT');
  await assert.rejects(imageToTensor(file, { std: [1, 0, 1] }), (e) => e.code === 'INVALID_ARGUMENT');
  await assert.rejects(imageToTensor(file, { crop: [0, 3] }), (e) => e.code === 'INVALID_ARGUMENT');
  await assert.rejects(imageToTensor(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])), (e) => e instanceof BadInputError && /neither PNG nor JPEG/.test(e.message));
  await assert.rejects(imageToTensor(path.join(dir, 'missing.png')), (e) => e.code === 'INVALID_ARGUMENT' && /ENOENT/.test(e.message));
});
