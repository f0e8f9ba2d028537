// Shared by the JS tests: where the exported models and torchvision references live.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { loadWasm } from '../../web/src/loader.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const modelDir = process.env.ONNXFX_MODEL_DIR ?? path.join(repoRoot, '.cache/models');

export function modelPath(name) {
  return path.join(modelDir, `${name}.onnx`);
}

/** The reference written by tests/tools/export_models.py. */
export function loadReference(name) {
  return JSON.parse(readFileSync(path.join(modelDir, `${name}.ref.json`), 'utf8'));
}

export function readF32(file) {
  const buf = readFileSync(path.join(modelDir, file));
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Largest |a - b| relative to the largest |reference| element. */
export function maxRelativeError(actual, reference) {
  let scale = 0, worst = 0;
  for (let i = 0; i < reference.length; i++) {
    scale = Math.max(scale, Math.abs(reference[i]));
    worst = Math.max(worst, Math.abs(actual[i] - reference[i]));
  }
  return scale > 0 ? worst / scale : worst;
}

/** mulberry32: floats in [0, 1) from a fixed seed, so every run builds the same models and inputs. */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bytes in use in this thread's WebAssembly heap (dlmalloc's in-use total, wasm/api.c), in the
 * module web/index.js uses (loadWasm caches it): the leak tests compare it before and after. */
export async function heapUsed() {
  const { mod } = await loadWasm();
  return mod._ofx_wasm_heap_used();
}
