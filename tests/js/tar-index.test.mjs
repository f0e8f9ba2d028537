// The tar member index of `onnxfx extract` (issue #15, web/bin/tar-index.mjs): a tar's members
// are listed from its headers (bodies seeked past) and a shard reads only the members it owns.
// The index must list what modern-tar's streaming decoder (the reader used before, and still the
// reference here) lists, names, types, sizes and bytes, for tars written by modern-tar and by GNU
// tar in its gnu (L long names), pax and ustar (prefix) formats, cut off anywhere; and it must
// read far fewer bytes than the tar holds.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createTarDecoder } from 'modern-tar';
import { repoRoot } from './helpers.mjs';
import { installCli, runCli, writeTinyModel, TINY, makeImages, writeTar, readNpy, readKeys } from './scale-out-fixtures.mjs';

const { indexTar, readTarMember } = await import(path.join(repoRoot, 'web/bin/tar-index.mjs'));

let work;
const out = (...p) => path.join(work, ...p);
const enc = new TextEncoder();
const hasGnuTar = spawnSync('tar', ['--version'], { encoding: 'utf8' }).stdout?.includes('GNU tar');

test.before(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-tar-index-'));
});
test.after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** What modern-tar's decoder (not strict) gives: [{name, type, size, data}], data as read (short when cut off). */
async function streamed(file) {
  const entries = [];
  const stream = Readable.toWeb(createReadStream(file)).pipeThrough(createTarDecoder({ strict: false }));
  for await (const { header, body } of stream) {
    const chunks = [];
    for await (const c of body) chunks.push(c);
    entries.push({ name: header.name, type: header.type, size: header.size, data: Buffer.concat(chunks) });
  }
  return entries;
}

/** The index's view, in the same form: each member's bytes read at its offset (an error when cut short). */
async function indexed(file) {
  const index = indexTar(file);
  const handle = await fsp.open(file, 'r');
  try {
    const entries = [];
    for (const m of index.members) {
      let data;
      try {
        data = Buffer.from(await readTarMember(handle, m, index.size));
      } catch (err) {
        data = err.message;
      }
      entries.push({ name: m.name, type: m.type, size: m.size, data });
    }
    return { entries, failure: index.failure };
  } finally {
    await handle.close();
  }
}

async function assertSameAsStreamed(file, what) {
  const want = await streamed(file);
  const { entries, failure } = await indexed(file);
  assert.equal(failure, null, `${what}: ${failure?.message}`);
  assert.deepEqual(entries.map(({ name, type, size }) => ({ name, type, size })), want.map(({ name, type, size }) => ({ name, type, size })), what);
  for (const [i, e] of entries.entries()) {
    if (want[i].data.length === e.size) assert.ok(Buffer.isBuffer(e.data) && e.data.equals(want[i].data), `${what}: ${e.name}'s bytes`);
    else assert.equal(e.data, `cut short in the tar: ${want[i].data.length} of its ${e.size} bytes`, `${what}: ${e.name} cut short`);
  }
  return entries;
}

const long = (n) => `${'a-long-folder-name/'.repeat(n)}photo.jpg`;

test('the index lists what the streaming decoder lists: modern-tar, GNU tar (gnu, pax, ustar formats), long names, folders', async (t) => {
  const images = makeImages(4);
  const members = [
    { name: 'k0.jpg', bytes: images[1].bytes }, { name: 'k0.json', bytes: enc.encode('{"a": 1}') },
    { name: long(7), bytes: images[3].bytes }, // > 100 bytes: a pax path or a ustar prefix
    { name: `${'x'.repeat(120)}.png`, bytes: images[0].bytes }, // > 100 bytes, no '/': pax only
    { name: 'empty.png', bytes: new Uint8Array(0) },
    { name: 'sub/k1.png', bytes: images[2].bytes },
  ];
  await writeTar(out('modern.tar'), members);
  const entries = await assertSameAsStreamed(out('modern.tar'), 'modern-tar');
  assert.ok(entries.some((e) => e.name === long(7)), 'the long name is read whole');

  if (!hasGnuTar) {
    t.skip('GNU tar is not installed: only modern-tar\'s tars are checked');
    return;
  }
  const dir = out('tree');
  for (const { name, bytes } of members) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), bytes);
  }
  for (const format of ['gnu', 'pax', 'ustar']) {
    const file = out(`gnu-${format}.tar`);
    const names = format === 'ustar' ? members.filter((m) => !m.name.startsWith('xxx')).map((m) => m.name) : ['.'];
    execFileSync('tar', ['-C', dir, `--format=${format}`, '-cf', file, ...names]);
    const got = await assertSameAsStreamed(file, `GNU tar --format=${format}`);
    assert.ok(got.some((e) => e.name.endsWith(long(7))), `${format}: the long name is read whole`);
    if (format === 'gnu') assert.ok(got.some((e) => e.type === 'directory'), 'folders are listed as folders');
  }
});

test('a tar cut off anywhere: the index and the decoder end at the same member, the one cut short says how many bytes it has', async () => {
  const images = makeImages(3);
  await writeTar(out('whole.tar'), [
    { name: 'a.png', bytes: images[0].bytes }, { name: long(8), bytes: images[1].bytes }, { name: 'c.jpg', bytes: images[1].bytes },
  ]);
  const whole = readFileSync(out('whole.tar'));
  // every 512-byte boundary, and a few bytes either side of it
  const cuts = [];
  for (let at = 0; at < whole.length; at += 512) cuts.push(at, at + 7, at + 505);
  for (const at of cuts.filter((c) => c < whole.length)) {
    writeFileSync(out('cut.tar'), whole.subarray(0, at));
    await assertSameAsStreamed(out('cut.tar'), `cut at ${at}`);
  }
});

test('a header that does not parse ends the list there, with modern-tar\'s error', async () => {
  const images = makeImages(3);
  await writeTar(out('good.tar'), images.map((f) => ({ name: f.name, bytes: f.bytes })));
  const bytes = readFileSync(out('good.tar'));
  const at = Math.floor(bytes.indexOf('img-02.png') / 512) * 512;
  bytes.write('zzzz', at + 124, 'latin1'); // its size field
  writeFileSync(out('garbled.tar'), bytes);
  const index = indexTar(out('garbled.tar'));
  assert.deepEqual(index.members.map((m) => m.name), ['img-00.png', 'img-01.jpg']);
  assert.equal(index.failure?.message, 'Invalid tar number.');
});

test('listing reads the headers only, and a member read is that member\'s bytes', async () => {
  const images = makeImages(6);
  const big = new Uint8Array(64 * 1024).fill(7); // a webdataset sample's other parts
  const members = images.flatMap((f, i) => [{ name: `k${i}.${f.name.split('.')[1]}`, bytes: f.bytes }, { name: `k${i}.npy`, bytes: big }]);
  await writeTar(out('big.tar'), members);
  const size = statSync(out('big.tar')).size;
  const stats = { bytesRead: 0 };
  const index = indexTar(out('big.tar'), stats);
  assert.equal(index.members.length, 12);
  assert.equal(stats.bytesRead, 12 * 512 + 1024, 'one header per member, then the two zero blocks that end the tar');
  const handle = await fsp.open(out('big.tar'), 'r');
  try {
    const third = index.members[4];
    const before = stats.bytesRead;
    const data = await readTarMember(handle, third, index.size, stats);
    assert.equal(stats.bytesRead - before, images[2].bytes.length);
    assert.deepEqual(data, images[2].bytes);
  } finally {
    await handle.close();
  }
  assert.ok(stats.bytesRead < size / 20, `${stats.bytesRead} bytes read of ${size}`);
});

test('onnxfx extract --shard: a shard reads its own members, not the whole tar; its rows are those of one run', async () => {
  const cli = installCli();
  try {
    const model = writeTinyModel(out('tiny.onnx'));
    const images = makeImages(16);
    const big = new Uint8Array(128 * 1024).fill(3);
    const members = images.flatMap((f, i) => [{ name: `./s/k${String(i).padStart(2, '0')}.${f.name.split('.')[1]}`, bytes: f.bytes },
      { name: `./s/k${String(i).padStart(2, '0')}.npy`, bytes: big }]);
    await writeTar(out('data.tar'), members);
    const size = statSync(out('data.tar')).size;
    const run = (args) => {
      const r = runCli(cli.bin, ['extract', model, out('data.tar'), ...args, ...TINY, '--json']);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.event === 'end');
    };
    const whole = run(['-o', out('whole.npy')]);
    const part = run(['--shard', '1/4', '-o', out('part-{shard}.npy')]);
    // the keys: the streaming decoder's image members in archive order, './' dropped
    const keys = (await streamed(out('data.tar'))).filter((e) => e.type === 'file' && /\.(png|jpe?g)$/i.test(e.name))
      .map((e) => `data.tar/${e.name.replace(/^(\.?\/)+/, '')}`);
    assert.deepEqual(readKeys(out('whole.npy')), keys);
    assert.deepEqual(readKeys(out('part-1.npy')), keys.slice(4, 8));
    const all = readNpy(out('whole.npy')), mine = readNpy(out('part-1.npy'));
    assert.deepEqual(mine.data, all.data.subarray(4 * all.shape[1], 8 * all.shape[1]));
    // The shard read the headers and its 4 images; one run reads every image, still no .npy member.
    const imageBytes = (from, to) => images.slice(from, to).reduce((n, f) => n + f.bytes.length, 0);
    assert.equal(part.tarBytesRead, 32 * 512 + 1024 + imageBytes(4, 8));
    assert.equal(whole.tarBytesRead, 32 * 512 + 1024 + imageBytes(0, 16));
    assert.ok(part.tarBytesRead < size / 50, `the shard read ${part.tarBytesRead} bytes of the tar's ${size}`);
  } finally {
    rmSync(cli.root, { recursive: true, force: true });
  }
});
