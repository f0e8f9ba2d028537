// Shared by shard.test.mjs and slurm.test.mjs (issue #15, batch extraction beyond one machine):
// the installed `onnxfx` command, a tiny model, small images cut from the fixtures of
// tests/tools/make_image_fixtures.py, webdataset-style .tar files (written with modern-tar, the
// package's own tar dependency), and a .npy reader.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './helpers.mjs';
import { installPacked } from './packed.mjs';
import { FLOAT, model, graph, node, valueInfo, tensor, floats } from './onnx-writer.mjs';

import pngjs from 'pngjs';
import jpeg from 'jpeg-js';
import { packTar } from 'modern-tar';

const { PNG } = pngjs;

/** `npm pack` of web/ installed offline in a temp app; `bin` is its web/bin/onnxfx.mjs. */
export function installCli() {
  const packed = installPacked();
  return { ...packed, bin: path.join(packed.dir, 'node_modules/onnxfx/bin/onnxfx.mjs') };
}

/** Runs the command: {code, stdout, stderr}. A run that hangs is killed after 2 minutes (a failure, not a wait). */
export function runCli(bin, args, { env = {}, cwd } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd, env: { ...process.env, ...env }, timeout: 120_000, killSignal: 'SIGKILL' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const started = new Set();

/** Kills (by PID) the commands startCli started that still run: for test.after, when a test failed half-way. */
export function killStarted() {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Starts the command in the background; `lines` collects its stdout lines as they come. */
export function startCli(bin, args, { env = {} } = {}) {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  const lines = [];
  const waiters = [];
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (text) => {
    pending += text;
    const parts = pending.split('\n');
    pending = parts.pop();
    lines.push(...parts);
    for (const w of [...waiters]) w();
  });
  child.stderr.setEncoding('utf8').on('data', (text) => { stderr += text; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  /** Resolves with the first stdout line that `match` accepts; rejects when the process ends first. */
  const waitForLine = (match) => new Promise((resolve, reject) => {
    const check = () => {
      const line = lines.find(match);
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(check), 1);
        resolve(line);
      }
    };
    waiters.push(check);
    check();
    exited.then(({ code, signal }) => reject(new Error(`exited (${code ?? signal}) first; stderr: ${stderr}`)));
  });
  return { child, lines, exited, waitForLine, stderr: () => stderr };
}

/**
 * A small model written here: Conv(3->8, 3x3, stride 2, pads 1) 'conv' then Relu 'relu', on
 * x [1, 3, 32, 32]. `--nodes conv,relu --pool avg` gives 16-value rows.
 */
export function writeTinyModel(file) {
  const W = floats(8 * 3 * 3 * 3, 5), B = floats(8, 9);
  writeFileSync(file, model({
    graph: graph({
      nodes: [
        node('Conv', ['x', 'conv.weight', 'conv.bias'], ['c'], { name: '/conv/Conv', attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } }),
        node('Relu', ['c'], ['y'], { name: '/relu/Relu' }),
      ],
      inputs: [valueInfo('x', FLOAT, [1, 3, 32, 32])],
      outputs: [valueInfo('y', FLOAT, [1, 8, 16, 16])],
      initializers: [tensor({ name: 'conv.weight', dims: [8, 3, 3, 3], raw: W }), tensor({ name: 'conv.bias', dims: [8], raw: B })],
    }),
  }));
  return file;
}

/** The options every extract of these tests uses with the tiny model. */
export const TINY = ['--nodes', 'conv,relu', '--preset', 'none', '--threads', '1'];

const FIXTURES = ['chelsea.png', 'coffee.png', 'astronaut.png'].map((f) => path.join(repoRoot, '.cache/images', f));

/**
 * `count` small distinct images, {name, bytes}: 40x40 tiles cut from the fixture photos,
 * encoded as PNG (even i) or JPEG (odd i), named img-00.png, img-01.jpg, ...
 */
export function makeImages(count) {
  const photos = FIXTURES.map((f) => PNG.sync.read(readFileSync(f)));
  const out = [];
  for (let i = 0; i < count; i++) {
    const src = photos[i % photos.length];
    const size = 40;
    const x0 = (37 * i) % (src.width - size), y0 = (23 * i) % (src.height - size);
    const data = Buffer.alloc(size * size * 4);
    for (let y = 0; y < size; y++) src.data.copy(data, y * size * 4, ((y0 + y) * src.width + x0) * 4, ((y0 + y) * src.width + x0 + size) * 4);
    const name = `img-${String(i).padStart(2, '0')}.${i % 2 ? 'jpg' : 'png'}`;
    const png = new PNG({ width: size, height: size });
    data.copy(png.data);
    const bytes = i % 2 ? jpeg.encode({ width: size, height: size, data }, 90).data : PNG.sync.write(png);
    out.push({ name, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
  }
  return out;
}

/** Writes images into a folder (names may hold sub-folders). */
export function writeFolder(dir, files) {
  for (const { name, bytes } of files) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), bytes);
  }
  return dir;
}

/** Writes a .tar of members {name, bytes} in that order, with modern-tar's packer. */
export async function writeTar(file, members) {
  const bytes = await packTar(members.map(({ name, bytes }) => ({ header: { name, size: bytes.length, type: 'file' }, body: bytes })));
  writeFileSync(file, bytes);
  return file;
}

/** A float32 .npy: {shape, data: Float32Array, row(i)}. */
export function readNpy(file) {
  const buf = readFileSync(file);
  const headerLength = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + headerLength);
  const [, rows, dim] = /'shape': \((\d+), (\d+)\)/.exec(header).map(Number);
  const start = 10 + headerLength;
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + rows * dim * 4));
  return { shape: [rows, dim], data, row: (i) => Array.from(data.subarray(i * dim, (i + 1) * dim)) };
}

/** The keys beside OUT.npy. */
export function readKeys(npyFile) {
  return readFileSync(npyFile.replace(/\.npy$/, '.files.txt'), 'utf8').split('\n').filter(Boolean);
}
