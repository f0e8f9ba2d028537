// Weights a model computes from constants (ConstantOfShape, Transpose, Cast of initializers) are
// folded when the model loads: Conv sees constant weights, the folded nodes take no name, and
// toONNX() still writes a model onnxruntime-node runs. Weights computed from a graph input are not
// folded; the Conv packs them at run time. Models are written here (tests/js/onnx-writer.mjs); onnxruntime-node is the oracle.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { loadModel, getGraphNodeNames, createFeatureExtractor, Tensor } from '../../web/index.js';
import { FLOAT, INT32, INT64, attr, floats, graph, model, node, tensor, valueInfo } from './onnx-writer.mjs';

const ort = createRequire(import.meta.url)('onnxruntime-node');

// x [1, 2, 5, 5]; w = Transpose(w_raw, [1, 0, 2, 3]) + ConstantOfShape([2, 2, 3, 3], 0.25);
// b = Cast(int32 [1, -1]); c = Conv(x, w, b, pads 1); y = Relu(c)
function computedWeightsModel() {
  const fill = tensor({ dims: [1], raw: Float32Array.of(0.25) });
  return model({
    graph: graph({
      nodes: [
        node('Transpose', ['w_raw'], ['w_t'], { name: 'transpose', attrs: { perm: [1, 0, 2, 3] } }),
        node('ConstantOfShape', ['w_shape'], ['w_fill'], { name: 'fill', rawAttrs: [attr('value', fill, 'tensor')] }),
        node('Add', ['w_t', 'w_fill'], ['w'], { name: 'weights' }),
        node('Cast', ['b_int'], ['b'], { name: 'cast', attrs: { to: FLOAT } }),
        node('Conv', ['x', 'w', 'b'], ['c'], { name: 'conv', attrs: { pads: [1, 1, 1, 1] } }),
        node('Relu', ['c'], ['y'], { name: 'relu' }),
      ],
      inputs: [valueInfo('x', FLOAT, [1, 2, 5, 5])],
      outputs: [valueInfo('y', FLOAT, [1, 2, 5, 5])],
      initializers: [
        tensor({ name: 'w_raw', dims: [2, 2, 3, 3], raw: floats(36, 3) }),
        tensor({ name: 'w_shape', dims: [4], dataType: INT64, raw: BigInt64Array.of(2n, 2n, 3n, 3n) }),
        tensor({ name: 'b_int', dims: [2], dataType: INT32, raw: Int32Array.of(1, -1) }),
      ],
    }),
  });
}

const x = floats(50, 5);

async function ortRun(bytes, outputName) {
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run({ x: new ort.Tensor('float32', x, [1, 2, 5, 5]) });
  return result[outputName].data;
}

function assertClose(actual, expected) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++)
    assert.ok(Math.abs(actual[i] - expected[i]) <= 1e-5 + 1e-5 * Math.abs(expected[i]), `element ${i}: ${actual[i]} vs ${expected[i]}`);
}

test('computed weights are folded at load: Conv runs, and matches onnxruntime', async () => {
  const bytes = computedWeightsModel();
  const m = await loadModel(bytes);
  const [trainNodes, evalNodes] = getGraphNodeNames(m);
  assert.deepEqual(evalNodes, ['x', 'conv', 'relu'], 'folded nodes take no name');
  assert.deepEqual(trainNodes, evalNodes);
  const fx = await createFeatureExtractor(m, { returnNodes: ['relu'] });
  const out = await fx.run(new Tensor('float32', x, [1, 2, 5, 5]));
  assertClose(out.relu.data, await ortRun(bytes, 'y'));
  await m.dispose();
});

test('a folded node cannot be requested: NODE_NOT_FOUND naming it', async () => {
  const m = await loadModel(computedWeightsModel());
  for (const name of ['fill', 'weights', 'transpose', 'cast'])
    await assert.rejects(createFeatureExtractor(m, { returnNodes: [name] }), (e) => e.code === 'NODE_NOT_FOUND' && e.message.includes(`'${name}'`));
  await m.dispose();
});

test('toONNX() of a model with folded weights writes the original nodes back; onnxruntime runs it', async () => {
  const m = await loadModel(computedWeightsModel());
  const fx = await createFeatureExtractor(m, { returnNodes: { conv: 'feat' } });
  const ours = await fx.run(new Tensor('float32', x, [1, 2, 5, 5]));
  const pruned = await fx.toONNX();
  assertClose(ours.feat.data, await ortRun(pruned, 'feat'));
  // the written model loads back into onnxfx, folded again: the input, conv, the output's Identity
  const again = await loadModel(pruned);
  assert.deepEqual(getGraphNodeNames(again)[1].slice(0, 2), ['x', 'conv']);
  assert.equal(getGraphNodeNames(again)[1].length, 3);
  await again.dispose();
  await m.dispose();
});

test('weights computed from a graph input are not folded: the Conv packs them at run time', async () => {
  const bytes = model({
    graph: graph({
      nodes: [node('Relu', ['k'], ['w'], { name: 'wrelu' }), node('Conv', ['x', 'w'], ['y'], { name: 'conv' })],
      inputs: [valueInfo('x', FLOAT, [1, 2, 5, 5]), valueInfo('k', FLOAT, [2, 2, 3, 3])],
      outputs: [valueInfo('y', FLOAT, [1, 2, 3, 3])],
    }),
  });
  const m = await loadModel(bytes);
  assert.ok(m.nodes.some((n) => n.name === 'wrelu'), 'the node computing the weights stays in the graph');
  const session = await ort.InferenceSession.create(bytes);
  const fx = await createFeatureExtractor(m, { returnNodes: ['conv'] });
  const x = floats(50, 5);
  for (const seed of [6, 7]) { // new weights, same plan
    const k = floats(36, seed);
    const want = (await session.run({ x: new ort.Tensor('float32', x, [1, 2, 5, 5]), k: new ort.Tensor('float32', k, [2, 2, 3, 3]) })).y;
    const got = (await fx.run({ x: new Tensor('float32', x, [1, 2, 5, 5]), k: new Tensor('float32', k, [2, 2, 3, 3]) })).conv;
    assert.deepEqual(Array.from(got.dims), [1, 2, 3, 3]);
    for (let i = 0; i < want.data.length; i++) assert.ok(Math.abs(got.data[i] - want.data[i]) < 1e-5, `element ${i}: ${got.data[i]} vs ${want.data[i]}`);
  }
  await m.dispose();
});
