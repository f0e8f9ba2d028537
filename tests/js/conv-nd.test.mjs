// Conv with weights and bias computed at run time (graph inputs, or values other nodes compute
// from them), 3-D Conv (video models, NCDHW), and a 3-D network end to end
// (Conv3d -> ReLU -> MaxPool3d -> ConvTranspose3d -> AvgPool3d), against onnxruntime-node; Gemm
// and MatMul with computed operands too.
// Models are written with onnx-writer.mjs; inputs and weights come from a fixed seed; every
// requested output must match ORT within 1e-4 of its largest magnitude.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { loadModel, createFeatureExtractor, Tensor, OnnxfxError } from '../../web/index.js';
import { maxRelativeError, seededRandom } from './helpers.mjs';
import * as W from './onnx-writer.mjs';

const ort = createRequire(import.meta.url)('onnxruntime-node');
const { FLOAT } = W;

const random = seededRandom(0x3d3d3d3d); // one fixed seed for the file
const randomData = (n) => Float32Array.from({ length: n }, () => random() * 2 - 1);
const numel = (dims) => dims.reduce((a, b) => a * b, 1);
const attrs = (a = {}) => Object.entries(a).map(([k, v]) => W.attr(k, v));
const N = (op, inputs, outputs, a) => ({ op, inputs, outputs, attrs: a });
const C = (name, dims) => ({ name, dims, data: randomData(numel(dims)) });
const I = (name, dims) => ({ name, dims });

function build({ nodes, inputs, consts = [], outputs, opset = 13 }) {
  return W.model({
    opsets: [['', opset]],
    graph: W.graph({
      nodes: nodes.map((n, i) => W.node(n.op, n.inputs, n.outputs, { name: `/n${i}/${n.op}`, rawAttrs: attrs(n.attrs) })),
      inputs: inputs.map((v) => W.valueInfo(v.name, FLOAT, v.dims)),
      outputs: outputs.map((o) => W.valueInfo(o, FLOAT, null)),
      initializers: consts.map((c) => W.tensor({ name: c.name, dims: c.dims, raw: c.data })),
    }),
  });
}

/** Runs the model in ORT and onnxfx and compares the values named in `outputs` (default: the
 * last node's output). Returns how many outputs were compared. */
async function check({ nodes, inputs, consts, outputs, opset, threads, fuse }) {
  outputs ??= [nodes.at(-1).outputs[0]];
  const label = nodes.map((n) => n.op).join(' -> ');
  const bytes = build({ nodes, inputs, consts, outputs, opset });
  const feeds = {}, ours = {};
  for (const v of inputs) {
    const data = randomData(numel(v.dims));
    feeds[v.name] = new ort.Tensor('float32', data, v.dims);
    ours[v.name] = new Tensor('float32', data, v.dims);
  }
  const session = await ort.InferenceSession.create(bytes);
  const expected = await session.run(feeds);
  const model = await loadModel(bytes, threads ? { numThreads: threads } : {});
  try {
    const keys = outputs.map((o) => model.nodes.find((n) => n.outputs[0] === o).name);
    const fx = await createFeatureExtractor(model, { returnNodes: keys, ...(fuse === false ? { fuse: false } : {}) });
    const got = await fx.run(ours);
    outputs.forEach((o, i) => {
      const g = got[keys[i]], e = expected[o];
      assert.deepEqual(Array.from(g.dims), Array.from(e.dims), `${label}: dims of ${o}`);
      const err = maxRelativeError(g.data, e.data);
      assert.ok(err < 1e-4, `${label} (${JSON.stringify(nodes.map((n) => n.attrs ?? {}))}): ${o} max relative error ${err}`);
    });
    fx.dispose?.();
  } finally {
    model.dispose();
  }
  return outputs.length;
}

/** onnxfx's error for running the model on its inputs (random data). */
async function failure({ nodes, inputs, consts }) {
  const model = await loadModel(build({ nodes, inputs, consts, outputs: [nodes.at(-1).outputs[0]] }));
  try {
    const fx = await createFeatureExtractor(model, { returnNodes: [model.nodes.at(-1).name] });
    const feeds = Object.fromEntries(inputs.map((v) => [v.name, new Tensor('float32', randomData(numel(v.dims)), v.dims)]));
    await fx.run(feeds);
  } catch (err) {
    assert.ok(err instanceof OnnxfxError, String(err));
    return err;
  } finally {
    model.dispose();
  }
  assert.fail('expected the run to fail');
}

test('Conv with weights and bias computed at run time matches ORT on every path', async () => {
  const cases = [
    { x: [1, 3, 7, 9], w: [5, 3, 3, 3], a: { strides: [2, 2], pads: [1, 1, 1, 1] } }, // indirect GEMM
    { x: [2, 4, 6, 5], w: [6, 4, 1, 1], a: {} }, // 1x1: plain GEMM
    { x: [1, 6, 9, 8], w: [9, 2, 3, 3], a: { group: 3, dilations: [2, 1], pads: [2, 1, 2, 1] } },
    { x: [2, 8, 10, 9], w: [8, 1, 3, 3], a: { group: 8, strides: [2, 1], auto_pad: 'SAME_UPPER' } }, // depthwise kernels
    { x: [1, 5, 13, 12], w: [5, 1, 11, 11], a: { group: 5, pads: [5, 5, 5, 5] } }, // depthwise, too many taps
    { x: [2, 3, 17], w: [4, 3, 3], a: { strides: [2], pads: [1, 2] } }, // 1-D
    { x: [1, 4, 5, 6, 7], w: [6, 2, 3, 2, 3], a: { group: 2, strides: [1, 2, 1], pads: [1, 0, 1, 1, 1, 0] } }, // 3-D
  ];
  for (const { x, w, a } of cases) {
    // weights an input; bias an input, a constant, or absent
    await check({ nodes: [N('Conv', ['x', 'w', 'b'], ['y'], a)], inputs: [I('x', x), I('w', w), I('b', [w[0]])] });
    await check({ nodes: [N('Conv', ['x', 'w', 'b'], ['y'], a)], inputs: [I('x', x), I('w', w)], consts: [C('b', [w[0]])] });
    await check({ nodes: [N('Conv', ['x', 'w'], ['y'], a)], inputs: [I('x', x), I('w', w)] });
    // constant weights with a computed bias
    await check({ nodes: [N('Conv', ['x', 'w', 'b'], ['y'], a)], inputs: [I('x', x), I('b', [w[0]])], consts: [C('w', w)] });
  }
  // weights another node computes, with an activation fused after the Conv (and without fusion)
  for (const fuse of [true, false])
    await check({
      fuse,
      nodes: [N('Mul', ['wi', 'two'], ['w']), N('Conv', ['x', 'w', 'b'], ['c'], { pads: [1, 1, 1, 1] }), N('Relu', ['c'], ['y'])],
      inputs: [I('x', [1, 3, 8, 8]), I('wi', [4, 3, 3, 3]), I('b', [4])],
      consts: [C('two', [1])],
      outputs: ['y'],
    });
  // weights produced by a Conv (stored NHWC) and converted back to OIHW for the second Conv
  await check({
    nodes: [N('Conv', ['wi', 'k'], ['w']), N('Conv', ['x', 'w'], ['y'], { pads: [1, 1, 1, 1] })],
    inputs: [I('x', [2, 3, 6, 7]), I('wi', [4, 5, 3, 3])],
    consts: [C('k', [3, 5, 1, 1])],
  });
  // threads
  await check({ threads: 2, nodes: [N('Conv', ['x', 'w', 'b'], ['y'], { pads: [1, 1, 1, 1] })], inputs: [I('x', [1, 16, 24, 24]), I('w', [24, 16, 3, 3]), I('b', [24])] });
});

test('computed Conv weights and bias that do not fit are BAD_INPUT naming the node and input', async () => {
  const conv = (a = {}) => [N('Conv', ['x', 'w', 'b'], ['y'], a)];
  let err = await failure({ nodes: conv(), inputs: [I('x', [1, 3, 5, 5]), I('w', [4, 2, 3, 3]), I('b', [4])] });
  assert.equal(err.code, 'BAD_INPUT', err.message);
  assert.match(err.message, /\/n0\/Conv.*3 channels.*expect 2/);
  err = await failure({ nodes: conv(), inputs: [I('x', [1, 3, 5, 5]), I('w', [4, 3, 3, 3]), I('b', [5])] });
  assert.equal(err.code, 'BAD_INPUT', err.message);
  assert.match(err.message, /\/n0\/Conv.*bias \(input 2\) has 5 values.*4 output channels/);
  err = await failure({ nodes: conv(), inputs: [I('x', [1, 3, 5, 5]), I('w', [4, 3, 3]), I('b', [4])] });
  assert.equal(err.code, 'BAD_INPUT', err.message);
  assert.match(err.message, /\/n0\/Conv.*weights \(input 1\) \[4, 3, 3\] must have the same rank/);
  err = await failure({ nodes: conv(), inputs: [I('x', [1, 3, 5, 5, 5, 5]), I('w', [4, 3, 3, 3, 3, 3]), I('b', [4])] });
  assert.equal(err.code, 'UNSUPPORTED_OP', err.message);
  assert.match(err.message, /\/n0\/Conv.*1-D, 2-D and 3-D convolutions/);
  err = await failure({ nodes: conv({ group: 3 }), inputs: [I('x', [1, 3, 5, 5]), I('w', [4, 1, 3, 3]), I('b', [4])] });
  assert.equal(err.code, 'BAD_MODEL', err.message);
  assert.match(err.message, /\/n0\/Conv.*'group' \(3\).*divide the 4 output channels/);
});

test('3-D Conv (groups, strides, dilations, pads, auto_pad, fused activations) matches ORT', async () => {
  const cases = [
    { x: [1, 3, 5, 6, 7], w: [4, 3, 3, 3, 3], a: { pads: [1, 1, 1, 1, 1, 1] } },
    { x: [2, 4, 6, 5, 7], w: [6, 4, 3, 1, 3], a: { strides: [2, 1, 2], pads: [1, 0, 0, 0, 0, 2] } },
    { x: [1, 2, 7, 7, 6], w: [3, 2, 2, 3, 2], a: { dilations: [2, 1, 3] } },
    { x: [1, 6, 4, 5, 6], w: [6, 2, 3, 3, 3], a: { group: 3, auto_pad: 'SAME_UPPER', strides: [2, 2, 1] } },
    { x: [1, 4, 5, 5, 4], w: [4, 1, 3, 3, 3], a: { group: 4, auto_pad: 'SAME_LOWER' } }, // depthwise (X3D)
    { x: [1, 3, 4, 6, 6], w: [5, 3, 2, 2, 2], a: { auto_pad: 'VALID', strides: [2, 2, 2] } },
    { x: [2, 8, 3, 4, 5], w: [5, 8, 1, 1, 1], a: {} }, // pointwise
    { x: [1, 3, 4, 9, 9], w: [8, 3, 3, 7, 7], a: { strides: [1, 2, 2], pads: [1, 3, 3, 1, 3, 3], kernel_shape: [3, 7, 7] } }, // r3d stem
    { x: [1, 32, 8, 10, 10], w: [7, 32, 3, 3, 3], a: { pads: [1, 1, 1, 1, 1, 1] } }, // several im2col tiles and a tail
  ];
  for (const { x, w, a } of cases)
    for (const bias of [true, false])
      await check({ nodes: [N('Conv', ['x', 'w', ...(bias ? ['b'] : [])], ['y'], a)], inputs: [I('x', x)], consts: [C('w', w), ...(bias ? [C('b', [w[0]])] : [])] });
  // activations folded into the 3-D Conv's GEMM epilogue (Relu as the clamp, SiLU as a pass over each tile)
  const conv = N('Conv', ['x', 'w', 'b'], ['c'], { pads: [1, 1, 1, 1, 1, 1] });
  const consts = [C('w', [5, 3, 3, 3, 3]), C('b', [5])];
  await check({ nodes: [conv, N('Relu', ['c'], ['y'])], inputs: [I('x', [1, 3, 4, 5, 6])], consts, outputs: ['y'] });
  const bounds = [{ name: 'lo', dims: [], data: Float32Array.of(0) }, { name: 'hi', dims: [], data: Float32Array.of(0.5) }];
  await check({ nodes: [conv, N('Clip', ['c', 'lo', 'hi'], ['y'])], inputs: [I('x', [1, 3, 4, 5, 6])], consts: [...consts, ...bounds], outputs: ['y'] });
  await check({ threads: 2, nodes: [conv, N('Sigmoid', ['c'], ['s']), N('Mul', ['c', 's'], ['y'])], inputs: [I('x', [2, 3, 6, 7, 8])], consts, outputs: ['y'] });
});

test('a 3-D network (Conv3d -> ReLU -> MaxPool3d -> ConvTranspose3d -> AvgPool3d) matches ORT at every node', async () => {
  const compared = await check({
    nodes: [
      N('Conv', ['x', 'w1', 'b1'], ['c1'], { pads: [1, 1, 1, 1, 1, 1], strides: [1, 2, 2] }),
      N('Relu', ['c1'], ['r1']),
      N('MaxPool', ['r1'], ['p1'], { kernel_shape: [2, 3, 3], strides: [2, 2, 2], pads: [0, 1, 1, 0, 1, 1] }),
      N('ConvTranspose', ['p1', 'w2', 'b2'], ['t1'], { strides: [2, 2, 2], pads: [1, 1, 1, 1, 1, 1], output_padding: [1, 1, 1] }),
      N('AveragePool', ['t1'], ['y'], { kernel_shape: [3, 3, 3], strides: [1, 2, 2], pads: [1, 1, 1, 1, 1, 1], count_include_pad: 0 }),
    ],
    inputs: [I('x', [2, 3, 8, 16, 16])],
    consts: [C('w1', [8, 3, 3, 3, 3]), C('b1', [8]), C('w2', [8, 4, 3, 3, 3]), C('b2', [4])],
    outputs: ['r1', 'p1', 't1', 'y'],
  });
  assert.equal(compared, 4);
});

test('Gemm and MatMul with B and C computed at run time match ORT', async () => {
  for (const [transA, transB] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
    const a = transA ? [7, 5] : [5, 7], b = transB ? [6, 7] : [7, 6];
    await check({ nodes: [N('Gemm', ['a', 'b', 'c'], ['y'], { transA, transB })], inputs: [I('a', a), I('b', b), I('c', [5, 6])] });
    await check({ nodes: [N('Gemm', ['a', 'b', 'c'], ['y'], { transA, transB })], inputs: [I('a', a), I('b', b), I('c', [6])] });
    await check({ nodes: [N('Gemm', ['a', 'b', 'c'], ['y'], { transA, transB })], inputs: [I('a', a), I('c', [5, 1])], consts: [C('b', b)] });
  }
  await check({ nodes: [N('MatMul', ['a', 'b'], ['y'])], inputs: [I('a', [2, 3, 4, 5]), I('b', [3, 5, 6])] });
  await check({ nodes: [N('MatMul', ['a', 'b'], ['y'])], inputs: [I('a', [4, 5]), I('b', [2, 5, 3])] });
});
