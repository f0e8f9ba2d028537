// The 8-bit kernel paths against onnxruntime-node, on small quantized graphs written here: QDQ
// Conv / MatMul (fused onto the 8-bit GEMM or the depthwise path), the dynamic chain
// (DynamicQuantizeLinear -> ConvInteger -> Cast -> Mul -> Add) and QLinearConv / QLinearMatMul
// with constant parameters, over the shapes that take different paths: the first conv reading an
// NCHW graph input, regular, grouped, depthwise (more channels than one 64-channel pass), 1x1,
// strided, int8 activations, and chains whose quantized activations stay NHWC between convs.
//
// Tolerances: both engines quantize the same float input with the same scale, so the integer
// sums agree; what differs is float rounding of the scale products (~1e-6 relative) and, at exact
// rounding ties of x / scale, one quantization step of an input element, which moves an output by
// at most s_x * |w| summed over one tap. 1e-3 of the output's largest magnitude covers that with a
// margin and still fails for a wrong weight, tap, channel or zero point (those move outputs by
// tens of percent). QLinear outputs are 8-bit: every element within one step of ORT's.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { loadModel, createFeatureExtractor, Tensor } from '../../web/index.js';
import { maxRelativeError, seededRandom } from './helpers.mjs';
import * as W from './onnx-writer.mjs';

const ort = createRequire(import.meta.url)('onnxruntime-node');
const { FLOAT, UINT8, INT8, INT32 } = W;

const random = seededRandom(0x1a7e8); // one fixed seed for the file
const numel = (dims) => dims.reduce((a, b) => a * b, 1);
const floats = (n, scale = 1) => Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
const int8s = (n) => Int8Array.from({ length: n }, () => Math.round(random() * 254 - 127));
const bytesOf = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

const init = (name, dims, data, dataType) => W.tensor({ name, dims, dataType, raw: bytesOf(data) });
const scalar = (name, value, dataType) =>
  init(name, [], dataType === FLOAT ? Float32Array.of(value) : dataType === INT8 ? Int8Array.of(value) : Uint8Array.of(value), dataType);

function attrs(a = {}) {
  return Object.entries(a).map(([k, v]) => W.attr(k, v));
}

/** Runs the graph in ORT and onnxfx, requesting `output`'s producer; returns both results. */
async function both({ nodes, inits, inputDims, output, outputType = FLOAT, opset = 13 }) {
  const bytes = W.model({
    opsets: [['', opset]],
    graph: W.graph({
      nodes: nodes.map((n, i) => W.node(n[0], n[1], n[2], { name: `/n${i}/${n[0]}`, rawAttrs: attrs(n[3]) })),
      inputs: [W.valueInfo('x', FLOAT, inputDims)],
      outputs: [W.valueInfo(output, outputType, null)],
      initializers: inits,
    }),
  });
  const x = floats(numel(inputDims), 2);
  const session = await ort.InferenceSession.create(bytes);
  const expected = (await session.run({ x: new ort.Tensor('float32', x, inputDims) }))[output];
  const model = await loadModel(bytes);
  try {
    const producer = model.nodes.find((n) => n.outputs.includes(output));
    const fx = await createFeatureExtractor(model, { returnNodes: [producer.name] });
    const plan = await fx.explain();
    const got = (await fx.run({ x: new Tensor('float32', x, inputDims) }))[producer.name];
    assert.deepEqual(Array.from(got.dims), Array.from(expected.dims));
    return { got: got.data, expected: expected.data, plan };
  } finally {
    await model.dispose();
  }
}

/** x -> Q -> DQ (activations, uint8 or int8) as a quantizer writes it, into `into`. */
function quantizeInput(prefix, from, into, xType, zp) {
  return {
    nodes: [
      ['QuantizeLinear', [from, `${prefix}_s`, `${prefix}_zp`], [`${prefix}_q`]],
      ['DequantizeLinear', [`${prefix}_q`, `${prefix}_s`, `${prefix}_zp`], [into]],
    ],
    inits: [scalar(`${prefix}_s`, 0.02, FLOAT), scalar(`${prefix}_zp`, zp, xType)],
  };
}

/** A QDQ conv: 8-bit per-channel weights dequantized, float bias. */
function qdqConv(prefix, input, output, cin, cout, k, a = {}) {
  const group = a.group ?? 1;
  const w = int8s(cout * (cin / group) * k * k);
  const scales = Float32Array.from({ length: cout }, () => 0.002 + random() * 0.01);
  return {
    nodes: [
      ['DequantizeLinear', [`${prefix}_wq`, `${prefix}_ws`], [`${prefix}_w`], { axis: 0 }],
      ['Conv', [input, `${prefix}_w`, `${prefix}_b`], [output], a],
    ],
    inits: [
      init(`${prefix}_wq`, [cout, cin / group, k, k], w, INT8),
      init(`${prefix}_ws`, [cout], scales, FLOAT),
      init(`${prefix}_b`, [cout], floats(cout, 0.5), FLOAT),
    ],
  };
}

const joined = (...parts) => ({ nodes: parts.flatMap((p) => p.nodes), inits: parts.flatMap((p) => p.inits) });

test('QDQ Conv on the 8-bit paths matches onnxruntime-node', async () => {
  const cases = [
    { name: 'first conv, 3 NCHW channels, 7x7 stride 2', x: [1, 3, 20, 18], cin: 3, cout: 16, k: 7, a: { strides: [2, 2], pads: [3, 3, 3, 3] } },
    { name: 'regular 3x3', x: [2, 8, 9, 7], cin: 8, cout: 12, k: 3, a: { pads: [1, 1, 1, 1] } },
    { name: 'grouped', x: [1, 12, 8, 8], cin: 12, cout: 6, k: 3, a: { group: 3, pads: [1, 0, 1, 2] } },
    { name: 'depthwise, stride 2', x: [1, 70, 9, 11], cin: 70, cout: 70, k: 3, a: { group: 70, strides: [2, 2], pads: [1, 1, 1, 1] } },
    { name: '1x1, int8 activations', x: [1, 16, 5, 6], cin: 16, cout: 24, k: 1, a: {}, xType: INT8, zp: -3 },
  ];
  for (const c of cases) {
    const g = joined(quantizeInput('x', 'x', 'x_dq', c.xType ?? UINT8, c.zp ?? 128), qdqConv('c', 'x_dq', 'y', c.cin, c.cout, c.k, c.a));
    const { got, expected, plan } = await both({ ...g, inputDims: c.x, output: 'y' });
    const err = maxRelativeError(got, expected);
    assert.ok(err < 1e-3, `${c.name}: max relative error ${err}`);
    assert.match(plan, /steps: 1 run/, `${c.name}: Q and DQ fused into the 8-bit conv\n${plan}`);
  }
});

test('QDQ chains keep activations NHWC between 8-bit convs and match onnxruntime-node', async () => {
  const g = joined(
    quantizeInput('a', 'x', 'a_dq', UINT8, 128),
    qdqConv('c1', 'a_dq', 'y1', 8, 32, 3, { pads: [1, 1, 1, 1] }),
    { nodes: [['Relu', ['y1'], ['r1']]], inits: [] },
    quantizeInput('b', 'r1', 'b_dq', UINT8, 0),
    qdqConv('c2', 'b_dq', 'y2', 32, 32, 3, { group: 32, pads: [1, 1, 1, 1] }),
    quantizeInput('c', 'y2', 'c_dq', UINT8, 100),
    qdqConv('c3', 'c_dq', 'y3', 32, 10, 1, {}),
  );
  const { got, expected, plan } = await both({ ...g, inputDims: [1, 8, 10, 9], output: 'y3' });
  const err = maxRelativeError(got, expected);
  assert.ok(err < 1e-3, `max relative error ${err}`);
  assert.match(plan, /steps: 3 run/, plan); // three convs; Relu, every Q and DQ fused
});

test('QDQ MatMul (per-column int8 weights) matches onnxruntime-node', async () => {
  const wq = int8s(27 * 9), scales = Float32Array.from({ length: 9 }, () => 0.002 + random() * 0.01);
  const g = joined(quantizeInput('x', 'x', 'x_dq', UINT8, 128), {
    nodes: [
      ['DequantizeLinear', ['wq', 'ws'], ['w'], { axis: 1 }],
      ['MatMul', ['x_dq', 'w'], ['y']],
    ],
    inits: [init('wq', [27, 9], wq, INT8), init('ws', [9], scales, FLOAT)],
  });
  const { got, expected } = await both({ ...g, inputDims: [2, 5, 27], output: 'y' });
  const err = maxRelativeError(got, expected);
  assert.ok(err < 1e-3, `max relative error ${err}`);
});

test('the dynamic chain with a depthwise ConvInteger matches onnxruntime-node', async () => {
  const C = 40;
  const w = Uint8Array.from({ length: C * 9 }, () => Math.floor(random() * 256));
  const g = {
    nodes: [
      ['DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xzp']],
      ['ConvInteger', ['xq', 'w', 'xzp', 'wzp'], ['acc'], { group: C, pads: [1, 1, 1, 1] }],
      ['Cast', ['acc'], ['accf'], { to: FLOAT }],
      ['Mul', ['xs', 'ws'], ['s']],
      ['Mul', ['accf', 's'], ['y']],
    ],
    inits: [init('w', [C, 1, 3, 3], w, UINT8), scalar('wzp', 131, UINT8), scalar('ws', 0.004, FLOAT)],
  };
  const { got, expected, plan } = await both({ ...g, inputDims: [1, C, 8, 7], output: 'y', opset: 13 });
  const err = maxRelativeError(got, expected);
  assert.ok(err < 1e-3, `max relative error ${err}`);
  assert.match(plan, /steps: 2 run/, plan); // DynamicQuantizeLinear, the fused ConvInteger
});

test('QLinearConv / QLinearMatMul with constant parameters match onnxruntime-node within one step', async () => {
  const qlinearConv = (prefix, input, output, cin, cout, k, a, yZp) => ({
    nodes: [
      ['QLinearConv', [input, `${prefix}_xs`, `${prefix}_xzp`, `${prefix}_w`, `${prefix}_ws`, `${prefix}_wzp`, `${prefix}_ys`, `${prefix}_yzp`, `${prefix}_b`], [output], a],
    ],
    inits: [
      scalar(`${prefix}_xs`, 0.02, FLOAT), scalar(`${prefix}_xzp`, 128, UINT8),
      init(`${prefix}_w`, [cout, cin / (a.group ?? 1), k, k], int8s(cout * (cin / (a.group ?? 1)) * k * k), INT8),
      init(`${prefix}_ws`, [cout], Float32Array.from({ length: cout }, () => 0.002 + random() * 0.01), FLOAT),
      init(`${prefix}_wzp`, [cout], new Int8Array(cout), INT8),
      scalar(`${prefix}_ys`, 0.05, FLOAT), scalar(`${prefix}_yzp`, yZp, UINT8),
      init(`${prefix}_b`, [cout], Int32Array.from({ length: cout }, () => Math.round(random() * 2000 - 1000)), INT32),
    ],
  });
  const conv = joined(
    { nodes: [['QuantizeLinear', ['x', 'xs', 'xzp'], ['xq']]], inits: [scalar('xs', 0.02, FLOAT), scalar('xzp', 128, UINT8)] },
    qlinearConv('d', 'xq', 'y1', 24, 24, 3, { group: 24, pads: [1, 1, 1, 1] }, 128),
    qlinearConv('p', 'y1', 'y2', 24, 16, 1, {}, 120),
  );
  const { got, expected, plan } = await both({ ...conv, inputDims: [1, 24, 7, 9], output: 'y2', outputType: UINT8 });
  assert.match(plan, /QLinearConv\s+NHWC/, `the 8-bit GEMM path writes NHWC\n${plan}`);
  let far = 0, off = 0, spread = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - expected[i]);
    far += d > 1, off += d === 1, spread += got[i] !== 0 && got[i] !== 255;
  }
  assert.equal(far, 0, `${far} of ${got.length} elements differ by more than one step`);
  assert.ok(off * 50 <= got.length, `${off} of ${got.length} elements differ by one step (ties only expected)`);
  assert.ok(spread * 2 >= got.length, 'the outputs are mostly unsaturated');

  const matmul = {
    nodes: [
      ['QuantizeLinear', ['x', 'xs', 'xzp'], ['xq']],
      ['QLinearMatMul', ['xq', 'xs', 'xzp', 'w', 'ws', 'wzp', 'ys', 'yzp'], ['y']],
    ],
    inits: [
      scalar('xs', 0.02, FLOAT), scalar('xzp', 128, UINT8), init('w', [33, 7], int8s(33 * 7), INT8),
      scalar('ws', 0.01, FLOAT), scalar('wzp', 0, INT8), scalar('ys', 0.08, FLOAT), scalar('yzp', 128, UINT8),
    ],
  };
  const mm = await both({ ...matmul, inputDims: [3, 4, 33], output: 'y', outputType: UINT8 });
  assert.match(mm.plan, /packed weights [1-9]/, mm.plan);
  for (let i = 0; i < mm.got.length; i++) assert.ok(Math.abs(mm.got[i] - mm.expected[i]) <= 1, `QLinearMatMul element ${i}`);
});

test('toONNX types 8-bit and int32 outputs as the ops make them, so onnxruntime runs the pruned model', async () => {
  const g = {
    nodes: [
      ['QuantizeLinear', ['x', 'xs', 'xzp'], ['xq']],
      ['ConvInteger', ['xq', 'w', 'xzp'], ['acc']],
      ['DequantizeLinear', ['xq', 'xs', 'xzp'], ['xdq']],
      ['DynamicQuantizeLinear', ['xdq'], ['dq', 'dqs', 'dqzp']],
    ],
    inits: [scalar('xs', 0.02, FLOAT), scalar('xzp', 3, INT8), init('w', [4, 3, 1, 1], int8s(12), INT8)],
  };
  const bytes = W.model({
    graph: W.graph({
      nodes: g.nodes.map((n, i) => W.node(n[0], n[1], n[2], { name: `/n${i}/${n[0]}` })),
      inputs: [W.valueInfo('x', FLOAT, [1, 3, 4, 4])],
      outputs: [W.valueInfo('acc', INT32, null)],
      initializers: g.inits,
    }),
  });
  const model = await loadModel(bytes);
  try {
    const names = ['xq', 'acc', 'dq', 'dqs'].map((v) => {
      const n = model.nodes.find((node) => node.outputs.includes(v));
      const k = n.outputs.indexOf(v);
      return k ? `${n.name}:${k}` : n.name;
    });
    const fx = await createFeatureExtractor(model, { returnNodes: names });
    const x = floats(48, 2);
    const ours = await fx.run({ x: new Tensor('float32', x, [1, 3, 4, 4]) });
    const pruned = await fx.toONNX();
    const session = await ort.InferenceSession.create(pruned);
    const theirs = await session.run({ x: new ort.Tensor('float32', x, [1, 3, 4, 4]) });
    const types = Object.values(theirs).map((t) => t.type);
    assert.deepEqual(types, ['int8', 'int32', 'uint8', 'float32'], 'output types of the pruned model');
    names.forEach((name, i) => assert.deepEqual(Array.from(ours[name].data), Array.from(Object.values(theirs)[i].data), name));
  } finally {
    await model.dispose();
  }
});

test('QDQ: the QuantizeLinear -> DequantizeLinear after an 8-bit conv folds into it, as the unfused nodes compute it', async () => {
  // conv -> Q -> DQ -> Clip(0, 6) -> Q -> DQ -> conv: what static quantizers write around mobilenet's Relu6
  const g = joined(
    quantizeInput('a', 'x', 'a_dq', UINT8, 128),
    qdqConv('c1', 'a_dq', 'y1', 8, 24, 3, { pads: [1, 1, 1, 1] }),
    quantizeInput('o', 'y1', 'y1_dq', UINT8, 120),
    { nodes: [['Clip', ['y1_dq', 'lo', 'hi'], ['r1']]], inits: [scalar('lo', 0, FLOAT), scalar('hi', 6, FLOAT)] },
    quantizeInput('b', 'r1', 'b_dq', UINT8, 0),
    qdqConv('c2', 'b_dq', 'y2', 24, 24, 3, { group: 24, pads: [1, 1, 1, 1] }),
  );
  const bytes = W.model({
    graph: W.graph({
      nodes: g.nodes.map((n, i) => W.node(n[0], n[1], n[2], { name: `/n${i}/${n[0]}`, rawAttrs: attrs(n[3]) })),
      inputs: [W.valueInfo('x', FLOAT, [1, 8, 9, 10])],
      outputs: [W.valueInfo('y2', FLOAT, null)],
      initializers: g.inits,
    }),
  });
  const model = await loadModel(bytes);
  try {
    const names = ['r1', 'y2'].map((v) => model.nodes.find((n) => n.outputs.includes(v)).name);
    const x = floats(8 * 9 * 10, 2);
    const results = [];
    for (const fuse of [true, false]) {
      const fx = await createFeatureExtractor(model, { returnNodes: names, fuse });
      if (fuse) assert.match(await fx.explain(), /steps: 2 run/, 'two 8-bit convs; every Q, DQ and the Clip folded');
      results.push(await fx.run({ x: new Tensor('float32', x, [1, 8, 9, 10]) }));
      await fx.dispose();
    }
    // r1 is on the grid of step 0.02 (the round trip's scale), clamped to [0, 6]: the fused and
    // unfused convs sum the same products in another order, so a value at a rounding tie may land
    // one step apart; nothing else may differ
    const [fused, plain] = results.map((r) => r[names[0]].data);
    let steps = 0, positive = 0;
    for (let i = 0; i < fused.length; i++) {
      const d = Math.abs(fused[i] - plain[i]);
      assert.ok(d < 1e-6 || Math.abs(d - 0.02) < 1e-6, `${names[0]}[${i}]: ${fused[i]} vs ${plain[i]}`);
      steps += d >= 1e-6;
      positive += fused[i] > 0;
      assert.ok(fused[i] >= 0 && fused[i] <= 6 && Math.abs(fused[i] / 0.02 - Math.round(fused[i] / 0.02)) < 1e-3, `${names[0]}[${i}] on the grid`);
    }
    assert.ok(steps * 100 <= fused.length, `${steps} of ${fused.length} a step apart`);
    assert.ok(positive * 4 >= fused.length, 'the Clip leaves most values positive');
    assert.ok(maxRelativeError(results[0][names[1]].data, results[1][names[1]].data) < 2e-2);
  } finally {
    await model.dispose();
  }
});
