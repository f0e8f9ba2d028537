// The whole 4 GiB wasm32 heap, single-threaded and threaded: a model with a 780 MiB initializer,
// its input and two requested outputs of the same size hold more than 3 GiB at once, so model
// bytes, the input block, the arena and the outputs all sit past 2 GiB, where a pointer read as
// a signed 32-bit number turns negative (a bare RangeError, or data read from the wrong place).
// Values are checked at both ends and in between; heap use is read from malloc itself. Then an
// absurd request gets an OUT_OF_MEMORY OnnxfxError that says how many bytes, not a RangeError.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, createFeatureExtractor, Tensor, OnnxfxError } from '../../web/index.js';
import { loadWasm } from '../../web/src/loader.js';
import * as W from './onnx-writer.mjs';

const GiB = 1024 ** 3;
const N = (780 * 1024 ** 2) / 4; // floats per tensor: 780 MiB


async function heapInUse(numThreads) {
  const loaded = await loadWasm({ numThreads });
  const mod = loaded.mod ?? loaded;
  return mod._ofx_wasm_heap_used();
}

for (const numThreads of [1, 2]) {
  test(`${numThreads === 1 ? 'single-threaded' : 'threaded'}: past 2 and 3 GiB of heap, values stay right`, async () => {
    let bytes = W.addMulModel(N);
    const model = await loadModel(bytes, { numThreads });
    bytes = null;
    try {
      const fx = await createFeatureExtractor(model, { returnNodes: ['add', 'mul'] });
      const x = new Float32Array(N).fill(1);
      const out = await fx.run(new Tensor('float32', x, [N]));
      const used = await heapInUse(numThreads);
      assert.ok(used > 3 * GiB, `heap in use during the run: ${used} bytes, more than 3 GiB expected`);
      const y = out.add.data, z = out.mul.data;
      assert.equal(y.length, N);
      for (const i of [0, 1, 1000, N >>> 1, N - 1009, N - 2, N - 1]) {
        const want = 1 + (i % 1009) * 0.5;
        assert.equal(y[i], want, `add[${i}]`);
        assert.equal(z[i], 2 * want, `mul[${i}]`);
      }
      for (let i = 0; i < N; i += 99991) assert.equal(z[i], 2 * (1 + (i % 1009) * 0.5), `mul[${i}]`);
      await fx.dispose();
    } finally {
      await model.dispose();
    }
  });
}

test('a request past what the heap can hold is an OUT_OF_MEMORY OnnxfxError with its size', async () => {
  // Expand of a scalar to 2^31 floats: 8 GiB, more than the whole wasm32 heap
  const bytes = W.model({
    graph: W.graph({
      nodes: [W.node('Expand', ['x', 'shape'], ['y'], { name: 'expand' })],
      inputs: [W.valueInfo('x', W.FLOAT, [1])],
      outputs: [W.valueInfo('y', W.FLOAT, null)],
      initializers: [W.tensor({ name: 'shape', dims: [2], dataType: W.INT64, raw: new Uint8Array(BigInt64Array.of(65536n, 32768n).buffer) })],
    }),
  });
  const model = await loadModel(bytes);
  try {
    const fx = await createFeatureExtractor(model, { returnNodes: ['expand'] });
    await assert.rejects(fx.run(new Tensor('float32', Float32Array.of(1), [1])), (err) => {
      assert.ok(err instanceof OnnxfxError, `an OnnxfxError, not ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.code, 'OUT_OF_MEMORY');
      assert.match(err.message, /expand/);
      assert.match(err.message, /\d{6,} bytes|too large/);
      return true;
    });
  } finally {
    await model.dispose();
  }
});

test('external data stays outside the heap: read as each weight is packed, never held whole', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-deferred-'));
  const K = 10000, M = 3; // three [K, K] float32 weights: 1.2 GB of external data
  try {
    const file = new Float32Array(M * K * K);
    for (let m = 0; m < M; m++)
      for (let i = 0; i < K; i++) for (let j = 0; j < K; j += 997) file[(m * K + i) * K + j] = m * 1000 + (i % 97) + j / 100000;
    writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(file.buffer));
    const ext = (m) => [
      W.int(14, 1),
      W.msg(13, W.str(1, 'location'), W.str(2, 'weights.bin')),
      W.msg(13, W.str(1, 'offset'), W.str(2, String(m * K * K * 4))),
      W.msg(13, W.str(1, 'length'), W.str(2, String(K * K * 4))),
    ];
    const bytes = W.model({
      graph: W.graph({
        nodes: [0, 1, 2].map((m) => W.node('MatMul', ['x', `w${m}`], [`y${m}`], { name: `mm${m}` })),
        inputs: [W.valueInfo('x', W.FLOAT, [1, K])],
        outputs: [0, 1, 2].map((m) => W.valueInfo(`y${m}`, W.FLOAT, [1, K])),
        initializers: [0, 1, 2].map((m) => W.tensor({ name: `w${m}`, dims: [K, K], extra: ext(m) })),
      }),
    });
    writeFileSync(path.join(dir, 'model.onnx'), bytes);
    const before = await heapInUse(1);
    const model = await loadModel(path.join(dir, 'model.onnx'), { numThreads: 1 });
    try {
      assert.ok((await heapInUse(1)) - before < 64 * 1024 ** 2, 'loading reads no external data into the heap');
      const fx = await createFeatureExtractor(model, { returnNodes: ['mm0', 'mm1', 'mm2'] });
      const held = (await heapInUse(1)) - before;
      // the packed weights (1.2 GB) are there; the file's 1.2 GB are not, nor were they at once
      assert.ok(held > 1.1 * GiB && held < 1.5 * GiB, `heap held after create: ${held} bytes`);
      const row = 4321;
      const x = new Float32Array(K);
      x[row] = 1;
      const out = await fx.run(new Tensor('float32', x, [1, K]));
      for (let m = 0; m < M; m++)
        for (const j of [0, 997, 5982, 9970]) {
          assert.equal(out[`mm${m}`].data[j], Math.fround(m * 1000 + (row % 97) + j / 100000), `mm${m}[${j}]`);
        }
      await fx.dispose();
    } finally {
      await model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
