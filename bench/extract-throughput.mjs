#!/usr/bin/env node
// Throughput of `onnxfx extract` against the model's own inference rate (issue #15: decoding and
// resizing run beside inference, so a whole job should run at >= 90% of the inference rate).
//
//   node bench/extract-throughput.mjs [--n 100] [--models resnet50,mobilenet_v2] [--threads 1]
//                                     [--workers 0,1,2] [--decoder auto|js|sharp] [--quick] [--json]
//                                     [--rounds 2] [--web DIR]
//
// --threads takes a list; 'default' runs without --threads (the CLI's default: the machine's cores).
// For each model and thread count:
//   - inference only: the extractor the CLI builds (same model file, loadModel options, nodes,
//     input tensor), run on tensors decoded beforehand, images/s over --n runs after a warm-up;
//   - extract: `onnxfx extract MODEL FOLDER -o OUT.npy --json --threads T --decode-workers W`
//     over a folder of --n JPEG photos, its images/s read from the final {"event": "end"} line;
//   - ratio: extract / inference only.
// Each is the best of --rounds rounds, which alternate between them (default 2; --quick: 1, 24
// images, workers 0 and 1).
// The photos are .cache/demos/photos (ImageNet-like sizes, 451x300 to 640x427) encoded as JPEG
// (quality 90, jpeg-js, as the tests do) and copied to --n files under .cache/extract-bench/.
// The CLI is run from web/ itself, its dependencies (modern-tar, jpeg-js, pngjs, sharp) from
// tests/node_modules (tests/tools/setup.sh), through a folder of symlinks and --preserve-symlinks;
// --web DIR measures another copy of the package instead (with its dist/ built), e.g. a snapshot
// taken while web/dist is being rebuilt.
// --decoder sets ONNXFX_IMAGE_DECODER for every run (auto: sharp when it imports).
// --json prints one JSON object {machine, n, decoder, rows: [...]} on stdout; the table goes to
// stderr then. Timings on a shared machine are noisy: run it twice before trusting a ratio.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = path.join(repo, '.cache/extract-bench');
// --web DIR: measure another copy of the package (a snapshot with its dist/, another checkout's web/)
const webArg = process.argv.indexOf('--web');
const webDir = path.resolve(webArg > 0 ? process.argv[webArg + 1] : path.join(repo, 'web'));
// node_modules: onnxfx -> webDir, the rest -> tests/node_modules/*
const linkRoot = path.join(work, webDir === path.join(repo, 'web') ? 'env' : `env-${webDir.replace(/[^A-Za-z0-9]+/g, '_')}`);
const NODE_FLAGS = ['--preserve-symlinks', '--preserve-symlinks-main'];

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const key = a.slice(2);
    if (['quick', 'json'].includes(key)) out[key] = true;
    else out[key] = argv[++i];
  }
  return out;
}

/** node_modules where onnxfx is web/ and its dependencies are those tests/tools/setup.sh installed. */
function linkEnvironment() {
  const nm = path.join(linkRoot, 'node_modules');
  mkdirSync(nm, { recursive: true });
  const link = (target, name) => {
    const at = path.join(nm, name);
    try {
      lstatSync(at);
      return;
    } catch {}
    symlinkSync(target, at);
  };
  link(webDir, 'onnxfx');
  const deps = path.join(repo, 'tests/node_modules');
  if (!existsSync(deps)) throw new Error('tests/node_modules is missing: run tests/tools/setup.sh (it installs modern-tar, jpeg-js, pngjs, sharp)');
  for (const name of readdirSync(deps)) if (name !== 'onnxfx' && !name.startsWith('.')) link(path.join(deps, name), name);
  return path.join(nm, 'onnxfx');
}

/** A folder of `n` JPEGs made from the demo photos (made once, kept under .cache/extract-bench). */
function photoFolder(n) {
  const dir = path.join(work, `photos-${n}`);
  const done = path.join(dir, '.complete');
  if (existsSync(done)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const require = createRequire(path.join(linkRoot, 'node_modules/x.js'));
  const { PNG } = require('pngjs');
  const jpeg = require('jpeg-js');
  const src = path.join(repo, '.cache/demos/photos');
  const photos = readdirSync(src).filter((f) => f.endsWith('.png')).sort().map((f) => {
    const png = PNG.sync.read(readFileSync(path.join(src, f)));
    return { name: f.replace(/\.png$/, ''), jpg: jpeg.encode({ width: png.width, height: png.height, data: png.data }, 90).data };
  });
  if (!photos.length) throw new Error(`no photos in ${src}`);
  for (let i = 0; i < n; i++) {
    const p = photos[i % photos.length];
    writeFileSync(path.join(dir, `${String(i).padStart(5, '0')}-${p.name}.jpg`), p.jpg);
  }
  writeFileSync(done, '');
  return dir;
}

// ---- inference only: a child process, so that it runs alone as extract does --------------------

async function inferChild(spec) {
  const ofx = await import(pathToFileURL(path.join(linkRoot, 'node_modules/onnxfx/index.js')).href);
  const threads = spec.threads;
  const model = await ofx.loadModel(spec.model, threads === null ? {} : { threads: threads > 1, numThreads: threads });
  // The CLI's defaults: the last node, the imagenet preset at the model's input size, its layout.
  const input = model.inputs[0];
  const [h, w] = [input.dims[2], input.dims[3]];
  const prep = { preset: 'imagenet', resize: Math.floor((Math.min(h, w) * 256) / 224), crop: [h, w], layout: 'NCHW' };
  const fx = await ofx.createFeatureExtractor(model, { returnNodes: [model.nodes.at(-1).name], suppressDiffWarning: true });
  const files = readdirSync(spec.folder).filter((f) => f.endsWith('.jpg')).slice(0, 7);
  const tensors = [];
  for (const f of files) tensors.push(await ofx.imageToTensor(path.join(spec.folder, f), prep));
  for (let i = 0; i < 3; i++) await fx.run({ [input.name]: tensors[i % tensors.length] });
  const t0 = performance.now();
  for (let i = 0; i < spec.n; i++) await fx.run({ [input.name]: tensors[i % tensors.length] });
  const seconds = (performance.now() - t0) / 1000;
  await fx.dispose();
  await model.dispose();
  process.stdout.write(JSON.stringify({ imagesPerSecond: spec.n / seconds, threaded: model.threaded }) + '\n');
}

function runNode(args, env) {
  const r = spawnSync(process.execPath, [...NODE_FLAGS, ...args], {
    encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26, timeout: 30 * 60_000,
  });
  if (r.status !== 0) throw new Error(`node ${args.slice(0, 2).join(' ')} ... failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  return r;
}

function inferenceRate(env, spec) {
  const r = runNode([fileURLToPath(import.meta.url), '--infer-child', JSON.stringify(spec)], env);
  return JSON.parse(r.stdout.trim().split('\n').pop()).imagesPerSecond;
}

function extractRate(env, bin, { model, folder, threads, workers }) {
  const out = path.join(work, 'out', `${path.basename(model, '.onnx')}-t${threads}-w${workers}.npy`);
  const args = [bin, 'extract', model, folder, '-o', out, '--json', '--restart', '--decode-workers', String(workers),
    ...(threads === null ? [] : ['--threads', String(threads)])];
  const r = runNode(args, env);
  const end = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.event === 'end');
  if (!end) throw new Error(`no end event from extract: ${r.stderr.slice(-2000)}`);
  return { imagesPerSecond: end.imagesPerSecond, seconds: end.seconds, images: end.images };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args['infer-child']) return inferChild(JSON.parse(args['infer-child']));
  const quick = !!args.quick;
  const n = Number(args.n ?? (quick ? 24 : 100));
  const models = String(args.models ?? 'resnet50,mobilenet_v2').split(',');
  const threadList = String(args.threads ?? '1').split(',').map((t) => (t === 'default' ? null : Number(t)));
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const workerList = String(args.workers ?? (quick ? '0,1' : '0,1,2')).split(',').map(Number);
  const decoder = args.decoder ?? 'auto';
  const rounds = Number(args.rounds ?? (quick ? 1 : 2));
  const env = { ONNXFX_IMAGE_DECODER: decoder };

  const onnxfxDir = linkEnvironment();
  const bin = path.join(onnxfxDir, 'bin/onnxfx.mjs');
  const folder = photoFolder(n);
  const usedDecoder = runNode(['--input-type=module', '-e',
    `import(${JSON.stringify(pathToFileURL(path.join(onnxfxDir, 'src/images.js')).href)}).then(async (m) => console.log(await m.nodeImageDecoder()))`], env)
    .stdout.trim();

  // Rounds alternate the measurements (inference only, then extract with each worker count) so
  // that a burst of load from other processes spreads over all of them; each is the best round.
  const rows = [];
  for (const name of models) {
    const model = path.join(repo, '.cache/models', `${name}.onnx`);
    if (!existsSync(model)) throw new Error(`no ${model}: tests/tools/export_models.py makes it`);
    for (const threads of threadList) {
      let inference = 0;
      const best = new Map(workerList.map((w) => [w, 0]));
      for (let round = 0; round < rounds; round++) {
        inference = Math.max(inference, inferenceRate(env, { model, folder, threads, n: Math.max(8, Math.round(n / 2)) }));
        for (const workers of workerList) {
          best.set(workers, Math.max(best.get(workers), extractRate(env, bin, { model, folder, threads, workers }).imagesPerSecond));
        }
      }
      const row = { model: name, threads: threads ?? 'default', inferenceImagesPerSecond: round2(inference),
        extract: workerList.map((w) => ({ decodeWorkers: w, imagesPerSecond: round2(best.get(w)), ratio: round2(best.get(w) / inference) })) };
      rows.push(row);
      if (!args.json) process.stderr.write(`  ${name} threads ${row.threads}: done\n`);
    }
  }
  const result = { machine: { cores, cpu: os.cpus()[0]?.model ?? '?', node: process.version, loadAverage: os.loadavg()[0] }, n, rounds, decoder: usedDecoder, rows };
  const table = render(result);
  if (args.json) {
    process.stderr.write(table);
    process.stdout.write(JSON.stringify(result) + '\n');
  } else process.stdout.write(table);
}

const round2 = (x) => Math.round(x * 100) / 100;

function render({ machine, n, rounds, decoder, rows }) {
  const workers = [...new Set(rows.flatMap((r) => r.extract.map((e) => e.decodeWorkers)))];
  const head = ['model', 'threads', 'inference img/s', ...workers.map((w) => `extract w=${w} img/s (ratio)`)];
  const lines = rows.map((r) => [r.model, String(r.threads), r.inferenceImagesPerSecond.toFixed(1),
    ...workers.map((w) => {
      const e = r.extract.find((x) => x.decodeWorkers === w);
      return e ? `${e.imagesPerSecond.toFixed(1)} (${Math.round(e.ratio * 100)}%)` : '';
    })]);
  const md = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...lines.map((l) => `| ${l.join(' | ')} |`)];
  return `onnxfx extract vs inference only: ${n} JPEG photos, decoder ${decoder}, best of ${rounds} round${rounds === 1 ? '' : 's'}, ` +
    `${machine.cores} cores (${machine.cpu}, load average ${machine.loadAverage.toFixed(1)} at the end), node ${machine.node}\n` +
    md.join('\n') + '\n';
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
