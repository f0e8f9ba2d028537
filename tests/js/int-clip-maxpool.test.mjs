// Clip on integer tensors (int8, uint8, int32, int64; bounds constant, graph inputs or absent) and
// MaxPool on int8/uint8 (1-D, 2-D through the NHWC layout, 3-D, Indices; the QOperator pattern
// QuantizeLinear -> MaxPool -> DequantizeLinear), against onnxruntime-node: integer results must
// be equal element for element.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { loadModel, createFeatureExtractor, Tensor } from '../../web/index.js';
import { seededRandom } from './helpers.mjs';
import * as W from './onnx-writer.mjs';

const ort = createRequire(import.meta.url)('onnxruntime-node');
const { FLOAT, UINT8, INT8, INT32, INT64 } = W;

const random = seededRandom(0xc1a9); // one fixed seed for the file
const numel = (dims) => dims.reduce((a, b) => a * b, 1);
const TYPES = {
  int8: { code: INT8, make: (n) => Int8Array.from({ length: n }, () => Math.floor(random() * 256) - 128) },
  uint8: { code: UINT8, make: (n) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256)) },
  int32: { code: INT32, make: (n) => Int32Array.from({ length: n }, () => Math.floor(random() * 2 ** 32) - 2 ** 31) },
  int64: { code: INT64, make: (n) => BigInt64Array.from({ length: n }, () => BigInt(Math.floor(random() * 2 ** 40) - 2 ** 39) * 1000n) },
  float32: { code: FLOAT, make: (n) => Float32Array.from({ length: n }, () => random() * 8 - 4) },
};
const bytesOf = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const attrs = (a = {}) => Object.entries(a).map(([k, v]) => W.attr(k, v));

/** nodes: [op, inputs, outputs, attrs]; inputs: [{name, type, dims}]; consts: [{name, type, dims, data}]. */
async function check({ nodes, inputs, consts = [], output, outputType, opset = 13 }) {
  const bytes = W.model({
    opsets: [['', opset]],
    graph: W.graph({
      nodes: nodes.map((n, i) => W.node(n[0], n[1], n[2], { name: `/n${i}/${n[0]}`, rawAttrs: attrs(n[3]) })),
      inputs: inputs.map((v) => W.valueInfo(v.name, TYPES[v.type].code, v.dims)),
      outputs: [W.valueInfo(output, TYPES[outputType].code, null)],
      initializers: consts.map((c) => W.tensor({ name: c.name, dims: c.dims, dataType: TYPES[c.type].code, raw: bytesOf(c.data) })),
    }),
  });
  const feeds = {}, ours = {};
  for (const v of inputs) {
    const data = v.data ?? TYPES[v.type].make(numel(v.dims));
    feeds[v.name] = new ort.Tensor(v.type, data, v.dims);
    ours[v.name] = new Tensor(v.type, data, v.dims);
  }
  const session = await ort.InferenceSession.create(bytes);
  const expected = (await session.run(feeds))[output];
  const model = await loadModel(bytes);
  try {
    const node = model.nodes.find((n) => n.outputs[0] === output);
    const fx = await createFeatureExtractor(model, { returnNodes: [node.name] });
    const got = (await fx.run(ours))[node.name];
    const label = nodes.map((n) => n[0]).join(' -> ') + ' ' + JSON.stringify(nodes.map((n) => n[3] ?? {}));
    assert.deepEqual(Array.from(got.dims), Array.from(expected.dims), `${label}: dims`);
    assert.equal(got.type, expected.type, `${label}: type`);
    assert.deepEqual(Array.from(got.data), Array.from(expected.data), `${label}: values`);
    fx.dispose?.();
  } finally {
    model.dispose();
  }
}

test('Clip on int8, uint8, int32 and int64 matches ORT exactly', async () => {
  const one = (type, v) => TYPES[type].make(1).map(() => (type === 'int64' ? BigInt(v) : v));
  const ranges = { int8: [-50, 60], uint8: [30, 200], int32: [-1e9, 5e8], int64: [-3e14, 2e14] };
  for (const [type, [lo, hi]] of Object.entries(ranges)) {
    const x = { name: 'x', type, dims: [2, 3, 4, 5] };
    const c = (name, v) => ({ name, type, dims: [], data: one(type, v) });
    await check({ nodes: [['Clip', ['x', 'lo', 'hi'], ['y']]], inputs: [x], consts: [c('lo', lo), c('hi', hi)], output: 'y', outputType: type });
    await check({ nodes: [['Clip', ['x', '', 'hi'], ['y']]], inputs: [x], consts: [c('hi', hi)], output: 'y', outputType: type });
    await check({ nodes: [['Clip', ['x', 'lo'], ['y']]], inputs: [x], consts: [c('lo', lo)], output: 'y', outputType: type });
    await check({ nodes: [['Clip', ['x'], ['y']]], inputs: [x], output: 'y', outputType: type });
    // bounds as graph inputs (read at run time), min above max (every element becomes max)
    await check({ nodes: [['Clip', ['x', 'lo', 'hi'], ['y']]], inputs: [x, { name: 'lo', type, dims: [], data: one(type, lo) }, { name: 'hi', type, dims: [], data: one(type, hi) }], output: 'y', outputType: type });
    await check({ nodes: [['Clip', ['x', 'lo', 'hi'], ['y']]], inputs: [x], consts: [c('lo', hi), c('hi', lo)], output: 'y', outputType: type });
  }
});

test('MaxPool on int8 and uint8 (1-D, 2-D, 3-D, pads, ceil_mode, dilations) matches ORT exactly', async () => {
  const cases = [
    { x: [2, 3, 9, 8], a: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 } },
    { x: [1, 4, 7, 6], a: { kernel_shape: [2, 3], strides: [2, 1], pads: [0, 1, 1, 0] } },
    { x: [1, 2, 10, 11], a: { kernel_shape: [3, 3], dilations: [2, 2], pads: [2, 2, 2, 2] } },
    { x: [1, 5, 8, 8], a: { kernel_shape: [3, 3], auto_pad: 'SAME_UPPER', strides: [2, 2] } },
    { x: [2, 3, 12], a: { kernel_shape: [3], strides: [2], pads: [1, 1] } },
    { x: [1, 2, 4, 7, 6], a: { kernel_shape: [2, 3, 2], strides: [1, 2, 2], pads: [0, 1, 0, 1, 1, 1] } },
  ];
  for (const type of ['int8', 'uint8'])
    for (const { x, a } of cases)
      await check({ nodes: [['MaxPool', ['x'], ['y'], a]], inputs: [{ name: 'x', type, dims: x }], output: 'y', outputType: type });
  // 8-bit values through MaxPool and an integer Clip, stored NHWC in between
  await check({
    nodes: [['MaxPool', ['x'], ['p'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }], ['Clip', ['p', 'lo', 'hi'], ['y']]],
    inputs: [{ name: 'x', type: 'int8', dims: [1, 6, 9, 9] }],
    consts: [{ name: 'lo', type: 'int8', dims: [], data: Int8Array.of(-20) }, { name: 'hi', type: 'int8', dims: [], data: Int8Array.of(90) }],
    output: 'y',
    outputType: 'int8',
  });
  // QOperator models pool the quantized activations
  await check({
    nodes: [['QuantizeLinear', ['x', 's', 'z'], ['q']], ['MaxPool', ['q'], ['p'], { kernel_shape: [3, 3], strides: [2, 2] }], ['DequantizeLinear', ['p', 's', 'z'], ['y']]],
    inputs: [{ name: 'x', type: 'float32', dims: [1, 8, 11, 11] }],
    consts: [{ name: 's', type: 'float32', dims: [], data: Float32Array.of(0.03) }, { name: 'z', type: 'uint8', dims: [], data: Uint8Array.of(128) }],
    output: 'y',
    outputType: 'float32',
  });
});
