// Node names against torchvision's own get_graph_node_names on the same models.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, getGraphNodeNames } from '../../web/index.js';
import { loadReference, modelPath } from './helpers.mjs';

// torchvision nodes an ONNX export cannot keep: the input placeholder (the ONNX input has the
// exporter's name), modules the exporter fuses (Conv2d, BatchNorm) or drops in eval (Dropout,
// Identity, StochasticDepth), and fx plumbing.
const NO_ONNX_COUNTERPART = new Set(['placeholder', 'Conv2d', 'BatchNorm2d', 'Dropout', 'Identity', 'StochasticDepth']);
const PLUMBING = /(^|\.)(getitem|size|getattr|floordiv|_assert|eq|dim|chunk)(_\d+)?$/;

function keepable(ref) {
  return ref.eval_nodes.filter((n) => !NO_ONNX_COUNTERPART.has(ref.node_kinds[n]) && !PLUMBING.test(n));
}

/** The names of `expected` missing from `actual` when matched in order. */
function missingInOrder(expected, actual) {
  const missing = [];
  let at = 0;
  for (const name of expected) {
    const found = actual.indexOf(name, at);
    if (found < 0) missing.push(name);
    else at = found + 1;
  }
  return missing;
}

for (const name of ['resnet18', 'mobilenet_v2']) {
  test(`${name}: every torchvision eval name an export can keep is listed, in order`, async () => {
    const ref = loadReference(name);
    const model = await loadModel(modelPath(name));
    const [trainNodes, evalNodes] = getGraphNodeNames(model);
    const expected = keepable(ref);
    assert.ok(expected.length > 20, 'the reference has names to compare');
    assert.deepEqual(missingInOrder(expected, evalNodes), []);
    assert.deepEqual(missingInOrder(expected, trainNodes), []);
    assert.equal(new Set(evalNodes).size, evalNodes.length, 'names are unique');
    assert.equal(evalNodes[0], 'x', 'graph inputs come first');
    for (const n of evalNodes) assert.match(n, /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, `'${n}' is a dotted path`);
    model.dispose();
  });
}

test('resnet18 names follow the exporter scopes the torchvision way', async () => {
  const model = await loadModel(modelPath('resnet18'));
  const [, names] = getGraphNodeNames(model);
  assert.deepEqual(names.slice(0, 9), ['x', 'conv1', 'relu', 'maxpool', 'layer1.0.conv1', 'layer1.0.relu',
    'layer1.0.conv2', 'layer1.0.add', 'layer1.0.relu_1']);
  assert.ok(names.includes('layer2.0.downsample.0'), 'downsample.0 extends downsample');
  assert.deepEqual(names.slice(-3), ['avgpool', 'flatten', 'fc']);
  const byName = Object.fromEntries(model.nodes.map((n) => [n.name, n]));
  assert.equal(byName['layer1.0.relu_1'].onnxName, '/layer1/layer1.0/relu_1/Relu');
  assert.equal(byName['layer1.0.add'].opType, 'Add');
  assert.equal(byName.x.opType, 'Input');
  assert.deepEqual(model.inputs, [{ name: 'x', type: 'float32', dims: ['batch', 3, 224, 224] }]);
  assert.equal(model.outputs[0].name, 'logits');
  model.dispose();
});

test('mobilenet_v2 lists multi-node blocks torchvision sees as one module', async () => {
  const model = await loadModel(modelPath('mobilenet_v2'));
  const [, names] = getGraphNodeNames(model);
  // features.0 is Conv + Clip in ONNX (features.0.0, features.0.2); torchvision names the block
  const i = names.indexOf('features.0');
  assert.ok(i > 0, 'features.0 is listed');
  assert.equal(names[i - 1], 'features.0.2', 'right after its last node');
  assert.ok(names.includes('features.1.conv.0'));
  assert.ok(names.includes('adaptive_avg_pool2d'), 'functional ops get torch function names');
  model.dispose();
});
