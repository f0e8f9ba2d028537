// onnxruntime-node as the oracle for the whole graph: the node producing the model output must
// equal what ORT computes from the same ONNX file.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { loadModel, createFeatureExtractor, Tensor } from '../../web/index.js';
import { loadReference, maxRelativeError, modelPath, readF32 } from './helpers.mjs';

const ort = createRequire(import.meta.url)('onnxruntime-node');

for (const name of ['resnet18', 'mobilenet_v2']) {
  test(`${name}: the output node matches onnxruntime-node`, async () => {
    const c = loadReference(name).cases[0];
    const input = readF32(c.input.file);
    const session = await ort.InferenceSession.create(modelPath(name));
    const expected = (await session.run({ x: new ort.Tensor('float32', input, c.input.dims) })).logits;

    const model = await loadModel(modelPath(name));
    const outputName = model.outputs[0].name;
    const producer = model.nodes.find((n) => n.outputs.includes(outputName));
    const fx = await createFeatureExtractor(model, { returnNodes: [producer.name] });
    const got = (await fx.run(new Tensor('float32', input, c.input.dims)))[producer.name];
    assert.deepEqual(got.dims, expected.dims);
    const err = maxRelativeError(got.data, expected.data);
    assert.ok(err < 1e-4, `max relative error ${err}`);
    model.dispose();
  });
}
