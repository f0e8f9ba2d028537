// Per-op randomized checks against onnxruntime-node: small one-node models (and a few 2-4 node
// chains that exercise the NHWC layout planner) with shapes and attributes ONNX's conformance
// suite does not cover: odd sizes, negative axes, broadcasting, strided/dilated/grouped and
// depthwise convs, ceil_mode/padded pooling, Resize modes, ConvTranspose, shape ops fed by
// NHWC-producing Convs, Gemm transposes, MatMul broadcasting, Softmax/LayerNorm axes.
// Every model is written here with onnx-writer.mjs, inputs and weights come from a fixed seed,
// and the requested node's output must match ORT within 1e-4 of the output's largest magnitude.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { loadModel, createFeatureExtractor, Tensor, OnnxfxError } from '../../web/index.js';
import { maxRelativeError, seededRandom } from './helpers.mjs';
import * as W from './onnx-writer.mjs';

const ort = createRequire(import.meta.url)('onnxruntime-node');
const { FLOAT, INT64 } = W;

const random = seededRandom(0x5eed1234); // one fixed seed for the file
const randomData = (n) => Float32Array.from({ length: n }, () => random() * 2 - 1);
const numel = (dims) => dims.reduce((a, b) => a * b, 1);

/** Attributes: numbers -> int, arrays -> ints, strings, {f} float, {fs} floats. */
function attrs(a = {}) {
  return Object.entries(a).map(([k, v]) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) return 'f' in v ? W.attr(k, v.f, 'float') : W.attr(k, v.fs, 'floats');
    return W.attr(k, v);
  });
}

let counter = 0;
/** A node: op, inputs, outputs, attributes. */
const N = (op, inputs, outputs, a) => ({ op, inputs, outputs, attrs: a });
/** Constant initializer: random float32 (or given data / type). */
const C = (name, dims, data, dataType = FLOAT) => ({ name, dims, data: data ?? randomData(numel(dims)), dataType });

/**
 * Builds the model, runs it in ORT and in onnxfx (requesting the node that produces `output`,
 * default the last node's first output), and compares. inputs: [{name, dims}] get random data.
 */
async function check({ nodes, inputs, consts = [], output, opset = 13, outputs: extraOutputs = [], threads }) {
  const id = ++counter;
  const out = output ?? nodes[nodes.length - 1].outputs[0];
  const bytes = W.model({
    opsets: [['', opset]],
    graph: W.graph({
      nodes: nodes.map((n, i) => W.node(n.op, n.inputs, n.outputs, { name: `/n${i}/${n.op}`, rawAttrs: attrs(n.attrs) })),
      inputs: inputs.map((v) => W.valueInfo(v.name, FLOAT, v.dims)),
      outputs: [out, ...extraOutputs].map((o) => W.valueInfo(o, (o.endsWith('indices') ? INT64 : FLOAT), null)),
      initializers: consts.map((c) => W.tensor({ name: c.name, dims: c.dims, dataType: c.dataType, raw: c.data })),
    }),
  });
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
    // `name:k` addresses output k of a multi-output node (docs/naming.md)
    const requests = [out, ...extraOutputs].map((o) => {
      const producer = model.nodes.find((n) => n.outputs.includes(o));
      assert.ok(producer, `model ${id}: no node produces ${o}`);
      const k = producer.outputs.indexOf(o);
      return { o, producer, key: k === 0 ? producer.name : `${producer.name}:${k}` };
    });
    const fx = await createFeatureExtractor(model, { returnNodes: requests.map((r) => r.key) });
    const got = await fx.run(ours);
    for (const { o, producer, key } of requests) {
      const g = got[key];
      const e = expected[o];
      assert.ok(g, `model ${id}: no output for ${producer.name}`);
      assert.deepEqual(Array.from(g.dims), Array.from(e.dims), `model ${id} (${producer.opType}): dims`);
      if (e.type === 'int64') {
        assert.deepEqual(Array.from(g.data, BigInt), Array.from(e.data), `model ${id}: int64 output ${o}`);
      } else {
        const err = maxRelativeError(g.data, e.data);
        assert.ok(err < 1e-4, `model ${id} (${nodes.map((n) => n.op).join(' -> ')}): max relative error ${err}`);
      }
    }
    fx.dispose?.();
  } finally {
    model.dispose();
  }
}

const x4 = (dims) => [{ name: 'x', dims }];

// ---- Conv: strided, dilated, grouped, depthwise, 1x1 with batch, padding modes, 1-D ----
test('Conv variants match ORT', async () => {
  const cases = [
    { x: [1, 3, 7, 9], w: [5, 3, 3, 3], a: { strides: [2, 2], pads: [1, 1, 1, 1] } },
    { x: [2, 4, 11, 6], w: [6, 4, 3, 2], a: { dilations: [2, 1], pads: [2, 0, 1, 1] } },
    { x: [1, 6, 9, 9], w: [9, 2, 3, 3], a: { group: 3, strides: [1, 2], pads: [1, 1, 1, 1] } },
    { x: [3, 16, 5, 7], w: [8, 16, 1, 1], a: {} },
    { x: [3, 5, 4, 4], w: [7, 5, 1, 1], a: { strides: [2, 2] } },
    { x: [1, 3, 10, 7], w: [4, 3, 3, 3], a: { auto_pad: 'SAME_UPPER', strides: [2, 2] } },
    { x: [1, 3, 10, 7], w: [4, 3, 4, 4], a: { auto_pad: 'SAME_LOWER' } },
    { x: [1, 2, 6, 6], w: [3, 2, 2, 2], a: { auto_pad: 'VALID', strides: [2, 1] } },
  ];
  for (const k of [3, 5, 7])
    for (const c of [8, 13])
      cases.push({ x: [2, c, 15, 12], w: [c, 1, k, k], a: { group: c, strides: [2, 2], pads: Array(4).fill(k >> 1) } });
  cases.push({ x: [1, 8, 9, 9], w: [16, 1, 3, 3], a: { group: 8, pads: [1, 1, 1, 1] } }); // depth multiplier 2
  for (const { x, w, a } of cases) {
    for (const bias of [true, false]) {
      await check({
        nodes: [N('Conv', ['x', 'w', ...(bias ? ['b'] : [])], ['y'], a)],
        inputs: x4(x),
        consts: [C('w', w), ...(bias ? [C('b', [w[0]])] : [])],
      });
    }
  }
  // 1-D
  await check({ nodes: [N('Conv', ['x', 'w', 'b'], ['y'], { strides: [2], pads: [1, 2], dilations: [2] })], inputs: x4([2, 3, 17]), consts: [C('w', [4, 3, 3]), C('b', [4])] });
  await check({ nodes: [N('Conv', ['x', 'w'], ['y'], { group: 4, auto_pad: 'SAME_UPPER' })], inputs: x4([1, 4, 10]), consts: [C('w', [4, 1, 5])] });
});

// ---- pooling ----
test('MaxPool / AveragePool (1-D, 2-D, 3-D, ceil_mode, pads, Indices) match ORT', async () => {
  const two = [
    { k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 },
    { k: [2, 3], strides: [2, 1], pads: [0, 1, 1, 0] },
    { k: [3, 2], strides: [2, 2], ceil_mode: 1 },
    { k: [3, 3], auto_pad: 'SAME_UPPER', strides: [2, 2] },
    { k: [2, 2], auto_pad: 'SAME_LOWER' },
  ];
  for (const { k, ...a } of two) {
    await check({ nodes: [N('MaxPool', ['x'], ['y'], { kernel_shape: k, ...a })], inputs: x4([2, 3, 9, 8]) });
    for (const cip of [0, 1])
      await check({ nodes: [N('AveragePool', ['x'], ['y'], { kernel_shape: k, count_include_pad: cip, ...a })], inputs: x4([2, 3, 9, 8]) });
  }
  await check({ nodes: [N('MaxPool', ['x'], ['y'], { kernel_shape: [3, 3], dilations: [2, 2], pads: [2, 2, 2, 2] })], inputs: x4([1, 2, 10, 11]) });
  // 1-D and 3-D
  await check({ nodes: [N('MaxPool', ['x'], ['y'], { kernel_shape: [3], strides: [2], pads: [1, 1], ceil_mode: 1 })], inputs: x4([2, 3, 12]) });
  await check({ nodes: [N('AveragePool', ['x'], ['y'], { kernel_shape: [4], strides: [3], pads: [2, 1], count_include_pad: 1 })], inputs: x4([1, 2, 13]) });
  await check({ nodes: [N('MaxPool', ['x'], ['y'], { kernel_shape: [2, 3, 2], strides: [1, 2, 2], pads: [0, 1, 0, 1, 1, 1] })], inputs: x4([1, 2, 4, 7, 6]) });
  await check({ nodes: [N('AveragePool', ['x'], ['y'], { kernel_shape: [3, 3, 3], strides: [2, 2, 2], pads: [1, 1, 1, 1, 1, 1] })], inputs: x4([2, 2, 5, 6, 7]) });
  // Indices (2-D and 1-D), with both storage orders
  for (const so of [0, 1])
    await check({ nodes: [N('MaxPool', ['x'], ['y', 'y_indices'], { kernel_shape: [3, 2], strides: [2, 2], pads: [1, 0, 1, 1], storage_order: so })], inputs: x4([2, 3, 7, 6]), outputs: ['y_indices'] });
  await check({ nodes: [N('MaxPool', ['x'], ['y', 'y_indices'], { kernel_shape: [3], strides: [2] })], inputs: x4([2, 2, 9]), outputs: ['y_indices'] });
});

// ---- Resize / Upsample ----
test('Resize (nearest, linear, cubic; every coordinate mode) and Upsample match ORT', async () => {
  const f32 = (a) => Float32Array.from(a);
  const i64 = (a) => BigInt64Array.from(a.map(BigInt));
  const run = (a, { scales, sizes, x = [1, 2, 5, 7], opset = 13 }) =>
    check({
      opset,
      nodes: [N('Resize', ['x', 'roi', scales ? 'scales' : '', ...(sizes ? ['sizes'] : [])], ['y'], a)],
      inputs: x4(x),
      consts: [C('roi', [0], f32([])), ...(scales ? [C('scales', [scales.length], f32(scales))] : []), ...(sizes ? [C('sizes', [sizes.length], i64(sizes), INT64)] : [])],
    });
  const coords = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric'];
  for (const coordinate_transformation_mode of coords) {
    for (const nearest_mode of ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']) {
      await run({ mode: 'nearest', coordinate_transformation_mode, nearest_mode }, { scales: [1, 1, 2, 3] });
      await run({ mode: 'nearest', coordinate_transformation_mode, nearest_mode }, { sizes: [1, 2, 3, 4] });
    }
    await run({ mode: 'linear', coordinate_transformation_mode }, { scales: [1, 1, 2, 2] });
    await run({ mode: 'linear', coordinate_transformation_mode }, { sizes: [1, 2, 9, 4] });
    await run({ mode: 'cubic', coordinate_transformation_mode }, { scales: [1, 1, 0.8, 2] });
    await run({ mode: 'cubic', coordinate_transformation_mode, cubic_coeff_a: { f: -0.5 }, exclude_outside: 1 }, { sizes: [1, 2, 3, 11] });
  }
  await run({ mode: 'nearest', coordinate_transformation_mode: 'tf_half_pixel_for_nn' }, { scales: [1, 1, 3, 2] });
  await run({ mode: 'linear' }, { scales: [1, 1, 0.5, 0.5], x: [2, 3, 8, 10] });
  await run({ mode: 'linear', coordinate_transformation_mode: 'align_corners' }, { scales: [1, 1, 2, 2], x: [1, 3, 1, 6] });
  await run({ mode: 'nearest' }, { scales: [1, 1, 2], x: [2, 3, 5] });
  await run({ mode: 'linear' }, { scales: [1, 1, 2, 2, 2], x: [1, 2, 3, 4, 3] });
  // opset 10 form and Upsample 9
  await check({ opset: 10, nodes: [N('Resize', ['x', 'scales'], ['y'], { mode: 'nearest' })], inputs: x4([1, 2, 3, 4]), consts: [C('scales', [4], f32([1, 1, 2, 3]))] });
  await check({ opset: 10, nodes: [N('Resize', ['x', 'scales'], ['y'], { mode: 'linear' })], inputs: x4([1, 2, 3, 4]), consts: [C('scales', [4], f32([1, 1, 2, 2]))] });
  await check({ opset: 9, nodes: [N('Upsample', ['x', 'scales'], ['y'], { mode: 'nearest' })], inputs: x4([1, 2, 3, 4]), consts: [C('scales', [4], f32([1, 1, 2, 2]))] });
  await check({ opset: 9, nodes: [N('Upsample', ['x', 'scales'], ['y'], { mode: 'linear' })], inputs: x4([1, 2, 3, 4]), consts: [C('scales', [4], f32([1, 1, 3, 2]))] });
});

// ---- ConvTranspose ----
test('ConvTranspose (strides, pads, output_padding, groups, dilations, output_shape, auto_pad, 1-D) matches ORT', async () => {
  const cases = [
    { x: [1, 4, 5, 6], w: [4, 3, 3, 3], a: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] } },
    { x: [2, 4, 4, 5], w: [4, 2, 4, 4], a: { strides: [2, 2], pads: [1, 1, 1, 1], group: 2 } },
    { x: [1, 3, 5, 5], w: [3, 2, 3, 2], a: { dilations: [2, 1], strides: [1, 3] } },
    { x: [1, 2, 4, 4], w: [2, 3, 3, 3], a: { strides: [2, 2], output_shape: [9, 10] } },
    { x: [1, 2, 4, 3], w: [2, 3, 3, 3], a: { strides: [2, 2], auto_pad: 'SAME_UPPER' } },
    { x: [1, 6, 5, 5], w: [6, 1, 4, 4], a: { group: 6, strides: [2, 2], pads: [1, 1, 1, 1] } },
  ];
  for (const { x, w, a } of cases)
    await check({ nodes: [N('ConvTranspose', ['x', 'w', 'b'], ['y'], a)], inputs: x4(x), consts: [C('w', w), C('b', [w[1] * (a.group ?? 1)])] });
  await check({ nodes: [N('ConvTranspose', ['x', 'w'], ['y'], { strides: [3], pads: [1, 0] })], inputs: x4([2, 3, 6]), consts: [C('w', [3, 2, 4])] });
});

// ---- shape ops fed by NHWC-producing Convs (the layout planner) ----
test('Concat / Split / Slice / Transpose / Reshape after Conv match ORT', async () => {
  const conv = (x, y, cout, cin, k = 3, extra = {}) => N('Conv', [x, `${y}_w`], [y], { pads: Array(4).fill(k >> 1), ...extra });
  const cw = (y, cout, cin, k = 3) => C(`${y}_w`, [cout, cin, k, k]);
  await check({ nodes: [conv('x', 'a', 4, 3), conv('x', 'b', 5, 3), N('Concat', ['a', 'b'], ['y'], { axis: 1 })], inputs: x4([2, 3, 6, 7]), consts: [cw('a', 4, 3), cw('b', 5, 3)] });
  await check({ nodes: [conv('x', 'a', 4, 3), N('Concat', ['a', 'x'], ['y'], { axis: -3 })], inputs: x4([1, 3, 5, 5]), consts: [cw('a', 4, 3)] });
  await check({ nodes: [conv('x', 'a', 4, 3), conv('x', 'b', 4, 3), N('Concat', ['a', 'b'], ['y'], { axis: 3 })], inputs: x4([1, 3, 5, 6]), consts: [cw('a', 4, 3), cw('b', 4, 3)] });
  await check({ nodes: [conv('x', 'a', 6, 3), N('Split', ['a', 's'], ['y', 'z'], { axis: 1 })], inputs: x4([2, 3, 5, 4]), consts: [cw('a', 6, 3), C('s', [2], BigInt64Array.from([2n, 4n]), INT64)], output: 'z' });
  await check({ nodes: [conv('x', 'a', 6, 3), N('Split', ['a'], ['y', 'z', 'u'], { axis: -1 })], inputs: x4([1, 3, 5, 6]), consts: [cw('a', 6, 3)], output: 'u' });
  const i64 = (a) => BigInt64Array.from(a.map(BigInt));
  await check({ nodes: [conv('x', 'a', 8, 3), N('Slice', ['a', 'st', 'en', 'ax', 'sp'], ['y'])], inputs: x4([1, 3, 7, 7]), consts: [cw('a', 8, 3), C('st', [2], i64([1, -1]), INT64), C('en', [2], i64([7, -8]), INT64), C('ax', [2], i64([1, -1]), INT64), C('sp', [2], i64([2, -2]), INT64)] });
  await check({ nodes: [conv('x', 'a', 5, 3), N('Transpose', ['a'], ['y'], { perm: [0, 2, 3, 1] })], inputs: x4([2, 3, 4, 6]), consts: [cw('a', 5, 3)] });
  await check({ nodes: [conv('x', 'a', 5, 3), N('Transpose', ['a'], ['y'], { perm: [1, 0, 3, 2] })], inputs: x4([2, 3, 4, 6]), consts: [cw('a', 5, 3)] });
  await check({ nodes: [conv('x', 'a', 5, 3), N('Reshape', ['a', 'sh'], ['y'])], inputs: x4([2, 3, 4, 6]), consts: [cw('a', 5, 3), C('sh', [3], i64([2, 5, -1]), INT64)] });
  await check({ nodes: [conv('x', 'a', 5, 3), N('Flatten', ['a'], ['y'], { axis: 2 })], inputs: x4([2, 3, 4, 6]), consts: [cw('a', 5, 3)] });
  // elementwise with broadcasting on an NHWC tensor
  await check({ nodes: [conv('x', 'a', 4, 3), N('Mul', ['a', 'm'], ['y'])], inputs: x4([2, 3, 5, 5]), consts: [cw('a', 4, 3), C('m', [1, 4, 1, 1])] });
  await check({ nodes: [conv('x', 'a', 4, 3), N('Add', ['a', 'm'], ['y'])], inputs: x4([2, 3, 5, 5]), consts: [cw('a', 4, 3), C('m', [5, 1])] });
  await check({ nodes: [conv('x', 'a', 4, 3), N('Sub', ['m', 'a'], ['y'])], inputs: x4([1, 3, 5, 5]), consts: [cw('a', 4, 3), C('m', [5])] });
});

// The strided copy's paths: merged axes, contiguous runs (memcpy), 2-D transposes (es 4) and
// the element loop, over every perm of odd sizes with a size-1 axis, and last-axis slices.
test('Transpose (every rank-4 perm) and Slice (last axis, strided) match ORT', async () => {
  const perms = (a) => (a.length <= 1 ? [a] : a.flatMap((v, i) => perms([...a.slice(0, i), ...a.slice(i + 1)]).map((p) => [v, ...p])));
  for (const dims of [[3, 5, 7, 9], [5, 1, 6, 7]])
    for (const perm of perms([0, 1, 2, 3])) await check({ nodes: [N('Transpose', ['x'], ['y'], { perm })], inputs: [{ name: 'x', dims }] });
  const i64 = (a) => BigInt64Array.from(a.map(BigInt));
  for (const [st, en, sp] of [[7, 14, 1], [1, 20, 3], [19, 2, -2]])
    await check({ nodes: [N('Slice', ['x', 'st', 'en', 'ax', 'sp'], ['y'])], inputs: [{ name: 'x', dims: [5, 1, 21] }], consts: [C('st', [1], i64([st]), INT64), C('en', [1], i64([en]), INT64), C('ax', [1], i64([-1]), INT64), C('sp', [1], i64([sp]), INT64)] });
});

// ---- chains through the layout planner ----
test('Conv/Relu/MaxPool/Concat/Resize chains match ORT', async () => {
  const i64 = (a) => BigInt64Array.from(a.map(BigInt));
  await check({
    nodes: [N('Conv', ['x', 'w1', 'b1'], ['c1'], { pads: [1, 1, 1, 1], strides: [2, 2] }), N('Relu', ['c1'], ['r']),
      N('MaxPool', ['r'], ['p'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }), N('Conv', ['p', 'w2'], ['c2']),
      N('Concat', ['p', 'c2'], ['cat'], { axis: 1 }), N('Conv', ['cat', 'w3', 'b3'], ['y'], { pads: [1, 1, 1, 1] })],
    inputs: x4([2, 3, 17, 15]),
    consts: [C('w1', [8, 3, 3, 3]), C('b1', [8]), C('w2', [4, 8, 1, 1]), C('w3', [6, 12, 3, 3]), C('b3', [6])],
  });
  await check({
    nodes: [N('Conv', ['x', 'dw'], ['d'], { group: 6, pads: [2, 2, 2, 2], strides: [2, 2] }), N('Clip', ['d', 'lo', 'hi'], ['cl']),
      N('Conv', ['cl', 'pw'], ['p']), N('Add', ['p', 'd'], ['y'])],
    inputs: x4([1, 6, 11, 9]),
    consts: [C('dw', [6, 1, 5, 5]), C('lo', [], Float32Array.of(0)), C('hi', [], Float32Array.of(0.5)), C('pw', [6, 6, 1, 1])],
  });
  await check({
    nodes: [N('Conv', ['x', 'w'], ['c'], { pads: [1, 1, 1, 1] }), N('BatchNormalization', ['c', 'g', 'bb', 'mu', 'var'], ['bn']), N('Relu', ['bn'], ['r']),
      N('GlobalAveragePool', ['r'], ['gp']), N('Flatten', ['gp'], ['f']), N('Gemm', ['f', 'fw', 'fb'], ['y'], { transB: 1 })],
    inputs: x4([3, 3, 8, 8]),
    consts: [C('w', [5, 3, 3, 3]), C('g', [5]), C('bb', [5]), C('mu', [5]), C('var', [5], Float32Array.from({ length: 5 }, () => 0.5 + random())), C('fw', [7, 5]), C('fb', [7])],
  });
  await check({
    nodes: [N('Conv', ['x', 'w'], ['c'], { pads: [1, 1, 1, 1], strides: [2, 2] }), N('Resize', ['c', '', 'sc'], ['u'], { mode: 'nearest' }),
      N('Concat', ['u', 'x'], ['y'], { axis: 1 })],
    inputs: x4([1, 3, 8, 6]),
    consts: [C('w', [4, 3, 3, 3]), C('sc', [4], Float32Array.from([1, 1, 2, 2]))],
  });
  await check({
    nodes: [N('Conv', ['x', 'w'], ['c'], { pads: [1, 1, 1, 1] }), N('Relu', ['c'], ['r']), N('ConvTranspose', ['r', 'tw'], ['t'], { strides: [2, 2] }),
      N('Slice', ['t', 'st', 'en', 'ax'], ['y'])],
    inputs: x4([1, 3, 5, 5]),
    consts: [C('w', [4, 3, 3, 3]), C('tw', [4, 2, 2, 2]), C('st', [1], i64([1]), INT64), C('en', [1], i64([9]), INT64), C('ax', [1], i64([-2]), INT64)],
  });
});

// ---- Gemm, MatMul, Softmax, LayerNormalization, Einsum ----
test('Gemm / MatMul / Softmax / LayerNormalization / Einsum match ORT', async () => {
  for (const [transA, transB] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
    const a = transA ? [7, 5] : [5, 7], b = transB ? [3, 7] : [7, 3];
    await check({ nodes: [N('Gemm', ['a', 'b', 'c'], ['y'], { transA, transB, alpha: { f: 0.7 }, beta: { f: 1.3 } })], inputs: [{ name: 'a', dims: a }], consts: [C('b', b), C('c', [1, 3])] });
    await check({ nodes: [N('Gemm', ['a', 'b', 'c'], ['y'], { transA, transB })], inputs: [{ name: 'a', dims: a }, { name: 'b', dims: b }], consts: [C('c', [5, 1])] });
  }
  await check({ nodes: [N('Gemm', ['a', 'b'], ['y'], { transB: 1 })], inputs: [{ name: 'a', dims: [3, 9] }], consts: [C('b', [4, 9])] });
  for (const [a, b] of [[[2, 1, 3, 4], [5, 4, 6]], [[4], [4, 3]], [[2, 3, 4], [4]], [[3, 1, 5], [1, 5, 2]], [[1, 7], [2, 7, 3]], [[6, 5], [5, 8]]])
    await check({ nodes: [N('MatMul', ['a', 'b'], ['y'])], inputs: [{ name: 'a', dims: a }, { name: 'b', dims: b }] });
  await check({ nodes: [N('MatMul', ['a', 'b'], ['y'])], inputs: [{ name: 'a', dims: [2, 3, 4] }], consts: [C('b', [4, 5])] });
  for (const axis of [-1, 1, 0, -3])
    await check({ nodes: [N('Softmax', ['x'], ['y'], { axis })], inputs: x4([2, 3, 5]) });
  await check({ nodes: [N('Softmax', ['x'], ['y'], { axis: 1 })], inputs: x4([2, 3, 5]), opset: 11 });
  for (const axis of [-1, -2, 1])
    await check({ opset: 17, nodes: [N('LayerNormalization', ['x', 'g', 'b'], ['y'], { axis, epsilon: { f: 1e-3 } })], inputs: x4([2, 3, 4, 5]), consts: [C('g', [3, 4, 5].slice(axis < 0 ? 3 + axis : axis - 1)), C('b', [3, 4, 5].slice(axis < 0 ? 3 + axis : axis - 1))] });
  for (const [eq, a, b] of [['bij,bjk->bik', [2, 3, 4], [2, 4, 5]], ['ij,jk', [3, 4], [4, 2]], ['nchw,kc->nkhw', [2, 3, 4, 5], [6, 3]], ['...ij,...jk->...ik', [2, 3, 4], [1, 4, 2]], ['bhqd,bhkd->bhqk', [1, 2, 3, 4], [1, 2, 5, 4]]])
    await check({ opset: 12, nodes: [N('Einsum', ['a', 'b'], ['y'], { equation: eq })], inputs: [{ name: 'a', dims: a }, { name: 'b', dims: b }] });
  await check({ opset: 12, nodes: [N('Einsum', ['a'], ['y'], { equation: 'ij->ji' })], inputs: [{ name: 'a', dims: [3, 5] }] });
});

// ---- absurd spatial attributes: a clear BAD_MODEL, no overflow ----
test('spatial attributes near 2^62 are BAD_MODEL naming the attribute', async () => {
  const big = 2n ** 62n;
  for (const [name, value] of [['strides', [big, 1n]], ['dilations', [1n, big]], ['pads', [0n, 0n, big, 0n]], ['kernel_shape', [big, 3n]]]) {
    const op = name === 'kernel_shape' ? 'MaxPool' : 'Conv';
    const a = op === 'MaxPool' ? { [name]: value } : { [name]: value };
    if (op === 'MaxPool') a.kernel_shape = value;
    const bytes = W.model({
      graph: W.graph({
        nodes: [W.node(op, op === 'Conv' ? ['x', 'w'] : ['x'], ['y'], { name: '/bad/Op', rawAttrs: attrs(a) })],
        inputs: [W.valueInfo('x', FLOAT, [1, 3, 8, 8])],
        outputs: [W.valueInfo('y', FLOAT, null)],
        initializers: op === 'Conv' ? [W.tensor({ name: 'w', dims: [4, 3, 3, 3], raw: randomData(108) })] : [],
      }),
    });
    const model = await loadModel(bytes);
    try {
      await assert.rejects(
        (async () => {
          const fx = await createFeatureExtractor(model, { returnNodes: [model.nodes.at(-1).name] });
          await fx.run(new Tensor('float32', randomData(192), [1, 3, 8, 8]));
        })(),
        (err) => {
          assert.ok(err instanceof OnnxfxError, String(err));
          assert.equal(err.code, 'BAD_MODEL', err.message);
          assert.match(err.message, new RegExp(`'${name}'.*too large`));
          return true;
        },
      );
    } finally {
      model.dispose();
    }
  }
});

// ---- activations and arithmetic large enough to be split over threads (chunks end mid-row),
// and the activations the runtime fuses into Conv (Relu/Clip, HardSwish, Sigmoid, SiLU as
// Conv -> Sigmoid -> Mul) next to the patterns it must leave alone ----
test('threaded elementwise ops and Conv activation fusion match ORT', async () => {
  const threads = 2;
  const x = x4([1, 6, 48, 50]);
  const w = (name, cout, cin, k = 3) => C(name, [cout, cin, k, k]);
  const cv = (input, out, wname, pads = [1, 1, 1, 1]) => N('Conv', [input, wname], [out], { pads });
  // SiLU: fused; the Sigmoid's output read twice or the Conv's read thrice: not fused
  await check({ threads, nodes: [cv('x', 'c', 'w'), N('Sigmoid', ['c'], ['s']), N('Mul', ['c', 's'], ['y'])], inputs: x, consts: [w('w', 40, 6)] });
  await check({ threads, nodes: [cv('x', 'c', 'w'), N('Sigmoid', ['c'], ['s']), N('Mul', ['s', 'c'], ['m']), N('Add', ['m', 's'], ['y'])], inputs: x, consts: [w('w', 40, 6)] });
  await check({ threads, nodes: [cv('x', 'c', 'w'), N('Sigmoid', ['c'], ['s']), N('Mul', ['c', 's'], ['m']), N('Sub', ['m', 'c'], ['y'])], inputs: x, consts: [w('w', 40, 6)] });
  await check({ threads, nodes: [cv('x', 'c', 'w'), N('Sigmoid', ['c'], ['s']), N('Mul', ['c', 's'], ['y'])], outputs: ['c'], inputs: x, consts: [w('w', 40, 6)] });
  // squeeze-excite: x * sigmoid(conv(pool(x))) broadcast per channel (NHWC), depthwise SiLU
  await check({
    threads,
    nodes: [N('Conv', ['x', 'dw'], ['d'], { group: 6, pads: [1, 1, 1, 1] }), N('Sigmoid', ['d'], ['ds']), N('Mul', ['d', 'ds'], ['a']),
      N('GlobalAveragePool', ['a'], ['g']), N('Conv', ['g', 'sw'], ['gc']), N('Sigmoid', ['gc'], ['gs']), N('Mul', ['a', 'gs'], ['y'])],
    inputs: x, consts: [C('dw', [6, 1, 3, 3]), C('sw', [6, 6, 1, 1])],
  });
  // a GlobalAveragePool large enough to be split in pixel ranges (ragged last range), 2 images
  await check({
    threads,
    nodes: [N('Conv', ['big', 'bw'], ['bc'], { pads: [1, 1, 1, 1] }), N('GlobalAveragePool', ['bc'], ['y'])],
    inputs: [{ name: 'big', dims: [2, 3, 61, 47] }], consts: [C('bw', [37, 3, 3, 3])],
  });
  // HardSwish, Clip and Relu after a Conv; a Relu whose input is read again stays a pass
  await check({ threads, nodes: [cv('x', 'c', 'w'), N('HardSwish', ['c'], ['y'])], opset: 14, inputs: x, consts: [C('w', [40, 6, 3, 3], randomData(2160).map((v) => v * 8))] });
  await check({ threads, nodes: [cv('x', 'c', 'w'), N('Clip', ['c', 'lo', 'hi'], ['h']), N('HardSwish', ['h'], ['y'])], opset: 14, inputs: x,
    consts: [w('w', 40, 6), C('lo', [], Float32Array.of(-0.5)), C('hi', [], Float32Array.of(1))] });
  await check({ threads, nodes: [cv('x', 'c', 'w'), N('Relu', ['c'], ['r']), N('Add', ['r', 'c'], ['y'])], inputs: x, consts: [w('w', 40, 6)] });
  // HardSwish as opset-13 exports write it (HardSigmoid(1/6, 0.5) -> Mul), and a HardSigmoid that is not one
  const hs = (alpha) => [cv('x', 'c', 'w'), N('HardSigmoid', ['c'], ['h'], { alpha: { f: alpha } }), N('Mul', ['h', 'c'], ['y'])];
  await check({ threads, nodes: hs(1 / 6), inputs: x, consts: [C('w', [40, 6, 3, 3], randomData(2160).map((v) => v * 8))] });
  await check({ threads, nodes: hs(0.2), inputs: x, consts: [C('w', [40, 6, 3, 3], randomData(2160).map((v) => v * 8))] });
  // a SiLU Conv on a constant: evaluated while planning
  await check({ threads, nodes: [N('Conv', ['k', 'w'], ['c']), N('Sigmoid', ['c'], ['s']), N('Mul', ['c', 's'], ['m']), N('Add', ['m', 'x'], ['y'])],
    inputs: [{ name: 'x', dims: [1, 4, 3, 3] }], consts: [C('k', [1, 2, 5, 5]), C('w', [4, 2, 3, 3])] });
  // NCHW graph inputs: per-channel and per-column broadcasts, Pow 2 / 0.5, Sigmoid, Clip
  const big = [{ name: 'x', dims: [1, 40, 30, 31] }];
  await check({ threads, nodes: [N('Mul', ['x', 'm'], ['y'])], inputs: big, consts: [C('m', [1, 40, 1, 1])] });
  await check({ threads, nodes: [N('Add', ['m', 'x'], ['y'])], inputs: big, consts: [C('m', [31])] });
  await check({ threads, nodes: [N('Div', ['x', 'm'], ['y'])], inputs: big, consts: [C('m', [40, 30, 1], randomData(1200).map((v) => v + 2))] });
  await check({ threads, nodes: [N('Sigmoid', ['x'], ['s']), N('Clip', ['s', 'lo'], ['y'])], inputs: big, consts: [C('lo', [], Float32Array.of(0.4))] });
  await check({ threads, nodes: [N('Pow', ['x', 'e'], ['y'])], inputs: big, consts: [C('e', [], Float32Array.of(2))] });
  await check({ threads, nodes: [N('Abs', ['x'], ['a']), N('Pow', ['a', 'e'], ['y'])], inputs: big, consts: [C('e', [1], Float32Array.of(0.5))] });
  await check({ threads, nodes: [N('Abs', ['x'], ['a']), N('Pow', ['a', 'e'], ['y'])], inputs: big, consts: [C('e', [], Float32Array.of(3))] });
});
