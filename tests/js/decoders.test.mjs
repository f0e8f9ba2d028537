// sharp (libvips), onnxfx's optional native decoder in Node, against the pngjs/jpeg-js fallback:
// the same photos (tests/tools/make_image_fixtures.py) through the installed package, decoded
// both ways (ONNXFX_IMAGE_DECODER=sharp / =js), then the same resize, crop and normalize.
//
// Tolerance, in uint8 levels: PNG (and lossless WebP/TIFF) must be exact. JPEG: jpeg-js and
// libjpeg-turbo use different IDCTs and chroma upsampling; on chelsea.jpg (measured) about half
// of the values differ, by at most 3 levels (mean 0.53) undecoded-size, and by at most 2 levels
// (mean 0.44) after the imagenet resize and crop. Bounds: max 3 levels, mean <= 0.75.
//
// The packed install may or may not hold sharp (an offline `npm install` takes it when npm's
// cache has it, and leaves it out otherwise); without it, tests/node_modules' sharp is linked in.
// ONNXFX_IMAGE_DECODER=sharp fails when sharp cannot be imported, so the sharp side is sharp.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { repoRoot } from './helpers.mjs';
import { installPacked } from './packed.mjs';

const dir = path.join(repoRoot, '.cache/images');
const { cases } = JSON.parse(readFileSync(path.join(dir, 'cases.json'), 'utf8'));
const SOURCES = [...new Set(cases.map((c) => c.source))];
const JPEG_BOUND = { max: 3, mean: 0.75 };
let packed, onnxfx;

test.before(async () => {
  packed = installPacked();
  const target = path.join(packed.dir, 'node_modules/sharp');
  if (!existsSync(target)) symlinkSync(path.join(repoRoot, 'tests/node_modules/sharp'), target, 'dir');
  onnxfx = await packed.load();
});
test.after(() => {
  delete process.env.ONNXFX_IMAGE_DECODER;
  if (packed) rmSync(packed.root, { recursive: true, force: true });
});

async function decodeWith(decoder, source, options) {
  process.env.ONNXFX_IMAGE_DECODER = decoder;
  try {
    return await onnxfx.imageToTensor(source, options);
  } finally {
    delete process.env.ONNXFX_IMAGE_DECODER;
  }
}

/** Differences in uint8 levels: undo the std scaling and the 0-1 scale. */
function levelStats(got, want, options) {
  const o = { ...onnxfx.imagePresets[options.preset ?? 'imagenet'], ...options };
  const unit = (o.scale === '0-255' ? 1 : 1 / 255) / Math.min(...(o.std ?? [1, 1, 1]));
  let max = 0, sum = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]) / unit;
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / want.length };
}

const optionSets = [...cases.map((c) => ({ source: c.source, options: c.options })),
  ...SOURCES.flatMap((source) => [{ source, options: {} }, { source, options: { preset: 'none', batch: false } }])];

for (const { source, options } of optionSets) {
  test(`${source} ${JSON.stringify(options)}: sharp gives the fallback's tensor (PNG exact, JPEG <= ${JPEG_BOUND.max} levels)`, async () => {
    const file = path.join(dir, source);
    const viaSharp = await decodeWith('sharp', file, options);
    const viaJs = await decodeWith('js', file, options);
    assert.deepEqual(viaSharp.dims, viaJs.dims);
    if (source.endsWith('.png')) {
      assert.deepEqual(viaSharp.data, viaJs.data);
    } else {
      const { max, mean } = levelStats(viaSharp.data, viaJs.data, options);
      assert.ok(max <= JPEG_BOUND.max + 1e-3, `max difference ${max} levels > ${JPEG_BOUND.max}`);
      assert.ok(mean <= JPEG_BOUND.mean, `mean difference ${mean} levels > ${JPEG_BOUND.mean}`);
    }
  });
}

test('WebP and TIFF (written here by sharp, lossless) decode with sharp to the PNG\'s tensor; without sharp they are refused', async () => {
  const png = path.join(dir, 'chelsea.png');
  const want = await decodeWith('js', png, {});
  const webp = await sharp(png).webp({ lossless: true }).toBuffer();
  const tiff = await sharp(png).tiff({ compression: 'lzw' }).toBuffer();
  for (const [name, bytes] of [['webp', webp], ['tiff', tiff]]) {
    const got = await decodeWith('sharp', new Uint8Array(bytes), {});
    assert.deepEqual(got.dims, [1, 3, 224, 224], name);
    assert.deepEqual(got.data, want.data, name);
    // auto (the default) picks sharp too
    assert.deepEqual((await onnxfx.imageToTensor(new Uint8Array(bytes))).data, want.data, name);
    await assert.rejects(decodeWith('js', new Uint8Array(bytes), {}),
      (e) => e.code === 'BAD_INPUT' && /neither PNG nor JPEG/.test(e.message), name);
  }
});

test('alpha is dropped and grey expanded the same way by both decoders (RGBA and grey PNGs, exact)', async () => {
  const png = path.join(dir, 'coffee.png');
  const rgba = await sharp(png).ensureAlpha(0.5).png().toBuffer();
  const grey = await sharp(png).grayscale().toColourspace('b-w').png().toBuffer();
  assert.equal((await sharp(rgba).metadata()).channels, 4);
  assert.equal((await sharp(grey).metadata()).channels, 1);
  for (const bytes of [rgba, grey]) {
    for (const options of [{}, { preset: 'none' }]) {
      const a = await decodeWith('sharp', new Uint8Array(bytes), options);
      const b = await decodeWith('js', new Uint8Array(bytes), options);
      assert.deepEqual(a.data, b.data);
    }
  }
});

test('bytes neither decoder reads are BAD_INPUT with sharp too; a bad ONNXFX_IMAGE_DECODER is refused', async () => {
  await assert.rejects(decodeWith('auto', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), {}),
    (e) => e.code === 'BAD_INPUT' && /neither PNG nor JPEG, nor another format sharp decodes/.test(e.message));
  await assert.rejects(decodeWith('libjpeg', path.join(dir, 'coffee.png'), {}),
    (e) => e.code === 'INVALID_ARGUMENT' && /ONNXFX_IMAGE_DECODER/.test(e.message));
});

test('extract records its decoder: a resume or a merge with the other one is refused (JPEG pixels differ)', async () => {
  const { mkdtempSync } = await import('node:fs');
  const os = await import('node:os');
  const { runCli, writeTinyModel, makeImages, writeFolder, TINY } = await import('./scale-out-fixtures.mjs');
  const work = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-decoder-meta-'));
  try {
    const bin = path.join(packed.dir, 'node_modules/onnxfx/bin/onnxfx.mjs');
    const model = writeTinyModel(path.join(work, 'tiny.onnx'));
    const folder = writeFolder(path.join(work, 'photos'), makeImages(4));
    const out = path.join(work, 'out.npy');
    const first = runCli(bin, ['extract', model, folder, '-o', out, ...TINY], { env: { ONNXFX_IMAGE_DECODER: 'js' } });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(JSON.parse(readFileSync(path.join(work, 'out.meta.json'), 'utf8')).decoder, 'js');
    const again = runCli(bin, ['extract', model, folder, '-o', out, ...TINY], { env: { ONNXFX_IMAGE_DECODER: 'sharp' } });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /image decoder .*differs: it was js, this run has sharp/);
    const same = runCli(bin, ['extract', model, folder, '-o', out, ...TINY], { env: { ONNXFX_IMAGE_DECODER: 'js' } });
    assert.equal(same.code, 0, same.stderr);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
