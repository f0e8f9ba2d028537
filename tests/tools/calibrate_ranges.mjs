// MinMax calibration for tests/tools/quantize_static.py, run by onnxruntime-node as
// onnxruntime's own calibrator runs onnxruntime (there is no onnxruntime Python here):
//
//   node tests/tools/calibrate_ranges.mjs MODEL.onnx OUT.json INPUT.f32...
//
// MODEL.onnx is the float model with every tensor to calibrate added as a graph output; each
// INPUT.f32 is one float32 image tensor fed to the model's only input ([1, 3, H, W], H = W, the
// size from the file). Graph optimizations are off, as in onnxruntime's calibrator, so that the
// tensors are the ones the model computes. OUT.json gets, for every added output, the smallest
// and largest element over all inputs: {"name": [min, max]} (float32 values, exact in JSON).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const ort = createRequire(import.meta.url)('onnxruntime-node');
const [modelPath, outPath, ...inputs] = process.argv.slice(2);
if (!modelPath || !outPath || inputs.length === 0) {
  console.error('usage: node calibrate_ranges.mjs MODEL.onnx OUT.json INPUT.f32...');
  process.exit(2);
}

const session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'disabled' });
if (session.inputNames.length !== 1) throw new Error(`expected one model input, got ${session.inputNames.join(', ')}`);
const ranges = {};
for (const file of inputs) {
  const bytes = readFileSync(file);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const side = Math.round(Math.sqrt(data.length / 3));
  if (side * side * 3 !== data.length) throw new Error(`${file}: not a [1, 3, H, H] float32 tensor`);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [1, 3, side, side]) };
  const outputs = await session.run(feeds);
  for (const name of session.outputNames) {
    let lo = Infinity, hi = -Infinity;
    for (const v of outputs[name].data) { // NaN is skipped, as numpy's nanmin/nanmax do
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const r = ranges[name];
    ranges[name] = r ? [Math.min(r[0], lo), Math.max(r[1], hi)] : [lo, hi];
  }
}
writeFileSync(outPath, JSON.stringify(ranges));
