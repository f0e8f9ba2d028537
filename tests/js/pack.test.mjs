// The package as a user gets it: `npm pack` in web/, `npm install --offline` of the tarball
// into a fresh folder, a bare `import 'onnxfx'`, a model loaded and features extracted (in this
// thread and in a worker), and the TypeScript declarations checked by tsc against a usage file.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, copyFileSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, modelPath } from './helpers.mjs';
import { installPacked } from './packed.mjs';
import { loadModel as loadInRepo, createFeatureExtractor as createInRepo, Tensor as RepoTensor } from '../../web/index.js';

let packed;
test.before(() => {
  packed = installPacked();
});
test.after(() => packed && rmSync(packed.root, { recursive: true, force: true }));

test('the tarball holds the module, the four WebAssembly builds and the types, and nothing else', () => {
  const files = execFileSync('tar', ['-tzf', packed.tarball], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''));
  for (const f of ['index.js', 'index.d.ts', 'package.json', 'src/worker.js', 'src/loader.js', 'src/messages.d.ts',
    'dist/onnxfx.js', 'dist/onnxfx.mjs', 'dist/onnxfx.wasm', 'dist/onnxfx.worker.js', 'dist/onnxfx-st.js',
    'dist/onnxfx-st.mjs', 'dist/onnxfx-st.wasm', 'dist/onnxfx-relaxed.js', 'dist/onnxfx-relaxed.mjs',
    'dist/onnxfx-relaxed.wasm', 'dist/onnxfx-relaxed.worker.js', 'dist/onnxfx-relaxed-st.js',
    'dist/onnxfx-relaxed-st.mjs', 'dist/onnxfx-relaxed-st.wasm', 'dist/package.json']) {
    assert.ok(files.includes(f), `${f} is in the tarball`);
  }
  assert.ok(!files.some((f) => f.startsWith('scripts/') || f.includes('node_modules')), files.join(', '));
});

for (const worker of [false, true]) {
  test(`installed package: load a model from a path, list names, extract${worker ? ' (worker)' : ''}`, async () => {
    const { loadModel, getGraphNodeNames, createFeatureExtractor, Tensor, NodeNotFoundError } = await packed.load();
    const file = path.join(packed.dir, 'flat.onnx');
    copyFileSync(path.join(path.dirname(modelPath('x')), 'naming/flat.onnx'), file);
    const model = await loadModel(file, { worker });
    assert.equal(model.inWorker, worker);
    const [, evalNodes] = getGraphNodeNames(model);
    const last = evalNodes.at(-1);
    const fx = await createFeatureExtractor(model, { returnNodes: { [last]: 'out' } });
    const input = Float32Array.from({ length: 192 }, (_, i) => Math.cos(i));
    const { out } = await fx.run(new Tensor('float32', input, [1, 3, 8, 8]));
    // Same numbers as the in-repo package.
    const ref = await loadInRepo(file);
    const want = (await (await createInRepo(ref, { returnNodes: [last] })).run(new RepoTensor('float32', input, [1, 3, 8, 8])))[last];
    assert.deepEqual(out.dims, want.dims);
    assert.deepEqual(Array.from(out.data), Array.from(want.data));
    await assert.rejects(createFeatureExtractor(model, { returnNodes: ['no.such.node'] }), NodeNotFoundError);
    model.dispose();
    ref.dispose();
  });
}

test('index.d.ts: a typical program type-checks with tsc --noEmit, and misuse does not', () => {
  const tsc = path.join(repoRoot, 'tests/node_modules/.bin/tsc');
  assert.ok(existsSync(tsc), 'typescript is installed (tests/package.json devDependency)');
  writeFileSync(path.join(packed.dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022',
      lib: ['es2022', 'dom', 'esnext.disposable'], types: [], skipLibCheck: false },
    files: ['usage.ts'],
  }));
  const good = `
import { loadModel, getGraphNodeNames, createFeatureExtractor, imageToTensor, imagePresets, Tensor,
  OnnxfxError, NodeNotFoundError, type Model, type FeatureExtractor, type ErrorCode } from 'onnxfx';

async function main(bytes: Uint8Array, img: ImageBitmap): Promise<number[]> {
  const model: Model = await loadModel(bytes, { worker: true, threads: false, onProgress: (l: number, t: number) => void (l + t) });
  const other = await loadModel(new URL('https://example.invalid/m.onnx'), { externalData: { 'w.bin': new Uint8Array(4) } });
  const [train, evalNodes]: [string[], string[]] = getGraphNodeNames(model);
  const fx: FeatureExtractor = await createFeatureExtractor(model, { returnNodes: { [evalNodes[0]]: 'a' } });
  const x = await imageToTensor(img, { preset: 'imagenet', layout: 'NHWC', channels: 'BGR', resize: [224, 224] });
  const out = await fx.run(x);
  const ids = new Tensor('int64', new BigInt64Array([1n, 2n]), [2]);
  await fx.run({ x, ids, plain: { type: 'float32', data: new Float32Array(4), dims: [1, 4] } });
  const bytesOut: Uint8Array = await fx.toONNX();
  const plan: string = await fx.explain(x);
  const crop = imagePresets.imagenet.crop;
  try { fx.train().eval(); } catch (e) {
    if (e instanceof NodeNotFoundError) { const c: 'NODE_NOT_FOUND' = e.code; void c; }
    if (e instanceof OnnxfxError) { const c: ErrorCode = e.code; void c; }
  }
  { using m = other; void m.nodes.length; }
  { await using f = await createFeatureExtractor(model, { returnNodes: ['x'] }); void f.plannedNodeCount; }
  void train; void bytesOut; void crop; void plan;
  const done: Promise<void> = fx.dispose();
  await done;
  await model.dispose();
  return out.a.dims;
}
void main;
`;
  writeFileSync(path.join(packed.dir, 'usage.ts'), good);
  const run = () => {
    try {
      execFileSync(tsc, ['-p', packed.dir], { encoding: 'utf8', stdio: 'pipe' });
      return '';
    } catch (err) {
      return `${err.stdout}${err.stderr}` || 'failed';
    }
  };
  assert.equal(run(), '', 'the typical program type-checks');
  writeFileSync(path.join(packed.dir, 'usage.ts'), `import { loadModel, createFeatureExtractor } from 'onnxfx';
const m = await loadModel(42);
const fx = await createFeatureExtractor(m, { returnNodes: 7 });
const bytes: Uint8Array = fx.toONNX();
const plan: string = fx.explain();
export { bytes, plan };
`);
  const errors = run();
  assert.match(errors, /usage\.ts\(2,/, 'a number is not a model source');
  assert.match(errors, /usage\.ts\(3,/, 'returnNodes must be names');
  assert.match(errors, /usage\.ts\(4,/, 'toONNX() gives a promise');
  assert.match(errors, /usage\.ts\(5,/, 'explain() gives a promise');
});
