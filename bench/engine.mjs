// One measurement in its own process: `node bench/engine.mjs '<json spec>'` prints one JSON line
// {times: [ms...], startupMs, rssMB}. Separate processes keep engines from sharing heaps, JIT
// state or thread pools, and make peak RSS per engine meaningful.
//
// spec: {engine: 'onnxfx'|'ort-web'|'ort-node'|'tfjs', model: path, input: {name, dims},
//        nodes?: [names] (onnxfx), web?: path of another checkout's web/index.js (onnxfx),
//        simd?: 'auto'|'relaxed'|'simd128' (onnxfx: loadModel's option; default 'auto'),
//        weights?: 'float32'|'float16' (onnxfx: loadModel's option),
//        layer?: {...} (tfjs), threads, warmup, runs}
// onnxfx also answers backend: {simd, threads}, the build it ran, so that run.mjs can check that
// a process started with --experimental-wasm-relaxed-simd did run the relaxed build.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { input, measure as measureRuns, measureOnnxfx } from './measure.mjs';

const spec = JSON.parse(process.argv[2]);
const here = (p) => fileURLToPath(new URL(p, import.meta.url));

const measure = (run) => measureRuns(spec, run);

async function onnxfx() {
  const started = performance.now();
  // spec.web: another checkout's web/index.js (run.mjs --baseline), to compare two builds
  const ofx = await import(spec.web ? pathToFileURL(spec.web).href : '../web/index.js');
  return measureOnnxfx(ofx, spec, started);
}

async function ortWeb() {
  const started = performance.now();
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = spec.threads;
  const session = await ort.InferenceSession.create(spec.model, { executionProviders: ['wasm'] });
  const startupMs = performance.now() - started;
  const x = new ort.Tensor('float32', input(spec.input.dims), spec.input.dims);
  const times = await measure(() => session.run({ [spec.input.name]: x }));
  return { times, startupMs };
}

async function ortNode() {
  const started = performance.now();
  const ort = (await import('onnxruntime-node')).default;
  const session = await ort.InferenceSession.create(spec.model, {
    executionProviders: ['cpu'], intraOpNumThreads: spec.threads, interOpNumThreads: 1,
  });
  const startupMs = performance.now() - started;
  const x = new ort.Tensor('float32', input(spec.input.dims), spec.input.dims);
  const times = await measure(() => session.run({ [spec.input.name]: x }));
  return { times, startupMs };
}

async function tfjs() {
  const started = performance.now();
  const tf = await import('@tensorflow/tfjs-core');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(here('./node_modules/@tensorflow/tfjs-backend-wasm/dist/'));
  wasm.setThreadsCount(spec.threads);
  await tf.setBackend('wasm');
  await tf.ready();
  const { cin, cout, kernel, group, size } = spec.layer;
  const x = tf.tensor4d(input([1, size, size, cin]), [1, size, size, cin]); // NHWC, tfjs's layout
  const depthwise = group === cin && group === cout && group > 1;
  const w = depthwise ? tf.randomNormal([kernel, kernel, cin, 1]) : tf.randomNormal([kernel, kernel, cin, cout]);
  const b = tf.randomNormal([cout]);
  const startupMs = performance.now() - started;
  const times = await measure(async () => {
    const y = tf.tidy(() => tf.add(depthwise ? tf.depthwiseConv2d(x, w, 1, 'same') : tf.conv2d(x, w, 1, 'same'), b));
    await y.data();
    y.dispose();
  });
  return { times, startupMs };
}

const engines = { onnxfx, 'ort-web': ortWeb, 'ort-node': ortNode, tfjs };
try {
  const result = await engines[spec.engine]();
  result.rssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify(result));
  process.exit(0);
} catch (err) {
  console.log(JSON.stringify({ error: `${err.code ?? ''} ${err.message}`.trim() }));
  process.exit(0);
}
