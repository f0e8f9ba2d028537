// `onnxfx extract ... --shard K/N` and `onnxfx merge` (issue #15): the work list of folders and
// .tar files (webdataset members, corrupt and cut-off members), disjoint parts that cover it,
// merge's checks, the lock beside OUT, a shard killed half-way resuming, --json progress.
// The schedulers themselves (Slurm, Kubernetes' JOB_COMPLETION_INDEX) are in slurm.test.mjs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { installCli, runCli, startCli, killStarted, writeTinyModel, TINY, makeImages, writeFolder, writeTar, readNpy, readKeys } from './scale-out-fixtures.mjs';

let cli, work, modelFile, inputs, all;
const enc = new TextEncoder();

const extract = (args, opts) => runCli(cli.bin, ['extract', modelFile, ...args, ...TINY], opts);
const merge = (args) => runCli(cli.bin, ['merge', ...args]);
const out = (...p) => path.join(work, ...p);

test.before(async () => {
  cli = installCli();
  work = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-shard-'));
  modelFile = writeTinyModel(out('tiny.onnx'));
  const images = makeImages(16);
  // A folder (with a sub-folder), a webdataset shard (with a corrupt image and non-image
  // members), and a tar written as `tar -C dir -cf x.tar .` writes it (./ in front of names).
  writeFolder(out('photos'), [images[3], images[0], { name: `sub/${images[1].name}`, bytes: images[1].bytes }, images[2],
    { name: 'notes.txt', bytes: enc.encode('not an image') }]);
  await writeTar(out('shard-000.tar'), [
    { name: 'k4.jpg', bytes: images[5].bytes }, { name: 'k4.json', bytes: enc.encode('{"caption": "a tile"}') }, { name: 'k4.cls', bytes: enc.encode('3') },
    { name: 'k5.png', bytes: images[4].bytes }, { name: 'k5.cls', bytes: enc.encode('1') },
    { name: 'broken.jpg', bytes: enc.encode('this is not a JPEG') },
    { name: 'k6.jpg', bytes: images[7].bytes },
  ]);
  await writeTar(out('more.tar'), images.slice(8).map((f) => ({ name: `./deep/${f.name}`, bytes: f.bytes })));
  inputs = [out('photos'), out('shard-000.tar'), out('more.tar')];
  const r = extract([...inputs, '-o', out('all.npy')]);
  assert.equal(r.code, 0, r.stderr);
  all = { npy: readNpy(out('all.npy')), keys: readKeys(out('all.npy')), stderr: r.stderr };
});

test.after(() => {
  killStarted();
  if (work) rmSync(work, { recursive: true, force: true });
  if (cli) rmSync(cli.root, { recursive: true, force: true });
});

test('the work list: INPUTs in order, a folder by sorted path, a tar in archive order keyed TAR/MEMBER; only image members', () => {
  assert.deepEqual(all.keys, [
    'img-00.png', 'img-02.png', 'img-03.jpg', 'sub/img-01.jpg',
    'shard-000.tar/k4.jpg', 'shard-000.tar/k5.png', 'shard-000.tar/k6.jpg',
    ...['08', '09', '10', '11', '12', '13', '14', '15'].map((n) => `more.tar/deep/img-${n}.${Number(n) % 2 ? 'jpg' : 'png'}`),
  ]);
  assert.deepEqual(all.npy.shape, [15, 16]);
  assert.match(all.stderr, /^onnxfx: 16 images in .*photos, .*shard-000\.tar, .*more\.tar; 0 already done, 16 to go/m);
  assert.match(all.stderr, /skipped unreadable image shard-000\.tar\/broken\.jpg: the image bytes are neither PNG nor JPEG/);
  assert.match(all.stderr, /1 unreadable image skipped; 16 images in [\d.]+ s, [\d.]+ images\/s/);
  const meta = JSON.parse(readFileSync(out('all.meta.json'), 'utf8'));
  assert.deepEqual(Object.keys(meta.failed), ['shard-000.tar/broken.jpg']);
  assert.equal(meta.shard, undefined, 'an unsharded run records no shard');
});

test('--shard K/N: contiguous disjoint parts covering the work list; merge (in any argument order) gives the single run', () => {
  const parts = [];
  for (let k = 0; k < 3; k++) {
    const r = extract([...inputs, '--shard', `${k}/3`, '-o', out('parts', 'part-{shard}.npy')]);
    assert.equal(r.code, 0, r.stderr);
    const [start, end] = [Math.floor((k * 16) / 3), Math.floor(((k + 1) * 16) / 3)];
    assert.match(r.stderr, new RegExp(`shard ${k}/3: images ${start} to ${end - 1} of 16 in `));
    assert.match(r.stderr, /images\/s/);
    const meta = JSON.parse(readFileSync(out('parts', `part-${k}.meta.json`), 'utf8'));
    assert.deepEqual(meta.shard, { index: k, count: 3 });
    assert.deepEqual(meta.workList, { total: 16, start, end });
    parts.push({ keys: readKeys(out('parts', `part-${k}.npy`)), failed: Object.keys(meta.failed), npy: readNpy(out('parts', `part-${k}.npy`)) });
  }
  // Part k holds images floor(16k/3) .. floor(16(k+1)/3)-1 of the list: 5, 5, 6 images (the
  // unreadable broken.jpg, image 6, falls in part 1).
  assert.deepEqual(parts.map((p) => p.keys.length + p.failed.length), [5, 5, 6]);
  assert.deepEqual(parts[1].failed, ['shard-000.tar/broken.jpg']);
  assert.deepEqual(parts.flatMap((p) => p.keys), all.keys, 'in order, each key once');
  parts.forEach((p, k) => p.keys.forEach((key, i) => assert.deepEqual(p.npy.row(i), all.npy.row(all.keys.indexOf(key)), `part ${k} ${key}`)));

  const r = merge([out('parts', 'part-2.npy'), out('parts', 'part-0.npy'), out('parts', 'part-1.npy'), '-o', out('merged', 'all.npy'), '--expect', '3']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /holds 15 rows \(15 x 16 float32\) from 3 parts \(shards 0, 1, 2 of 3\)/);
  assert.deepEqual(readKeys(out('merged', 'all.npy')), all.keys);
  assert.deepEqual(readFileSync(out('merged', 'all.npy')), readFileSync(out('all.npy')), 'the same bytes as the single run');
  const meta = JSON.parse(readFileSync(out('merged', 'all.meta.json'), 'utf8'));
  assert.deepEqual(Object.keys(meta.failed), ['shard-000.tar/broken.jpg']);
  assert.deepEqual(meta.nodes, ['conv', 'relu']);
  assert.equal(meta.shard, undefined);
  assert.ok(!existsSync(out('merged', 'all.npy.lock')), 'the lock is released');
});

test('merge refuses other settings, shared keys, unfinished shards, and names missing parts by number', () => {
  // parts/part-{0,1,2} come from the test above; these are made here.
  const p = (k) => out('parts', `part-${k}.npy`);
  const other = extract([...inputs, '--shard', '1/3', '--pool', 'max', '-o', out('maxed', 'part-{shard}.npy')]);
  assert.equal(other.code, 0, other.stderr);
  let r = merge([p(0), out('maxed', 'part-1.npy'), p(2), '-o', out('bad.npy')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /maxed\/part-1\.npy was made with other settings than .*part-0\.npy: --pool is max there, avg in/);

  r = merge([p(0), p(2), '-o', out('bad.npy'), '--expect', '3']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /1 of the 3 shards is missing: 1 \(.*parts\/part-1\.npy\)/);
  r = merge([p(0), p(1), p(2), '-o', out('bad.npy'), '--expect', '4']);
  assert.match(r.stderr, /the parts are shards of 3, not of 4/);
  r = merge([p(0), p(1), p(1), '-o', out('bad.npy')]);
  assert.match(r.stderr, /part-1\.npy and .*part-1\.npy are both shard 1 of 3/);

  // Two whole runs over overlapping inputs share keys.
  const a = extract([out('photos'), '-o', out('whole', 'a.npy')]);
  const b = extract([out('more.tar'), out('photos'), '-o', out('whole', 'b.npy')]);
  assert.equal(a.code + b.code, 0, a.stderr + b.stderr);
  r = merge([out('whole', 'a.npy'), out('whole', 'b.npy'), '-o', out('bad.npy')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the key 'img-00\.png' is in both .*a\.npy and .*b\.npy/);
  r = merge([out('whole', 'a.npy'), p(1), '-o', out('bad.npy')]);
  assert.match(r.stderr, /is a shard \(--shard\) and .*a\.npy is not/);

  // A shard cut short (its last row gone) is unfinished.
  const cut = extract([...inputs, '--shard', '2/3', '-o', out('cut', 'part-{shard}.npy')]);
  assert.equal(cut.code, 0, cut.stderr);
  truncateSync(out('cut', 'part-2.npy'), statSync(out('cut', 'part-2.npy')).size - 16 * 4);
  r = merge([p(0), p(1), out('cut', 'part-2.npy'), '-o', out('bad.npy')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /part-2\.npy \(shard 2\) is not finished: 5 rows and 0 unreadable images of its 6; run its shard again/);
  assert.ok(!existsSync(out('bad.npy')), 'nothing written by a refused merge');
});

test('a .tar cut off inside a member: that member is skipped, named and counted; the ones before it are rows', async () => {
  const images = makeImages(4);
  await writeTar(out('cut.tar'), images.map((f) => ({ name: f.name, bytes: f.bytes })));
  // Cut 100 bytes before the end of the last member's data.
  const header = Math.floor(readFileSync(out('cut.tar')).indexOf('img-03.jpg') / 512) * 512;
  const last = images.at(-1).bytes.length;
  truncateSync(out('cut.tar'), header + 512 + last - 100);
  const r = extract([out('cut.tar'), '-o', out('cut.npy')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`skipped unreadable image cut\\.tar/img-03\\.jpg: cut short in the tar: ${last - 100} of its ${last} bytes`));
  assert.match(r.stderr, /holds 3 rows .*; 1 unreadable image skipped; 4 images in/);
  assert.deepEqual(readKeys(out('cut.npy')), ['cut.tar/img-00.png', 'cut.tar/img-01.jpg', 'cut.tar/img-02.png']);
  // The same rows as those images in a folder.
  writeFolder(out('cut-dir'), images.slice(0, 3));
  assert.equal(extract([out('cut-dir'), '-o', out('cut-dir.npy')]).code, 0);
  assert.deepEqual(readNpy(out('cut.npy')).data, readNpy(out('cut-dir.npy')).data);

  // A header that does not parse ends the tar's list there, the same in every run.
  const good = readFileSync(out('more.tar'));
  const at = Math.floor(good.indexOf('deep/img-11.jpg') / 512) * 512; // its header
  const broken = Buffer.from(good);
  broken.write('zzzzzzzzzzz', at + 124, 'latin1'); // the size field
  writeFileSync(out('garbled.tar'), broken);
  for (const name of ['garbled-1.npy', 'garbled-2.npy']) {
    const g = extract([out('garbled.tar'), '-o', out(name)]);
    assert.equal(g.code, 0, g.stderr);
    assert.match(g.stderr, /garbled\.tar cannot be read past its image 3 \(garbled\.tar\/deep\/img-10\.png\): Invalid tar number; the rest of it is left out/);
    assert.deepEqual(readKeys(out(name)), ['08.png', '09.jpg', '10.png'].map((n) => `garbled.tar/deep/img-${n}`));
  }
});

test('--shard and -o misuse are usage errors that say what to do', () => {
  const noEnv = { JOB_COMPLETION_INDEX: '', SLURM_ARRAY_TASK_ID: '', SLURM_ARRAY_TASK_COUNT: '' };
  let r = extract([out('photos'), '--shard', 'auto', '-o', out('x-{shard}.npy')], { env: noEnv });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--shard auto takes the shard number from JOB_COMPLETION_INDEX \(a Kubernetes Indexed Job\) or SLURM_ARRAY_TASK_ID \(a Slurm job array\), and neither is set/);
  r = extract([out('photos'), '--shard', 'auto', '-o', out('x-{shard}.npy')], { env: { ...noEnv, JOB_COMPLETION_INDEX: '1' } });
  assert.match(r.stderr, /--shard auto needs the number of shards: --shards N .* and neither is set \(JOB_COMPLETION_INDEX is 1\)/);
  r = extract([out('photos'), '--shard', 'auto', '-o', out('x-{shard}.npy')], { env: { ...noEnv, SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '3' } });
  assert.match(r.stderr, /there is no shard 3 of 3: shards are numbered 0 to 2 \(submit the array as --array=0-2\)/);
  r = extract([out('photos'), '--shard', '2of3', '-o', out('x.npy')]);
  assert.match(r.stderr, /--shard wants K\/N \(part K of N, counted from 0\) or auto, got '2of3'/);
  r = extract([out('photos'), '-o', out('x-{shard}.npy')]);
  assert.match(r.stderr, /-o has \{shard\} in it but no --shard is given/);
  r = extract([out('photos'), out('photos', 'img-00.png'), '-o', out('x.npy')]);
  assert.match(r.stderr, /not a folder or a \.tar file: .*img-00\.png/);
  // Two INPUTs giving one key.
  r = extract([out('photos'), out('photos'), '-o', out('x.npy')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /two images have the key 'img-00\.png' \(in .*photos and in .*photos\)/);
  assert.ok(!existsSync(out('x.npy.lock')));
});

test('a shard killed half-way resumes where it stopped; the lock keeps a second run out and is taken over once its process is gone', async () => {
  // A FIFO in the work list stops the run there (reading it waits for a writer), so the run is
  // killed at a known image.
  const images = makeImages(8);
  const dir = writeFolder(out('fifo'), images.filter((_, i) => i !== 5));
  execFileSync('mkfifo', [path.join(dir, images[5].name)]);
  const args = ['extract', modelFile, dir, ...TINY, '--shard', '1/2', '--json', '-o', out('killed', 'part-{shard}.npy')];
  const target = out('killed', 'part-1.npy');
  // Shard 1 of 2 is images 4..7; image 5 is the FIFO.
  const first = startCli(cli.bin, args);
  await first.waitForLine((l) => JSON.parse(l).key === images[4].name);
  const lock = JSON.parse(readFileSync(`${target}.lock`, 'utf8'));
  assert.equal(lock.pid, first.child.pid);

  const second = runCli(cli.bin, args);
  assert.equal(second.code, 1);
  assert.match(second.stderr, new RegExp(`part-1\\.npy is being written by process ${first.child.pid} on ${os.hostname()} .*two runs never write the same file`));

  first.child.kill('SIGKILL');
  await first.exited;
  assert.ok(existsSync(`${target}.lock`), 'a killed run leaves its lock');
  assert.deepEqual(readKeys(target), [images[4].name]);

  // Rerun: the stale lock is taken over, the done image skipped; stopped at the FIFO again,
  // SIGTERM ends it and its lock goes with it.
  const again = startCli(cli.bin, args);
  const start = JSON.parse(await again.waitForLine((l) => JSON.parse(l).event === 'start'));
  assert.deepEqual({ ...start, inputs: undefined, out: undefined }, {
    event: 'start', images: 8, shard: 1, shards: 2, start: 4, end: 8, done: 1, failedBefore: 0, todo: 3, inputs: undefined, out: undefined,
  });
  again.child.kill('SIGTERM');
  const ended = await again.exited;
  assert.equal(ended.signal, 'SIGTERM');
  assert.match(again.stderr(), new RegExp(`took over .*part-1\\.npy\\.lock from process ${first.child.pid} on ${os.hostname()}, which is gone`));
  assert.ok(!existsSync(`${target}.lock`), 'SIGTERM releases the lock');

  // The FIFO becomes an image: the third run finishes, with the rows a run in one go gives.
  unlinkSync(path.join(dir, images[5].name));
  writeFileSync(path.join(dir, images[5].name), images[5].bytes);
  const last = runCli(cli.bin, args);
  assert.equal(last.code, 0, last.stderr);
  assert.match(last.stderr, /1 already done, 3 to go/);
  const events = last.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => e.event), ['start', 'image', 'image', 'image', 'end']);
  assert.deepEqual(events.filter((e) => e.event === 'image').map((e) => [e.key, e.ok, e.done, e.total]),
    images.slice(5).map((f, i) => [f.name, true, i + 1, 3]));
  const end = events.at(-1);
  assert.equal(end.rows, 4);
  assert.equal(end.new, 3);
  assert.ok(end.imagesPerSecond > 0 && end.seconds >= 0);
  assert.match(last.stderr, /3 images in [\d.]+ s, [\d.]+ images\/s/);
  const once = runCli(cli.bin, ['extract', modelFile, dir, ...TINY, '--shard', '1/2', '-o', out('once', 'part-{shard}.npy')]);
  assert.equal(once.code, 0, once.stderr);
  assert.deepEqual(readKeys(target), images.slice(4).map((f) => f.name));
  assert.deepEqual(readFileSync(target), readFileSync(out('once', 'part-1.npy')));
  assert.ok(!existsSync(`${target}.lock`));
});

test('a lock from another host (a shared output folder) holds while touched, and is taken over after 120 s without a sign of life', () => {
  const target = out('shared', 'part-0.npy');
  mkdirSync(out('shared'));
  writeFileSync(`${target}.lock`, JSON.stringify({ pid: 4242, host: 'other-node', start: '1', since: '2030-01-01T00:00:00.000Z' }));
  const args = [out('photos'), '--shard', '0/4', '-o', out('shared', 'part-{shard}.npy')];
  const held = extract(args);
  assert.equal(held.code, 1);
  assert.match(held.stderr, /part-0\.npy is being written by process 4242 on other-node \(since 2030-01-01T00:00:00\.000Z\), says .*part-0\.npy\.lock \(touched \d+ s ago\): two runs never write the same file/);
  assert.ok(!existsSync(target), 'nothing written');
  const old = new Date(Date.now() - 121_000);
  utimesSync(`${target}.lock`, old, old);
  const taken = extract(args);
  assert.equal(taken.code, 0, taken.stderr);
  assert.match(taken.stderr, /took over .*part-0\.npy\.lock from process 4242 on other-node, which is gone/);
  assert.deepEqual(readKeys(target), ['img-00.png']);
  assert.ok(!existsSync(`${target}.lock`));
});
