#!/usr/bin/env node
// onnxfx against its peers, measured side by side in one run (issue #5's table).
//
//   node bench/run.mjs [--runs 20] [--rounds 2] [--only layers,models,pruning,formats] [--write docs/benchmarks.md]
//   other sections: big (vit_l_16, vit_h_14; float16 weight storage), relaxed, browser, extract
//   node bench/run.mjs --only compare --baseline DIR   this build against another checkout's (DIR,
//                                                      built), whole models, alternating
//   node bench/run.mjs --only relaxed                  the relaxed-SIMD build in Node: processes run
//                                                      with --experimental-wasm-relaxed-simd next to
//                                                      ones without (SIMD128), against the FMA peak
//   node bench/run.mjs --only browser                  the same rows in headless Chromium (bench/browser.mjs)
//
// --write FILE replaces the tables of the sections this run measured and keeps the others (and a
// '## Notes' section); a run that leaves some out stamps its own tables with its command.
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
const only = new Set(String(args.only ?? 'layers,models,pruning,formats').split(','));
const modelDir = path.join(repo, '.cache/models'), layerDir = path.join(repo, '.cache/bench');

// MACs of the whole models at 224x224, as torchvision's model documentation lists them.
const MODELS = [
  { name: 'resnet50', macs: 4.09e9 },
  { name: 'mobilenet_v2', macs: 0.30e9 },
  { name: 'efficientnet_b0', macs: 0.39e9 },
  { name: 'vit_b_16', macs: 17.56e9 },
];

/** One spec in its own Node process; spec.nodeFlags go to that node (e.g. the relaxed-SIMD flag). */
function measure(spec) {
  const out = execFileSync(process.execPath, [...(spec.nodeFlags ?? []), path.join(repo, 'bench/engine.mjs'), JSON.stringify(spec)], {
    cwd: path.join(repo, 'bench'), encoding: 'utf8', maxBuffer: 1 << 24,
  });
  return JSON.parse(out.trim().split('\n').pop());
}

/** Runs every variant of a row `rounds` times, alternating, and pools the samples. A variant's
 * `measure` (default: a Node process, measure() above) may be async (the browser's); its
 * `simd`, when given, is the build its onnxfx must have run (model.backend.simd). */
async function measureRow(variants, { runs = RUNS, rounds = ROUNDS, warmup = WARMUP } = {}) {
  const pooled = variants.map(() => ({ times: [], startupMs: [], rssMB: 0, error: null }));
  for (let round = 0; round < rounds; round++) {
    for (const [i, v] of variants.entries()) {
      if (pooled[i].error) continue;
      const r = await (v.measure ?? measure)({ ...v.spec, warmup, runs: Math.ceil(runs / rounds) });
      if (!r.error && v.simd && r.backend?.simd !== v.simd) r.error = `expected the ${v.simd} build, ran ${r.backend?.simd ?? 'an unknown one'}`;
      if (r.error) pooled[i].error = r.error;
      else {
        pooled[i].times.push(...r.times);
        pooled[i].startupMs.push(r.startupMs);
        pooled[i].rssMB = Math.max(pooled[i].rssMB, r.rssMB ?? NaN);
      }
    }
  }
  return pooled.map((p) => {
    if (p.error) return { error: p.error };
    const t = [...p.times].sort((a, b) => a - b);
    const s = [...p.startupMs].sort((a, b) => a - b);
    return { median: t[t.length >> 1], min: t[0], max: t[t.length - 1], startupMs: s[s.length >> 1], rssMB: p.rssMB };
  });
}

/** The SIMD128 ceiling on this machine and the dense layers' micro-kernel rates, from bench/kernels'
 * program (built into build/wasm by the WebAssembly build), in its short "layers" mode. */
function measureKernels(name = 'bench-kernels.js', nodeFlags = []) {
  const program = path.join(repo, 'build/wasm/bench/kernels', name);
  if (!existsSync(program)) return {};
  const r = spawnSync(process.execPath, [...nodeFlags, program, '1', 'layers'], { encoding: 'utf8', timeout: 120000 });
  const out = r.stdout ?? '';
  const rate = (re) => {
    const m = out.match(re);
    return m ? Number(m[1]) : null;
  };
  return {
    peak: rate(/SIMD128 peak\s+([\d.]+)\s*GFLOP\/s/),
    conv3x3: rate(/igemm conv 3x3 64->64[^\n]*?\s([\d.]+) GFLOP\/s/),
    conv1x1: rate(/gemm conv 1x1 256->64[^\n]*?\s([\d.]+) GFLOP\/s/),
  };
}

const fmt = (x, d = 1) => (x == null || Number.isNaN(x) ? '–' : x.toFixed(d));
const lines = [];
const emit = (line = '') => {
  lines.push(line);
  console.log(line);
};

const kernels = measureKernels();
const peak = kernels.peak;
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
emit(`Machine: ${cpu}, ${os.cpus().length} cores, Node ${process.version}; ${RUNS} timed runs after ${WARMUP} warm-up, ${ROUNDS} alternating rounds.`);
emit(`SIMD128 peak (independent f32x4 mul+add chains, 1 thread): ${peak ? `${fmt(peak)} GFLOP/s` : 'not measured (build bench/kernels)'}`);

/** Every measured result by row label and engine label, for the targets summary. */
const measured = {};

/** Table lines of one row; a variant's `peak` (GFLOP/s) replaces the SIMD128 one for its % column
 * (the FMA peak for the relaxed build); `key` files the results for targets() (default: label). */
function row(label, macs, variants, results, baselineIndex, key = label) {
  const base = results[baselineIndex];
  results.forEach((r, i) => {
    const v = variants[i];
    const vpeak = v.peak ?? peak;
    (measured[key] ??= {})[v.label] = r;
    if (r.error) {
      emit(`| ${label} | ${v.label} | error: ${r.error.slice(0, 80)} | | | | | | |`);
      return;
    }
    const gflops = macs ? (2 * macs) / (r.median * 1e6) : null;
    const ratio = base && !base.error ? r.median / base.median : null;
    emit(`| ${label} | ${v.label} | ${fmt(r.median, 2)} | ${fmt(r.min, 2)}–${fmt(r.max, 2)} | ${fmt(gflops)} | ${vpeak && gflops ? fmt((100 * gflops) / vpeak, 0) + '%' : '–'} | ${fmt(ratio, 2)} | ${fmt(r.rssMB, 0)} | ${fmt(r.startupMs, 0)} |`);
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
    row(name, layer.macs, variants, await measureRow(variants), 1);
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
    const results = await measureRow(variants);
    // each engine's ratio is to ORT-web with the same thread count
    row(name, macs, variants.slice(0, 3), results.slice(0, 3), 1);
    row(name, macs, variants.slice(3), results.slice(3), 1);
  }
}

/* One network in the precisions it ships in, every engine on the same files (issue #13). */
const FORMATS = [
  { label: 'float32', suffix: '' },
  { label: 'float16 (float32 I/O)', suffix: '.fp16io' },
  { label: 'int8 dynamic', suffix: '.int8' },
  { label: 'int8 QDQ', suffix: '.qdq' },
  { label: 'int8 QOperator', suffix: '.qop' },
];
if (only.has('formats')) {
  emit('\n### Networks as shipped: float32, float16, int8 dynamic / QDQ / QOperator (1×3×224×224, 1 thread)\n');
  emit(HEADER);
  const input = { name: 'x', dims: [1, 3, 224, 224] };
  for (const net of ['resnet50', 'mobilenet_v2']) {
    const { macs } = MODELS.find((m) => m.name === net);
    for (const { label, suffix } of FORMATS) {
      const model = path.join(modelDir, `${net}${suffix}.onnx`);
      if (!existsSync(model)) {
        emit(`| ${net} ${label} | – | not made (bench/run.sh makes it) | | | | | | |`);
        continue;
      }
      const variants = [
        { label: 'onnxfx', spec: { engine: 'onnxfx', model, input, threads: 1 } },
        { label: 'onnxruntime-web', spec: { engine: 'ort-web', model, input, threads: 1 } },
      ];
      row(`${net} ${label}`, macs, variants, await measureRow(variants), 1);
    }
  }
}

/* Models past what other browser engines hold (issue #17): whole, 1 thread, few runs (each run
 * takes seconds); start-up and peak RSS are the point. bench/export_big_models.py makes them. */
const BIG = [
  { label: 'vit_l_16 (1.2 GB, one file)', model: path.join(modelDir, 'vit_l_16.onnx'), macs: 61.55e9 },
  { label: 'vit_h_14 (2.5 GB external data)', model: path.join(repo, '.cache/big/vit_h_14/vit_h_14.onnx'), macs: 167.29e9 },
];
/** The big models' rows: onnxfx (float32 and float16 weight storage) and onnxruntime-web, whole,
 * 1 thread, measured by `measureIn` (a process, or a page); row labels start with `where`. */
async function bigRows(where, measureIn) {
  const input = { name: 'x', dims: [1, 3, 224, 224] };
  for (const { label, model, macs } of BIG) {
    if (!existsSync(model)) {
      emit(`| ${where}${label} | – | not made (bench/export_big_models.py makes it) | | | | | | |`);
      continue;
    }
    const variants = [
      { label: 'onnxfx', measure: measureIn, spec: { engine: 'onnxfx', model, input, threads: 1 } },
      { label: 'onnxruntime-web', measure: measureIn, spec: { engine: 'ort-web', model, input, threads: 1 } },
      // loadModel(src, { weights: 'float16' }): half the packed weights, widened per layer
      { label: 'onnxfx, float16 weights', measure: measureIn, spec: { engine: 'onnxfx', model, input, threads: 1, weights: 'float16' } },
      // in a browser worker, big external data is read by range requests, not held (source.js)
      ...(where ? [{ label: 'onnxfx in a worker', measure: measureIn, spec: { engine: 'onnxfx', model, input, threads: 1, worker: true } },
        { label: 'onnxfx in a worker, float16 weights', measure: measureIn, spec: { engine: 'onnxfx', model, input, threads: 1, worker: true, weights: 'float16' } }] : []),
    ];
    row(`${where}${label}`, macs, variants, await measureRow(variants, { runs: 2, rounds: 1, warmup: 1 }), 1);
  }
}

if (only.has('big')) {
  emit('\n### Big models, whole (1×3×224×224, 1 thread; start-up = module + load + create)\n');
  emit(HEADER);
  await bigRows('', undefined);
}

if (only.has('compare')) {
  if (!args.baseline) throw new Error('--only compare needs --baseline DIR: a checkout whose web/dist is built');
  const web = path.resolve(String(args.baseline), 'web/index.js');
  emit(`\n### This build against ${args.baseline}, whole models, 1×3×224×224\n`);
  emit(HEADER.replace('× ORT-web', '× before'));
  for (const { name, macs } of MODELS) {
    const model = path.join(modelDir, `${name}.onnx`);
    if (!existsSync(model)) continue;
    const input = { name: 'x', dims: [1, 3, 224, 224] };
    for (const threads of [1, 2]) {
      const variants = [
        { label: `onnxfx ${threads}T`, spec: { engine: 'onnxfx', model, input, threads } },
        { label: `before ${threads}T`, spec: { engine: 'onnxfx', model, input, threads, web } },
      ];
      row(name, macs, variants, await measureRow(variants), 1);
    }
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
    row('resnet50 → layer2', null, variants, await measureRow(variants), 1);
  }
}

/* Issue #15: `onnxfx extract` over a folder of JPEG photos against the model's own inference rate
 * (bench/extract-throughput.mjs, which prints the details), per kernel thread count and number
 * of decode workers. */
let extractRun = null;
if (only.has('extract')) {
  const script = path.join(repo, 'bench/extract-throughput.mjs');
  const r = spawnSync(process.execPath, [script, '--json', '--threads', '1,default', '--rounds', String(ROUNDS)],
    { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
  emit('\n### Batch extraction: `onnxfx extract` against inference alone (images/s)\n');
  if (r.status !== 0) emit(`extract-throughput failed (exit ${r.status}); run node bench/extract-throughput.mjs to see why`);
  else {
    extractRun = JSON.parse(r.stdout.trim().split('\n').pop());
    const workers = extractRun.rows[0]?.extract.map((e) => e.decodeWorkers) ?? [];
    emit(`${extractRun.n} JPEG photos (ImageNet sizes), ${extractRun.decoder} decoder, best of ${extractRun.rounds} alternating rounds; ` +
      `inference alone: the CLI's extractor on tensors decoded beforehand. "default" threads: the CLI without --threads (all cores).\n`);
    emit(`| model | kernel threads | inference alone | ${workers.map((w) => `extract, ${w} decode worker${w === 1 ? '' : 's'}`).join(' | ')} |`);
    emit(`|---|---|---|${workers.map(() => '---|').join('')}`);
    for (const row of extractRun.rows) {
      emit(`| ${row.model} | ${row.threads} | ${fmt(row.inferenceImagesPerSecond, 1)} | ` +
        row.extract.map((e) => `${fmt(e.imagesPerSecond, 1)} (${fmt(100 * e.ratio, 0)}%)`).join(' | ') + ' |');
    }
  }
}

/* Issue #16: the relaxed-SIMD build (FMA kernels) next to the SIMD128 one and onnxruntime-web, on
 * the rows of its targets, in Node (--only relaxed) and in headless Chromium (--only browser).
 * Whole models at the threads the targets name, and the dense convs of --only layers (made by
 * bench/make_layer_models.py) at 1 thread. % peak: the relaxed rows against the FMA peak, the
 * others against the SIMD128 one, both from bench/peak.mjs in the same place (process or page). */
const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';
const RELAXED_MODELS = [['resnet50', 1], ['vit_b_16', 1], ['mobilenet_v2', 2], ['efficientnet_b0', 2]];
// --rows a,b: only these rows of the relaxed/browser tables (a quick look at one model)
const rowFilter = args.rows ? new Set(String(args.rows).split(',')) : null;
/** What each relaxed table measured, for targets(): {node|chromium: {peaks, label of the relaxed variant by threads, dense convs}} */
const relaxedRuns = {};

/** The rows of the relaxed tables: [{label, key, macs, model, input, threads}]. */
function relaxedRows(where) {
  const rows = [];
  const layersFile = path.join(layerDir, 'layers.json');
  const layers = existsSync(layersFile) ? JSON.parse(readFileSync(layersFile, 'utf8')) : {};
  for (const [name, layer] of Object.entries(layers)) {
    if (layer.group !== 1) continue; // the dense convs
    rows.push({ label: name, macs: layer.macs, model: path.join(layerDir, `${name}.onnx`), input: { name: 'x', dims: [1, layer.cin, layer.size, layer.size] }, threads: 1 });
  }
  if (!rows.length) emit('| dense convs | – | not made (bench/make_layer_models.py .cache/bench) | | | | | | |');
  for (const [name, threads] of RELAXED_MODELS) {
    rows.push({ label: name, macs: MODELS.find((m) => m.name === name).macs, model: path.join(modelDir, `${name}.onnx`), input: { name: 'x', dims: [1, 3, 224, 224] }, threads });
  }
  return rows.filter((r) => !rowFilter || rowFilter.has(r.label)).map((r) => ({ ...r, key: `${where}: ${r.label}` }));
}

async function relaxedSection(where, heading, intro, variantsOf, peaks) {
  emit(`\n### ${heading}\n`);
  emit(`${intro} FMA peak (independent f32x4.relaxed_madd chains, 1 thread): ${peaks.fma ? `${fmt(peaks.fma)} GFLOP/s` : 'not measured (no relaxed SIMD)'}; SIMD128 peak the same way: ${peaks.simd128 ? `${fmt(peaks.simd128)} GFLOP/s` : '–'} (bench/peak.mjs).\n`);
  emit(HEADER);
  const run = (relaxedRuns[where] = { peaks, variantsOf, convs: [] });
  for (const r of relaxedRows(where)) {
    if (r.label.startsWith('conv')) run.convs.push(r);
    if (!existsSync(r.model)) {
      emit(`| ${r.label} | – | not made (bench/run.sh makes it) | | | | | | |`);
      continue;
    }
    const variants = variantsOf(r);
    row(r.label, r.macs, variants, await measureRow(variants), variants.length - 1, r.key);
  }
}

if (only.has('relaxed')) {
  const probe = spawnSync(process.execPath, [RELAXED_FLAG, path.join(repo, 'bench/peak.mjs')], { encoding: 'utf8', timeout: 120000 });
  let peaks = {};
  try {
    peaks = JSON.parse(probe.stdout.trim().split('\n').pop());
  } catch {
    // reported as not measured
  }
  // the FMA micro-kernels' rates on the dense layers, where the build has bench-kernels-relaxed
  // (bench/kernels/CMakeLists.txt, with OFX_RELAXED_SIMD)
  const relaxedKernels = measureKernels('bench-kernels-relaxed.js', [RELAXED_FLAG]);
  await relaxedSection('node', `Relaxed SIMD in Node: with and without ${RELAXED_FLAG}`,
    `Node ${process.version}; "(flag)": the engine's process ran with ${RELAXED_FLAG}, and onnxfx was asked for the relaxed build (simd: 'relaxed'; 'auto' keeps SIMD128 in Node 20, where this table shows relaxed SIMD slower; checked: model.backend.simd); onnxruntime-web's wasm has no relaxed instructions, the flag changes nothing for it.`, ({ model, input, threads }) => [
    { label: `onnxfx relaxed ${threads}T (flag)`, simd: 'relaxed', peak: peaks.fma, spec: { engine: 'onnxfx', simd: 'relaxed', model, input, threads, nodeFlags: [RELAXED_FLAG] } },
    { label: `onnxfx simd128 ${threads}T (no flag)`, simd: 'simd128', peak: peaks.simd128, spec: { engine: 'onnxfx', model, input, threads } },
    { label: `onnxruntime-web ${threads}T (flag)`, peak: peaks.simd128, spec: { engine: 'ort-web', model, input, threads, nodeFlags: [RELAXED_FLAG] } },
  ], peaks);
  relaxedRuns.node.kernels = relaxedKernels;
}

if (only.has('browser')) {
  const { startBrowserBench, CHROMIUM } = await import('./browser.mjs');
  const browser = await startBrowserBench();
  try {
    const peaks = await browser.peaks();
    if (peaks.error) emit(`(the peak probe failed in Chromium: ${peaks.error})`);
    const measureIn = browser.measure;
    await relaxedSection('chromium', 'In headless Chromium: relaxed SIMD, SIMD128 and onnxruntime-web',
      `Chromium ${browser.version() ?? '(version unknown)'} (${CHROMIUM}, headless), a cross-origin isolated page, a fresh browser for every measurement; onnxfx loaded with simd: 'relaxed' or 'simd128' (checked: model.backend.simd), onnxruntime-web's wasm backend; peak RSS is the page's renderer process (VmHWM), start-up includes fetching the model from a local server.`, ({ model, input, threads }) => [
      { label: `onnxfx relaxed ${threads}T`, simd: 'relaxed', peak: peaks.fma, measure: measureIn, spec: { engine: 'onnxfx', simd: 'relaxed', model, input, threads } },
      { label: `onnxfx simd128 ${threads}T`, simd: 'simd128', peak: peaks.simd128, measure: measureIn, spec: { engine: 'onnxfx', simd: 'simd128', model, input, threads } },
      { label: `onnxruntime-web ${threads}T`, peak: peaks.simd128, measure: measureIn, spec: { engine: 'ort-web', model, input, threads } },
    ], peaks);
  } finally {
    await browser.close();
  }
}

/* Issue #17 in a page: the big models fetched from the local server by URL (vit_h_14's external
 * data files fetched beside its .onnx), whole, 1 thread, in Chromium. */
if (only.has('big-browser')) {
  const { startBrowserBench, CHROMIUM } = await import('./browser.mjs');
  const browser = await startBrowserBench();
  try {
    emit('\n### Big models in Chromium, fetched by URL, whole (1×3×224×224, 1 thread)\n');
    emit(`Chromium ${browser.version() ?? ''} (${CHROMIUM}, headless), a cross-origin isolated page; start-up includes fetching the files from a local server; peak RSS is the renderer's, where the page's workers live too (in the page, fetched bytes stay in JavaScript memory, outside the wasm heap; in a worker, a model with 128 MiB or more of weights has them read by range requests as extractors pack them, from its external data files or from its one file).\n`);
    emit(HEADER);
    await bigRows('Chromium: ', browser.measure);
  } finally {
    await browser.close();
  }
}

/** Issue #5's targets, checked against this run's numbers. */
function targets() {
  const get = (rowLabel, engine) => {
    const r = measured[rowLabel]?.[engine];
    return r && !r.error ? r : null;
  };
  const ratio = (a, b, key = 'median') => (a && b ? a[key] / b[key] : null);
  const out = [];
  const check = (target, parts, met) => out.push(`| ${target} | ${parts} | ${met == null ? '–' : met ? 'yes' : 'no'} |`);
  const all = (xs) => (xs.some((x) => x == null) ? null : xs.every(Boolean));
  if (only.has('layers')) {
    const pct = (g) => (g && peak ? (100 * g) / peak : null);
    const k3 = pct(kernels.conv3x3), k1 = pct(kernels.conv1x1);
    const engine = Object.keys(measured).filter((l) => l.startsWith('conv')).map((l) => {
      const r = get(l, 'onnxfx');
      const macs = JSON.parse(readFileSync(path.join(layerDir, 'layers.json'), 'utf8'))[l]?.macs;
      return r && macs ? `${l} ${fmt(pct((2 * macs) / (r.median * 1e6)), 0)}%` : `${l} –`;
    });
    check('dense 3×3 / 1×1 convs ≥ 80% of the SIMD128 peak',
      `micro-kernels on the layers: 3×3 ${fmt(k3, 0)}%, 1×1 ${fmt(k1, 0)}%; through the whole engine (input/output copies and layout conversions included): ${engine.join(', ')}`,
      all([k3 == null ? null : k3 >= 80, k1 == null ? null : k1 >= 80]));
    const layerRows = Object.keys(measured).filter((l) => measured[l]['tfjs-backend-wasm (XNNPACK)']);
    const vsTfjs = layerRows.map((l) => ratio(get(l, 'onnxfx'), get(l, 'tfjs-backend-wasm (XNNPACK)')));
    check('faster than tfjs-backend-wasm (XNNPACK) on every layer',
      layerRows.map((l, i) => `${l} ${fmt(vsTfjs[i], 2)}×`).join(', '), all(vsTfjs.map((x) => (x == null ? null : x < 1))));
  }
  if (only.has('models')) {
    for (const [models, limit] of [[['resnet50', 'vit_b_16'], 0.75], [['mobilenet_v2', 'efficientnet_b0'], 0.5]]) {
      for (const name of models) {
        const r = [1, 2].map((t) => ratio(get(name, `onnxfx ${t}T`), get(name, `onnxruntime-web ${t}T`)));
        check(`${name} ≤ ${limit}× ORT-web`, `${fmt(r[0], 2)} (1 thread), ${fmt(r[1], 2)} (2 threads)`, all(r.map((x) => (x == null ? null : x <= limit))));
      }
    }
    const speedups = MODELS.map(({ name }) => [name, ratio(get(name, 'onnxfx 1T'), get(name, 'onnxfx 2T'))]);
    check('2 threads ≥ 1.8× faster than 1', speedups.map(([n, x]) => `${n} ${fmt(x, 2)}×`).join(', '), all(speedups.map(([, x]) => (x == null ? null : x >= 1.8))));
    for (const key of ['rssMB', 'startupMs']) {
      const limit = key === 'rssMB' ? 0.6 : 0.5;
      const r = ['resnet50', 'vit_b_16'].flatMap((n) => [1, 2].map((t) => [`${n} ${t}T`, ratio(get(n, `onnxfx ${t}T`), get(n, `onnxruntime-web ${t}T`), key)]));
      check(key === 'rssMB' ? 'peak RSS ≤ 0.6× ORT-web' : 'start-up ≤ 0.5× ORT-web session creation',
        r.map(([n, x]) => `${n} ${fmt(x, 2)}×`).join(', '), all(r.map(([, x]) => (x == null ? null : x <= limit))));
    }
  }
  if (only.has('formats')) {
    const own = (f) => get(`resnet50 ${f}`, 'onnxfx'), web = (f) => get(`resnet50 ${f}`, 'onnxruntime-web');
    const f16 = ratio(own('float16 (float32 I/O)'), own('float32')), i8 = ratio(own('int8 dynamic'), own('float32'));
    check('float16 ≤ 1.1× onnxfx float32', `${fmt(f16, 2)}×`, f16 == null ? null : f16 <= 1.1);
    check('int8 ≤ 1.0× onnxfx float32', `${fmt(i8, 2)}×`, i8 == null ? null : i8 <= 1.0);
    const vs = ['float16 (float32 I/O)', 'int8 dynamic'].map((f) => [f, ratio(own(f), web(f))]);
    check('float16 and int8 ≤ 0.4× onnxruntime-web on the same file', vs.map(([f, x]) => `${f} ${fmt(x, 2)}×`).join(', '),
      all(vs.map(([, x]) => (x == null ? null : x <= 0.4))));
  }
  // issue #16: relaxed build against ORT-web in the same table (variants: relaxed, simd128, ORT-web)
  for (const [where, place] of [['node', 'in Node with the flag'], ['chromium', 'in Chromium']]) {
    const run = relaxedRuns[where];
    if (!run) continue;
    const labels = (threads) => run.variantsOf({ threads }).map((v) => v.label);
    const vsOrt = (name, threads) => {
      const [relaxed, , ort] = labels(threads);
      return ratio(get(`${where}: ${name}`, relaxed), get(`${where}: ${name}`, ort));
    };
    for (const [names, threads, limit] of [[['resnet50', 'vit_b_16'], 1, 0.45], [['mobilenet_v2', 'efficientnet_b0'], 2, 0.35]]) {
      const xs = names.map((n) => vsOrt(n, threads));
      check(`relaxed build ${place}: ${names.join(' and ')} ≤ ${limit}× ORT-web at ${threads} thread${threads > 1 ? 's' : ''}`,
        names.map((n, i) => `${n} ${fmt(xs[i], 2)}×`).join(', '), all(xs.map((x) => (x == null ? null : x <= limit))));
    }
    const pcts = run.convs.map((c) => {
      const r = get(c.key, labels(1)[0]);
      return r && run.peaks.fma ? (100 * (2 * c.macs)) / (r.median * 1e6) / run.peaks.fma : null;
    });
    // judged on the micro-kernels when bench-kernels-relaxed measured them (as the SIMD128 target
    // is), else on the layers through the whole engine
    const k = run.kernels ?? {};
    const fmaPct = (g) => (g && run.peaks.fma ? (100 * g) / run.peaks.fma : null);
    const k3 = fmaPct(k.conv3x3), k1 = fmaPct(k.conv1x1);
    const engine = run.convs.length ? run.convs.map((c, i) => `${c.label} ${fmt(pcts[i], 0)}%`).join(', ') : 'not measured (no layer models: bench/make_layer_models.py; or --rows left them out)';
    const kernelsMeasured = k3 != null || k1 != null;
    check(`dense convs ≥ 80% of the FMA peak (relaxed build ${place})`,
      (kernelsMeasured ? `micro-kernels on the layers (bench-kernels-relaxed, Node): 3×3 ${fmt(k3, 0)}%, 1×1 ${fmt(k1, 0)}%; ` : '') +
      `through the whole engine: ${engine}`,
      kernelsMeasured ? all([k3 == null ? null : k3 >= 80, k1 == null ? null : k1 >= 80])
        : run.convs.length ? all(pcts.map((x) => (x == null ? null : x >= 80))) : null);
  }
  if (extractRun) {
    const best = extractRun.rows.map((row) => ({ row, best: Math.max(...row.extract.map((e) => e.ratio)) }));
    check('extract ≥ 90% of the model\'s inference rate (best decode-worker setting per row)',
      best.map(({ row, best: b }) => `${row.model} ${row.threads} thread${row.threads === 1 ? '' : 's'} ${fmt(100 * b, 0)}%`).join(', '),
      best.every(({ best: b }) => b >= 0.9));
  }
  if (only.has('pruning')) {
    const label = 'resnet50 → layer2';
    const own = ratio(get(label, 'onnxfx layer2'), get(label, 'onnxfx whole graph'));
    const ort = ratio(get(label, 'onnxfx layer2'), get(label, 'onnxruntime-web (whole graph)'));
    check('layer2 of resnet50 ≤ 0.5× our full run and ≤ 0.3× ORT-web', `${fmt(own, 2)}× and ${fmt(ort, 2)}×`,
      all([own == null ? null : own <= 0.5, ort == null ? null : ort <= 0.3]));
  }
  return out;
}

emit("\n## Against the issues' targets (this run)\n");
emit('| target | result | met |\n|---|---|---|');
targets().forEach((line) => emit(line));

/** The generated part of a benchmarks document (above '## Notes'): the text before the first table
 * section, the '### ' sections as [heading, text], and the rows of the targets table. */
function parseDoc(text) {
  const at = text.indexOf('\n## Against');
  const parts = (at >= 0 ? text.slice(0, at) : text).split(/\n(?=### )/);
  const preamble = parts.shift().replace(/\n+$/, '');
  const sections = parts.map((p) => [p.split('\n')[0], p.replace(/\n+$/, '')]);
  const targetRows = at >= 0 ? text.slice(at).split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| target |')) : [];
  return { preamble, sections, targetRows };
}

if (args.write) {
  const command = `node bench/run.mjs ${process.argv.slice(2).filter((a, i, all) => a !== '--write' && all[i - 1] !== '--write').join(' ')}`.trim();
  const date = new Date().toISOString().slice(0, 10);
  const doc = `# Benchmarks\n\nLatest results of \`${command}\` (made by \`bench/run.sh\`), ${date}.\n` +
    'Ratios are medians against onnxruntime-web measured in the same run; lower is better.\n\n' + lines.join('\n') + '\n';
  // hand-written analysis below a '## Notes' heading survives re-runs
  const target = path.resolve(repo, args.write);
  const previous = existsSync(target) ? readFileSync(target, 'utf8') : '';
  const notes = previous.indexOf('\n## Notes');
  const old = parseDoc(notes >= 0 ? previous.slice(0, notes) : previous);
  const fresh = parseDoc(doc);
  const freshHeadings = new Set(fresh.sections.map(([h]) => h));
  let top = doc;
  if (old.sections.some(([h]) => !freshHeadings.has(h))) {
    // this run left some tables out (e.g. --only relaxed,browser): keep them, replace the ones it
    // measured (stamped with its command, as the top line names another run's), merge the targets
    const machine = lines.slice(0, 2).join(' ');
    const stamped = new Map(fresh.sections.map(([h, t]) => [h, `${h}\n\nMeasured by \`${command}\`, ${date}. ${machine}${t.slice(h.length)}`]));
    const sections = old.sections.map(([h, t]) => stamped.get(h) ?? t);
    for (const [h] of fresh.sections) if (!old.sections.some(([oh]) => oh === h)) sections.push(stamped.get(h));
    const name = (rowLine) => rowLine.split(' | ')[0];
    const freshNames = new Set(fresh.targetRows.map(name));
    const targetRows = [...old.targetRows.filter((l) => !freshNames.has(name(l))), ...fresh.targetRows];
    top = `${old.preamble}\n\n${sections.join('\n\n')}\n\n## Against the issues' targets (each from the run of its table)\n\n` +
      `| target | result | met |\n|---|---|---|\n${targetRows.join('\n')}\n`;
  }
  writeFileSync(target, notes >= 0 ? top + previous.slice(notes) : top);
  console.log(`\nwritten to ${args.write}`);
}
