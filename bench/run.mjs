#!/usr/bin/env node
// onnxfx against its peers, measured side by side in one run (issue #5's table).
//
//   node bench/run.mjs [--runs 20] [--rounds 2] [--only layers,models,pruning] [--write docs/benchmarks.md]
//
// Every (row, engine, threads) is measured in its own process; engines alternate round by round
// so that machine noise spreads over all of them. Reported: median and min-max of the timed runs
// (after warm-up), GFLOP/s = 2 x MACs / median, % of the SIMD128 peak measured in the same run,
// the ratio to onnxruntime-web, peak RSS and start-up (module compile + model load + extractor or
// session creation). Model files come from tests/tools/export_models.py and
// bench/make_layer_models.py (bench/run.sh makes them).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]);
  return acc;
}, []));
const RUNS = Number(args.runs ?? 20), ROUNDS = Number(args.rounds ?? 2), WARMUP = 3;
const only = new Set(String(args.only ?? 'layers,models,pruning').split(','));
const modelDir = path.join(repo, '.cache/models'), layerDir = path.join(repo, '.cache/bench');

// MACs of the whole models at 224x224, as torchvision's model documentation lists them.
const MODELS = [
  { name: 'resnet50', macs: 4.09e9 },
  { name: 'mobilenet_v2', macs: 0.30e9 },
  { name: 'efficientnet_b0', macs: 0.39e9 },
  { name: 'vit_b_16', macs: 17.56e9 },
];

function measure(spec) {
  const out = execFileSync(process.execPath, [path.join(repo, 'bench/engine.mjs'), JSON.stringify(spec)], {
    cwd: path.join(repo, 'bench'), encoding: 'utf8', maxBuffer: 1 << 24,
  });
  return JSON.parse(out.trim().split('\n').pop());
}

/** Runs every variant of a row ROUNDS times, alternating, and pools the samples. */
function measureRow(variants) {
  const pooled = variants.map(() => ({ times: [], startupMs: [], rssMB: 0, error: null }));
  for (let round = 0; round < ROUNDS; round++) {
    variants.forEach((v, i) => {
      if (pooled[i].error) return;
      const r = measure({ ...v.spec, warmup: WARMUP, runs: Math.ceil(RUNS / ROUNDS) });
      if (r.error) pooled[i].error = r.error;
      else {
        pooled[i].times.push(...r.times);
        pooled[i].startupMs.push(r.startupMs);
        pooled[i].rssMB = Math.max(pooled[i].rssMB, r.rssMB);
      }
    });
  }
  return pooled.map((p) => {
    if (p.error) return { error: p.error };
    const t = [...p.times].sort((a, b) => a - b);
    const s = [...p.startupMs].sort((a, b) => a - b);
    return { median: t[t.length >> 1], min: t[0], max: t[t.length - 1], startupMs: s[s.length >> 1], rssMB: p.rssMB };
  });
}

/** The SIMD128 ceiling on this machine: the first line of bench/kernels' program (built into
 * build/wasm by the WebAssembly build); the rest of that program is not needed here. */
function measurePeak() {
  const program = path.join(repo, 'build/wasm/bench/kernels/bench-kernels.js');
  if (!existsSync(program)) return null;
  const r = spawnSync(process.execPath, [program], { encoding: 'utf8', timeout: 15000 });
  const m = (r.stdout ?? '').match(/SIMD128 peak\s+([\d.]+)\s*GFLOP\/s/);
  return m ? Number(m[1]) : null;
}

const fmt = (x, d = 1) => (x == null || Number.isNaN(x) ? '–' : x.toFixed(d));
const lines = [];
const emit = (line = '') => {
  lines.push(line);
  console.log(line);
};

const peak = measurePeak();
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
emit(`Machine: ${cpu}, ${os.cpus().length} cores, Node ${process.version}; ${RUNS} timed runs after ${WARMUP} warm-up, ${ROUNDS} alternating rounds.`);
emit(`SIMD128 peak (independent f32x4 mul+add chains, 1 thread): ${peak ? `${fmt(peak)} GFLOP/s` : 'not measured (build bench/kernels)'}`);

function row(label, macs, variants, results, baselineIndex) {
  const base = results[baselineIndex];
  results.forEach((r, i) => {
    const v = variants[i];
    if (r.error) {
      emit(`| ${label} | ${v.label} | error: ${r.error.slice(0, 80)} | | | | | | |`);
      return;
    }
    const gflops = macs ? (2 * macs) / (r.median * 1e6) : null;
    const ratio = base && !base.error ? r.median / base.median : null;
    emit(`| ${label} | ${v.label} | ${fmt(r.median, 2)} | ${fmt(r.min, 2)}–${fmt(r.max, 2)} | ${fmt(gflops)} | ${peak && gflops ? fmt((100 * gflops) / peak, 0) + '%' : '–'} | ${fmt(ratio, 2)} | ${fmt(r.rssMB, 0)} | ${fmt(r.startupMs, 0)} |`);
  });
}

const HEADER = '| row | engine | median ms | min–max | GFLOP/s | % peak | × ORT-web | peak RSS MB | start-up ms |\n|---|---|---|---|---|---|---|---|---|';

if (only.has('layers')) {
  const layers = JSON.parse(readFileSync(path.join(layerDir, 'layers.json'), 'utf8'));
  emit('\n### Single layers, 1 thread\n');
  emit(HEADER);
  for (const [name, layer] of Object.entries(layers)) {
    const model = path.join(layerDir, `${name}.onnx`);
    const input = { name: 'x', dims: [1, layer.cin, layer.size, layer.size] };
    const variants = [
      { label: 'onnxfx', spec: { engine: 'onnxfx', model, input, threads: 1 } },
      { label: 'onnxruntime-web', spec: { engine: 'ort-web', model, input, threads: 1 } },
      { label: 'tfjs-backend-wasm (XNNPACK)', spec: { engine: 'tfjs', layer, input, threads: 1 } },
    ];
    row(name, layer.macs, variants, measureRow(variants), 1);
  }
}

if (only.has('models')) {
  emit('\n### Whole models, 1×3×224×224\n');
  emit(HEADER);
  for (const { name, macs } of MODELS) {
    const model = path.join(modelDir, `${name}.onnx`);
    if (!existsSync(model)) {
      emit(`| ${name} | – | model not exported (tests/tools/export_models.py --models ${name}) | | | | | | |`);
      continue;
    }
    const input = { name: 'x', dims: [1, 3, 224, 224] };
    const variants = [];
    for (const threads of [1, 2]) {
      variants.push({ label: `onnxfx ${threads}T`, spec: { engine: 'onnxfx', model, input, threads } });
      variants.push({ label: `onnxruntime-web ${threads}T`, spec: { engine: 'ort-web', model, input, threads } });
      variants.push({ label: `onnxruntime-node ${threads}T`, spec: { engine: 'ort-node', model, input, threads } });
    }
    const results = measureRow(variants);
    // each engine's ratio is to ORT-web with the same thread count
    row(name, macs, variants.slice(0, 3), results.slice(0, 3), 1);
    row(name, macs, variants.slice(3), results.slice(3), 1);
  }
}

if (only.has('pruning')) {
  const model = path.join(modelDir, 'resnet50.onnx');
  emit('\n### Pruning: resnet50 up to layer2 (1 thread)\n');
  emit(HEADER);
  if (!existsSync(model)) emit('| resnet50 | – | model not exported | | | | | | |');
  else {
    const input = { name: 'x', dims: [1, 3, 224, 224] };
    const variants = [
      { label: 'onnxfx layer2', spec: { engine: 'onnxfx', model, input, threads: 1, nodes: ['layer2'] } },
      { label: 'onnxruntime-web (whole graph)', spec: { engine: 'ort-web', model, input, threads: 1 } },
      { label: 'onnxfx whole graph', spec: { engine: 'onnxfx', model, input, threads: 1 } },
    ];
    row('resnet50 → layer2', null, variants, measureRow(variants), 1);
  }
}

if (args.write) {
  const command = `node bench/run.mjs ${process.argv.slice(2).filter((a, i, all) => a !== '--write' && all[i - 1] !== '--write').join(' ')}`.trim();
  const doc = `# Benchmarks\n\nLatest results of \`${command}\` (made by \`bench/run.sh\`), ${new Date().toISOString().slice(0, 10)}.\n` +
    'Ratios are medians against onnxruntime-web measured in the same run; lower is better.\n\n' + lines.join('\n') + '\n';
  writeFileSync(path.resolve(repo, args.write), doc);
  console.log(`\nwritten to ${args.write}`);
}
