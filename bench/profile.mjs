#!/usr/bin/env node
// Where onnxfx's time goes on one model: per-op-type totals and the slowest nodes.
//
//   node bench/profile.mjs <model.onnx | zoo name> [--threads 1] [--runs 10] [--node name] [--top 15]
//
// A zoo name (resnet50, vit_b_16, ...) means .cache/models/<name>.onnx (tests/tools/export_models.py).
// The input is 1x3x224x224 unless the model declares static dims. --node extracts that node only
// (pruning); without it the node producing the model's first output is extracted.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, createFeatureExtractor, Tensor } from '../web/index.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const target = argv.find((a, i) => !a.startsWith('--') && !(i > 0 && argv[i - 1].startsWith('--')));
if (!target) {
  console.error('usage: node bench/profile.mjs <model.onnx | zoo name> [--threads N] [--runs N] [--node name] [--top N]');
  process.exit(2);
}
const file = existsSync(target) ? target : path.join(repo, '.cache/models', `${target}.onnx`);
const threads = Number(option('threads', 1)), runs = Number(option('runs', 10)), top = Number(option('top', 15));

const model = await loadModel(file, { numThreads: threads });
const outputName = model.outputs[0].name;
const node = option('node', model.nodes.find((n) => n.outputs.includes(outputName)).name);
const fx = await createFeatureExtractor(model, { returnNodes: [node] });
const declared = model.inputs[0].dims ?? [];
const dims = [1, 3, 224, 224].map((d, k) => (typeof declared[k] === 'number' && declared[k] > 0 ? declared[k] : d));
const data = new Float32Array(dims.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i * 0.37) * 0.5);
const x = new Tensor('float32', data, dims);
await fx.run(x); // plans and warms up
const steps = await fx.profile(x, { runs });
const total = steps.reduce((sum, s) => sum + s.ms, 0);

const byType = new Map();
for (const s of steps) {
  const entry = byType.get(s.opType) ?? { ms: 0, count: 0 };
  entry.ms += s.ms;
  entry.count++;
  byType.set(s.opType, entry);
}
const pct = (ms) => `${((100 * ms) / total).toFixed(1).padStart(5)}%`;
console.log(`${path.basename(file)} -> ${node}, ${threads} thread(s), mean of ${runs} runs: ${total.toFixed(2)} ms over ${steps.length} steps\n`);
console.log('op type                    count        ms   share');
for (const [type, e] of [...byType].sort((a, b) => b[1].ms - a[1].ms))
  console.log(`${type.padEnd(24)} ${String(e.count).padStart(7)} ${e.ms.toFixed(2).padStart(9)}  ${pct(e.ms)}`);
console.log(`\nslowest ${top} nodes`);
for (const s of [...steps].sort((a, b) => b.ms - a.ms).slice(0, top))
  console.log(`${String(s.name).padEnd(40)} ${s.opType.padEnd(20)} ${s.ms.toFixed(3).padStart(9)} ms ${pct(s.ms)}`);
model.dispose();
process.exit(0);
