#!/usr/bin/env node
// The main job on a bundled default: list a model's node names the torchvision way, then
// extract a few of them and print names, shapes and a few values.
//
//   node demos/quickstart.mjs [MODEL.onnx] [NODE ...]
//
// Defaults: the ResNet-18 that tests/tools/export_models.py exports (random, seeded weights)
// and the nodes layer1, layer4 and fc. The input is a synthetic 224x224 RGB image normalized
// with ImageNet's mean and std, as torchvision's transforms would.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, getGraphNodeNames, createFeatureExtractor, Tensor } from '../web/index.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [modelPath = path.join(repo, '.cache/models/resnet18.onnx'), ...requested] = process.argv.slice(2);
const nodes = requested.length ? requested : ['layer1', 'layer4', 'fc'];

function syntheticImage(height, width) {
  const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
  const data = new Float32Array(3 * height * width);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        // soft diagonal stripes with a different phase per channel
        const v = 0.5 + 0.5 * Math.sin((x + y) / 9 + c * 2.1) * Math.cos((x - y) / 23);
        data[(c * height + y) * width + x] = (v - mean[c]) / std[c];
      }
    }
  }
  return new Tensor('float32', data, [1, 3, height, width]);
}

const model = await loadModel(modelPath);
const [, evalNodes] = getGraphNodeNames(model);
console.log(`${path.basename(modelPath)}: ${model.nodes.length} nodes, opset ${model.opset}`);
console.log(`inputs: ${model.inputs.map((i) => `${i.name} ${i.type} [${i.dims.join(', ')}]`).join('; ')}`);
console.log(`\nnode names (eval), ${evalNodes.length}:`);
for (let i = 0; i < evalNodes.length; i += 6) console.log('  ' + evalNodes.slice(i, i + 6).join('  '));

const fx = await createFeatureExtractor(model, { returnNodes: nodes });
const [height, width] = model.inputs[0].dims.slice(2).map((d) => (typeof d === 'number' ? d : 224));
const started = performance.now();
const features = await fx.run(syntheticImage(height, width));
const ms = performance.now() - started;
console.log(`\nextracted ${nodes.join(', ')} running ${fx.plannedNodeCount} of ${model.nodes.length - model.inputs.length} nodes in ${ms.toFixed(0)} ms:`);
for (const [key, t] of Object.entries(features)) {
  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of t.data) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  const first = Array.from(t.data.slice(0, 4), (v) => v.toFixed(4)).join(', ');
  console.log(`  ${key.padEnd(8)} [${t.dims.join(', ')}]  mean ${(sum / t.size).toFixed(4)}  min ${min.toFixed(4)}  max ${max.toFixed(4)}  first: ${first}`);
}
await fx.dispose();
await model.dispose();
