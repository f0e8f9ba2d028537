// The demo model and the retrieval demo (demos/retrieval):
//  - the converted nsfwjs MobileNetV2 (tests/tools/convert_nsfwjs.py) computes what the original
//    TensorFlow.js model computes, run by tfjs-layers on the CPU backend on the same image;
//  - with its 1280-d descriptors, each flipped, cropped or rotated copy of a photo finds its
//    original first among the originals, and its nearest image in the whole gallery is a version
//    of the same photo.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pngjs from 'pngjs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import * as onnxfx from '../../web/index.js';
import { describeAll, evaluate, photoOf, PREPROCESS } from '../../demos/retrieval/retrieval.mjs';
import { repoRoot, maxRelativeError } from './helpers.mjs';

const demos = path.join(repoRoot, '.cache/demos');
const MODEL = path.join(demos, 'mobilenet_v2.onnx');

/** RGBA pixels of a PNG (decoded here with the test's pngjs; onnxfx takes pixel objects as they are). */
function pixels(file) {
  const png = pngjs.PNG.sync.read(readFileSync(file));
  return { width: png.width, height: png.height, data: png.data };
}

test('the converted MobileNetV2 matches nsfwjs\'s TensorFlow.js model (tfjs-layers, CPU backend)', async () => {
  const x = await onnxfx.imageToTensor(pixels(path.join(demos, 'photos/chelsea.png')), PREPROCESS);
  const model = await onnxfx.loadModel(MODEL);
  // features.3 is Keras's block_2_add, features.18.relu out_relu, pool the 7x7 average pool.
  const fx = await onnxfx.createFeatureExtractor(model, { returnNodes: ['features.3', 'features.18.relu', 'pool', 'classifier.softmax'] });
  const ours = await fx.run(x);
  model.dispose();

  const spec = JSON.parse(readFileSync(path.join(demos, 'npm/nsfwjs/model.json'), 'utf8'));
  const weights = readFileSync(path.join(demos, 'npm/nsfwjs/weights.bin'));
  await tf.setBackend('cpu');
  const keras = await tfl.loadLayersModel(tf.io.fromMemory({
    modelTopology: spec.modelTopology,
    weightSpecs: spec.weightsManifest[0].weights,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  }));
  const layers = ['block_2_add', 'out_relu', 'average_pooling2d_1'];
  const probe = tfl.model({ inputs: keras.inputs, outputs: [...layers.map((l) => keras.getLayer(l).output), keras.outputs[0]] });
  const nhwc = tf.transpose(tf.tensor(x.data, x.dims), [0, 2, 3, 1]);
  const [add2, outRelu, avg, probs] = probe.predict(nhwc);
  const nchw = (t) => tf.transpose(t, [0, 3, 1, 2]).dataSync();

  assert.deepEqual(ours['features.3'].dims, [1, 24, 56, 56]);
  assert.ok(maxRelativeError(ours['features.3'].data, nchw(add2)) < 1e-4, 'features.3 = block_2_add');
  assert.ok(maxRelativeError(ours['features.18.relu'].data, nchw(outRelu)) < 1e-4, 'features.18.relu = out_relu');
  assert.ok(maxRelativeError(ours.pool.data, avg.dataSync()) < 1e-4, 'pool = average_pooling2d_1');
  assert.ok(maxRelativeError(ours['classifier.softmax'].data, probs.dataSync()) < 1e-4, 'the class probabilities');
  // A trained model, not noise: chelsea the cat is "Neutral" (class 2) with high confidence.
  assert.ok(ours['classifier.softmax'].data[2] > 0.9);
});

test('each transformed copy retrieves its original first', async () => {
  const files = JSON.parse(readFileSync(path.join(demos, 'gallery/gallery.json'), 'utf8'));
  assert.equal(files.length, 28, '7 photos, 4 versions each');
  const model = await onnxfx.loadModel(MODEL);
  const descriptors = await describeAll(onnxfx, model, files.map((f) => pixels(path.join(demos, 'gallery', f))));
  model.dispose();
  const results = evaluate(files, descriptors);
  assert.equal(results.length, 21);
  for (const r of results) {
    const top = r.amongOriginals.map((n) => `${files[n.index]} ${n.score.toFixed(3)}`).slice(0, 2).join(', ');
    assert.ok(r.originalFirst, `${r.file}: nearest originals ${top}`);
    const first = files[r.all[0].index];
    assert.equal(photoOf(first), r.photo, `${r.file}: the nearest of all 27 others is ${first}`);
  }
});
