// The `onnxfx` command (web/bin/onnxfx.mjs), run as the installed package's bin on a folder of
// photos: the .npy loads in numpy with the right shape and values, the run resumes, unreadable
// images are skipped with a message, `.jsonl` output, `onnxfx nodes`, `onnxfx plan`.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, maxRelativeError } from './helpers.mjs';
import { installPacked } from './packed.mjs';

const demos = path.join(repoRoot, '.cache/demos');
const MODEL = path.join(demos, 'mobilenet_v2.onnx');
const PHOTOS = ['chelsea.png', 'coffee.png', 'rocket.png', 'brick.png'];

let packed, bin, work, images;

test.before(() => {
  packed = installPacked();
  bin = path.join(packed.dir, 'node_modules/.bin/onnxfx');
  work = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-cli-'));
  images = path.join(work, 'images');
  mkdirSync(path.join(images, 'more'), { recursive: true });
  copyFileSync(path.join(demos, 'photos', PHOTOS[0]), path.join(images, PHOTOS[0]));
  copyFileSync(path.join(demos, 'photos', PHOTOS[1]), path.join(images, PHOTOS[1]));
  copyFileSync(path.join(demos, 'photos', PHOTOS[2]), path.join(images, 'more', PHOTOS[2]));
  writeFileSync(path.join(images, 'broken.jpg'), 'this is not a JPEG');
  writeFileSync(path.join(images, 'notes.txt'), 'not an image, not listed');
});

test.after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (packed) rmSync(packed.root, { recursive: true, force: true });
});

function onnxfx(...args) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: work });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Loads a .npy with numpy; returns its shape, dtype and rows. */
function numpyLoad(file) {
  const script = 'import json, sys, numpy; a = numpy.load(sys.argv[1]); print(json.dumps({"shape": a.shape, "dtype": str(a.dtype), "rows": a.tolist()}))';
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8', maxBuffer: 1 << 28 }));
}

/** The same features through the public API, for one image. */
async function reference(file, nodes) {
  const { loadModel, createFeatureExtractor, imageToTensor } = await packed.load();
  const model = await loadModel(MODEL);
  const fx = await createFeatureExtractor(model, { returnNodes: nodes });
  const out = await fx.run(await imageToTensor(file, { preset: 'none', resize: [224, 224], scale: '0-1' }));
  const row = [];
  for (const t of Object.values(out)) {
    const [, c] = t.dims;
    const per = t.data.length / c;
    for (let k = 0; k < c; k++) {
      let s = 0;
      for (let i = 0; i < per; i++) s += t.data[k * per + i];
      row.push(s / per);
    }
  }
  model.dispose();
  return row;
}

test('extract writes a .npy numpy loads, one row per readable image, and the file list beside it', async () => {
  const out = path.join(work, 'feats.npy');
  const r = onnxfx('extract', MODEL, images, '--nodes', 'features.14,pool', '--pool', 'avg', '--preset', 'none', '-o', out);
  assert.equal(r.code, 0, r.stderr);
  const npy = numpyLoad(out);
  // features.14 has 160 channels, pool 1280.
  assert.deepEqual(npy.shape, [3, 160 + 1280]);
  assert.equal(npy.dtype, 'float32');
  const files = readFileSync(path.join(work, 'feats.files.txt'), 'utf8').split('\n').filter(Boolean);
  assert.deepEqual(files, ['chelsea.png', 'coffee.png', 'more/rocket.png']);
  const expected = await reference(path.join(images, 'more/rocket.png'), ['features.14', 'pool']);
  assert.ok(maxRelativeError(npy.rows[2], expected) < 1e-5, 'row 3 is rocket.png\'s features');

  // Not a terminal: plain progress lines, and the unreadable image is named, counted, not fatal.
  assert.match(r.stderr, /^4\/4 more\/rocket\.png/m);
  assert.match(r.stderr, /skipped unreadable image broken\.jpg: .*neither PNG nor JPEG/);
  assert.match(r.stderr, /1 unreadable image skipped/);
  assert.doesNotMatch(r.stderr, /\r/);
});

test('extract resumes: done and known-unreadable images are skipped, new ones appended, a cut-off row redone', () => {
  const out = path.join(work, 'feats.npy');
  const before = numpyLoad(out).rows;
  copyFileSync(path.join(demos, 'photos', PHOTOS[3]), path.join(images, 'more', PHOTOS[3]));
  const r = onnxfx('extract', MODEL, images, '--nodes', 'features.14,pool', '--preset', 'none', '-o', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /3 already done, 1 unreadable before skipped \(--retry-failed to retry\), 1 to go/);
  assert.doesNotMatch(r.stderr, /chelsea\.png|broken\.jpg/);
  const after = numpyLoad(out);
  assert.deepEqual(after.shape, [4, 1440]);
  assert.deepEqual(after.rows.slice(0, 3), before, 'rows already there are kept as they were');
  assert.deepEqual(readFileSync(path.join(work, 'feats.files.txt'), 'utf8').split('\n').filter(Boolean),
    ['chelsea.png', 'coffee.png', 'more/rocket.png', 'more/brick.png']);

  // An interrupted run leaves half a row: the next run redoes that image only.
  truncateSync(out, statSync(out).size - 1440 * 2);
  const again = onnxfx('extract', MODEL, images, '--nodes', 'features.14,pool', '--preset', 'none', '-o', out);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /3 already done, 1 unreadable before skipped \(--retry-failed to retry\), 1 to go/);
  assert.deepEqual(numpyLoad(out).rows, after.rows);

  // Other settings: refused, naming the setting, nothing overwritten; the same width too.
  const mismatch = onnxfx('extract', MODEL, images, '--nodes', 'pool', '--preset', 'none', '-o', out);
  assert.equal(mismatch.code, 2);
  assert.match(mismatch.stderr, /feats\.npy was written with other settings: --nodes differs: it was features\.14,pool, this run has pool\. Use --restart/);
  const pooled = onnxfx('extract', MODEL, images, '--nodes', 'features.14,pool', '--pool', 'max', '--preset', 'none', '-o', out);
  assert.equal(pooled.code, 2);
  assert.match(pooled.stderr, /--pool differs: it was avg, this run has max/);
  const sized = onnxfx('extract', MODEL, images, '--nodes', 'features.14,pool', '--preset', 'none', '--input-size', '192', '-o', out);
  assert.match(sized.stderr, /--input-size differs: it was 224x224, this run has 192x192/);
  const half = onnxfx('extract', MODEL, images, '--nodes', 'features.14,pool', '--preset', 'none', '--weights', 'float16', '-o', out);
  assert.match(half.stderr, /--weights differs: it was float32, this run has float16/, 'float16 storage moves the features: no mixing');
  assert.deepEqual(numpyLoad(out).rows, after.rows);
  const meta = JSON.parse(readFileSync(path.join(work, 'feats.meta.json'), 'utf8'));
  assert.deepEqual({ ...meta, model: meta.model.length }, {
    model: 64, nodes: ['features.14', 'pool'], pool: 'avg', preset: 'none', size: [224, 224], layout: 'NCHW',
    decoder: 'js', // no sharp where this CLI is installed
    weights: 'float32',
    onnxfx: JSON.parse(readFileSync(path.join(repoRoot, 'web/package.json'), 'utf8')).version,
    failed: { 'broken.jpg': meta.failed['broken.jpg'] },
  });
  assert.match(meta.failed['broken.jpg'], /neither PNG nor JPEG/);

  // --retry-failed tries the unreadable image again (still unreadable: recorded again).
  const retry = onnxfx('extract', MODEL, images, '--nodes', 'features.14,pool', '--preset', 'none', '--retry-failed', '-o', out);
  assert.equal(retry.code, 0, retry.stderr);
  assert.match(retry.stderr, /4 already done, 1 to go/);
  assert.match(retry.stderr, /skipped unreadable image broken\.jpg/);
});

test('extract creates the output folder', () => {
  const out = path.join(work, 'new', 'deeper', 'feats.npy');
  const r = onnxfx('extract', MODEL, path.join(images, 'more'), '--nodes', 'pool', '--preset', 'none', '-o', out);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(numpyLoad(out).shape, [2, 1280]);
  assert.ok(statSync(path.join(work, 'new', 'deeper', 'feats.meta.json')).isFile());
});

test('extract writes .jsonl with --pool max, and --restart starts over', () => {
  const out = path.join(work, 'feats.jsonl');
  for (const extra of [[], ['--restart']]) {
    const r = onnxfx('extract', MODEL, images, '--nodes', 'pool', '--pool', 'max', '--preset', 'none', '--threads', '1', '-o', out, ...extra);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /0 already done, 5 to go .*1 thread/);
  }
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.file), ['chelsea.png', 'coffee.png', 'more/brick.png', 'more/rocket.png']);
  for (const l of lines) {
    assert.equal(l.pool.length, 1280);
    assert.ok(l.pool.every((v) => v >= 0) && l.pool.some((v) => v > 0), 'pooled ReLU6 features are >= 0, not all 0');
  }
});

test('nodes lists every node with its op type and shape, without running the model', () => {
  const r = onnxfx('nodes', MODEL);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
  assert.deepEqual(rows[0], ['image', 'Input', '[1, 3, height, width]']);
  assert.deepEqual(rows.find((x) => x[0] === 'pool'), ['pool', 'GlobalAveragePool', '[1, 1280, 1, 1]']);
  assert.deepEqual(rows.find((x) => x[0] === 'features.0'), ['features.0', 'Clip (features.0.relu)', '[1, 32, ?, ?]']);
  assert.deepEqual(rows.at(-1), ['classifier', 'Softmax (classifier.softmax)', '[1, 5]']);
  assert.equal(rows.length, 126, 'the input, 105 graph nodes and 20 module scopes');
  assert.match(r.stderr, /symbolic input dims \(height, width\); --input-size/);
  const sized = onnxfx('nodes', MODEL, '--input-size', '160');
  assert.match(sized.stdout, /^features\.18\.relu\s+Clip\s+\[1, 1280, 5, 5\]$/m);
  assert.equal(sized.stderr, '');
});

test('plan prints what extracting the nodes runs: fx.explain(), for the declared or given input size', () => {
  const r = onnxfx('plan', MODEL, '--nodes', 'features.14,pool');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /'features\.14\.project'/, 'the requested nodes are named (features.14, truncated, is its last node)');
  assert.match(r.stdout, /'pool'/);
  assert.match(r.stdout, /\[1, 160, 7, 7\]/, 'planned for the declared 224 x 224 input');
  assert.doesNotMatch(r.stdout, /classifier/, 'pruned nodes are not in the plan');
  const sized = onnxfx('plan', MODEL, '--nodes', 'features.14', '--input-size', '160');
  assert.equal(sized.code, 0, sized.stderr);
  assert.match(sized.stdout, /\[1, 160, 5, 5\]/, 'planned for --input-size 160');
  const missing = onnxfx('plan', MODEL, '--nodes', 'nope');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /NODE_NOT_FOUND/);
  const half = onnxfx('plan', MODEL, '--nodes', 'features.14', '--weights', 'float16');
  assert.equal(half.code, 0, half.stderr);
  assert.match(half.stdout, /float16 weights/, '--weights float16 reaches loadModel');
  const wrong = onnxfx('plan', MODEL, '--weights', 'half');
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--weights is float32 or float16, got 'half'/);
});

test('usage errors exit 2 with a message', () => {
  const r = onnxfx('extract', MODEL, images, '-o', path.join(work, 'x.csv'));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /-o must end in \.npy or \.jsonl/);
  const missing = onnxfx('extract', MODEL, images, '--nodes', 'nope', '-o', path.join(work, 'y.npy'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /NODE_NOT_FOUND/);
});

test('on a terminal, progress is one bar redrawn in place, with rate and ETA', () => {
  // util-linux's `script` gives the command a pseudo-terminal.
  const out = path.join(work, 'tty.npy');
  const cmd = [process.execPath, bin, 'extract', MODEL, images, '--nodes', 'pool', '--preset', 'none', '-o', out]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '120' } });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\r\[#+\.*\] 1\/5 [\d.]+ img\/s ETA \d+:\d\d broken\.jpg/);
  assert.match(r.stdout, /\r\[#{10,}\] 5\/5 [\d.]+ img\/s ETA 0:00 more\/rocket\.png/);
  assert.doesNotMatch(r.stdout, /^\d+\/5 /m, 'no plain progress lines');
  assert.deepEqual(numpyLoad(out).shape, [4, 1280]);
});
