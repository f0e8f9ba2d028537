// createFeatureExtractor(model, { onProgress }): progress while the extractor reads and packs its
// weights (the long part of starting a big model), in this thread and from a worker: bytes done
// of the total, never going back, ending at the total of the nodes it keeps; a callback that
// throws fails the call and leaves nothing behind.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, createFeatureExtractor } from '../../web/index.js';
import { loadWasm } from '../../web/src/loader.js';
import { modelPath } from './helpers.mjs';

async function progressOf(model, returnNodes) {
  const calls = [];
  await createFeatureExtractor(model, { returnNodes, onProgress: (done, total) => calls.push([done, total]) });
  return calls;
}

function checkCalls(calls, what) {
  assert.ok(calls.length >= 2 && calls.length <= 102, `${what}: ${calls.length} calls, about one per 1%`);
  const total = calls[0][1];
  calls.forEach(([done, t], i) => {
    assert.equal(t, total, `${what}: the total stays`);
    if (i) assert.ok(done >= calls[i - 1][0], `${what}: never goes back`);
  });
  assert.equal(calls.at(-1)[0], total, `${what}: ends at the total`);
  return total;
}

for (const worker of [false, true]) {
  test(`progress while weights are packed (${worker ? 'worker' : 'this thread'}), for the kept nodes only`, async () => {
    const model = await loadModel(modelPath('resnet18'), { worker });
    try {
      const whole = checkCalls(await progressOf(model, ['fc']), 'whole');
      assert.ok(whole > 44e6 && whole < 47e6, `resnet18's 11.7 M weights: ${whole} bytes`);
      const pruned = checkCalls(await progressOf(model, ['layer1']), 'layer1');
      assert.ok(pruned < 0.05 * whole, `up to layer1 reads ${pruned} bytes`);
    } finally {
      await model.dispose();
    }
  });
}

test('an onProgress that throws fails createFeatureExtractor with its error, and frees the extractor', async () => {
  const { mod } = await loadWasm();
  const model = await loadModel(modelPath('resnet18'));
  try {
    await createFeatureExtractor(model, { returnNodes: ['layer1'] }); // one-time allocations first
    const before = mod._ofx_wasm_heap_used();
    const oops = new Error('progress bar broke');
    await assert.rejects(createFeatureExtractor(model, { returnNodes: ['fc'], onProgress: () => { throw oops; } }), (e) => e === oops);
    assert.equal(mod._ofx_wasm_heap_used(), before, 'nothing left behind');
    const fx = await createFeatureExtractor(model, { returnNodes: ['fc'] }); // and the engine goes on
    assert.ok(fx);
    await assert.rejects(createFeatureExtractor(model, { returnNodes: ['fc'], onProgress: 3 }),
      (e) => e.code === 'INVALID_ARGUMENT' && /onProgress must be a function/.test(e.message));
  } finally {
    await model.dispose();
  }
});
