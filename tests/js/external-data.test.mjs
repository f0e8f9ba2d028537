// ONNX external data (.onnx + data files): JS reads the files the model names and the core binds
// its tensors to them. Paths stay inside the model's folder.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModel, createFeatureExtractor, Tensor, BadModelError } from '../../web/index.js';
import { externalTensors } from '../../web/src/source.js';
import { model, graph, node, valueInfo, tensor, attr, int, msg, str, floats, concat, FLOAT } from './onnx-writer.mjs';

const W = floats(4 * 3 * 3 * 3, 7), B = floats(4, 11);
const root = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-external-'));
const x = floats(3 * 64, 3);

test.after(() => rmSync(root, { recursive: true, force: true }));

const external = (location, offset, length) => [
  int(14, 1), // data_location = EXTERNAL
  msg(13, str(1, 'location'), str(2, location)),
  offset != null ? msg(13, str(1, 'offset'), str(2, String(offset))) : null,
  length != null ? msg(13, str(1, 'length'), str(2, String(length))) : null,
];

/** Conv + Relu whose weight and bias live in external files; returns the model bytes. */
function convModel(wLocation, bLocation, { wOffset = 16, wLength = W.byteLength } = {}) {
  return model({
    graph: graph({
      nodes: [
        node('Conv', ['x', 'conv.weight', 'conv.bias'], ['c'], { name: '/conv/Conv', attrs: { pads: [1, 1, 1, 1] } }),
        node('Relu', ['c'], ['y'], { name: '/relu/Relu' }),
      ],
      inputs: [valueInfo('x', FLOAT, [1, 3, 8, 8])],
      outputs: [valueInfo('y', FLOAT, [1, 4, 8, 8])],
      initializers: [
        tensor({ name: 'conv.weight', dims: [4, 3, 3, 3], extra: external(wLocation, wOffset, wLength) }),
        tensor({ name: 'conv.bias', dims: [4], extra: external(bLocation) }),
      ],
    }),
  });
}

const bytesOf = (f32) => new Uint8Array(f32.buffer.slice(0));
const weightsFile = concat(new Uint8Array(16).fill(0xee), bytesOf(W)); // the weights start at offset 16

/** Writes a model folder: model.onnx, weights.bin, sub/bias.bin. */
function folder(name, modelBytes) {
  const dir = path.join(root, name);
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'model.onnx'), modelBytes);
  writeFileSync(path.join(dir, 'weights.bin'), weightsFile);
  writeFileSync(path.join(dir, 'sub/bias.bin'), bytesOf(B));
  return path.join(dir, 'model.onnx');
}

/** The reference: the same model with the weights inline. */
async function expected() {
  const inline = model({
    graph: graph({
      nodes: [
        node('Conv', ['x', 'conv.weight', 'conv.bias'], ['c'], { name: '/conv/Conv', attrs: { pads: [1, 1, 1, 1] } }),
        node('Relu', ['c'], ['y'], { name: '/relu/Relu' }),
      ],
      inputs: [valueInfo('x', FLOAT, [1, 3, 8, 8])],
      outputs: [valueInfo('y', FLOAT, [1, 4, 8, 8])],
      initializers: [tensor({ name: 'conv.weight', dims: [4, 3, 3, 3], raw: W }), tensor({ name: 'conv.bias', dims: [4], raw: B })],
    }),
  });
  return extract(await loadModel(inline));
}

async function extract(m) {
  const fx = await createFeatureExtractor(m, { returnNodes: ['conv', 'relu'] });
  const out = await fx.run(new Tensor('float32', x, [1, 3, 8, 8]));
  m.dispose();
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, Array.from(t.data)]));
}

const good = () => folder(`good-${Math.random().toString(36).slice(2)}`, convModel('weights.bin', 'sub/bias.bin'));

for (const worker of [false, true]) {
  test(`a model path reads its external data files from its folder${worker ? ' (worker)' : ''}`, async () => {
    const got = await extract(await loadModel(good(), { worker }));
    assert.deepEqual(got, await expected());
  });
}

test('bytes + externalData, or bytes + externalDataDir, give the same model', async () => {
  const file = good();
  const want = await expected();
  const bytes = new Uint8Array(readFileSync(file));
  assert.deepEqual(await extract(await loadModel(bytes, { externalData: { 'weights.bin': weightsFile, 'sub/bias.bin': bytesOf(B).buffer } })), want);
  assert.deepEqual(await extract(await loadModel(bytes, { externalDataDir: path.dirname(file) })), want);
  await assert.rejects(loadModel(bytes), (e) => e instanceof BadModelError && /external file 'weights.bin'.*externalData/.test(e.message));
});

test("external data locations that leave the model's folder are refused", async () => {
  writeFileSync(path.join(root, 'outside.bin'), weightsFile);
  const cases = [
    ['../outside.bin', /'\.\.' segment/],
    ['sub/../../outside.bin', /'\.\.' segment/],
    [path.join(root, 'outside.bin'), /absolute path/],
    ['link.bin', /leads out of the model's folder/],
    ['missing.bin', /cannot read external data file 'missing.bin'.*ENOENT/],
  ];
  for (const [location, message] of cases) {
    const file = folder(`bad-${cases.findIndex((c) => c[0] === location)}`, convModel(location, 'sub/bias.bin'));
    symlinkSync(path.join(root, 'outside.bin'), path.join(path.dirname(file), 'link.bin'));
    await assert.rejects(loadModel(file), (e) => e.code === 'BAD_MODEL' && message.test(e.message), location);
  }
});

test('offsets and lengths are checked against the file and the tensor', async () => {
  const tooLong = folder('too-long', convModel('weights.bin', 'sub/bias.bin', { wOffset: 32 }));
  await assert.rejects(loadModel(tooLong), (e) => e.code === 'BAD_MODEL' && /past the end of external file 'weights.bin'/.test(e.message));
  const wrongLength = folder('wrong-length', convModel('weights.bin', 'sub/bias.bin', { wLength: 12 }));
  await assert.rejects(loadModel(wrongLength), (e) => e.code === 'BAD_MODEL' && /length is 12 bytes, its dims and type need 432/.test(e.message));
});

test('externalTensors: each external tensor\'s location and size, from its dims and type', () => {
  const bytes = model({
    graph: graph({
      nodes: [node('Constant', [], ['k'], { name: 'k', rawAttrs: [attr('value', tensor({ name: 'kv', dims: [3], dataType: 7, extra: external('c.bin') }), 'tensor')] })],
      outputs: [valueInfo('k', 7, [3])],
      initializers: [
        tensor({ name: 'w', dims: [4, 3, 3, 3], extra: external('w.bin', 16, W.byteLength) }), // packed dims, float32
        concat(int(1, 2), int(1, 5), int(2, 10), str(8, 'h'), ...external('sub/h.bin')), // unpacked dims, float16
        tensor({ name: 'inline', dims: [2], raw: Float32Array.of(1, 2) }),
      ],
    }),
  });
  assert.deepEqual(externalTensors(bytes), [
    { location: 'c.bin', bytes: 24 },
    { location: 'w.bin', bytes: 4 * 3 * 3 * 3 * 4 },
    { location: 'sub/h.bin', bytes: 2 * 5 * 2 },
  ]);
  assert.deepEqual(externalTensors(new Uint8Array([0xff, 0xff])), [], 'not protobuf: nothing');
});
