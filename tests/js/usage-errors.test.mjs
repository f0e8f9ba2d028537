// Misuse is an error that says what to do: unknown option names (with close matches), node
// names not in the model (close names, BatchNorm folding), raw ONNX names (accepted), a plain
// typed array given to run().
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  loadModel, createFeatureExtractor, getGraphNodeNames, imageToTensor, Tensor, InvalidArgumentError, NodeNotFoundError,
} from '../../web/index.js';
import { repoRoot, modelPath } from './helpers.mjs';

const RESNET = modelPath('resnet18');
let model;
test.before(async () => {
  model = await loadModel(RESNET);
});
test.after(() => model.dispose());

const invalid = (pattern) => (err) => err instanceof InvalidArgumentError && pattern.test(err.message);

test('unknown option names are refused, with the close matches or the whole list', async () => {
  await assert.rejects(loadModel(RESNET, { numThread: 2 }), invalid(/^loadModel: unknown option 'numThread'; did you mean 'numThreads'\?$/));
  await assert.rejects(loadModel(RESNET, { Worker: true }), invalid(/unknown option 'Worker'; did you mean 'worker'\?/));
  await assert.rejects(loadModel(RESNET, { colour: 1 }), invalid(/unknown option 'colour'; the options are 'worker', 'threads', 'numThreads', .* and 'wasmPath'$/));
  await assert.rejects(imageToTensor({ width: 1, height: 1, data: new Uint8Array(4) }, { size: 300 }),
    invalid(/^imageToTensor: unknown option 'size'; did you mean 'resize'\?$/));
  await assert.rejects(imageToTensor({ width: 1, height: 1, data: new Uint8Array(4) }, { normalize: true }),
    invalid(/unknown option 'normalize'; the options are 'preset', 'resize', .*'batch'$/));
  await assert.rejects(createFeatureExtractor(model, { returnNode: ['layer1'] }),
    invalid(/^createFeatureExtractor: unknown option 'returnNode'; did you mean 'returnNodes'\?$/));
  assert.throws(() => getGraphNodeNames(model, { suppressDiffWarnings: true }), invalid(/did you mean 'suppressDiffWarning'\?/));
  const fx = await createFeatureExtractor(model, { returnNodes: ['layer1'] });
  const x = new Tensor('float32', new Float32Array(3 * 224 * 224), [1, 3, 224, 224]);
  await assert.rejects(fx.profile(x, { run: 2 }), invalid(/^profile: unknown option 'run'; did you mean 'runs'\?$/));
  // options set to undefined count as absent (spreading a config object is common)
  assert.equal((await imageToTensor({ width: 2, height: 2, data: new Uint8Array(16) }, { preset: 'none', extra: undefined })).dims.length, 4);
  await fx.dispose();
});

test('NODE_NOT_FOUND offers up to three close names', async () => {
  await assert.rejects(createFeatureExtractor(model, { returnNodes: ['layer1.0.relu1'] }), (err) => err instanceof NodeNotFoundError &&
    /^node 'layer1\.0\.relu1' is not present in the model\. Did you mean 'layer1\.0\.relu', 'layer1\.0\.relu_1' or 'layer1\.1\.relu'\? Hint: use getGraphNodeNames/.test(err.message));
  await assert.rejects(createFeatureExtractor(model, { returnNodes: ['layr4'] }), (err) => /Did you mean 'layer4'/.test(err.message));
  await assert.rejects(createFeatureExtractor(model, { returnNodes: ['transformer'] }), (err) => err.code === 'NODE_NOT_FOUND' && !/Did you mean/.test(err.message));
});

test('NODE_NOT_FOUND for a BatchNorm says it is folded into the Conv before it, and names the Conv', async () => {
  for (const [bn, conv] of [['layer1.0.bn1', 'layer1.0.conv1'], ['layer4.1.bn2', 'layer4.1.conv2'], ['layer2.0.downsample.1', 'layer2.0.downsample.0'], ['bn1', 'conv1']]) {
    await assert.rejects(createFeatureExtractor(model, { returnNodes: [bn] }), (err) => err.code === 'NODE_NOT_FOUND' &&
      err.message.includes(`BatchNorm is folded into the Conv before it when the model is exported: '${conv}' gives the normalized value`));
  }
});

test('raw ONNX node and value names are accepted, keyed as given, same values as the onnxfx names', async () => {
  const raw = await createFeatureExtractor(model, { returnNodes: ['/layer1/layer1.0/relu/Relu', '/layer2/layer2.0/conv1/Conv_output_0'] });
  const named = await createFeatureExtractor(model, { returnNodes: ['layer1.0.relu', 'layer2.0.conv1'] });
  assert.equal(raw.plannedNodeCount, named.plannedNodeCount);
  const data = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i));
  const x = new Tensor('float32', data, [1, 3, 224, 224]);
  const a = await raw.run(x), b = await named.run(x);
  assert.deepEqual(Object.keys(a), ['/layer1/layer1.0/relu/Relu', '/layer2/layer2.0/conv1/Conv_output_0']);
  assert.deepEqual(a['/layer1/layer1.0/relu/Relu'].data, b['layer1.0.relu'].data);
  assert.deepEqual(a['/layer2/layer2.0/conv1/Conv_output_0'].data, b['layer2.0.conv1'].data);
  await raw.dispose();
  await named.dispose();
});

test('a plain typed array given to run() is told to become a Tensor', async () => {
  const fx = await createFeatureExtractor(model, { returnNodes: ['layer1'] });
  await assert.rejects(fx.run(new Float32Array(3 * 224 * 224)), (err) => err.code === 'BAD_INPUT' &&
    err.message === "run() was given a Float32Array: wrap the data in a Tensor with its shape, e.g. new Tensor('float32', data, [1, 3, 224, 224]) for input 'x' (declared [batch, 3, 224, 224])");
  await assert.rejects(fx.run({ x: new Float32Array(12) }), (err) => err.code === 'BAD_INPUT' &&
    /^input 'x' is a Float32Array: wrap it in a Tensor/.test(err.message));
  await fx.dispose();
});

test('the CLI points to `onnxfx nodes` for a name not in the model', () => {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'web/bin/onnxfx.mjs'), 'plan', RESNET, '--nodes', 'layer1.0.bn1'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /NODE_NOT_FOUND: node 'layer1\.0\.bn1' is not present in the model\. BatchNorm is folded .* 'layer1\.0\.conv1' gives the normalized value/);
  assert.match(r.stderr, /Run `onnxfx nodes .*resnet18\.onnx` to list the names --nodes takes\.\n$/);
  assert.doesNotMatch(r.stderr, /getGraphNodeNames/);
});
