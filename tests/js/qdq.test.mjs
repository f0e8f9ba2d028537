// Statically quantized models, in the two forms onnxruntime's quantize_static writes (written by
// tests/tools/quantize_static.py from the exported resnet18, calibrated on the demo photos):
// QDQ (float ops between QuantizeLinear/DequantizeLinear pairs) and QOperator (QLinearConv,
// Gemm kept float). onnxruntime-node runs each file as the oracle; onnxfx runs the same file.
// Layers are selected by their torchvision names, which a quantized model keeps: the name of a
// layer whose output the quantizer quantizes is its dequantized output (docs/naming.md, int8).
// And one selection works on every precision of the model: same keys, shapes, close features.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { loadModel, getGraphNodeNames, createFeatureExtractor, Tensor } from '../../web/index.js';
import { modelPath, repoRoot } from './helpers.mjs';

const ort = createRequire(import.meta.url)('onnxruntime-node');

const NODES = ['conv1', 'layer1.0.conv1', 'layer1.0.relu', 'layer1', 'layer2.0.downsample.0', 'layer3.1.relu_1',
  'layer4', 'avgpool', 'fc'];
const STATIC = [
  // tensor: the ONNX tensor a float model's tensor T becomes where the quantizer quantized it
  { file: 'resnet18.qdq', form: 'QDQ', tensor: (t) => `${t}_DequantizeLinear_Output`, layerOp: 'Conv' },
  { file: 'resnet18.qop', form: 'QOperator', tensor: (t) => t, layerOp: 'QLinearConv' },
];
const PRECISIONS = ['resnet18', 'resnet18.fp16', 'resnet18.int8', 'resnet18.qdq', 'resnet18.qop'];

// One of the photos, the torchvision way (tests/tools/make_image_fixtures.py: Resize 256,
// CenterCrop 224, ImageNet mean/std); it is also one of the calibration photos.
const dims = [1, 3, 224, 224];
const bytes = readFileSync(path.join(repoRoot, '.cache/images/chelsea.imagenet.f32'));
const x = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));

const features = new Map();
/** The NODES of one file, computed once by onnxfx (its toONNX() too, for the oracle). */
async function run(file) {
  if (!features.has(file)) {
    features.set(file, (async () => {
      const model = await loadModel(modelPath(file));
      const fx = await createFeatureExtractor(model, { returnNodes: NODES });
      const out = await fx.run(new Tensor('float32', x, dims));
      const pruned = await fx.toONNX();
      await model.dispose();
      return { out, pruned };
    })());
  }
  return features.get(file);
}

/**
 * Both runs compute the same integers except where a value lands on a rounding tie (or within a
 * float ulp of one): requantizing acc * (x_scale * w_scale / y_scale) and rounding half to even
 * can then go one way in onnxruntime's kernels and the other in onnxfx's, a difference of one
 * quantization step (1/255 of the tensor's calibrated range), which the next layers carry on,
 * fading. So: all but 1% of the elements agree to float rounding (1e-5 of the largest value:
 * the float ops, pooling and Gemm, sum in another order), and none is off by more than 4% of the
 * largest value, a few steps (one step is 0.4 to 0.8% of it here). A wrong scale, zero point or
 * tensor is off by far more, and everywhere.
 */
function assertAgree(ours, theirs, what) {
  assert.deepEqual([...ours.dims], [...theirs.dims], `${what}: shape`);
  let largest = 0;
  for (const v of theirs.data) largest = Math.max(largest, Math.abs(v));
  let worst = 0, differing = 0;
  for (let i = 0; i < theirs.data.length; i++) {
    const d = Math.abs(ours.data[i] - theirs.data[i]);
    worst = Math.max(worst, d);
    if (!(d <= 1e-5 * largest)) differing++;
  }
  assert.ok(largest > 0, `${what}: the oracle's values are all zero`);
  assert.ok(differing <= 0.01 * theirs.data.length, `${what}: ${differing} of ${theirs.data.length} elements differ`);
  assert.ok(worst <= 0.04 * largest, `${what}: max difference ${worst} (largest value ${largest})`);
  return { worst: worst / largest, differing };
}

test('the static int8 test models exist (tests/tools/setup.sh runs quantize_static.py)', () => {
  for (const file of PRECISIONS) assert.ok(existsSync(modelPath(file)), `${modelPath(file)} is missing`);
});

for (const s of STATIC) {
  test(`${s.form}: the float model's names; a quantized layer's name is its dequantized output`, async () => {
    const float = await loadModel(modelPath('resnet18'));
    const model = await loadModel(modelPath(s.file));
    const [floatTrain, floatEval] = getGraphNodeNames(float);
    const [train, evalNames] = getGraphNodeNames(model);
    // onnxruntime's quantizer sorts the nodes breadth first (ONNXModel.topological_sort), which runs
    // a block's downsample branch before its conv2: the same names, in another valid order
    assert.deepEqual([...evalNames].sort(), [...floatEval].sort());
    assert.deepEqual([...train].sort(), [...floatTrain].sort());
    assert.ok(!evalNames.some((n) => /quantize|_quant|reshape/i.test(n)), 'no quantizer helper is listed');

    const ops = new Set(model.nodes.map((n) => n.opType));
    assert.ok(ops.has(s.layerOp) && ops.has('QuantizeLinear') && ops.has('DequantizeLinear'), `${s.form}: ${[...ops]}`);
    assert.equal(ops.has('QLinearConv'), s.form === 'QOperator');
    const byName = (name) => model.nodes.find((n) => n.name === name);
    // layer1.0.conv1: the DequantizeLinear after the layer; the layer itself is named, not listed
    const conv = byName('layer1.0.conv1');
    assert.equal(conv.opType, 'DequantizeLinear');
    assert.equal(conv.onnxName, '/layer1/layer1.0/conv1/Conv_output_0_DequantizeLinear');
    assert.deepEqual(conv.outputs, [s.tensor('/layer1/layer1.0/conv1/Conv_output_0')]);
    const layer = model.nodes.find((n) => n.opType === s.layerOp && n.scope === 'layer1.0.conv1');
    assert.ok(layer && !evalNames.includes(layer.name), `the ${s.layerOp} is not listed (${layer?.name})`);
    // a ReLU's output is quantized (QDQ: a pair after it) or read as float (QOperator)
    assert.equal(byName('layer1.0.relu').opType, s.form === 'QDQ' ? 'DequantizeLinear' : 'Relu');
    // fc: QDQ quantizes the Gemm and its output, the graph output `logits`; QOperator keeps it float
    assert.equal(byName('fc').opType, s.form === 'QDQ' ? 'DequantizeLinear' : 'Gemm');
    assert.deepEqual(byName('fc').outputs, ['logits']);
    await Promise.all([float.dispose(), model.dispose()]);
  });

  test(`${s.form}: layers by torchvision name equal onnxruntime-node's values on the same file`, async () => {
    const { out, pruned } = await run(s.file);
    const feeds = { x: new ort.Tensor('float32', x, dims) };
    // (a) the final output: the whole file, as onnxruntime-node runs it
    const whole = await (await ort.InferenceSession.create(modelPath(s.file))).run(feeds);
    assertAgree(out.fc, whole.logits, `${s.form} logits`);
    // (b) each layer: the pruned graph (the file's own nodes and initializers, the selected
    // tensors as outputs named by their torchvision names)
    const theirs = await (await ort.InferenceSession.create(pruned)).run(feeds);
    assert.deepEqual(Object.keys(out), NODES);
    for (const name of NODES) assertAgree(out[name], theirs[name], `${s.form} ${name}`);
  });
}

test('one selection on every precision: same keys and shapes, features close to float32', async () => {
  const reference = (await run('resnet18')).out;
  const [, floatNames] = await (async () => {
    const m = await loadModel(modelPath('resnet18'));
    const names = getGraphNodeNames(m);
    await m.dispose();
    return names;
  })();
  for (const file of PRECISIONS.slice(1)) {
    const model = await loadModel(modelPath(file));
    assert.deepEqual([...getGraphNodeNames(model)[1]].sort(), [...floatNames].sort(), `${file}: the float model's names`);
    await model.dispose();
    const { out } = await run(file);
    assert.deepEqual(Object.keys(out), NODES, file);
    // Cosine similarity to the float32 features (1 - e^2/2 for a relative error e). float16
    // rounds each op to 11 bits (~5e-4 relative): measured above 0.99999; 0.9999 allows e = 1.4%.
    // The 8-bit forms round every quantized activation to 1/255 of its range and every weight to
    // 1/254 of its channel's: over ResNet-18's 20 layers that is a relative error of a few
    // percent, a cosine above 0.998 (measured on the photos); 0.99 allows e = 14%.
    const bound = file.endsWith('fp16') ? 0.9999 : 0.99;
    for (const name of NODES) {
      assert.equal(out[name].type, 'float32', `${file} ${name}`);
      assert.deepEqual([...out[name].dims], [...reference[name].dims], `${file} ${name}: shape`);
      const c = cosine(out[name].data, reference[name].data);
      assert.ok(c >= bound, `${file} ${name}: cosine similarity ${c} to float32 (bound ${bound})`);
    }
  }
});

function cosine(a, b) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}
