// The torchvision classification zoo: for each model, the 10 node names sampled from torchvision's
// eval names by tests/tools/export_models.py (as torchvision's own test samples them), extracted
// with createFeatureExtractor and compared with torchvision's create_feature_extractor on the same
// weights and input, to 1e-4 relative to the largest reference magnitude.
//
// By default the CI set: one small model per family (the first model of each family in ZOO of
// tests/tools/export_models.py, exported by `export_models.py --family-smallest`). The whole zoo
// (export with `--all` first) runs with ONNXFX_ZOO=all; ONNXFX_ZOO=a,b runs the named models.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadModel, createFeatureExtractor, Tensor } from '../../web/index.js';
import { loadReference, maxRelativeError, modelPath, readF32, repoRoot } from './helpers.mjs';

const TOLERANCE = 1e-4;

// Sampled names whose torchvision node has no ONNX counterpart of that name, each for the reason
// docs/naming.md's table gives. Such a node must either match or fail the documented way (never
// another error, never a silently wrong value); every other node must match.
const KNOWN_GAPS = [
  { model: /^shufflenet/, node: /\.view(_\d+)?$/, fails: ['NODE_NOT_FOUND'],
    why: "torch's view exports as Reshape, named reshape" },
  { model: /^inception/, node: /^Mixed_\w+\.cat(_\d+)?$/, fails: ['NODE_NOT_FOUND', 'dims'],
    why: 'the exporter merges nested cat calls into one Concat' },
  { model: /^maxvit/, node: /\.(swapaxes|permute)(_\d+)?$/, fails: ['NODE_NOT_FOUND', 'dims', 'values'],
    why: 'two-axis permute and swapaxes both export as Transpose, which onnxfx names transpose' },
  { model: /^swin/, node: /\.(permute|view|reshape|pad|getitem)(_\d+)?$/, fails: ['NODE_NOT_FOUND', 'dims', 'values'],
    why: 'functions wrapped with torch.fx.wrap export as many ops' },
  { model: /^convnext/, node: /\.layer_norm(_\d+)?$/, fails: ['NODE_NOT_FOUND'],
    why: 'opset 13 exports layer_norm as 9 ops' },
];

// torchvision strips a module's own _<digits> ending and counts calls instead, so its
// `encoder_layer_N.ln_1` is the module ln_2 (and its `ln` the module ln_1); onnxfx keeps module
// names as they are. The value behind torchvision's name is compared with onnxfx's name for it.
const RENAMED = [
  { model: /^vit/, from: /(encoder_layer_\d+)\.ln_1$/, to: '$1.ln_2' },
  { model: /^vit/, from: /(encoder_layer_\d+)\.ln$/, to: '$1.ln_1' },
];

function onnxfxName(model, node) {
  const rule = RENAMED.find((r) => r.model.test(model) && r.from.test(node));
  return rule ? node.replace(rule.from, rule.to) : node;
}

/** ZOO of export_models.py, the one list of families: {family: [models, smallest first]}. */
function zooFamilies() {
  const source = readFileSync(path.join(repoRoot, 'tests/tools/export_models.py'), 'utf8');
  const block = source.match(/^ZOO = \{\n([\s\S]*?)^\}/m);
  assert.ok(block, 'export_models.py defines ZOO');
  const families = {};
  for (const [, family, list] of block[1].matchAll(/"(\w+)": \[([^\]]*)\]/g)) {
    families[family] = [...list.matchAll(/"(\w+)"/g)].map((m) => m[1]);
  }
  return families;
}

/** CI_EXTRA of export_models.py: CI models beyond one per family. */
function ciExtra() {
  const source = readFileSync(path.join(repoRoot, 'tests/tools/export_models.py'), 'utf8');
  const line = source.match(/^CI_EXTRA = \[([^\]]*)\]/m);
  assert.ok(line, 'export_models.py defines CI_EXTRA');
  return [...line[1].matchAll(/"(\w+)"/g)].map((m) => m[1]);
}

const families = zooFamilies();
const selection = process.env.ONNXFX_ZOO ?? 'ci';
const models = selection === 'ci' ? [...Object.values(families).map((list) => list[0]), ...ciExtra()]
  : selection === 'all' ? Object.values(families).flat()
    : selection.split(',').map((s) => s.trim()).filter(Boolean);

test('the CI set covers every family of the zoo', () => {
  assert.ok(Object.keys(families).length >= 15, `families parsed from export_models.py: ${Object.keys(families)}`);
  assert.ok(ciExtra().includes('densenet169'), 'densenet169 (Concats of 33 inputs) is in the CI set');
  for (const list of Object.values(families)) assert.ok(list.length >= 1);
});

/** The requested values, or, per node, why they could not be computed. */
async function extract(model, nodes, input) {
  const failures = [];
  const runnable = [];
  for (const node of nodes) {
    // planning one node at a time attributes NODE_NOT_FOUND / UNSUPPORTED_OP to the node
    try {
      (await createFeatureExtractor(model, { returnNodes: [node] })).dispose();
      runnable.push(node);
    } catch (err) {
      failures.push(`${node}: ${err.code ?? err.name}: ${err.message}`);
    }
  }
  const values = {};
  const runGroup = async (group) => {
    const fx = await createFeatureExtractor(model, { returnNodes: Object.fromEntries(group.map((n) => [n, n])) });
    try {
      Object.assign(values, await fx.run(input));
    } finally {
      fx.dispose();
    }
  };
  if (runnable.length) {
    try {
      await runGroup(runnable);
    } catch (err) {
      // two names resolving to one value are refused together: run them one by one
      if (err.code !== 'INVALID_ARGUMENT') throw err;
      for (const node of runnable) {
        try {
          await runGroup([node]);
        } catch (e) {
          failures.push(`${node}: ${e.code ?? e.name}: ${e.message}`);
        }
      }
    }
  }
  return { values, failures };
}

for (const name of models) {
  test(`${name}: torchvision's sampled nodes match to ${TOLERANCE} relative`, async () => {
    const ref = loadReference(name);
    assert.equal(ref.reference, 'torchvision', `${name}: references come from torchvision`);
    const nodes = ref.sampled_nodes;
    assert.equal(nodes.length, 10, `${name}: 10 sampled nodes`);
    const c = ref.cases[0];
    const model = await loadModel(modelPath(name));
    try {
      const ours = nodes.map((node) => onnxfxName(name, node));
      const { values, failures } = await extract(model, ours, new Tensor('float32', readF32(c.input.file), c.input.dims));
      nodes.forEach((node, i) => {
        const got = values[ours[i]];
        if (got === undefined) return; // reported by extract()
        const want = c.features[node];
        if (JSON.stringify(got.dims) !== JSON.stringify(want.dims)) {
          failures.push(`${ours[i]}: dims ${JSON.stringify(got.dims)}, torchvision ${JSON.stringify(want.dims)}`);
          return;
        }
        const err = maxRelativeError(got.data, readF32(want.file));
        if (!(err < TOLERANCE)) failures.push(`${ours[i]}: values: max relative error ${err.toExponential(2)}`);
      });
      const unexplained = failures.filter((f) => {
        const node = f.slice(0, f.indexOf(': '));
        const kind = f.slice(node.length + 2).split(/[:\s]/)[0]; /* NODE_NOT_FOUND, dims, values, ... */
        const gap = KNOWN_GAPS.find((g) => g.model.test(name) && g.node.test(node));
        return !gap || !gap.fails.includes(kind);
      });
      assert.deepEqual(unexplained.map((f) => `${name} ${f}`), [], `${name}: ${unexplained.length} of ${nodes.length} nodes fail`);
    } finally {
      model.dispose();
    }
  });
}
