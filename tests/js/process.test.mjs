// onnxfx inside a real Node program: the engine installs no process-wide handlers and never
// ends the process, so an error in the user's own code after loadModel is reported by Node as
// usual (exit code 1, the user's error, a short stderr); the CLI ends quietly when its reader
// goes away (`onnxfx nodes MODEL | head`).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot, modelPath } from './helpers.mjs';

const INDEX = pathToFileURL(path.join(repoRoot, 'web/index.js')).href;
const BIN = path.join(repoRoot, 'web/bin/onnxfx.mjs');
const MODEL = modelPath('resnet18');
let work;

test.before(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-process-'));
});
test.after(() => rmSync(work, { recursive: true, force: true }));

function runScript(name, body) {
  const file = path.join(work, `${name}.mjs`);
  writeFileSync(file, `import { loadModel } from ${JSON.stringify(INDEX)};\n${body}\n`);
  return spawnSync(process.execPath, [file], { encoding: 'utf8' });
}

const cases = {
  'a throw in this thread': `await loadModel(${JSON.stringify(MODEL)});\nthrow new Error('user boom');`,
  'a throw, single-thread build': `await loadModel(${JSON.stringify(MODEL)}, { threads: false });\nthrow new Error('user boom');`,
  'a throw with the model in a worker': `await loadModel(${JSON.stringify(MODEL)}, { worker: true });\nthrow new Error('user boom');`,
  'an unhandled rejection': `await loadModel(${JSON.stringify(MODEL)});\nPromise.reject(new Error('user boom'));`,
  'a throw in a timer': `await loadModel(${JSON.stringify(MODEL)});\nsetTimeout(() => { throw new Error('user boom'); }, 0);`,
};

for (const [what, body] of Object.entries(cases)) {
  test(`after loadModel, ${what} in the user's code is Node's own report: exit 1, the user's error, short`, () => {
    const r = runScript(what.replace(/\W+/g, '-'), body);
    assert.equal(r.status, 1, r.stderr.slice(0, 2000));
    assert.match(r.stderr, /Error: user boom/);
    assert.ok(r.stderr.length < 2000, `stderr is ${r.stderr.length} characters:\n${r.stderr.slice(0, 500)}`);
    assert.doesNotMatch(r.stderr, /Emscripten|ExitStatus|createOnnxfxModule/);
  });
}

test('a script that ends normally after loadModel exits 0, with its exitCode untouched', () => {
  const r = runScript('normal', `const m = await loadModel(${JSON.stringify(MODEL)});\nconsole.log(m.nodes.length);\nprocess.exitCode = 3;`);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stdout, /^\d+\n$/);
});

test('onnxfx nodes into a pipe that is already closed (| head) ends quietly with code 0', async () => {
  const child = spawn(process.execPath, [BIN, 'nodes', MODEL], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone before the first line is written
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(stderr, '');
  assert.equal(code, 0);
});
