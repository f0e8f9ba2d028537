// Long runs and overlapping calls over the WebAssembly build: load / create / run / dispose
// cycles must leave the heap where it started, overlapping run() calls must each get their own
// correct result, and disposing while a run is pending must give a clean DISPOSED error or a
// completed run, never a crash.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, createFeatureExtractor, Tensor, OnnxfxError } from '../../web/index.js';
import { heapUsed } from './helpers.mjs';
import * as W from './onnx-writer.mjs';

const conv = W.convReluModel();
const batch2 = W.convReluModel({ batch: 2 });
const inputs = Array.from({ length: 8 }, (_, i) => W.floats(192, 100 + i));

function assertClose(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) < 1e-5, `${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}


async function cycle(bytes, x) {
  const model = await loadModel(bytes);
  const fx = await createFeatureExtractor(model, { returnNodes: { conv: 'c', relu: 'r' } });
  const out = await fx.run(new Tensor('float32', x, [1, 3, 8, 8]));
  fx.dispose();
  model.dispose();
  return out;
}

test('1,000 load / create / run / dispose cycles leave the heap where it started', async () => {
  for (let i = 0; i < 5; i++) await cycle(conv.bytes, inputs[0]); // first-use allocations
  const before = await heapUsed();
  assert.ok(before > 0, 'heap use is reported');
  let last;
  for (let i = 0; i < 1000; i++) last = await cycle(conv.bytes, inputs[i % inputs.length]);
  assertClose(last.r.data, conv.reference(inputs[999 % inputs.length]), 'last cycle');
  assert.equal(await heapUsed(), before, 'heap bytes in use after 1,000 cycles');
});

test('failed loads, failed creates and failed runs leak nothing either', async () => {
  const model = await loadModel(conv.bytes);
  const fx = await createFeatureExtractor(model, { returnNodes: ['relu'] });
  const attempt = async () => {
    await assert.rejects(loadModel(conv.bytes.slice(0, 100)), (e) => e.code === 'BAD_MODEL');
    await assert.rejects(createFeatureExtractor(model, { returnNodes: ['nope'] }), (e) => e.code === 'NODE_NOT_FOUND');
    await assert.rejects(fx.run(new Tensor('float32', new Float32Array(6), [1, 3, 2])), (e) => e.code === 'BAD_INPUT');
  };
  for (let i = 0; i < 3; i++) await attempt();
  const before = await heapUsed();
  for (let i = 0; i < 200; i++) await attempt();
  assert.equal(await heapUsed(), before, 'heap bytes in use after 200 failing rounds');
  model.dispose();
});

test('changing input shapes re-plans without leaking', async () => {
  const model = await loadModel(W.convReluModel({ inputDims: ['batch', 3, 8, 8] }).bytes);
  const fx = await createFeatureExtractor(model, { returnNodes: ['relu'] });
  const run = async (n) => {
    const x = W.floats(n * 192, n);
    const out = await fx.run(new Tensor('float32', x, [n, 3, 8, 8]));
    assert.deepEqual(out.relu.dims, [n, 4, 8, 8]);
    assertClose(out.relu.data, batch2.reference(x, n), `batch ${n}`);
  };
  for (const n of [1, 3, 2]) await run(n);
  const before = await heapUsed();
  for (let i = 0; i < 60; i++) await run(1 + (i % 3));
  assert.equal(await heapUsed(), before, 'heap bytes in use after 60 re-plans');
  model.dispose();
});

test('many overlapping run() calls on one extractor each get their own result', async () => {
  const model = await loadModel(conv.bytes);
  const fx = await createFeatureExtractor(model, { returnNodes: ['relu'] });
  const runs = [];
  for (let i = 0; i < 64; i++) runs.push(fx.run(new Tensor('float32', inputs[i % inputs.length], [1, 3, 8, 8])));
  const outs = await Promise.all(runs);
  outs.forEach((out, i) => assertClose(out.relu.data, conv.reference(inputs[i % inputs.length]), `run ${i}`));
  model.dispose();
});

test('overlapping runs on several extractors of one model (and of two models) stay correct', async () => {
  const model = await loadModel(conv.bytes);
  const other = await loadModel(conv.bytes);
  const extractors = [
    [await createFeatureExtractor(model, { returnNodes: ['relu'] }), 'relu', true],
    [await createFeatureExtractor(model, { returnNodes: ['conv'] }), 'conv', false],
    [await createFeatureExtractor(model, { returnNodes: { conv: 'conv', relu: 'relu' } }), 'relu', true],
    [await createFeatureExtractor(other, { returnNodes: ['conv'] }), 'conv', false],
  ];
  const runs = [];
  for (let i = 0; i < 48; i++) {
    const [fx, key, relu] = extractors[i % extractors.length];
    const x = inputs[(i * 3) % inputs.length];
    runs.push(fx.run(new Tensor('float32', x, [1, 3, 8, 8])).then((out) => [out[key].data, conv.reference(x, 1, relu), i]));
  }
  for (const [got, want, i] of await Promise.all(runs)) assertClose(got, want, `run ${i}`);
  model.dispose();
  other.dispose();
});

/** A pending run settles with a correct result or a DISPOSED error; nothing else. */
async function settlesCleanly(promise, x) {
  try {
    const out = await promise;
    assertClose(out.relu.data, conv.reference(x), 'run completed before the dispose');
    return 'completed';
  } catch (err) {
    assert.ok(err instanceof OnnxfxError, `${err}`);
    assert.equal(err.code, 'DISPOSED');
    assert.match(err.message, /disposed/);
    return 'disposed';
  }
}

test('disposing an extractor or its model while runs are pending is handled', async () => {
  for (const disposeModel of [false, true]) {
    const model = await loadModel(conv.bytes);
    const fx = await createFeatureExtractor(model, { returnNodes: ['relu'] });
    const pending = inputs.map((x) => fx.run(new Tensor('float32', x, [1, 3, 8, 8])));
    if (disposeModel) model.dispose();
    else fx.dispose();
    const outcomes = await Promise.all(pending.map((p, i) => settlesCleanly(p, inputs[i])));
    assert.equal(outcomes.length, inputs.length);
    // after the dispose, a new run is refused cleanly
    await assert.rejects(fx.run(new Tensor('float32', inputs[0], [1, 3, 8, 8])), (e) => e instanceof OnnxfxError && e.code === 'DISPOSED');
    model.dispose(); // twice is harmless
    fx.dispose();
  }
  // the module is intact
  const out = await cycle(conv.bytes, inputs[1]);
  assertClose(out.r.data, conv.reference(inputs[1]), 'after disposing mid-run');
});
