// The relaxed-SIMD builds (web/dist/onnxfx-relaxed{,-st}: FMA micro-kernels) against the SIMD128
// ones. Here, in the test runner's own Node: the `simd` option is checked, and the build 'auto'
// picks follows WebAssembly.validate of the relaxed probe (Node 20 without a flag: SIMD128, and
// forcing 'relaxed' is a clear error). In a child `node --experimental-wasm-relaxed-simd`
// (relaxed-simd.child.mjs): 'relaxed' runs the relaxed build, threaded and single-thread, in this
// thread and in a worker, model.backend and explain() say so, while 'auto' keeps SIMD128 in
// Node < 22 (relaxed SIMD there is behind the flag and slower: docs/benchmarks.md), and torchvision's sampled nodes of
// three models (3x3 convs, 1x1 convs and Linear layers through GEMM/IGEMM, 3x3 and 5x5 depthwise)
// agree between the builds to RELAXED_TOLERANCE relative to the largest magnitude (docs/api.md),
// and with torchvision to the zoo's 1e-4; 8-bit models written here (QDQ, dynamic) give the same
// bits in both builds, threaded and not. Without the relaxed files in dist/, 'auto' falls back.
import test from 'node:test';
import os from 'node:os';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadModel, InvalidArgumentError } from '../../web/index.js';
import { relaxedSimdSupported } from '../../web/src/loader.js';
import { modelPath } from './helpers.mjs';

const RELAXED_TOLERANCE = 1e-5;
const TORCH_TOLERANCE = 1e-4;
const MODELS = ['resnet18', 'mobilenet_v2', 'efficientnet_b0'];
const child = fileURLToPath(new URL('./relaxed-simd.child.mjs', import.meta.url));
// Node 20 needs the flag; a Node whose V8 has dropped it runs relaxed SIMD without one.
const FLAG = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e', '0']).status === 0
  ? ['--experimental-wasm-relaxed-simd'] : [];

test('the simd option takes auto, relaxed or simd128, and nothing else', async () => {
  await assert.rejects(loadModel(modelPath('resnet18'), { simd: 'relaxd' }),
    (e) => e instanceof InvalidArgumentError && /simd must be 'auto', 'relaxed' or 'simd128', got 'relaxd'; did you mean 'relaxed'\?/.test(e.message));
  await assert.rejects(loadModel(modelPath('resnet18'), { simd: true }), InvalidArgumentError);
  const model = await loadModel(modelPath('resnet18'), { simd: 'simd128' });
  assert.equal(model.backend.simd, 'simd128');
  assert.equal(model.backend.kernels.arch, 'wasmsimd');
  assert.equal(model.backend.kernels.f32_gemm, 'ofx_f32_gemm_minmax_ukernel_4x8__wasmsimd_loadsplat');
  assert.ok(Object.isFrozen(model.backend));
  await model.dispose();
});

test("'auto' follows what this engine validates; forcing 'relaxed' where it cannot run is an error", async () => {
  const model = await loadModel(modelPath('resnet18'));
  if (relaxedSimdSupported()) {
    assert.equal(model.backend.simd, 'relaxed');
  } else {
    assert.equal(model.backend.simd, 'simd128');
    await assert.rejects(loadModel(modelPath('resnet18'), { simd: 'relaxed' }),
      (e) => e instanceof InvalidArgumentError && /does not support WebAssembly relaxed SIMD.*--experimental-wasm-relaxed-simd/.test(e.message));
  }
  // threads by default: the machine's cores, capped by the 4-worker pool plus this thread
  assert.equal(model.backend.threads, Math.min(os.availableParallelism(), 5));
  await model.dispose();
});

for (const threads of ['mt', 'st']) {
  test(`node ${FLAG.join(' ')} (${threads === 'mt' ? 'threaded' : 'single-thread'}): the relaxed build runs and agrees with SIMD128 to ${RELAXED_TOLERANCE}`, () => {
    const models = threads === 'mt' ? MODELS : MODELS.slice(1, 2);
    const r = spawnSync(process.execPath, [...FLAG, child, threads, ...models], { encoding: 'utf8', timeout: 600_000 });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1));
    assert.equal(report.supported, true, 'the relaxed probe validates under the flag');
    const relaxedByDefault = Number(process.versions.node.split('.')[0]) >= 22;
    assert.equal(report.auto, relaxedByDefault ? 'relaxed' : 'simd128', "'auto' takes relaxed SIMD only where the engine ships it");
    assert.deepEqual(report.worker, { inWorker: true, simd: 'relaxed', arch: 'wasmrelaxedsimd' });
    assert.deepEqual(report.models.map((m) => m.name), models);
    for (const m of report.models) {
      const [relaxed, simd128] = m.backends;
      assert.equal(relaxed.simd, 'relaxed', `${m.name}: simd: 'relaxed' runs the relaxed build`);
      assert.equal(relaxed.threads, threads === 'mt' ? 2 : 1);
      assert.deepEqual(relaxed.kernels, {
        arch: 'wasmrelaxedsimd',
        f32_gemm: 'ofx_f32_gemm_minmax_ukernel_6x8__wasmrelaxedsimd_fma',
        f32_gemm_1x8: 'ofx_f32_gemm_minmax_ukernel_1x8__wasmrelaxedsimd_fma',
        f32_igemm: 'ofx_f32_igemm_minmax_ukernel_6x8__wasmrelaxedsimd_fma',
        f32_igemm_1x8: 'ofx_f32_igemm_minmax_ukernel_1x8__wasmrelaxedsimd_fma',
        f32_dwconv_9: 'ofx_f32_dwconv_minmax_ukernel_up8c__wasmrelaxedsimd_fma',
        f32_dwconv_25: 'ofx_f32_dwconv_minmax_ukernel_25p8c__wasmrelaxedsimd_fma',
        f32_dwconv_any: 'ofx_f32_dwconv_minmax_ukernel_up8c__wasmrelaxedsimd_fma',
      });
      assert.equal(simd128.simd, 'simd128');
      assert.equal(simd128.kernels.arch, 'wasmsimd');
      assert.match(m.planHead, new RegExp(`^backend: relaxed SIMD, ${threads === 'mt' ? '2 threads' : '1 thread'}; f32 kernels: gemm 6x8__wasmrelaxedsimd_fma`));
      const nodes = Object.entries(m.nodes);
      assert.ok(nodes.length >= 8, `${m.name}: ${nodes.length} sampled nodes compared`);
      for (const [node, e] of nodes) {
        assert.ok(e.relaxedVsSimd128 < RELAXED_TOLERANCE, `${m.name} ${node}: relaxed vs SIMD128 ${e.relaxedVsSimd128}`);
        assert.ok(e.relaxedVsTorch < TORCH_TOLERANCE, `${m.name} ${node}: relaxed vs torchvision ${e.relaxedVsTorch}`);
        assert.ok(e.simd128VsTorch < TORCH_TOLERANCE, `${m.name} ${node}: SIMD128 vs torchvision ${e.simd128VsTorch}`);
      }
    }
  });
}

test(`node ${FLAG.join(' ')}: 8-bit models (QDQ Conv and MatMul, the dynamic ConvInteger chain) give the same bits in the relaxed and SIMD128 builds`, () => {
  const r = spawnSync(process.execPath, [...FLAG, child, 'int8'], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(r.status, 0, r.stderr);
  const { results } = JSON.parse(r.stdout.trim().split('\n').at(-1));
  assert.deepEqual(results.map((m) => m.name), ['qdq', 'dynamic']);
  for (const m of results) {
    assert.ok(m.n > 1000 && m.maxAbs > 1, `${m.name}: a real output (${m.n} values, max ${m.maxAbs})`);
    assert.deepEqual(m.builds.map((b) => [b.simd, b.threads]), [['relaxed', 2], ['relaxed', 1], ['simd128', 2]]);
    for (const b of m.builds) {
      assert.equal(b.differing, 0, `${m.name} ${b.simd} ${b.threads} thread(s): ${b.differing} values differ from SIMD128`);
      // every Q/DQ pair fused: the 8-bit GEMM ran (qdq: Conv, Conv, Transpose, MatMul)
      assert.equal(b.runSteps, m.name === 'qdq' ? '4' : '2', `${m.name}: steps run`);
    }
  }
});

test('a dist/ without the relaxed build: \'auto\' runs SIMD128 (where it would take relaxed: with one notice), \'relaxed\' fails', () => {
  const r = spawnSync(process.execPath, [...FLAG, child, 'fallback', 'mobilenet_v2'], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').at(-1));
  assert.deepEqual(report.simd, ['simd128', 'simd128']);
  if (Number(process.versions.node.split('.')[0]) >= 22) {
    assert.equal(report.notices.length, 1, report.notices.join(' | '));
    assert.match(report.notices[0], /relaxed-SIMD build could not be loaded, so the SIMD128 build runs.*onnxfx-relaxed/);
  } else {
    assert.deepEqual(report.notices, [], "Node < 22: 'auto' never tries the relaxed build");
  }
  assert.match(report.forced, /^INVALID_ARGUMENT: cannot load the WebAssembly module \(onnxfx-relaxed\)/);
});
