// float16 models: ResNet-18 converted by tests/tools/make_precision_models.py, fully float16
// (float16 input fed as Uint16Array bits) and with float32 inputs/outputs (Cast at the borders).
// Both list the float32 model's names, their features are close to the float32 model's within
// float16 precision, and their outputs agree with onnxruntime-node running the same files.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadModel, getGraphNodeNames, createFeatureExtractor, Tensor } from '../../web/index.js';
import { loadReference, maxRelativeError, modelPath, readF32 } from './helpers.mjs';

const ort = createRequire(import.meta.url)('onnxruntime-node');

const FEATURES = ['layer1', 'layer2.0.add', 'layer3', 'layer4', 'fc'];
// float16 weights and activations differ from float32 by ~1e-3 relative per op; through
// ResNet-18's 20 convolutions the features stay within 1e-3 of the largest element (measured: 5e-4 to 7e-4)
const TOLERANCE = 5e-3;

/** float32 -> float16 bits, round to nearest even (what numpy's astype(float16) does). */
function toHalfBits(values) {
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i];
    const x = u[0], sign = (x >>> 16) & 0x8000, abs = x & 0x7fffffff;
    let h;
    if (abs >= 0x7f800000) h = 0x7c00 | (abs > 0x7f800000 ? 0x200 : 0);
    else if (abs >= 0x477ff000) h = 0x7c00;
    else if (abs < 0x38800000) h = Math.round(f[0] < 0 ? -f[0] * 2 ** 24 : f[0] * 2 ** 24); // subnormal (ties: rare in test data)
    else {
      h = (abs >>> 13) - (112 << 10);
      const rest = abs & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
    }
    out[i] = sign | h;
  }
  return out;
}

// logits: the node giving the graph output; the output border Cast is named though not listed
const variants = [
  { file: 'resnet18.fp16io', input: (x, dims) => new Tensor('float32', x, dims), logits: 'graph_output_cast_0' },
  { file: 'resnet18.fp16', input: (x, dims) => new Tensor('float16', toHalfBits(x), dims), logits: 'fc' },
];

const ref = loadReference('resnet18');
const x = readF32(ref.cases[0].input.file);
const dims = ref.cases[0].input.dims;

test('the float16 test models exist (tests/tools/setup.sh runs make_precision_models.py)', () => {
  for (const v of variants) assert.ok(existsSync(modelPath(v.file)), `${modelPath(v.file)} is missing`);
});

let float32Features;
async function float32Run() {
  if (float32Features) return float32Features;
  const model = await loadModel(modelPath('resnet18'));
  const fx = await createFeatureExtractor(model, { returnNodes: FEATURES });
  float32Features = await fx.run(new Tensor('float32', x, dims));
  await model.dispose();
  return float32Features;
}

for (const v of variants) {
  test(`${v.file}: the float32 model's names, no border Cast listed`, async () => {
    const [m32, m16] = await Promise.all([loadModel(modelPath('resnet18')), loadModel(modelPath(v.file))]);
    assert.deepEqual(getGraphNodeNames(m16), getGraphNodeNames(m32));
    assert.ok(!getGraphNodeNames(m16)[1].some((n) => n.includes('cast')));
    await Promise.all([m32.dispose(), m16.dispose()]);
  });

  test(`${v.file}: features by name close to the float32 model's; float32 values, float16 types reported`, async () => {
    const expected = await float32Run();
    const model = await loadModel(modelPath(v.file));
    const fx = await createFeatureExtractor(model, { returnNodes: FEATURES });
    const out = await fx.run(v.input(x, dims));
    assert.deepEqual(Object.keys(out), FEATURES);
    for (const name of FEATURES) {
      assert.equal(out[name].type, 'float32', `${name} comes back as float32`);
      assert.ok(out[name].data instanceof Float32Array);
      assert.deepEqual(out[name].dims, expected[name].dims);
      const err = maxRelativeError(out[name].data, expected[name].data);
      assert.ok(err < TOLERANCE, `${name}: ${err} relative to the float32 model`);
      if (process.env.OFX_VERBOSE) console.log(v.file, name, err);
      assert.ok(err > 0, `${name}: computed from float16 weights, not equal to float32`);
    }
    const inputType = model.inputs[0].type;
    assert.equal(inputType, v.file.endsWith('io') ? 'float32' : 'float16', 'the model reports its ONNX input type');
    await model.dispose();
  });

  test(`${v.file}: logits agree with onnxruntime-node on the same file`, async () => {
    const session = await ort.InferenceSession.create(modelPath(v.file));
    const feed = v.input(x, dims);
    const result = await session.run({ x: new ort.Tensor(feed.type, feed.data, dims) });
    const theirs = result.logits.type === 'float16' ? Float32Array.from(result.logits.data, (h) => halfToFloat(h)) : result.logits.data;
    const model = await loadModel(modelPath(v.file));
    const fx = await createFeatureExtractor(model, { returnNodes: { [v.logits]: 'logits' } });
    const { logits } = await fx.run(v.input(x, dims));
    const err = maxRelativeError(logits.data, theirs);
    assert.ok(err < 5e-3, `logits: ${err} relative to onnxruntime`);
    if (process.env.OFX_VERBOSE) console.log(v.file, 'logits vs onnxruntime', err);
    await model.dispose();
  });
}

test('resnet18.fp16: toONNX() writes a float16 model onnxruntime runs, with the same features', async () => {
  const model = await loadModel(modelPath('resnet18.fp16'));
  const fx = await createFeatureExtractor(model, { returnNodes: { layer2: 'mid' } });
  const input = new Tensor('float16', toHalfBits(x), dims);
  const ours = await fx.run(input);
  const session = await ort.InferenceSession.create(await fx.toONNX());
  const { mid } = await session.run({ x: new ort.Tensor('float16', input.data, dims) });
  assert.equal(mid.type, 'float16', 'the pruned model keeps the float16 type');
  const err = maxRelativeError(ours.mid.data, Float32Array.from(mid.data, halfToFloat));
  assert.ok(err < 5e-3, `layer2: ${err} relative to onnxruntime on the pruned model`);
  await model.dispose();
});

test('resnet18.fp16: float32 data for the float16 input is rounded to float16, as its bits would be', async () => {
  const model = await loadModel(modelPath('resnet18.fp16'));
  const fx = await createFeatureExtractor(model, { returnNodes: ['layer1'] });
  const fromBits = (await fx.run(new Tensor('float16', toHalfBits(x), dims))).layer1.data.slice();
  const fromFloats = (await fx.run(new Tensor('float32', x, dims))).layer1.data;
  assert.deepEqual(fromFloats, fromBits);
  await assert.rejects(fx.run(new Tensor('int32', new Int32Array(x.length), dims)), (e) => e.code === 'BAD_INPUT' && /float16/.test(e.message));
  assert.throws(() => new Tensor('float16', [1, 2], [2]), (e) => e.code === 'BAD_INPUT' && /Uint16Array/.test(e.message));
  await model.dispose();
});

function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
