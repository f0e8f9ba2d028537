// loadModel(src, { weights: 'float16' }): extractors keep packed Conv/Gemm/MatMul weights as
// float16 and widen them layer by layer before the float32 kernels run. Checked on networks
// that cover every packed path (indirect and 1x1 GEMM convs, depthwise, Gemm, MatMul): the
// features stay within float16 rounding of float32 storage, the packed bytes halve, a float16
// model gives the same bits either way (its weights are float16 already), and a float16
// model's weights are never held as float32 for the model's life.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { loadModel, createFeatureExtractor, Tensor } from '../../web/index.js';
import { loadWasm } from '../../web/src/loader.js';
import { maxRelativeError, modelPath, seededRandom } from './helpers.mjs';

// Each weight is rounded to float16 (2^-11 relative); through ResNet-18's 20 layers the features
// move by 5e-4 of their largest element (measured), ViT-B/32's by 2e-4.
const TOLERANCE = 3e-3;

const CASES = [
  { file: 'resnet18', nodes: ['layer1', 'layer3.0.downsample', 'layer4', 'fc'] },
  { file: 'mobilenet_v2', nodes: ['features.2.conv.1', 'features.18', 'classifier.1'] },
  { file: 'vit_b_32', nodes: ['encoder.layers.encoder_layer_5', 'encoder.ln', 'heads'] },
];

function image(seed) {
  const random = seededRandom(seed);
  return new Tensor('float32', Float32Array.from({ length: 3 * 224 * 224 }, () => random() * 2 - 1), [1, 3, 224, 224]);
}

/** The "packed weights N bytes" figure of explain(). */
async function packedBytes(fx) {
  const m = /packed weights (\d+) bytes/.exec(await fx.explain());
  assert.ok(m, 'explain() reports packed weights');
  return Number(m[1]);
}

async function features(file, nodes, weights) {
  const model = await loadModel(modelPath(file), { weights, numThreads: 2 });
  try {
    assert.equal(model.backend.weights, weights);
    const fx = await createFeatureExtractor(model, { returnNodes: nodes });
    const out = await fx.run(image(7));
    const explained = await fx.explain();
    return { out, packed: await packedBytes(fx), explained };
  } finally {
    await model.dispose();
  }
}

for (const { file, nodes } of CASES) {
  test(`${file}: float16 weight storage stays within float16 rounding and halves the packed bytes`, async () => {
    const wide = await features(file, nodes, 'float32');
    const half = await features(file, nodes, 'float16');
    for (const name of nodes) {
      const err = maxRelativeError(half.out[name].data, wide.out[name].data);
      assert.ok(err < TOLERANCE, `${name}: ${err} from float32 storage`);
      assert.ok(err > 0, `${name}: float16 storage changed nothing: were the weights rounded at all?`);
    }
    const ratio = half.packed / wide.packed;
    assert.ok(ratio > 0.49 && ratio <= 0.5, `packed bytes ${half.packed} vs ${wide.packed} (ratio ${ratio})`);
    assert.match(half.explained, /^backend: [^\n]*, float16 weights/);
    assert.doesNotMatch(wide.explained, /float16 weights/);
  });
}

test('a float16 model gives the same bits with float16 and float32 storage', async () => {
  const nodes = ['layer2', 'fc'];
  const input = image(11);
  const results = [];
  for (const weights of ['float32', 'float16']) {
    const model = await loadModel(modelPath('resnet18.fp16io'), { weights });
    const fx = await createFeatureExtractor(model, { returnNodes: nodes });
    results.push(await fx.run(input));
    await model.dispose();
  }
  for (const name of nodes) assert.deepEqual(results[1][name].data, results[0][name].data, name);
});

test("a float16 model's weights stay float16 in memory: no float32 copy lives with the model", async () => {
  const { mod } = await loadWasm();
  const file = modelPath('resnet18.fp16io');
  const size = statSync(file).size;
  const before = mod._ofx_wasm_heap_used();
  const model = await loadModel(readFileSync(file), { weights: 'float16' });
  const loaded = mod._ofx_wasm_heap_used() - before;
  // the model bytes themselves, names and graph: a float32 copy of the weights would add 2x
  assert.ok(loaded < 1.3 * size, `loading took ${loaded} bytes for a ${size}-byte model`);
  const fx = await createFeatureExtractor(model, { returnNodes: ['fc'] });
  const created = mod._ofx_wasm_heap_used() - before - loaded;
  // packed float16 weights (about the file's size) and the plan; float32 packing would take 2x
  assert.ok(created < 1.3 * size, `the extractor took ${created} bytes`);
  await fx.run(image(3));
  await model.dispose();
  assert.equal(mod._ofx_wasm_heap_used(), before, 'everything freed');
});

test('weights must be float32 or float16, and the worker passes it on', async () => {
  await assert.rejects(loadModel(modelPath('resnet18'), { weights: 'half' }),
    (e) => e.code === 'INVALID_ARGUMENT' && /weights must be 'float32' or 'float16', got 'half'/.test(e.message));
  const model = await loadModel(modelPath('resnet18'), { weights: 'float16', worker: true });
  try {
    const fx = await createFeatureExtractor(model, { returnNodes: ['layer1'] });
    await fx.run(image(5));
    assert.match(await fx.explain(), /float16 weights/);
  } finally {
    await model.dispose();
  }
});
