// Run by relaxed-simd.test.mjs in a child `node --experimental-wasm-relaxed-simd` (Node 20 runs
// WebAssembly relaxed SIMD only behind that flag): loads each model given on the command line in
// the relaxed build and in the SIMD128 build of this one process, runs torchvision's sampled nodes
// on the reference input through both, and prints one JSON line per model: which builds ran, and
// the largest difference between them and from torchvision, relative to the largest magnitude.
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, createFeatureExtractor, Tensor } from '../../web/index.js';
import { relaxedSimdSupported } from '../../web/src/loader.js';
import { loadReference, maxRelativeError, modelPath, readF32 } from './helpers.mjs';

/** The sampled nodes this model has under torchvision's name, run in one extractor. */
async function features(model, nodes, input) {
  const names = [];
  for (const node of nodes) {
    try {
      await (await createFeatureExtractor(model, { returnNodes: [node] })).dispose();
      names.push(node);
    } catch {
      // a node torchvision names differently (zoo.test.mjs lists them): not compared here
    }
  }
  const fx = await createFeatureExtractor(model, { returnNodes: Object.fromEntries(names.map((n) => [n, n])) });
  try {
    return await fx.run(input);
  } finally {
    await fx.dispose();
  }
}

const [, , threadsArg, ...names] = process.argv;
if (threadsArg === 'fallback') {
  // a dist/ without the relaxed build (one built without clang-16): 'auto' loads SIMD128 and
  // says why once; 'relaxed' fails with the loader's error
  const dir = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-dist-'));
  const dist = fileURLToPath(new URL('../../web/dist/', import.meta.url));
  for (const f of readdirSync(dist)) if (!f.includes('relaxed')) copyFileSync(path.join(dist, f), path.join(dir, f));
  const notices = [];
  console.info = (...args) => notices.push(args.join(' '));
  const model = await loadModel(modelPath(names[0]), { distUrl: dir });
  const again = await loadModel(modelPath(names[0]), { distUrl: dir });
  let forced = null;
  try {
    await loadModel(modelPath(names[0]), { distUrl: dir, simd: 'relaxed' });
  } catch (err) {
    forced = `${err.code}: ${err.message}`;
  }
  console.log(JSON.stringify({ simd: [model.backend.simd, again.backend.simd], notices, forced }));
  await model.dispose();
  await again.dispose();
  rmSync(dir, { recursive: true });
  process.exit(0);
}
if (threadsArg === 'int8') {
  // 8-bit models written here (onnx-writer): QDQ Conv 3x3 (uint8 activations, per-channel int8
  // weights), 1x1 and a QDQ MatMul, then the dynamic chain (DynamicQuantizeLinear -> ConvInteger
  // with uint8 weights -> Cast -> Mul); every output of the relaxed build, threaded and
  // single-thread, must equal the SIMD128 build's bit for bit (the integer sums are exact).
  const W = await import('./onnx-writer.mjs');
  const { seededRandom } = await import('./helpers.mjs');
  const random = seededRandom(0x8b17);
  const bytesOf = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const init = (name, dims, data, dataType) => W.tensor({ name, dims, dataType, raw: bytesOf(data) });
  const f32 = (n, scale = 1) => Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
  const i8 = (n) => Int8Array.from({ length: n }, () => Math.round(random() * 255 - 128));
  const u8 = (n) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
  const pos = (n) => Float32Array.from({ length: n }, () => 0.002 + random() * 0.01);
  const build = (nodes, inits, inputDims) => W.model({
    opsets: [['', 13]],
    graph: W.graph({
      nodes: nodes.map((n, i) => W.node(n[0], n[1], n[2], {
        name: `/n${i}/${n[0]}`, rawAttrs: Object.entries(n[3] ?? {}).map(([k, v]) => W.attr(k, v)),
      })),
      inputs: [W.valueInfo('x', W.FLOAT, inputDims)],
      outputs: [W.valueInfo(nodes.at(-1)[2][0], W.FLOAT, null)],
      initializers: inits,
    }),
  });
  const C = 24, H = 9, Wd = 11;
  const qdq = build([
    ['QuantizeLinear', ['x', 'xs', 'xzp'], ['xq']],
    ['DequantizeLinear', ['xq', 'xs', 'xzp'], ['xdq']],
    ['DequantizeLinear', ['w1q', 'w1s'], ['w1'], { axis: 0 }],
    ['Conv', ['xdq', 'w1', 'b1'], ['y1'], { pads: [1, 1, 1, 1] }],
    ['Relu', ['y1'], ['r1']],
    ['QuantizeLinear', ['r1', 'rs', 'rzp'], ['rq']],
    ['DequantizeLinear', ['rq', 'rs', 'rzp'], ['rdq']],
    ['DequantizeLinear', ['w2q', 'w2s'], ['w2'], { axis: 0 }],
    ['Conv', ['rdq', 'w2', 'b2'], ['y2']],
    ['Transpose', ['y2'], ['t2'], { perm: [0, 2, 3, 1] }],
    ['QuantizeLinear', ['t2', 'ts', 'tzp'], ['tq']],
    ['DequantizeLinear', ['tq', 'ts', 'tzp'], ['tdq']],
    ['DequantizeLinear', ['w3q', 'w3s'], ['w3'], { axis: 1 }],
    ['MatMul', ['tdq', 'w3'], ['y3']],
  ], [
    init('xs', [], Float32Array.of(0.02), W.FLOAT), init('xzp', [], Uint8Array.of(131), W.UINT8),
    init('w1q', [C, C, 3, 3], i8(C * C * 9), W.INT8), init('w1s', [C], pos(C), W.FLOAT), init('b1', [C], f32(C, 0.5), W.FLOAT),
    init('rs', [], Float32Array.of(0.03), W.FLOAT), init('rzp', [], Uint8Array.of(0), W.UINT8),
    init('w2q', [40, C, 1, 1], i8(40 * C), W.INT8), init('w2s', [40], pos(40), W.FLOAT), init('b2', [40], f32(40, 0.5), W.FLOAT),
    init('ts', [], Float32Array.of(0.05), W.FLOAT), init('tzp', [], Int8Array.of(-7), W.INT8),
    init('w3q', [40, 17], i8(40 * 17), W.INT8), init('w3s', [17], pos(17), W.FLOAT),
  ], [1, C, H, Wd]);
  const dynamic = build([
    ['DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xzp']],
    ['ConvInteger', ['xq', 'w', 'xzp', 'wzp'], ['acc'], { pads: [1, 1, 1, 1], strides: [2, 2] }],
    ['Cast', ['acc'], ['accf'], { to: W.FLOAT }],
    ['Mul', ['xs', 'ws'], ['s']],
    ['Mul', ['accf', 's'], ['y']],
  ], [init('w', [32, C, 3, 3], u8(32 * C * 9), W.UINT8), init('wzp', [], Uint8Array.of(255), W.UINT8),
    init('ws', [], Float32Array.of(0.004), W.FLOAT)], [2, C, H, Wd]);
  const results = [];
  for (const [name, bytes, dims] of [['qdq', qdq, [1, C, H, Wd]], ['dynamic', dynamic, [2, C, H, Wd]]]) {
    const x = f32(dims.reduce((a, b) => a * b, 1), 2);
    const outputs = [];
    for (const opts of [{ threads: true, numThreads: 2, simd: 'relaxed' }, { threads: false, simd: 'relaxed' }, { threads: true, simd: 'simd128' }]) {
      const model = await loadModel(bytes, opts);
      const last = model.nodes.at(-1).name;
      const fx = await createFeatureExtractor(model, { returnNodes: [last] });
      const plan = await fx.explain(new Tensor('float32', x, dims));
      const y = (await fx.run(new Tensor('float32', x, dims)))[last];
      outputs.push({ simd: model.backend.simd, threads: model.backend.threads, plan, data: y.data });
      await fx.dispose();
      await model.dispose();
    }
    const ref = outputs.at(-1);
    results.push({
      name, n: ref.data.length, maxAbs: ref.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
      builds: outputs.map((o) => ({ simd: o.simd, threads: o.threads, runSteps: /steps: (\d+) run/.exec(o.plan)?.[1],
        differing: o.data.reduce((n, v, i) => n + (Object.is(v, ref.data[i]) ? 0 : 1), 0) })),
    });
  }
  console.log(JSON.stringify({ results }));
  process.exit(0);
}
const threads = threadsArg !== 'st';
const report = { supported: relaxedSimdSupported(), models: [] };
for (const name of names) {
  const ref = loadReference(name);
  const c = ref.cases[0];
  const input = new Tensor('float32', readF32(c.input.file), c.input.dims);
  const relaxed = await loadModel(modelPath(name), { threads, numThreads: threads ? 2 : undefined, simd: 'relaxed' });
  const simd128 = await loadModel(modelPath(name), { threads, simd: 'simd128' });
  const fx = await createFeatureExtractor(relaxed, { returnNodes: [ref.sampled_nodes.at(-1)] });
  const plan = await fx.explain(input);
  const a = await features(relaxed, ref.sampled_nodes, input);
  const b = await features(simd128, ref.sampled_nodes, input);
  const nodes = {};
  for (const node of Object.keys(b)) {
    nodes[node] = {
      relaxedVsSimd128: maxRelativeError(a[node].data, b[node].data),
      relaxedVsTorch: maxRelativeError(a[node].data, readF32(c.features[node].file)),
      simd128VsTorch: maxRelativeError(b[node].data, readF32(c.features[node].file)),
      identical: a[node].data.every((v, i) => v === b[node].data[i]),
    };
  }
  report.models.push({ name, backends: [relaxed.backend, simd128.backend], planHead: plan.split('\n')[0], nodes });
  await relaxed.dispose();
  await simd128.dispose();
}
// what 'auto' picks here, and relaxed in a worker (V8's flags are the process's, so worker_threads
// have relaxed SIMD too)
const auto = await loadModel(modelPath(names[0]), { threads });
const inWorker = await loadModel(modelPath(names[0]), { worker: true, threads, simd: 'relaxed' });
report.auto = auto.backend.simd;
report.worker = { inWorker: inWorker.inWorker, simd: inWorker.backend.simd, arch: inWorker.backend.kernels.arch };
await auto.dispose();
await inWorker.dispose();
console.log(JSON.stringify(report));
