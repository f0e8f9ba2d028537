// Single-file models keep their big initializers out of the WebAssembly heap (web/src/split-model.js):
// loaded from a path they are read from the file as extractors pack them, loaded from bytes
// they stay in JavaScript memory. Checked: the heap holds a small part of the file after
// loading, results are the same bits as before, toONNX() writes the weights back inline (a
// standalone model onnxruntime-node runs), and small models take the plain path.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadModel, createFeatureExtractor, Tensor } from '../../web/index.js';
import { SELF_LOCATION, SPLIT_MIN_BYTES, splitModel } from '../../web/src/split-model.js';
import { bufferSource } from '../../web/src/source.js';
import * as W from './onnx-writer.mjs';
import { heapUsed, modelPath, seededRandom } from './helpers.mjs';

const ort = createRequire(import.meta.url)('onnxruntime-node');

function image(seed) {
  const random = seededRandom(seed);
  return new Tensor('float32', Float32Array.from({ length: 3 * 224 * 224 }, () => random() * 2 - 1), [1, 3, 224, 224]);
}


// the engine's one-time allocations (its thread pool) happen on the first load, not in a test
test.before(async () => (await loadModel(W.convReluModel().bytes)).dispose());

for (const how of ['path', 'bytes']) {
  test(`a model loaded from ${how === 'path' ? 'its path' : 'bytes'} keeps its weights out of the heap until extractors pack them`, async () => {
    const file = modelPath('resnet18');
    const size = statSync(file).size;
    const before = await heapUsed();
    const model = await loadModel(how === 'path' ? file : readFileSync(file));
    const loaded = (await heapUsed()) - before;
    assert.ok(loaded < 0.1 * size, `loading took ${loaded} bytes of heap for a ${size}-byte model`);
    const fx = await createFeatureExtractor(model, { returnNodes: ['layer1', 'fc'] });
    const out = await fx.run(image(1));
    assert.ok(out.fc.data.every(Number.isFinite));
    await model.dispose();
    assert.equal(await heapUsed(), before, 'everything freed, the file closed with it');
  });
}

test('path and bytes give the same bits, and agree with onnxruntime-node', async () => {
  const file = modelPath('mobilenet_v2');
  const bytes = readFileSync(file);
  const split = splitModel(bufferSource(SELF_LOCATION, bytes));
  assert.ok(split && split.length < 0.1 * bytes.length, 'the split model is the small remainder');
  const results = [];
  for (const source of [file, bytes]) {
    const model = await loadModel(source);
    const fx = await createFeatureExtractor(model, { returnNodes: ['features.3', 'classifier.1'] });
    results.push(await fx.run(image(2)));
    await model.dispose();
  }
  // the reference: onnxruntime-node on the file
  const session = await ort.InferenceSession.create(file);
  const x = image(2);
  const { [session.outputNames[0]]: logits } = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims) });
  for (const r of results) {
    assert.deepEqual(r['features.3'].data, results[0]['features.3'].data);
    let worst = 0;
    for (let i = 0; i < logits.data.length; i++) worst = Math.max(worst, Math.abs(r['classifier.1'].data[i] - logits.data[i]));
    assert.ok(worst < 1e-3, `logits within ${worst} of onnxruntime-node`);
  }
});

test('toONNX() of a split model writes the weights back inline: a standalone model', async () => {
  const model = await loadModel(modelPath('resnet18'));
  const fx = await createFeatureExtractor(model, { returnNodes: { 'layer2.0.conv1': 'mid' } });
  const x = image(3);
  const ours = await fx.run(x);
  const bytes = await fx.toONNX();
  await model.dispose();
  assert.ok(!new TextDecoder().decode(bytes).includes(SELF_LOCATION), 'no reference to the source model is left');
  const session = await ort.InferenceSession.create(bytes);
  const { mid } = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims) });
  let worst = 0;
  for (let i = 0; i < mid.data.length; i++) worst = Math.max(worst, Math.abs(ours.mid.data[i] - mid.data[i]));
  assert.ok(worst < 1e-4, `the pruned model runs in onnxruntime-node with the same values (${worst})`);
});

test('a model without big initializers is not split', () => {
  const small = W.convReluModel().bytes; // a few hundred bytes of weights
  assert.equal(splitModel(bufferSource(SELF_LOCATION, small)), null);
  const n = SPLIT_MIN_BYTES / 4;
  const big = W.model({
    graph: W.graph({
      nodes: [W.node('Add', ['x', 'w'], ['y'])],
      inputs: [W.valueInfo('x', W.FLOAT, [n])],
      outputs: [W.valueInfo('y', W.FLOAT, [n])],
      initializers: [W.tensor({ name: 'w', dims: [n], raw: new Uint8Array(n * 4) })],
    }),
  });
  const split = splitModel(bufferSource(SELF_LOCATION, big));
  assert.ok(split && split.length < 200, `a ${SPLIT_MIN_BYTES}-byte initializer is moved out (${split?.length} bytes left)`);
});

// Their big 8-bit weights are read like external data too; the planner's int8 fusions must still
// get them (they pack them into the 8-bit kernels' int16 form: 2 bytes a weight, where the float
// fallback packs 4), and nothing of the dynamic chain may run on its own.
for (const form of ['int8', 'qdq']) {
  test(`resnet18.${form} loaded from its path still runs every layer on the 8-bit kernels`, async () => {
    const before = await heapUsed();
    const model = await loadModel(modelPath(`resnet18.${form}`));
    try {
      // QDQ: the load-time fold leaves DequantizeLinear of big weights to be computed when read,
      // so no float32 copy of them (4x the file) lives with the model
      const loaded = (await heapUsed()) - before;
      assert.ok(loaded < 0.2 * statSync(modelPath(`resnet18.${form}`)).size, `loading took ${loaded} bytes of heap`);
      const fx = await createFeatureExtractor(model, { returnNodes: ['layer4'] });
      const plan = await fx.explain(image(4));
      const packed = Number(/packed weights (\d+) bytes/.exec(plan)[1]);
      // layer4 and before: 11.2 M weights, 22 MB as int16 (45 MB as float32)
      assert.ok(packed > 15e6 && packed < 26e6, `packed ${packed} bytes`);
      if (form === 'int8') assert.doesNotMatch(plan, /^\s+\d+\s+\S+\s+(Cast|Mul)\s/m, 'no Cast or Mul step of a dequantizing chain runs');
    } finally {
      await model.dispose();
    }
  });
}
