// The engine interface is one contract, checked by tsc (tests/node_modules/typescript):
// web/src/messages.d.ts types every operation; LocalEngine (web/src/engine.js, JSDoc-typed,
// @ts-check) has exactly one async method per operation with that operation's payload and
// result; engine.js's OPERATIONS (what `call` and the worker accept) lists the same names;
// both engines are an `Engine`; and index.js (@ts-check) only makes calls the types allow.
// tests/js/contract/engine-contract.ts states the checks. Each way of breaking the contract is
// tried on a copy of web/ and must make tsc fail, naming what is wrong.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './helpers.mjs';

const tsc = path.join(repoRoot, 'tests/node_modules/typescript/bin/tsc');
const CONTRACT = 'tests/js/contract';

/** tsc's output for the contract project under `root` ('' when it type-checks). */
function typecheck(root) {
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(root, CONTRACT)], { encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (err) {
    return `${err.stdout ?? ''}${err.stderr ?? ''}` || String(err);
  }
}

/**
 * A copy of web/ (sources and types; no dist/, no node_modules/) and of the contract project,
 * with each edit [file, text, replacement] applied; the caller removes it.
 */
function copyWith(edits) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-contract-'));
  cpSync(path.join(repoRoot, 'web'), path.join(root, 'web'), {
    recursive: true,
    filter: (src) => !/[\\/](dist|node_modules)$/.test(src),
  });
  cpSync(path.join(repoRoot, CONTRACT), path.join(root, CONTRACT), { recursive: true });
  for (const [file, text, replacement] of edits) {
    const p = path.join(root, file);
    const before = readFileSync(p, 'utf8');
    assert.ok(before.includes(text), `${file} contains ${JSON.stringify(text)} (update this test with the code)`);
    writeFileSync(p, before.replace(text, replacement));
  }
  return root;
}

function typecheckWith(edits) {
  const root = copyWith(edits);
  try {
    return typecheck(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('the engines, index.js and web/src/messages.d.ts agree (tsc)', () => {
  assert.ok(existsSync(tsc), 'typescript is installed (tests/package.json devDependency)');
  assert.equal(typecheck(repoRoot), '');
});

test('an operation in messages.d.ts without its LocalEngine method fails', () => {
  const out = typecheckWith([['web/src/messages.d.ts', '  info: {', '  ping: { in: { handle: number }; out: void };\n  info: {']]);
  assert.match(out, /engine-contract\.ts.*"ping"/);
});

test('a LocalEngine method without its message type fails', () => {
  const out = typecheckWith([['web/src/engine.js', '  /**\n   * @param {Operations[\'info\'][\'in\']} [_input]',
    '  /** @param {{handle: number}} _input */\n  async ping(_input) {}\n\n  /**\n   * @param {Operations[\'info\'][\'in\']} [_input]']]);
  assert.match(out, /engine-contract\.ts.*"ping"/);
});

test('a LocalEngine method whose payload or result differs from its message type fails', () => {
  const result = typecheckWith([['web/src/engine.js', "@returns {Promise<Operations['explain']['out']>}", '@returns {Promise<string | null>}']]);
  assert.match(result, /engine-contract\.ts.*"explain"/);
  const payload = typecheckWith([['web/src/engine.js', "@param {Operations['toOnnx']['in']} input", '@param {{handle: number}} input']]);
  assert.match(payload, /engine-contract\.ts.*"toOnnx"/);
  // the type changes in messages.d.ts: the engine's body no longer fits it
  const body = typecheckWith([['web/src/messages.d.ts', 'out: string };', 'out: string[] };']]);
  assert.match(body, /web\/src\/engine\.js\(\d+,\d+\): error/);
});

test("engine.js's OPERATIONS (what the worker accepts) must list exactly the typed operations", () => {
  const out = typecheckWith([['web/src/engine.js', "'toOnnx', 'explain',", "'toOnnx',"]]);
  assert.match(out, /engine-contract\.ts.*"explain"/);
});

test('index.js may only call typed operations with their payloads', () => {
  const name = typecheckWith([['web/index.js', "engine.call('freeExtractor', { handle })", "engine.call('freeExtractors', { handle })"]]);
  assert.match(name, /web\/index\.js\(\d+,\d+\): error .*freeExtractors/);
  const payload = typecheckWith([['web/index.js', "call('inferShapes', { handle: this._handle() })", "call('inferShapes', { model: this._handle() })"]]);
  assert.match(payload, /web\/index\.js\(\d+,\d+\): error/);
});
