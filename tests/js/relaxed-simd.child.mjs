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
const threads = threadsArg !== 'st';
const report = { supported: relaxedSimdSupported(), models: [] };
for (const name of names) {
  const ref = loadReference(name);
  const c = ref.cases[0];
  const input = new Tensor('float32', readF32(c.input.file), c.input.dims);
  const relaxed = await loadModel(modelPath(name), { threads, numThreads: threads ? 2 : undefined });
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
// forced, and in a worker (V8's flags are the process's, so worker_threads have relaxed SIMD too)
const forced = await loadModel(modelPath(names[0]), { simd: 'relaxed', threads });
const inWorker = await loadModel(modelPath(names[0]), { worker: true, threads });
report.forced = forced.backend.simd;
report.worker = { inWorker: inWorker.inWorker, simd: inWorker.backend.simd, arch: inWorker.backend.kernels.arch };
await forced.dispose();
await inWorker.dispose();
console.log(JSON.stringify(report));
