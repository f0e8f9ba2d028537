// One async engine interface: both engines (in this thread, in a worker) answer every call
// with a promise; dispose() of models and extractors returns a promise to await (so does
// Symbol.asyncDispose, what `await using` calls), is idempotent, and a model's takes its
// extractors along; toONNX() and explain() answer in both modes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { loadModel, createFeatureExtractor, Tensor, BadInputError, DisposedError, InvalidArgumentError } from '../../web/index.js';
import { LocalEngine } from '../../web/src/engine.js';
import { WorkerEngine } from '../../web/src/worker-client.js';
import { relaxedSimdSupported } from '../../web/src/loader.js';
import { heapUsed, modelPath } from './helpers.mjs';
import * as W from './onnx-writer.mjs';

const ort = createRequire(import.meta.url)('onnxruntime-node');
const conv = W.convReluModel();
const x = (seed = 3) => new Tensor('float32', W.floats(192, seed), [1, 3, 8, 8]);

function assertClose(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) < 1e-5, `${what}: element ${i}`);
}


/** Records each worker_threads Worker once its terminate() has finished. */
function watchWorkers() {
  const original = Worker.prototype.terminate;
  const stopped = [];
  Worker.prototype.terminate = function terminate(...args) {
    const done = original.apply(this, args);
    done.then(() => stopped.push(this));
    return done;
  };
  return { stopped, restore: () => { Worker.prototype.terminate = original; } };
}

test('both engines answer call(type, in) with a promise, and refuse unknown operations', async () => {
  const engines = { local: await LocalEngine.create(), worker: await WorkerEngine.create() };
  try {
    for (const [where, engine] of Object.entries(engines)) {
      const info = engine.call('info', undefined);
      assert.ok(info instanceof Promise, where);
      const { threaded, backend } = await info;
      assert.equal(threaded, true, where);
      assert.equal(backend.simd, relaxedSimdSupported() ? 'relaxed' : 'simd128', where);
      assert.equal(backend.threads, 1, where);
      const model = await engine.call('loadModel', { bytes: conv.bytes, externals: [] });
      const fx = await engine.call('createExtractor', { model: model.handle, names: ['relu'], train: false });
      const input = x();
      const tensors = [{ type: input.type, data: input.data, dims: input.dims }];
      const calls = {
        run: { handle: fx.handle, tensors },
        profile: { handle: fx.handle, tensors, runs: 1 },
        toOnnx: { handle: fx.handle, names: ['y'] },
        explain: { handle: fx.handle },
        inferShapes: { handle: model.handle },
      };
      for (const [type, payload] of Object.entries(calls)) {
        const answer = engine.call(type, payload);
        assert.ok(answer instanceof Promise, `${where} ${type}`);
        await answer;
      }
      await assert.rejects(engine.call('nope', {}), (e) => e instanceof InvalidArgumentError && /unknown engine operation 'nope'/.test(e.message), where);
      // freeModel frees the model's extractors too; freeing again is harmless; the handle is dead
      await engine.call('freeModel', { handle: model.handle });
      await engine.call('freeExtractor', { handle: fx.handle });
      await engine.call('freeModel', { handle: model.handle });
      await assert.rejects(engine.call('run', { handle: fx.handle, tensors }), DisposedError, where);
    }
  } finally {
    await engines.worker.terminate();
  }
});

test('in this thread: await model.dispose() frees the model and its extractors; one promise however often it is called', async () => {
  const warm = await loadModel(conv.bytes);
  await (await createFeatureExtractor(warm, { returnNodes: ['relu'] })).run(x()); // first-use allocations
  await warm.dispose();
  const before = await heapUsed();

  const model = await loadModel(conv.bytes);
  const fx = await createFeatureExtractor(model, { returnNodes: ['relu'] });
  const other = await createFeatureExtractor(model, { returnNodes: ['conv'] });
  await fx.run(x());
  assert.ok((await heapUsed()) > before);
  const disposing = model.dispose();
  assert.ok(disposing instanceof Promise);
  assert.equal(model.dispose(), disposing, 'a second call returns the same promise');
  assert.equal(await disposing, undefined);
  assert.equal(await heapUsed(), before, 'model and both extractors freed');
  await assert.rejects(fx.run(x()), DisposedError);
  await assert.rejects(other.run(x()), DisposedError);
  await assert.rejects(createFeatureExtractor(model, { returnNodes: ['relu'] }), DisposedError);
  assert.equal(await fx.dispose(), undefined, 'disposing an extractor its model took along is harmless');
});

test('in this thread: extractor dispose() is awaitable; Symbol.dispose finishes on return, Symbol.asyncDispose awaits', async () => {
  const model = await loadModel(conv.bytes);
  await (await createFeatureExtractor(model, { returnNodes: ['relu'] })).run(x()); // first-use allocations
  const before = await heapUsed();
  const fx = await createFeatureExtractor(model, { returnNodes: ['relu'] });
  await fx.run(x());
  const disposing = fx.dispose();
  assert.ok(disposing instanceof Promise);
  assert.equal(fx.dispose(), disposing);
  await disposing;
  assert.equal(await heapUsed(), before, 'the extractor is freed; the model stays');
  await assert.rejects(fx.run(x()), DisposedError);

  const sync = await createFeatureExtractor(model, { returnNodes: ['relu'] });
  assert.equal(sync[Symbol.dispose](), undefined);
  assert.equal(await heapUsed(), before, '`using`: freed when Symbol.dispose returns');
  const viaAsync = await createFeatureExtractor(model, { returnNodes: ['relu'] });
  await viaAsync.run(x());
  const asyncDone = viaAsync[Symbol.asyncDispose]();
  assert.ok(asyncDone instanceof Promise);
  await asyncDone;
  assert.equal(await heapUsed(), before, '`await using`: freed when Symbol.asyncDispose resolves');
  await assert.rejects(viaAsync.run(x()), DisposedError);

  const all = await heapUsed();
  const again = await loadModel(conv.bytes);
  await (await createFeatureExtractor(again, { returnNodes: ['conv', 'relu'] })).run(x());
  await again[Symbol.asyncDispose]();
  assert.equal(await heapUsed(), all, 'a model through Symbol.asyncDispose, with its extractor');
  await model.dispose();
});

test('in a worker: await dispose() frees extractors and models; the last model\'s resolves once the worker has stopped', async () => {
  const watch = watchWorkers();
  try {
    const a = await loadModel(conv.bytes, { worker: true });
    const b = await loadModel(conv.bytes, { worker: true });
    const fxA = await createFeatureExtractor(a, { returnNodes: ['relu'] });
    const fxB = await createFeatureExtractor(b, { returnNodes: ['relu'] });
    const fxB2 = await createFeatureExtractor(b, { returnNodes: ['conv'] });

    const fxDone = fxB2.dispose();
    assert.ok(fxDone instanceof Promise);
    assert.equal(fxB2.dispose(), fxDone);
    await fxDone;
    await assert.rejects(fxB2.run(x()), DisposedError);

    const queued = fxA.run(x()); // sent before the dispose: runs first
    const disposing = a.dispose();
    assert.ok(disposing instanceof Promise);
    assert.equal(a.dispose(), disposing);
    await disposing;
    assertClose((await queued).relu.data, conv.reference(x().data), 'the run queued before the dispose');
    await assert.rejects(fxA.run(x()), DisposedError);
    assert.equal(watch.stopped.length, 0, 'b still uses the worker');

    assertClose((await fxB.run(x(4))).relu.data, conv.reference(x(4).data), 'b after a was disposed');
    const last = b[Symbol.asyncDispose]();
    assert.ok(last instanceof Promise);
    await last;
    assert.equal(watch.stopped.length, 1, 'the worker had stopped when the last model\'s dispose resolved');
    await assert.rejects(fxB.run(x()), DisposedError);
    assert.equal(await b.dispose(), undefined, 'and again is harmless');
    assert.equal(await fxB.dispose(), undefined);
  } finally {
    watch.restore();
  }
});

test('dispose() never rejects: a worker that has already gone took everything with it', async () => {
  const model = await loadModel(conv.bytes, { worker: true });
  const fx = await createFeatureExtractor(model, { returnNodes: ['relu'] });
  const other = await createFeatureExtractor(model, { returnNodes: ['conv'] });
  await model._engine().terminate(); // the worker stops behind the model's back
  await assert.rejects(fx.run(x()), DisposedError);
  assert.equal(await fx.dispose(), undefined);
  other[Symbol.dispose](); // not awaited: must not end up an unhandled rejection
  model[Symbol.dispose]();
  assert.equal(await model.dispose(), undefined);
  await new Promise((resolve) => setTimeout(resolve, 20));
});

test('a model disposed while an extractor is being made: the extractor is refused and freed, in both modes', async () => {
  const warm = await loadModel(conv.bytes);
  await (await createFeatureExtractor(warm, { returnNodes: ['relu'] })).run(x());
  await warm.dispose();
  const before = await heapUsed();
  for (const worker of [false, true]) {
    const model = await loadModel(conv.bytes, { worker });
    const refused = assert.rejects(createFeatureExtractor(model, { returnNodes: ['relu'] }), DisposedError);
    await model.dispose();
    await refused;
  }
  assert.equal(await heapUsed(), before, 'nothing left in this thread\'s heap');
});

test('toONNX() returns a promise of the pruned model in both modes: the same bytes, and onnxruntime-node runs them', async () => {
  const bytes = {};
  for (const worker of [false, true]) {
    const model = await loadModel(conv.bytes, { worker });
    const fx = await createFeatureExtractor(model, { returnNodes: { relu: 'features' } });
    const answer = fx.toONNX();
    assert.ok(answer instanceof Promise);
    const onnx = await answer;
    assert.ok(onnx instanceof Uint8Array);
    bytes[worker] = onnx;
    const session = await ort.InferenceSession.create(onnx);
    assert.deepEqual([...session.outputNames], ['features']);
    const input = W.floats(192, 9);
    const out = await session.run({ x: new ort.Tensor('float32', input, [1, 3, 8, 8]) });
    assert.deepEqual(out.features.dims, [1, 4, 8, 8]);
    assertClose(out.features.data, conv.reference(input), `onnxruntime-node on the pruned model${worker ? ' from a worker' : ''}`);
    assert.deepEqual(await fx.toONNXAsync(), onnx, 'the deprecated alias');
    await model.dispose();
    await assert.rejects(fx.toONNX(), DisposedError);
  }
  assert.deepEqual(bytes.true, bytes.false);
});

test('explain(input?) gives the plan as text naming the requested nodes, in this thread and in a worker', async () => {
  const texts = {};
  for (const worker of [false, true]) {
    const model = await loadModel(modelPath('resnet18'), { worker });
    const fx = await createFeatureExtractor(model, { returnNodes: { layer1: 'l1', 'layer2.0.conv1': 'c' } });
    // resnet18's batch dim is symbolic: nothing to plan for before an input is given
    await assert.rejects(fx.explain(), (e) => e instanceof BadInputError && /batch/.test(e.message));
    await assert.rejects(fx.explain(42), BadInputError);
    const answer = fx.explain(new Tensor('float32', new Float32Array(2 * 3 * 224 * 224), [2, 3, 224, 224]));
    assert.ok(answer instanceof Promise);
    const text = await answer;
    assert.equal(typeof text, 'string');
    assert.match(text, /layer1\.1\.relu_1/, 'layer1, truncated, is its last node');
    assert.match(text, /layer2\.0\.conv1/);
    assert.doesNotMatch(text, /layer3|layer4|\bfc\b/, 'pruned nodes are not in the plan');
    assert.match(await fx.explain(), /layer2\.0\.conv1/, 'without an input: the one bound last');
    texts[worker] = text;
    await model.dispose();
    await assert.rejects(fx.explain(), DisposedError);
  }
  assert.equal(texts.true, texts.false, 'the same plan in a worker');

  // static declared shapes: explain() plans for them
  for (const worker of [false, true]) {
    const model = await loadModel(conv.bytes, { worker });
    const fx = await createFeatureExtractor(model, { returnNodes: ['relu'] });
    assert.match(await fx.explain(), /\brelu\b/);
    assertClose((await fx.run(x())).relu.data, conv.reference(x().data), 'a run after explain()');
    await model.dispose();
  }
});
