// `onnxfx extract --decode-workers N` (issue #15): images are decoded and resized in worker
// threads while the model runs. The output must not depend on N: the .npy, the file list, the
// unreadable images named in the sidecar and the --json image events are the same, byte for
// byte, with 0 workers (decoding in the main thread) and with 2; a run resumed with workers
// finishes to the same bytes too. Folders and .tar members (one of them broken) both go through.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installCli, runCli, writeTinyModel, makeImages, writeFolder, writeTar, TINY } from './scale-out-fixtures.mjs';

let cli, work, modelFile, folder, tar;

test.before(async () => {
  cli = installCli();
  work = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-decode-workers-'));
  modelFile = writeTinyModel(path.join(work, 'tiny.onnx'));
  const images = makeImages(14);
  const broken = { name: 'broken.jpg', bytes: new TextEncoder().encode('this is not a JPEG') };
  folder = writeFolder(path.join(work, 'photos'), [...images.slice(0, 8), broken, { name: 'sub/zz.png', bytes: images[9].bytes }]);
  tar = await writeTar(path.join(work, 'shard-000.tar'), [...images.slice(8, 11), { ...broken, name: 'bad.png' }, ...images.slice(11)]);
});
test.after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (cli) rmSync(cli.root, { recursive: true, force: true });
});

function extract(out, inputs, workers) {
  const r = runCli(cli.bin, ['extract', modelFile, ...inputs, '-o', out, ...TINY, '--json', '--decode-workers', String(workers)]);
  assert.equal(r.code, 0, r.stderr);
  return r;
}

/** What a run wrote: the .npy's bytes, the file list, the failed images, the --json image events. */
function outputs(out, stdout) {
  const meta = JSON.parse(readFileSync(out.replace(/\.npy$/, '.meta.json'), 'utf8'));
  const events = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.event === 'image');
  for (const e of events) for (const k of ['imagesPerSecond', 'etaSeconds']) delete e[k];
  return {
    npy: readFileSync(out),
    files: readFileSync(out.replace(/\.npy$/, '.files.txt'), 'utf8'),
    failed: meta.failed,
    events,
  };
}

test('0 and 2 decode workers write the same bytes, name the same unreadable images, emit the same events', () => {
  const a = path.join(work, 'w0.npy'), b = path.join(work, 'w2.npy');
  const ra = extract(a, [folder, tar], 0);
  const rb = extract(b, [folder, tar], 2);
  const oa = outputs(a, ra.stdout), ob = outputs(b, rb.stdout);
  assert.equal(oa.files.split('\n').filter(Boolean).length, 15, 'rows: 17 images, 2 unreadable');
  assert.deepEqual(Object.keys(oa.failed).sort(), ['broken.jpg', 'shard-000.tar/bad.png']);
  assert.match(oa.failed['broken.jpg'], /neither PNG nor JPEG/);
  assert.equal(oa.events.length, 17);
  assert.ok(oa.npy.equals(ob.npy), '.npy bytes differ between 0 and 2 decode workers');
  assert.equal(ob.files, oa.files);
  assert.deepEqual(ob.failed, oa.failed);
  assert.deepEqual(ob.events, oa.events);
  assert.match(rb.stderr, /skipped unreadable image shard-000\.tar\/bad\.png: .*neither PNG nor JPEG/);
});

test('a run resumed with 2 decode workers ends with the bytes of one run with 0', () => {
  const a = path.join(work, 'one.npy'), b = path.join(work, 'resumed.npy');
  extract(a, [folder, tar], 0);
  extract(b, [folder], 2);
  const r = extract(b, [folder, tar], 2);
  assert.match(r.stderr, /9 already done/);
  const start = JSON.parse(r.stdout.split('\n')[0]);
  assert.equal(start.done, 9);
  assert.ok(readFileSync(a).equals(readFileSync(b)), '.npy bytes differ after resuming with workers');
  assert.equal(readFileSync(b.replace(/\.npy$/, '.files.txt'), 'utf8'), readFileSync(a.replace(/\.npy$/, '.files.txt'), 'utf8'));
});

test('--decode-workers takes a whole number', () => {
  const r = runCli(cli.bin, ['extract', modelFile, folder, '-o', path.join(work, 'x.npy'), ...TINY, '--decode-workers', 'two']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--decode-workers is a whole number/);
});
