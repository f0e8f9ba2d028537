// loadModel(source, { worker: true }): the whole engine in a worker_threads Worker behind the
// same API. Results equal the in-thread engine's; concurrent runs are queued; errors cross as
// OnnxfxError subclasses; outputs arrive as fresh buffers (transferred, not shared).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  loadModel, getGraphNodeNames, createFeatureExtractor, Tensor, OnnxfxError, NodeNotFoundError, BadInputError, BadModelError,
  DisposedError,
} from '../../web/index.js';
import { loadReference, modelPath, readF32 } from './helpers.mjs';

const ref = loadReference('resnet18');
const c = ref.cases[0];
const input = () => new Tensor('float32', readF32(c.input.file), c.input.dims);

test('names and features from a worker equal the in-thread ones, and concurrent runs are queued', async () => {
  const local = await loadModel(modelPath('resnet18'));
  const remote = await loadModel(modelPath('resnet18'), { worker: true });
  assert.equal(remote.inWorker, true);
  assert.equal(local.inWorker, false);
  assert.equal(remote.threaded, true, 'Node always gets the threaded build');
  assert.deepEqual(getGraphNodeNames(remote), getGraphNodeNames(local));
  assert.deepEqual(remote.nodes, local.nodes);
  const returnNodes = { layer1: 'l1', layer3: 'l3', fc: 'fc' };
  const fxLocal = await createFeatureExtractor(local, { returnNodes });
  const fxRemote = await createFeatureExtractor(remote, { returnNodes });
  assert.equal(fxRemote.plannedNodeCount, fxLocal.plannedNodeCount);
  const want = await fxLocal.run(input());
  // Five runs at once, with two inputs interleaved: each answer belongs to its own input.
  const other = new Tensor('float32', readF32(c.input.file).map((v) => v * 0.5), c.input.dims);
  const wantOther = await fxLocal.run(other);
  const results = await Promise.all([input(), other, input(), other, input()].map((t) => fxRemote.run(t)));
  results.forEach((got, i) => {
    const expect = i % 2 ? wantOther : want;
    assert.deepEqual(Object.keys(got), ['l1', 'l3', 'fc']);
    for (const key of Object.keys(expect)) {
      assert.deepEqual(got[key].dims, expect[key].dims);
      assert.ok(got[key] instanceof Tensor);
      assert.deepEqual(got[key].data, expect[key].data, `run ${i}, ${key}`);
      assert.equal(got[key].data.byteLength, got[key].data.buffer.byteLength, 'each output owns its buffer');
    }
  });
  local.dispose();
  remote.dispose();
});

test('errors from the worker are OnnxfxError subclasses with codes; the worker stays usable', async () => {
  const m = await loadModel(modelPath('resnet18'), { worker: true });
  await assert.rejects(createFeatureExtractor(m, { returnNodes: ['layer9'] }),
    (e) => e instanceof NodeNotFoundError && e instanceof OnnxfxError && e.code === 'NODE_NOT_FOUND' && /Hint: use getGraphNodeNames/.test(e.message));
  const fx = await createFeatureExtractor(m, { returnNodes: ['layer1'] });
  await assert.rejects(fx.run(new Tensor('int32', new Int32Array(4), [4])),
    (e) => e instanceof BadInputError && e.code === 'BAD_INPUT');
  await assert.rejects(loadModel(new Uint8Array([1, 2, 3]), { worker: true }), (e) => e instanceof BadModelError);
  const onnx = await fx.toONNX();
  const local = await loadModel(modelPath('resnet18'));
  const localFx = await createFeatureExtractor(local, { returnNodes: ['layer1'] });
  assert.deepEqual(onnx, await localFx.toONNX(), 'the same pruned model as in-thread');
  assert.deepEqual(await fx.toONNXAsync(), onnx, 'the deprecated alias gives the same');
  const out = await fx.run(input());
  assert.deepEqual(out.layer1.dims, [1, 64, 56, 56]);
  local.dispose();
  m.dispose();
  await assert.rejects(fx.run(input()), (e) => e instanceof DisposedError && e.code === 'DISPOSED');
  assert.throws(() => getGraphNodeNames(m), DisposedError);
});

test('dispose() mid-flight: queued runs finish or reject with DISPOSED, never hang; a new worker model works', async () => {
  const m = await loadModel(modelPath('resnet18'), { worker: true });
  const fx = await createFeatureExtractor(m, { returnNodes: ['layer2'] });
  const pending = [fx.run(input()), fx.run(input())];
  m.dispose();
  const settled = await Promise.allSettled(pending);
  for (const s of settled) {
    if (s.status === 'rejected') assert.equal(s.reason.code, 'DISPOSED');
    else assert.deepEqual(s.value.layer2.dims, [1, 128, 28, 28]);
  }
  await assert.rejects(fx.run(input()), DisposedError);
  const again = await loadModel(readFileSync(modelPath('resnet18')), { worker: true });
  const fx2 = await createFeatureExtractor(again, { returnNodes: ['maxpool'] });
  assert.deepEqual((await fx2.run(input())).maxpool.dims, [1, 64, 56, 56]);
  again[Symbol.dispose](); // what `using` calls
  await assert.rejects(fx2.run(input()), DisposedError);
});

test('onnxruntime Tensor objects go straight in, int64 as BigInt64Array, in-thread and in a worker', async () => {
  const ort = createRequire(import.meta.url)('onnxruntime-node');
  const { model, graph, node, valueInfo, FLOAT, INT64 } = await import('./onnx-writer.mjs');
  const bytes = model({
    graph: graph({
      nodes: [node('Relu', ['x'], ['r'], { name: '/relu/Relu' }), node('Add', ['ids', 'ids'], ['twice'], { name: '/add/Add' })],
      inputs: [valueInfo('x', FLOAT, [2, 3]), valueInfo('ids', INT64, [3])],
      outputs: [valueInfo('r', FLOAT, [2, 3]), valueInfo('twice', INT64, [3])],
    }),
  });
  const x = new ort.Tensor('float32', Float32Array.from([-1, 2, -3, 4, -5, 6]), [2, 3]);
  const ids = new ort.Tensor('int64', BigInt64Array.from([1n, -2n, 2n ** 40n]), [3]);
  for (const worker of [false, true]) {
    const m = await loadModel(bytes, { worker });
    const fx = await createFeatureExtractor(m, { returnNodes: { relu: 'r', add: 'twice' } });
    const out = await fx.run({ x, ids });
    assert.deepEqual(Array.from(out.r.data), [0, 2, 0, 4, 0, 6]);
    assert.equal(out.twice.type, 'int64');
    assert.ok(out.twice.data instanceof BigInt64Array);
    assert.deepEqual(Array.from(out.twice.data), [2n, -4n, 2n ** 41n]);
    await assert.rejects(fx.run({ x: new ort.Tensor('float32', new Float32Array(6), [6]), ids }), BadInputError);
    m.dispose();
  }
});
