// Feature extraction against torchvision's create_feature_extractor on the same weights.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, createFeatureExtractor, Tensor, OnnxfxError } from '../../web/index.js';
import { loadReference, maxRelativeError, modelPath, readF32 } from './helpers.mjs';

for (const name of ['resnet18', 'mobilenet_v2']) {
  const ref = loadReference(name);
  ref.cases.forEach((c, index) => {
    test(`${name} case ${index} (batch ${c.input.dims[0]}): features match torchvision to 1e-4`, async () => {
      const model = await loadModel(modelPath(name));
      const x = new Tensor('float32', readF32(c.input.file), c.input.dims);
      // one extractor per reference: a truncated name and a full one may be the same node
      for (const node of Object.keys(c.features)) {
        const fx = await createFeatureExtractor(model, { returnNodes: { [node]: `out:${node}` } });
        const got = (await fx.run(x))[`out:${node}`];
        fx.dispose();
        assert.ok(got, `${node} returned`);
        assert.deepEqual(got.dims, c.features[node].dims, `${node} dims`);
        const err = maxRelativeError(got.data, readF32(c.features[node].file));
        assert.ok(err < 1e-4, `${node}: max relative error ${err}`);
      }
      model.dispose();
    });
  });
}

test('outputs come in execution order whatever the request order', async () => {
  const model = await loadModel(modelPath('resnet18'));
  const fx = await createFeatureExtractor(model, { returnNodes: { layer4: 'late', layer1: 'early' } });
  const c = loadReference('resnet18').cases[0];
  const out = await fx.run({ x: { type: 'float32', data: readF32(c.input.file), dims: c.input.dims } });
  assert.deepEqual(Object.keys(out), ['early', 'late']);
  const list = await createFeatureExtractor(model, { returnNodes: ['layer2', 'maxpool'] });
  assert.deepEqual(Object.keys(await list.run(new Tensor('float32', readF32(c.input.file), c.input.dims))), ['maxpool', 'layer2']);
  model.dispose();
});

test('pruning: extracting layer1 plans fewer nodes than the full graph', async () => {
  const model = await loadModel(modelPath('resnet18'));
  const early = await createFeatureExtractor(model, { returnNodes: ['layer1'] });
  const full = await createFeatureExtractor(model, { returnNodes: ['fc'] });
  const graphNodes = model.nodes.filter((n) => n.opType !== 'Input').length;
  assert.equal(full.plannedNodeCount, graphNodes);
  assert.ok(early.plannedNodeCount < full.plannedNodeCount / 3, `${early.plannedNodeCount} vs ${full.plannedNodeCount}`);
  const input = await createFeatureExtractor(model, { returnNodes: ['x'] });
  assert.equal(input.plannedNodeCount, 0, 'a graph input needs no node');
  model.dispose();
});

test('profile() times each executed node of the pruned plan, here and in a worker', async () => {
  for (const worker of [false, true]) {
    const model = await loadModel(modelPath('resnet18'), { worker });
    const fx = await createFeatureExtractor(model, { returnNodes: ['layer1'] });
    const x = new Tensor('float32', new Float32Array(3 * 224 * 224).fill(0.5), [1, 3, 224, 224]);
    const steps = await fx.profile(x, { runs: 2 });
    const convs = steps.filter((s) => s.opType === 'Conv');
    assert.equal(convs.length, 5, 'conv1 and layer1\'s four convolutions');
    assert.ok(convs.every((s) => s.ms > 0), 'every convolution took time');
    const stepNames = steps.map((s) => s.name);
    assert.ok(!stepNames.includes('relu') && !stepNames.includes('layer1.0.relu'), 'a Relu after a Conv is fused into it');
    assert.ok(stepNames.includes('layer1.0.add') && !stepNames.includes('layer1.0.relu_1'), 'the residual Add runs, its Relu fused into it');
    assert.ok(steps.length <= fx.plannedNodeCount + 1);
    assert.deepEqual(steps.at(-1).name, null);
    assert.equal(steps.at(-1).opType, 'OutputCopy');
    const names = model.nodes.map((n) => n.name);
    const order = steps.slice(0, -1).map((s) => names.indexOf(s.name));
    assert.deepEqual(order, [...order].sort((a, b) => a - b), 'execution order');
    await assert.rejects(fx.profile(x, { runs: 0 }), (err) => err.code === 'INVALID_ARGUMENT');
    const after = await fx.run(x); // profiling is off again and results are unchanged
    assert.deepEqual(after.layer1.dims, [1, 64, 56, 56]);
    model.dispose();
  }
});

test('fuse: false runs every activation as its own step, with the same values', async () => {
  const model = await loadModel(modelPath('resnet18'));
  const x = new Tensor('float32', Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i * 0.01)), [1, 3, 224, 224]);
  const fused = await createFeatureExtractor(model, { returnNodes: ['layer1'] });
  const plain = await createFeatureExtractor(model, { returnNodes: ['layer1'], fuse: false });
  const names = (steps) => steps.map((s) => s.name);
  const fusedSteps = names(await fused.profile(x)), plainSteps = names(await plain.profile(x));
  for (const relu of ['relu', 'layer1.0.relu', 'layer1.0.relu_1']) {
    assert.ok(!fusedSteps.includes(relu), `${relu} fused`);
    assert.ok(plainSteps.includes(relu), `${relu} runs with fuse: false`);
  }
  assert.match(await plain.explain(), /fused 0,/);
  assert.match(await fused.explain(), /fused [1-9]/);
  const a = (await fused.run(x)).layer1.data, b = (await plain.run(x)).layer1.data;
  assert.deepEqual(a, b, 'fusion changes no value');
  await model.dispose();
});

test('unknown names throw NODE_NOT_FOUND with a hint; layer1 never matches layer10', async () => {
  const model = await loadModel(modelPath('resnet18'));
  for (const bad of ['layer5', 'layer1.0.con', 'layer10', 'fc.']) {
    await assert.rejects(createFeatureExtractor(model, { returnNodes: [bad] }), (err) => {
      assert.ok(err instanceof OnnxfxError);
      assert.equal(err.code, 'NODE_NOT_FOUND');
      assert.match(err.message, new RegExp(`'${bad.replace('.', '\\.')}' is not present`));
      assert.match(err.message, /getGraphNodeNames/);
      return true;
    });
  }
  model.dispose();
});

test('argument rules follow torchvision', async () => {
  const model = await loadModel(modelPath('resnet18'));
  const invalid = (options, re) => assert.rejects(createFeatureExtractor(model, options), (err) => {
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.match(err.message, re);
    return true;
  });
  await invalid({}, /Either `returnNodes` or `trainReturnNodes` and `evalReturnNodes`/);
  await invalid({ trainReturnNodes: ['layer1'] }, /both should be specified/);
  await invalid({ returnNodes: ['fc'], trainReturnNodes: ['layer1'], evalReturnNodes: ['layer1'] }, /`returnNodes` should not be specified/);
  await invalid({ returnNodes: { layer1: 'a', layer2: 'a' } }, /used twice/);
  const fx = await createFeatureExtractor(model, { trainReturnNodes: ['layer1'], evalReturnNodes: ['layer2'] });
  const c = loadReference('resnet18').cases[0];
  const x = new Tensor('float32', readF32(c.input.file), c.input.dims);
  assert.equal(fx.training, false, 'starts in eval');
  assert.deepEqual(Object.keys(await fx.run(x)), ['layer2']);
  assert.deepEqual(Object.keys(await fx.train().run(x)), ['layer1']);
  assert.deepEqual(Object.keys(await fx.eval().run(x)), ['layer2']);
  model.dispose();
});

test('bad inputs give BAD_INPUT naming the input, and the extractor still works after', async () => {
  const model = await loadModel(modelPath('resnet18'));
  const fx = await createFeatureExtractor(model, { returnNodes: ['layer1'] });
  const badShape = new Tensor('float32', new Float32Array(3 * 100), [1, 3, 100]);
  await assert.rejects(fx.run(badShape), (err) => err.code === 'BAD_INPUT' && /input 'x': expected float32 \[batch, 3, 224, 224\], got float32 \[1, 3, 100\]/.test(err.message));
  await assert.rejects(fx.run(new Tensor('int32', new Int32Array(3 * 224 * 224), [1, 3, 224, 224])), (err) => err.code === 'BAD_INPUT' && /got int32/.test(err.message));
  await assert.rejects(fx.run({ y: badShape }), (err) => err.code === 'BAD_INPUT' && /input 'x' is missing/.test(err.message));
  assert.throws(() => new Tensor('float32', new Float32Array(5), [2, 3]), /need 6 elements/);
  const c = loadReference('resnet18').cases[0];
  const out = await fx.run(new Tensor('float32', readF32(c.input.file), c.input.dims));
  assert.ok(maxRelativeError(out.layer1.data, readF32(c.features.layer1.file)) < 1e-4);
  model.dispose();
});

test('malformed models give BAD_MODEL and leave the module usable', async () => {
  const bytes = new Uint8Array(await (await import('node:fs/promises')).readFile(modelPath('mobilenet_v2')));
  for (const cut of [1, 100, 5000, bytes.length >> 1, bytes.length - 3]) {
    await assert.rejects(loadModel(bytes.subarray(0, cut)), (err) => {
      assert.equal(err.code, 'BAD_MODEL', `cut at ${cut}: ${err.message}`);
      assert.match(err.message, /invalid ONNX model|not|past|no graph/);
      return true;
    });
  }
  await assert.rejects(loadModel(new Uint8Array([0x3a, 0x05, 0x0a])), (err) => err.code === 'BAD_MODEL' && /byte offset|past the end/.test(err.message));
  const model = await loadModel(bytes);
  assert.ok(model.nodes.length > 100);
  model.dispose();
});

test('disposed models and extractors refuse to run', async () => {
  const model = await loadModel(modelPath('resnet18'));
  const fx = await createFeatureExtractor(model, { returnNodes: ['layer1'] });
  model.dispose();
  await assert.rejects(fx.run(new Tensor('float32', new Float32Array(3 * 224 * 224), [1, 3, 224, 224])), (err) => err.code === 'DISPOSED');
  await assert.rejects(createFeatureExtractor(model, { returnNodes: ['fc'] }), (err) => err.code === 'DISPOSED');
});
