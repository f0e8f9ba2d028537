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
