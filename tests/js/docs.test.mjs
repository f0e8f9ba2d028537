// The docs hold: every JavaScript example parses on this Node (the package declares Node 18+;
// `using` needs 24, and the docs say so wherever they show it); the README's Node example runs
// from a checkout after the one step the README gives; index.d.ts compiles under the `lib`
// settings users have (es2022 + dom, where Symbol.dispose is not declared, and esnext).
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, modelPath } from './helpers.mjs';

const DOCS = ['README.md', 'docs/api.md', 'web/README.md'];
const tsc = path.join(repoRoot, 'tests/node_modules/typescript/bin/tsc');
let work;
test.before(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-docs-'));
});
test.after(() => rmSync(work, { recursive: true, force: true }));

function jsBlocks(file) {
  const text = readFileSync(path.join(repoRoot, file), 'utf8');
  return [...text.matchAll(/```(?:js|javascript)\n([\s\S]*?)```/g)].map((m) => m[1]);
}

test('every JavaScript example in the docs parses on this Node', () => {
  let count = 0;
  for (const file of DOCS) {
    for (const [i, code] of jsBlocks(file).entries()) {
      const f = path.join(work, `block-${path.basename(file)}-${i}.mjs`);
      writeFileSync(f, code);
      const r = spawnSync(process.execPath, ['--check', f], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${file}, example ${i + 1}: ${r.stderr}`);
      count++;
    }
  }
  assert.ok(count >= 5, `${count} examples checked`);
});

test('wherever the docs show `using`, they say it needs Node 24', () => {
  for (const file of DOCS) {
    const lines = readFileSync(path.join(repoRoot, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!/\bawait using \w+ =|`using` \(|\busing \w+ = /.test(line)) return;
      const around = lines.slice(Math.max(0, i - 1), i + 3).join(' ');
      assert.match(around, /Node 24/, `${file}:${i + 1} shows \`using\` without saying it needs Node 24: ${line}`);
    });
  }
});

test("the README's Node example runs from a checkout after `npm install --prefix web`", async () => {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  assert.match(readme, /`npm install --prefix web --ignore-scripts`/);
  const example = jsBlocks('README.md').find((code) => code.includes("imageToTensor('cat.jpg')"));
  assert.ok(example, 'the README has the Node example');
  // A checkout: web/ with its built dist/, no node_modules.
  const checkout = path.join(work, 'checkout');
  cpSync(path.join(repoRoot, 'web'), path.join(checkout, 'web'), { recursive: true, filter: (src) => !/[\\/]node_modules$/.test(src) });
  // `npm install --prefix web`, offline: the same two dependencies, packed from tests/node_modules.
  const deps = Object.keys(JSON.parse(readFileSync(path.join(repoRoot, 'web/package.json'), 'utf8')).dependencies);
  const quiet = { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' };
  const tarballs = deps.map((name) => path.join(work, execFileSync('npm', ['pack', '--pack-destination', work, '--loglevel=error'],
    { cwd: path.join(repoRoot, 'tests/node_modules', name), ...quiet }).trim().split('\n').at(-1)));
  execFileSync('npm', ['install', '--prefix', 'web', '--offline', '--ignore-scripts', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs],
    { cwd: checkout, ...quiet });
  copyFileSync(modelPath('resnet18'), path.join(checkout, 'resnet18.onnx'));
  // cat.jpg: a photo, encoded as JPEG
  const { PNG } = (await import('pngjs')).default;
  const jpeg = (await import('jpeg-js')).default;
  const png = PNG.sync.read(readFileSync(path.join(repoRoot, '.cache/demos/photos/chelsea.png')));
  writeFileSync(path.join(checkout, 'cat.jpg'), jpeg.encode({ width: png.width, height: png.height, data: png.data }, 90).data);
  const script = example.replace("from 'onnxfx'", "from './web/index.js'") +
    '\nconsole.log(JSON.stringify({ dims: out.feat4.dims, keys: Object.keys(out), evalNodes: evalNodes.length }));\n';
  writeFileSync(path.join(checkout, 'example.mjs'), script);
  const r = spawnSync(process.execPath, ['example.mjs'], { cwd: checkout, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').at(-1));
  assert.deepEqual(result.dims, [1, 512, 7, 7]);
  assert.deepEqual(result.keys, ['feat1', 'feat4']);
  assert.equal(result.evalNodes, 53);
});

const CONSUMER = `import { loadModel, createFeatureExtractor, getGraphNodeNames, imageToTensor, Tensor, type Model } from 'onnxfx';
export async function main(): Promise<number[]> {
  const model: Model = await loadModel('m.onnx', { numThreads: 2, onProgress: (loaded, total) => void (loaded + total) });
  const [, names] = getGraphNodeNames(model);
  const fx = await createFeatureExtractor(model, { returnNodes: names.slice(0, 1) });
  const out = await fx.run(new Tensor('float32', new Float32Array(4), [1, 4]));
  const image = await imageToTensor({ width: 1, height: 1, data: new Uint8Array(4) }, { preset: 'none' });
  model[Symbol.dispose]();
  await fx[Symbol.asyncDispose]();
  return [...Object.values(out)[0].dims, ...image.dims];
}
`;

for (const [what, options] of [
  ['lib es2022 + dom', { target: 'es2022', lib: ['es2022', 'dom'] }],
  ['target esnext (its default lib)', { target: 'esnext' }],
  ['lib esnext + dom', { target: 'esnext', lib: ['esnext', 'dom'] }],
]) {
  test(`index.d.ts and a program using it compile with tsc, ${what}`, () => {
    const dir = path.join(work, `ts-${what.replace(/\W+/g, '-')}`);
    mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
    symlinkSync(path.join(repoRoot, 'web'), path.join(dir, 'node_modules', 'onnxfx'));
    writeFileSync(path.join(dir, 'use.ts'), CONSUMER);
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', types: [], ...options },
      files: ['use.ts'],
    }));
    const r = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
    assert.equal(`${r.stdout}${r.stderr}`, '');
    assert.equal(r.status, 0);
  });
}
