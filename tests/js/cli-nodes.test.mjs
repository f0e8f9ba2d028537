// `onnxfx nodes`: every name --nodes accepts, from the names and model.inferShapes() alone (the
// model is never run), so it works on any model: NHWC with 4 channels, non-image inputs, ops
// onnxfx lacks, swin_t. --json for scripts; --input-size feeds shape inference.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, modelPath } from './helpers.mjs';
import { FLOAT, model, graph, node, valueInfo, tensor, floats } from './onnx-writer.mjs';

const BIN = path.join(repoRoot, 'web/bin/onnxfx.mjs');
let work;

test.before(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-nodes-'));
});
test.after(() => rmSync(work, { recursive: true, force: true }));

function onnxfx(...args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function save(name, bytes) {
  const file = path.join(work, `${name}.onnx`);
  writeFileSync(file, bytes);
  return file;
}

const rowsOf = (stdout) => stdout.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
const json = (...args) => {
  const r = onnxfx('nodes', ...args, '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};

test('resnet18: every eval name with op type and symbolic shape; scope names select their last node', () => {
  const r = onnxfx('nodes', modelPath('resnet18'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const rows = rowsOf(r.stdout);
  assert.deepEqual(rows[0], ['x', 'Input', '[batch, 3, 224, 224]']);
  assert.deepEqual(rows.find((x) => x[0] === 'layer2.0.downsample'), ['layer2.0.downsample', 'Conv (layer2.0.downsample.0)', '[batch, 128, 28, 28]']);
  assert.deepEqual(rows.at(-1), ['fc', 'Gemm', '[batch, 1000]']);
  assert.equal(rows.length, 53, '50 nodes and the 3 downsample scopes');
  assert.ok(!r.stdout.includes('?'));
  const j = json(modelPath('resnet18'));
  assert.equal(j.nodes.length, 53);
  assert.deepEqual(j.nodes.find((n) => n.name === 'layer1.0.relu_1'),
    { name: 'layer1.0.relu_1', opType: 'Relu', node: 'layer1.0.relu_1', onnxName: '/layer1/layer1.0/relu_1/Relu', outputShapes: [['batch', 64, 56, 56]] });
  assert.deepEqual(j.inputs, [{ name: 'x', type: 'float32', dims: ['batch', 3, 224, 224] }]);
});

test('--input-size feeds shape inference (the input is declared at that size, batch stays symbolic)', () => {
  const j = json(modelPath('resnet18'), '--input-size', '320,256');
  const by = Object.fromEntries(j.nodes.map((n) => [n.name, n.outputShapes]));
  assert.deepEqual(by.x, [['batch', 3, 320, 256]]);
  assert.deepEqual(by.conv1, [['batch', 64, 160, 128]]);
  assert.deepEqual(by['layer4.1.relu_1'], [['batch', 512, 10, 8]]);
  assert.deepEqual(by.fc, [['batch', 1000]]);
});

test('an NHWC model with 4 input channels', () => {
  const file = save('nhwc4', model({
    graph: graph({
      nodes: [
        node('Transpose', ['img'], ['t'], { name: '/to_nchw/Transpose', attrs: { perm: [0, 3, 1, 2] } }),
        node('Conv', ['t', 'conv.weight'], ['c'], { name: '/conv/Conv', attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } }),
        node('Relu', ['c'], ['y'], { name: '/relu/Relu' }),
      ],
      inputs: [valueInfo('img', FLOAT, ['N', 32, 32, 4])],
      outputs: [valueInfo('y', FLOAT, null)],
      initializers: [tensor({ name: 'conv.weight', dims: [8, 4, 3, 3], raw: floats(8 * 4 * 9) })],
    }),
  }));
  const r = onnxfx('nodes', file);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(rowsOf(r.stdout), [
    ['img', 'Input', '[N, 32, 32, 4]'],
    ['to_nchw', 'Transpose', '[N, 4, 32, 32]'],
    ['conv', 'Conv', '[N, 8, 16, 16]'],
    ['relu', 'Relu', '[N, 8, 16, 16]'],
  ]);
  const sized = json(file, '--input-size', '64');
  assert.deepEqual(sized.nodes.at(-1).outputShapes, [['N', 8, 32, 32]], '--input-size sets H, W of the NHWC input');
});

test('a non-image input and an op onnxfx lacks: ? only where inference cannot know', () => {
  const file = save('custom', model({
    graph: graph({
      nodes: [
        node('MatMul', ['x', 'w'], ['m'], { name: '/proj/MatMul' }),
        node('Frobnicate', ['m'], ['f'], { name: '/odd/Frobnicate', domain: 'com.example' }),
        node('Relu', ['f'], ['r'], { name: '/after/Relu' }),
        node('Softmax', ['m'], ['s'], { name: '/head/Softmax', attrs: { axis: -1 } }),
      ],
      inputs: [valueInfo('x', FLOAT, ['batch', 16])],
      outputs: [valueInfo('r', FLOAT, null), valueInfo('s', FLOAT, null)],
      initializers: [tensor({ name: 'w', dims: [16, 4], raw: floats(64) })],
    }),
    opsets: [['', 13], ['com.example', 1]],
  }));
  const r = onnxfx('nodes', file);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(rowsOf(r.stdout), [
    ['x', 'Input', '[batch, 16]'],
    ['proj', 'MatMul', '[batch, 4]'],
    ['odd', 'Frobnicate', '?'],
    ['after', 'Relu', '?'],
    ['head', 'Softmax', '[batch, 4]'],
  ]);
});

test('swin_t: every shape known, scopes included', () => {
  const j = json(modelPath('swin_t'));
  const unknown = j.nodes.filter((n) => !n.outputShapes || n.outputShapes.some((s) => s == null));
  assert.deepEqual(unknown.map((n) => n.name), []);
  const attn = j.nodes.find((n) => n.name === 'features.1.0.attn');
  assert.deepEqual([attn.opType, attn.node], ['Slice', 'features.1.0.attn.slice_1'], 'a module scope is listed, as its last node');
  assert.deepEqual(attn.outputShapes, [['batch', 56, 56, 96]]);
  assert.deepEqual(j.nodes.find((n) => n.name === 'head').outputShapes, [['batch', 1000]]);
});
