// A QDQ layer is put on the 8-bit kernels as its step is built (ofx_fuse_init_quantized), so its
// float weights are never computed and packed only to be freed: while an extractor for a MatMul
// with 16 MiB of int8 weights (64 MiB as float) is built, the heap holds the 8-bit packing
// (32 MiB) and never the float one. Before, the float packing lived until the fuse pass.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, createFeatureExtractor, Tensor } from '../../web/index.js';
import { loadWasm } from '../../web/src/loader.js';
import * as W from './onnx-writer.mjs';

const K = 4096, N = 4096; // 16 MiB of int8 weights
const MiB = 1 << 20;

function qdqMatMul() {
  const wq = new Int8Array(K * N);
  for (let i = 0; i < wq.length; i++) wq[i] = ((i * 2654435761) >>> 24) - 128;
  const ws = Float32Array.from({ length: N }, (_, j) => 0.001 + (j % 7) * 0.0005);
  const raw = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return W.model({
    graph: W.graph({
      nodes: [
        W.node('QuantizeLinear', ['x', 'xs', 'xzp'], ['xq'], { name: 'q' }),
        W.node('DequantizeLinear', ['xq', 'xs', 'xzp'], ['xdq'], { name: 'dq' }),
        W.node('DequantizeLinear', ['wq', 'ws'], ['w'], { name: 'wdq', rawAttrs: [W.attr('axis', 1)] }),
        W.node('MatMul', ['xdq', 'w'], ['y'], { name: 'fc' }),
      ],
      inputs: [W.valueInfo('x', W.FLOAT, [1, K])],
      outputs: [W.valueInfo('y', W.FLOAT, [1, N])],
      initializers: [
        W.tensor({ name: 'xs', dims: [], raw: raw(Float32Array.of(0.02)) }),
        W.tensor({ name: 'xzp', dims: [], dataType: W.UINT8, raw: Uint8Array.of(128) }),
        W.tensor({ name: 'wq', dims: [K, N], dataType: W.INT8, raw: raw(wq) }),
        W.tensor({ name: 'ws', dims: [N], raw: raw(ws) }),
      ],
    }),
  });
}

test('creating a QDQ extractor never holds its weights as float', async () => {
  const { mod } = await loadWasm();
  const model = await loadModel(qdqMatMul());
  // packing progress is reported after each step is built, on this thread: the heap in use
  // then is what the built steps hold before any later pass could free it
  let peak = 0;
  const onProgress = () => (peak = Math.max(peak, mod._ofx_wasm_heap_used()));
  const fx = await createFeatureExtractor(model, { returnNodes: ['fc'], onProgress });
  assert.ok(peak > 0, 'progress was reported');
  assert.ok(peak < 48 * MiB, `${(peak / MiB).toFixed(1)} MiB of heap in use while building (the float weights alone are 64 MiB)`);
  assert.match(await fx.explain(), /steps: 1 run/, 'Q and DQ fused into the 8-bit MatMul');
  const x = Float32Array.from({ length: K }, (_, i) => Math.sin(i) * 2);
  const y = (await fx.run(new Tensor('float32', x, [1, K]))).fc.data;
  assert.equal(y.length, N);
  assert.ok(y.every(Number.isFinite) && y.some((v) => v !== 0));
  await model.dispose();
});
