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

const families = zooFamilies();
const selection = process.env.ONNXFX_ZOO ?? 'ci';
const models = selection === 'ci' ? Object.values(families).map((list) => list[0])
  : selection === 'all' ? Object.values(families).flat()
    : selection.split(',').map((s) => s.trim()).filter(Boolean);

test('the CI set covers every family of the zoo', () => {
  assert.ok(Object.keys(families).length >= 15, `families parsed from export_models.py: ${Object.keys(families)}`);
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
      const { values, failures } = await extract(model, nodes, new Tensor('float32', readF32(c.input.file), c.input.dims));
      for (const node of nodes) {
        const got = values[node];
        if (got === undefined) continue; // reported by extract()
        const want = c.features[node];
        if (JSON.stringify(got.dims) !== JSON.stringify(want.dims)) {
          failures.push(`${node}: dims ${JSON.stringify(got.dims)}, torchvision ${JSON.stringify(want.dims)}`);
          continue;
        }
        const err = maxRelativeError(got.data, readF32(want.file));
        if (!(err < TOLERANCE)) failures.push(`${node}: max relative error ${err.toExponential(2)}`);
      }
      assert.deepEqual(failures.map((f) => `${name} ${f}`), [], `${name}: ${failures.length} of ${nodes.length} nodes fail`);
    } finally {
      model.dispose();
    }
  });
}
