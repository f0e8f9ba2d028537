// Dynamically quantized models (onnxruntime's quantize_dynamic pattern, written by
// tests/tools/quantize_dynamic.py from the exported resnet18): the same names as the float32
// model, layer values equal to onnxruntime-node's on the same file, and the fused 8-bit path
// (ConvInteger -> Cast -> Mul -> Add on the 8-bit GEMM) equal to the unfused reference.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { loadModel, getGraphNodeNames, createFeatureExtractor, Tensor } from '../../web/index.js';
import { maxRelativeError, modelPath } from './helpers.mjs';

const ort = createRequire(import.meta.url)('onnxruntime-node');
const dims = [1, 3, 224, 224];
const data = Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i * 0.013) * 1.5);

test('a dynamically quantized model lists the float model\'s names', async () => {
  const float = await loadModel(modelPath('resnet18'));
  const int8 = await loadModel(modelPath('resnet18.int8'));
  const [, floatNames] = getGraphNodeNames(float);
  const [, int8Names] = getGraphNodeNames(int8);
  assert.deepEqual(int8Names, floatNames);
  assert.ok(int8.nodes.some((n) => n.opType === 'ConvInteger'), 'the file is quantized');
  // the layer's name is its dequantized float output, not a helper's uint8 or int32 tensor
  const conv = int8.nodes.find((n) => n.name === 'layer1.0.conv1');
  assert.equal(conv.opType, 'Add');
  assert.match(conv.onnxName, /conv1\/Conv_output_0_bias_add$/);
  await Promise.all([float.dispose(), int8.dispose()]);
});

test('layers of the int8 model match onnxruntime-node by name, through the 8-bit GEMM', async () => {
  const model = await loadModel(modelPath('resnet18.int8'));
  const nodes = ['conv1', 'layer1.0.conv1', 'layer2', 'layer4.1.conv2', 'fc'];
  const fx = await createFeatureExtractor(model, { returnNodes: nodes });
  const plan = await fx.explain(new Tensor('float32', data, dims));
  assert.match(plan, /ConvInteger .*\+layer1\.0\.conv1\.cast\(Cast\).*\+layer1\.0\.conv1\(Add\)/, 'the chain is fused');
  const ours = await fx.run(new Tensor('float32', data, dims));
  // the pruned graph with the same outputs, run by onnxruntime-node
  const session = await ort.InferenceSession.create(await fx.toONNX());
  const theirs = await session.run({ x: new ort.Tensor('float32', data, dims) });
  for (const node of nodes) {
    assert.deepEqual(ours[node].dims, theirs[node].dims, node);
    const err = maxRelativeError(ours[node].data, theirs[node].data);
    assert.ok(err < 1e-4, `${node}: max error ${err} relative to the largest value`);
  }
  await model.dispose();
});

test('the fused 8-bit chain gives the unfused reference\'s values', async () => {
  const model = await loadModel(modelPath('resnet18.int8'));
  const x = new Tensor('float32', data, dims);
  const fused = await createFeatureExtractor(model, { returnNodes: ['conv1'] });
  const plain = await createFeatureExtractor(model, { returnNodes: ['conv1'], fuse: false });
  assert.match(await plain.explain(x), /fused 0,/);
  const a = (await fused.run(x)).conv1, b = (await plain.run(x)).conv1;
  assert.deepEqual(a.dims, [1, 64, 112, 112]);
  assert.deepEqual(a.data, b.data, 'the same float operations in the same order');
  await model.dispose();
});
