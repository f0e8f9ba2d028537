// What bench/engine.mjs (a Node process) and bench/browser.html (a page) measure alike: the
// same input tensor, and the same warm-up and timed runs.

/** A deterministic float32 input of these dims (every engine gets the same values). */
export function input(dims) {
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 0.5;
  return data;
}

/** spec.warmup untimed calls of run(), then the times (ms) of spec.runs calls. */
export async function measure(spec, run) {
  for (let i = 0; i < spec.warmup; i++) await run();
  const times = [];
  for (let i = 0; i < spec.runs; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return times;
}

/**
 * onnxfx on spec: load, extract spec.nodes (default: the node of the model's first output),
 * run. `ofx` is the package module the caller imported after `started` (start-up includes it).
 * @returns {Promise<{times: number[], startupMs: number, backend: {simd?: string, threads?: number}}>}
 */
export async function measureOnnxfx(ofx, spec, started) {
  const model = await ofx.loadModel(spec.model, { numThreads: spec.threads, ...(spec.simd ? { simd: spec.simd } : {}),
    ...(spec.weights ? { weights: spec.weights } : {}), ...(spec.worker ? { worker: true } : {}) });
  const outputName = model.outputs[0].name;
  const nodes = spec.nodes ?? [model.nodes.find((n) => n.outputs.includes(outputName)).name];
  const fx = await ofx.createFeatureExtractor(model, { returnNodes: nodes });
  const startupMs = performance.now() - started;
  const x = new ofx.Tensor('float32', input(spec.input.dims), spec.input.dims);
  const times = await measure(spec, () => fx.run({ [spec.input.name]: x }));
  return { times, startupMs, backend: { simd: model.backend?.simd, threads: model.backend?.threads } };
}
