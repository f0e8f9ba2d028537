// Names from every producer, train/eval views, selection rules and graph surgery (toONNX),
// on the small models of tests/tools/make_naming_models.py and the exported torchvision ones.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadModel, getGraphNodeNames, createFeatureExtractor, Tensor } from '../../web/index.js';
import { loadReference, maxRelativeError, modelDir, modelPath, readF32 } from './helpers.mjs';

const ort = createRequire(import.meta.url)('onnxruntime-node');
const naming = (name) => path.join(modelDir, 'naming', `${name}.onnx`);
const evalNames = async (name) => getGraphNodeNames(await loadModel(naming(name)), { suppressDiffWarning: true })[1];

function randomImage(dims, seed = 1) {
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[i] = s / 1073741824 - 1;
  }
  return new Tensor('float32', data, dims);
}

test('torch.export metadata: module paths from pkg.torch.onnx.name_scopes, counters per scope', async () => {
  assert.deepEqual(await evalNames('dynamo'),
    ['x', 'layer1.0.conv1', 'layer1.0.relu', 'layer1.0.conv2', 'layer1.0.add', 'layer1.0.relu_1', 'avgpool', 'flatten']);
});

test('tf2onnx paths: shared wrapper prefix dropped, layer scopes kept, tensor names made valid', async () => {
  assert.deepEqual(await evalNames('tf2onnx'),
    ['input_1_0', 'block1_conv1.conv', 'block1_conv1.relu', 'block1_conv1', 'block1_pool', 'flatten']);
});

test('flat and missing names: kept as written (conv_2 stays conv_2), unique, valid', async () => {
  const names = await evalNames('flat');
  assert.deepEqual(names, ['data', 'resnetv17_conv0_fwd', 'resnetv17_relu0_fwd', 'conv_2', 'relu', 'relu_1', 'dup', 'dup_1', 'weird_name_']);
  const model = await loadModel(naming('flat'));
  const fx = await createFeatureExtractor(model, { returnNodes: ['conv_2', 'relu'] });
  assert.equal(fx.plannedNodeCount, 4, 'conv_2 resolves to the node named conv_2, not a stripped conv');
  model.dispose();
});

test('model.nodes carry scopes', async () => {
  const model = await loadModel(modelPath('resnet18'));
  const node = model.nodes.find((n) => n.name === 'layer2.0.downsample.0');
  assert.equal(node.scope, 'layer2.0.downsample.0');
  assert.equal(model.nodes.find((n) => n.name === 'layer1.0.add').scope, 'layer1.0');
  assert.equal(model.nodes.find((n) => n.name === 'flatten').scope, '');
  model.dispose();
});

test('train and eval views: Dropout only in train, warned about once, unless suppressed', async (t) => {
  const warnings = [];
  t.mock.method(console, 'warn', (msg) => warnings.push(msg));
  const model = await loadModel(naming('dropout'));
  const [train, evalNodes] = getGraphNodeNames(model);
  assert.ok(train.includes('classifier.0') && !evalNodes.includes('classifier.0'));
  assert.deepEqual(evalNodes, train.filter((n) => n !== 'classifier.0'));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /eval view .* subsequence of the train view/);
  getGraphNodeNames(model);
  await createFeatureExtractor(model, { returnNodes: ['classifier.1'] }).catch(() => {});
  assert.equal(warnings.length, 1, 'warned once per model');
  const quiet = await loadModel(naming('dropout'));
  getGraphNodeNames(quiet, { suppressDiffWarning: true });
  assert.equal(warnings.length, 1);
  await assert.rejects(createFeatureExtractor(quiet, { returnNodes: ['classifier.0'], suppressDiffWarning: true }),
    (err) => err.code === 'NODE_NOT_FOUND' && /exists in train mode/.test(err.message));
  model.dispose();
  quiet.dispose();
});

test('two requests for one value are an error, not a silent drop', async () => {
  const model = await loadModel(modelPath('resnet18'));
  for (const nodes of [['layer4', 'layer4.1.relu_1'], ['layer4', 'layer4.1'], ['fc', 'fc:0']]) {
    await assert.rejects(createFeatureExtractor(model, { returnNodes: nodes }), (err) => {
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.match(err.message, new RegExp(`requests '${nodes[0]}' and '${nodes[1]}' both resolve to node`));
      return true;
    });
  }
  model.dispose();
});

test('names are matched literally', async () => {
  const model = await loadModel(modelPath('resnet18'));
  for (const name of ['layer1x0', 'layer1.*', 'layer.', '.layer1', 'layer1:7']) {
    await assert.rejects(createFeatureExtractor(model, { returnNodes: [name] }), (err) => err.code === 'NODE_NOT_FOUND', name);
  }
  model.dispose();
});

test('a graph input can be returned', async () => {
  const model = await loadModel(modelPath('resnet18'));
  const fx = await createFeatureExtractor(model, { returnNodes: { x: 'input', layer1: 'l1' } });
  const x = randomImage([1, 3, 224, 224]);
  const out = await fx.run(x);
  assert.deepEqual(Object.keys(out), ['input', 'l1']);
  assert.deepEqual(out.input.data, x.data);
  model.dispose();
});

test('toONNX: the pruned model runs in onnxruntime-node with the user keys as outputs', async () => {
  const c = loadReference('resnet18').cases[0];
  const x = new Tensor('float32', readF32(c.input.file), c.input.dims);
  const model = await loadModel(modelPath('resnet18'));
  const fx = await createFeatureExtractor(model, { returnNodes: { layer2: 'mid', maxpool: 'pool' } });
  const ours = await fx.run(x);
  const bytes = await fx.toONNX();
  const full = (await import('node:fs')).statSync(modelPath('resnet18')).size;
  assert.ok(bytes.length < full / 4, `only the initializers it uses: ${bytes.length} of ${full} bytes`);

  const session = await ort.InferenceSession.create(bytes);
  assert.deepEqual([...session.outputNames].sort(), ['mid', 'pool']);
  const theirs = await session.run({ x: new ort.Tensor('float32', x.data, x.dims) });
  for (const key of ['mid', 'pool']) {
    assert.deepEqual(theirs[key].dims, ours[key].dims);
    assert.ok(maxRelativeError(theirs[key].data, ours[key].data) < 1e-4, key);
  }
  // opsets, input and metadata survive; the written model loads back with the same names
  const back = await loadModel(bytes);
  assert.equal(back.opset, model.opset);
  assert.deepEqual(back.inputs, model.inputs);
  assert.deepEqual(back.outputs.map((o) => o.name), ['pool', 'mid']);
  assert.ok(getGraphNodeNames(back)[1].includes('layer2.1.relu_1'));
  model.dispose();
  back.dispose();
});

test('toONNX keeps folded constants (MobileNetV2 Clip bounds) and tf2onnx names', async () => {
  const mobile = await loadModel(modelPath('mobilenet_v2'));
  const fx = await createFeatureExtractor(mobile, { returnNodes: { 'features.2': 'f2' } });
  const x = randomImage([1, 3, 224, 224]);
  const ours = (await fx.run(x)).f2;
  const session = await ort.InferenceSession.create(await fx.toONNX());
  const theirs = (await session.run({ x: new ort.Tensor('float32', x.data, x.dims) })).f2;
  assert.ok(maxRelativeError(theirs.data, ours.data) < 1e-4);
  mobile.dispose();

  const tf = await loadModel(naming('tf2onnx'));
  const tfx = await createFeatureExtractor(tf, { returnNodes: { block1_pool: 'pooled' } });
  const input = randomImage([2, 3, 8, 8]);
  const session2 = await ort.InferenceSession.create(await tfx.toONNX());
  const out = await session2.run({ 'input_1:0': new ort.Tensor('float32', input.data, input.dims) });
  assert.ok(maxRelativeError(out.pooled.data, (await tfx.run({ 'input_1:0': input })).pooled.data) < 1e-5);
  tf.dispose();
});

test('toONNX refuses an output key that names another value', async () => {
  const model = await loadModel(modelPath('resnet18'));
  const fx = await createFeatureExtractor(model, { returnNodes: { layer1: 'x' } });
  await assert.rejects(fx.toONNX(), (err) => err.code === 'INVALID_ARGUMENT' && /'x' is already the name of another value/.test(err.message));
  model.dispose();
});

test('inferShapes: static output shapes for model.nodes, symbolic dims by name', async () => {
  const model = await loadModel(modelPath('resnet18'));
  const shapes = await model.inferShapes();
  const byName = Object.fromEntries(model.nodes.map((n) => [n.name, n]));
  assert.deepEqual(byName['layer1.0.conv1'].outputShapes, [['batch', 64, 56, 56]]);
  assert.deepEqual(byName['layer4.1.relu_1'].outputShapes, [['batch', 512, 7, 7]]);
  assert.deepEqual(byName.fc.outputShapes, [['batch', 1000]]);
  assert.deepEqual(byName.x.outputShapes, [['batch', 3, 224, 224]]);
  assert.deepEqual(shapes[byName.flatten.outputs[0]], ['batch', 512]);
  // the shapes agree with a real run at batch 2
  const fx = await createFeatureExtractor(model, { returnNodes: ['layer2.0.downsample.0'] });
  const out = await fx.run(randomImage([2, 3, 224, 224]));
  assert.deepEqual(out['layer2.0.downsample.0'].dims, [2, ...byName['layer2.0.downsample.0'].outputShapes[0].slice(1)]);
  model.dispose();
});

test('inferShapes stops at ops onnxfx lacks instead of failing', async () => {
  const model = await loadModel(naming('if_implicit'));
  await model.inferShapes();
  const byName = Object.fromEntries(model.nodes.map((n) => [n.name, n]));
  assert.deepEqual(byName.encoder.outputShapes, [['batch', 3, 8, 8]]);
  assert.deepEqual(byName.head.outputShapes, [null], 'If is not supported: no shape');
  model.dispose();
});

test('numThreads: two threads give the same features as one', async () => {
  const c = loadReference('resnet18').cases[1];
  const x = new Tensor('float32', readF32(c.input.file), c.input.dims);
  const results = [];
  for (const numThreads of [2, 1]) {
    const model = await loadModel(modelPath('resnet18'), { numThreads });
    const fx = await createFeatureExtractor(model, { returnNodes: ['layer3'] });
    results.push((await fx.run(x)).layer3);
    model.dispose();
  }
  assert.ok(maxRelativeError(results[0].data, readF32(c.features.layer3.file)) < 1e-4);
  assert.ok(maxRelativeError(results[1].data, results[0].data) < 1e-5);
  await assert.rejects(loadModel(modelPath('resnet18'), { numThreads: 0 }), (err) => err.code === 'INVALID_ARGUMENT');
});
