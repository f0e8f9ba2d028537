/** Finds and instantiates the WebAssembly module (web/dist/), once per process or page. */
import { OnnxfxError } from './errors.js';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
let modulePromise = null;

async function instantiateInNode(options) {
  const { createRequire } = await import('node:module');
  const { readFile } = await import('node:fs/promises');
  const { fileURLToPath } = await import('node:url');
  const distUrl = options.distUrl ?? new URL('../dist/', import.meta.url);
  const dir = fileURLToPath(distUrl);
  const require = createRequire(import.meta.url);
  const factory = require(`${dir}onnxfx.js`);
  // Emscripten's loader would fetch() the file path, which Node cannot do: hand it the bytes.
  const wasmBinary = await readFile(options.wasmPath ?? `${dir}onnxfx.wasm`);
  return factory({ wasmBinary, locateFile: (file) => `${dir}${file}` });
}

/**
 * @param {{wasmPath?: string, distUrl?: URL}} [options]
 * @returns {Promise<object>} the Emscripten module
 */
export function loadWasm(options = {}) {
  if (!modulePromise) {
    if (!isNode) {
      return Promise.reject(new OnnxfxError('INVALID_ARGUMENT', 'browser loading is not available yet in this build'));
    }
    modulePromise = instantiateInNode(options).catch((err) => {
      modulePromise = null;
      throw err;
    });
  }
  return modulePromise;
}

export { isNode };
