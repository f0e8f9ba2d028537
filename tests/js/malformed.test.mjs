// Hostile models over the WebAssembly build: every malformed model must give an OnnxfxError with
// a code and a message naming the field, node or tensor at fault; none may trap or abort the
// module, which must then load a valid model and compute correct results. The models are built
// here with a tiny protobuf writer (onnx-writer.mjs), so nothing binary is committed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, createFeatureExtractor, Tensor, OnnxfxError } from '../../web/index.js';
import * as W from './onnx-writer.mjs';

const { FLOAT, INT64, BOOL } = W;
const conv = W.convReluModel();
const X = W.floats(192, 3);
const xInfo = W.valueInfo('x', FLOAT, [1, 3, 8, 8]);
const yInfo = W.valueInfo('y', FLOAT, [1, 3, 8, 8]);
const input = () => new Tensor('float32', X, [1, 3, 8, 8]);
const weights = (name, dims) => W.tensor({ name, dims, raw: W.floats(dims.reduce((a, b) => a * b, 1), 5) });
/** A one-graph model from nodes (x [1,3,8,8] -> y) plus extra graph fields. */
const modelOf = (nodes, extra = {}) => W.model({ graph: W.graph({ nodes, inputs: [xInfo], outputs: [yInfo], ...extra }) });

/** Asserts that `promise` rejects with an OnnxfxError of `code` whose message matches every regexp. */
async function rejects(promise, code, ...patterns) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof OnnxfxError, `expected an OnnxfxError, got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.code, code, err.message);
    for (const re of patterns) assert.match(err.message, re);
    return true;
  });
}

/** The module still works: the valid Conv+Relu model loads, runs and matches the JS reference. */
async function moduleStillWorks() {
  const model = await loadModel(conv.bytes);
  const fx = await createFeatureExtractor(model, { returnNodes: ['relu'] });
  const out = await fx.run(input());
  assert.deepEqual(out.relu.dims, [1, 4, 8, 8]);
  const ref = conv.reference(X);
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(out.relu.data[i] - ref[i]) < 1e-5, `element ${i}`);
  model.dispose();
}

/** Loads (and, given names, extracts and runs) a model; must fail with `code` and `patterns`. */
async function expectFailure(bytes, { names, code, patterns, run = false }) {
  if (!names) return rejects(loadModel(bytes), code, ...patterns);
  const model = await loadModel(bytes);
  try {
    if (!run) return await rejects(createFeatureExtractor(model, { returnNodes: names }), code, ...patterns);
    const fx = await createFeatureExtractor(model, { returnNodes: names });
    await rejects(fx.run(input()), code, ...patterns);
  } finally {
    model.dispose();
  }
}

test('the valid model the other tests start from works', moduleStillWorks);

test('truncated at every offset: BAD_MODEL, never a trap', async () => {
  const bytes = conv.bytes;
  for (let cut = 0; cut < bytes.length; cut++) {
    await rejects(loadModel(bytes.slice(0, cut)), 'BAD_MODEL',
      cut === 0 ? /not an ONNX model: the file is empty/ : /invalid ONNX model: (truncated: the file ends at byte offset \d+|.*no graph|.*no version of the default ONNX domain)/);
  }
  await moduleStillWorks();
});

// [name, bytes, {names?, code, patterns, run?}]
const cases = [
  // protobuf wire format
  ['graph with wire type varint', W.concat(W.int(1, 8), W.msg(8, W.str(1, ''), W.int(2, 13)), W.int(7, 5)),
    { code: 'BAD_MODEL', patterns: [/graph: field 7 has wire type 0/] }],
  ['op_type with wire type varint', modelOf([W.concat(W.str(1, 'x'), W.str(2, 'y'), W.int(4, 3))]),
    { code: 'BAD_MODEL', patterns: [/graph\.node\[0\]\.op_type: field 4 has wire type 0/] }],
  ['float attribute with wire type varint', modelOf([W.node('Relu', ['x'], ['y'], { rawAttrs: [W.concat(W.str(1, 'alpha'), W.int(2, 1))] })]),
    { code: 'BAD_MODEL', patterns: [/graph\.node\[0\]\.attribute\[0\]\.f: field 2 has wire type 0/] }],
  ['length past the end', W.concat(W.int(1, 8), W.msg(8, W.str(1, ''), W.int(2, 13)), W.key(7, 2), W.varint(1000), W.str(2, 'g')),
    { code: 'BAD_MODEL', patterns: [/truncated: the file ends at byte offset 14 inside graph, 997 more bytes expected/] }],
  ['length past the end inside a node', modelOf([W.concat(W.str(1, 'x'), W.key(2, 2), W.varint(90), W.str(1, 'y'))]),
    { code: 'BAD_MODEL', patterns: [/graph\.node\[0\]: field 2: length runs past the end/] }],
  ['varint of 11 bytes', W.concat(W.key(1, 0), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])),
    { code: 'BAD_MODEL', patterns: [/field 1: varint runs past the end or is longer than 10 bytes/] }],
  ['field key of 11 bytes', new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
    { code: 'BAD_MODEL', patterns: [/field key is not a valid varint/] }],
  ['group wire type', W.concat(W.key(7, 3), W.key(7, 4)),
    { code: 'BAD_MODEL', patterns: [/unsupported wire type/] }],
  ['empty file', new Uint8Array(0), { code: 'BAD_MODEL', patterns: [/not an ONNX model: the file is empty/] }],
  ['messages nested too deep (If bodies 60 levels deep)', (() => {
    let body = W.graph({ nodes: [W.node('Relu', ['x'], ['y'])], outputs: [yInfo] });
    for (let i = 0; i < 60; i++) {
      body = W.graph({ name: `b${i}`, nodes: [W.node('If', ['c'], ['y'], { rawAttrs: [W.attr('then_branch', body, 'graph')] })], outputs: [yInfo] });
    }
    return W.model({ graph: body });
  })(), { code: 'BAD_MODEL', patterns: [/nested deeper than 48 levels/, /^invalid ONNX model: graph\.node\[0\]\.attribute\[0\]\.g\./] }],
  // graph structure
  ['a cycle', modelOf([W.node('Relu', ['b'], ['a'], { name: 'first' }), W.node('Relu', ['a'], ['b'], { name: 'second' }), W.node('Relu', ['x'], ['y'])]),
    { code: 'BAD_MODEL', patterns: [/cycle through node '(first|second)' \(Relu\)/] }],
  ['a node using an undefined input', modelOf([W.node('Relu', ['nope'], ['y'], { name: 'r' })]),
    { code: 'BAD_MODEL', patterns: [/node 'r' \(Relu\): input 0 'nope' is not a graph input, an initializer or any node's output/] }],
  ['a dangling graph output', W.model({ graph: W.graph({ nodes: [W.node('Relu', ['x'], ['z'])], inputs: [xInfo], outputs: [yInfo] }) }),
    { code: 'BAD_MODEL', patterns: [/graph output 'y' is not produced by any node/] }],
  ['a value produced twice', modelOf([W.node('Relu', ['x'], ['y'], { name: 'a' }), W.node('Sigmoid', ['x'], ['y'], { name: 'b' })]),
    { code: 'BAD_MODEL', patterns: [/node 'b' \(Sigmoid\): value 'y' is defined twice/] }],
  ['an initializer given twice', modelOf([W.node('Relu', ['x'], ['y'])], { initializers: [weights('w', [2]), weights('w', [2])] }),
    { code: 'BAD_MODEL', patterns: [/graph\.initializer\[1\]: value 'w' is defined twice/] }],
  ['no opset of the default domain', W.model({ opsets: [['com.example', 1]], graph: W.graph({ nodes: [W.node('Relu', ['x'], ['y'])], inputs: [xInfo], outputs: [yInfo] }) }),
    { code: 'BAD_MODEL', patterns: [/opset_import names no version of the default ONNX domain/] }],
  // tensors
  ['a negative dim', modelOf([W.node('Relu', ['x'], ['y'])], { initializers: [W.tensor({ name: 'w', dims: [2, -3], raw: new Float32Array(0) })] }),
    { code: 'BAD_MODEL', patterns: [/tensor 'w' has a negative dim \(-3\) at axis 1/] }],
  ['dims whose product overflows', modelOf([W.node('Relu', ['x'], ['y'])], { initializers: [W.tensor({ name: 'w', dims: [2 ** 40, 2 ** 40, 2 ** 40], raw: new Float32Array(0) })] }),
    { code: 'BAD_MODEL', patterns: [/tensor 'w' is too large/] }],
  ['dims whose product is 2^32 (wraps to 0 in 32 bits)', modelOf([W.node('Relu', ['x'], ['y'])], { initializers: [W.tensor({ name: 'w', dims: [65536, 65536], dataType: W.UINT8, raw: new Uint8Array(0) })] }),
    { code: 'BAD_MODEL', patterns: [/tensor 'w' is too large/] }],
  ['raw_data shorter than the dims', modelOf([W.node('Relu', ['x'], ['y'])], { initializers: [W.tensor({ name: 'w', dims: [4], raw: new Float32Array(2) })] }),
    { code: 'BAD_MODEL', patterns: [/tensor 'w': raw_data has 8 bytes, its dims and type need 16/] }],
  ['float_data shorter than the dims', modelOf([W.node('Relu', ['x'], ['y'])], { initializers: [W.tensor({ name: 'w', dims: [4], floatData: [1, 2] })] }),
    { code: 'BAD_MODEL', patterns: [/tensor 'w' has 2 elements of data, its dims need 4/] }],
  ['a tensor of rank 9', modelOf([W.node('Relu', ['x'], ['y'])], { initializers: [W.tensor({ name: 'w', dims: [1, 1, 1, 1, 1, 1, 1, 1, 1], raw: new Float32Array(1) })] }),
    { code: 'BAD_MODEL', patterns: [/tensor 'w' has rank 9, more than the 8 supported/] }],
  ['external data', modelOf([W.node('Relu', ['x'], ['y'])], { initializers: [W.tensor({ name: 'w', dims: [4], extra: W.int(14, 1) })] }),
    { code: 'BAD_MODEL', patterns: [/tensor 'w' keeps its data external/] }],
  ['weights of an unknown data type', modelOf([W.node('Conv', ['x', 'w'], ['y'], { name: 'c' })], { initializers: [W.tensor({ name: 'w', dims: [4, 3, 3, 3], dataType: 99, raw: new Float32Array(108) })] }),
    { names: ['c'], code: 'UNSUPPORTED_OP', patterns: [/node 'c' \(Conv.*weights have type unknown/] }],
  ['weights with a zero dim', modelOf([W.node('Conv', ['x', 'w'], ['y'], { name: 'c' })], { initializers: [weights('w', [4, 3, 0, 3])] }),
    { names: ['c'], code: 'BAD_MODEL', patterns: [/node 'c' \(Conv.*weights have a zero dim/] }],
  // attributes
  ['negative strides', modelOf([W.node('Conv', ['x', 'w'], ['y'], { name: 'c', attrs: { strides: [-1, 1] } })], { initializers: [weights('w', [4, 3, 3, 3])] }),
    { names: ['c'], code: 'BAD_MODEL', patterns: [/node 'c' \(Conv.*attribute 'strides' must be positive, got -1/] }],
  ['zero strides', modelOf([W.node('MaxPool', ['x'], ['y'], { name: 'p', attrs: { kernel_shape: [2, 2], strides: [0, 1] } })]),
    { names: ['p'], code: 'BAD_MODEL', patterns: [/node 'p' \(MaxPool.*attribute 'strides' must be positive, got 0/] }],
  ['negative pads', modelOf([W.node('Conv', ['x', 'w'], ['y'], { name: 'c', attrs: { pads: [-2, 0, 0, 0] } })], { initializers: [weights('w', [4, 3, 3, 3])] }),
    { names: ['c'], code: 'BAD_MODEL', patterns: [/node 'c' \(Conv.*attribute 'pads' must not be negative/] }],
  ['pads making a 640 GB output', modelOf([W.node('Conv', ['x', 'w'], ['y'], { name: 'c', attrs: { pads: [200000, 200000, 200000, 200000] } })], { initializers: [weights('w', [4, 3, 1, 1])] }),
    { names: ['c'], run: true, code: 'OUT_OF_MEMORY', patterns: [/node 'c' \(Conv/, /too large/] }],
  ['group not dividing the channels', modelOf([W.node('Conv', ['x', 'w'], ['y'], { name: 'c', attrs: { group: 5 } })], { initializers: [weights('w', [4, 3, 3, 3])] }),
    { names: ['c'], code: 'BAD_MODEL', patterns: [/node 'c' \(Conv.*attribute 'group' \(5\) must be positive and divide the 4 output channels/] }],
  ['group not matching the input channels', modelOf([W.node('Conv', ['x', 'w'], ['y'], { name: 'c', attrs: { group: 2 } })], { initializers: [weights('w', [4, 1, 3, 3])] }),
    { names: ['c'], run: true, code: 'BAD_INPUT', patterns: [/node 'c' \(Conv.*input has 3 channels/] }],
  ['negative group', modelOf([W.node('Conv', ['x', 'w'], ['y'], { name: 'c', attrs: { group: -4 } })], { initializers: [weights('w', [4, 3, 3, 3])] }),
    { names: ['c'], code: 'BAD_MODEL', patterns: [/node 'c' \(Conv.*attribute 'group' \(-4\) must be positive/] }],
  ['Reshape to 2^80 elements', modelOf([W.node('Reshape', ['x', 's'], ['y'], { name: 'r' })], { initializers: [W.tensor({ name: 's', dims: [3], dataType: INT64, int64Data: [2n ** 40n, 2n ** 40n, 0] })] }),
    { names: ['r'], run: true, code: 'BAD_INPUT', patterns: [/node 'r' \(Reshape.*cannot reshape \[1, 3, 8, 8\]/] }],
  // opsets and domains
  ['an op of an unknown domain', modelOf([W.node('Bar', ['x'], ['y'], { name: 'b', domain: 'com.example' })]),
    { names: ['b'], code: 'UNSUPPORTED_OP', patterns: [/node 'b'.*op com\.example\.Bar \(opset 13\) is not supported/] }],
  // If / Loop bodies
  ['an If body reading an undefined name', (() => {
    const body = W.graph({ nodes: [W.node('Relu', ['zz'], ['t'])], outputs: [W.valueInfo('t')] });
    return modelOf([W.node('If', ['c'], ['y'], { name: 'i', rawAttrs: [W.attr('then_branch', body, 'graph'), W.attr('else_branch', body, 'graph')] })],
      { inputs: [xInfo, W.valueInfo('c', BOOL, [])] });
  })(), { code: 'BAD_MODEL', patterns: [/node 'i' \(If\): a subgraph reads 'zz', which no enclosing graph defines/] }],
  ['an If body cut short', modelOf([W.node('If', ['c'], ['y'], { name: 'i', rawAttrs: [W.concat(W.str(1, 'then_branch'), W.key(6, 2), W.varint(50), W.str(1, 'abc'))] })],
    { inputs: [xInfo, W.valueInfo('c', BOOL, [])] }),
    { code: 'BAD_MODEL', patterns: [/graph\.node\[0\]\.attribute\[0\]: field 6: length runs past the end/] }],
  ['a Loop body with a node defining a value twice', (() => {
    const body = W.graph({ nodes: [W.node('Relu', ['x'], ['t']), W.node('Relu', ['x'], ['t'])], inputs: [W.valueInfo('i', INT64, [])], outputs: [W.valueInfo('t')] });
    return modelOf([W.node('Loop', ['', ''], ['y'], { name: 'l', rawAttrs: [W.attr('body', body, 'graph')] })]);
  })(), { names: ['l'], code: 'UNSUPPORTED_OP', patterns: [/node 'l'.*op Loop \(opset 13\) is not supported/] }],
  ['an If body with a wrong wire type', modelOf([W.node('If', ['c'], ['y'], { name: 'i', rawAttrs: [W.concat(W.str(1, 'then_branch'), W.msg(6, W.int(1, 7)))] })],
    { inputs: [xInfo, W.valueInfo('c', BOOL, [])] }),
    { code: 'BAD_MODEL', patterns: [/graph\.node\[0\]\.attribute\[0\]\.g\.node: field 1 has wire type 0/] }],
  // limits before allocation
  ['an input declared 480 GB', W.model({ graph: W.graph({ nodes: [W.node('Relu', ['x'], ['y'], { name: 'r' })], inputs: [W.valueInfo('x', FLOAT, [1, 3, 200000, 200000])], outputs: [yInfo] }) }),
    { names: ['r'], code: 'OUT_OF_MEMORY', patterns: [/input 'x' is declared as float32 \[1, 3, 200000, 200000\], 480000000000 bytes/] }],
  ['18 outputs of 250 MB alive at once (a 4.5 GB arena: the sum would wrap around in 32 bits)', modelOf(
    Array.from({ length: 18 }, (_, i) => W.node('MaxPool', ['x'], [`p${i}`], { name: `p${i}`, attrs: { kernel_shape: [1, 1], pads: [2276, 2276, 2276, 2276] } })),
    { outputs: [W.valueInfo('p0')] }),
  { names: Array.from({ length: 18 }, (_, i) => `p${i}`), run: true, code: 'OUT_OF_MEMORY',
    patterns: [/node 'p17' \(MaxPool.*output 'p17' \(float32 \[1, 3, 4560, 4560\], 249523200 bytes\) does not fit: the tensor arena would exceed 4294967296 bytes/] }],
];

for (const [name, bytes, expected] of cases) {
  test(`${name}: ${expected.code}, then the module still works`, async () => {
    await expectFailure(bytes, expected);
    await moduleStillWorks();
  });
}

test('odd but valid models load and run without trapping', async () => {
  // a zero dim: an empty tensor flows through
  const empty = W.model({ graph: W.graph({ nodes: [W.node('Relu', ['x'], ['y'], { name: 'r' })], inputs: [W.valueInfo('x', FLOAT, [1, 0, 8])], outputs: [yInfo] }) });
  let model = await loadModel(empty);
  let out = await (await createFeatureExtractor(model, { returnNodes: ['r'] })).run(new Tensor('float32', new Float32Array(0), [1, 0, 8]));
  assert.deepEqual(out.r.dims, [1, 0, 8]);
  model.dispose();
  // an unknown opset version of the default domain
  const future = W.model({ opsets: [['', 100000]], graph: W.graph({ nodes: [W.node('Relu', ['x'], ['y'], { name: 'r' })], inputs: [xInfo], outputs: [yInfo] }) });
  model = await loadModel(future);
  assert.equal(model.opset, 100000);
  out = await (await createFeatureExtractor(model, { returnNodes: ['r'] })).run(input());
  assert.deepEqual(Array.from(out.r.data), Array.from(X, (v) => Math.max(v, 0)));
  model.dispose();
  // unknown fields of every wire type are skipped
  const extra = W.concat(conv.bytes, W.int(100, 1), W.str(101, 'x'), W.f32(102, 1.5));
  model = await loadModel(extra);
  assert.deepEqual(model.nodes.map((n) => n.name), ['x', 'conv', 'relu']);
  model.dispose();
  await moduleStillWorks();
});
