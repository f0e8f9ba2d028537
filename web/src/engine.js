/**
 * The engine: the same operations whether the core runs here (LocalEngine) or in a worker
 * (WorkerEngine, web/src/worker-client.js). Each operation takes one plain `in` object and
 * returns one `out` value, which is exactly what crosses the worker boundary
 * (web/src/messages.d.ts lists them). Handles are numbers, valid only in the engine that made
 * them.
 */
import { Core } from './core.js';
import { loadWasm, poolReady } from './loader.js';
import { OnnxfxError } from './errors.js';
import { findExternalLocations, openModelFile, readExternalData } from './source.js';

export class LocalEngine {
  /** @param {Core} core @param {boolean} threaded */
  constructor(core, threaded) {
    this.core = core;
    this.threaded = threaded;
    this.inWorker = false;
    this.models = new Map();
  }

  /** Loads the WebAssembly module (once per variant) and wraps it. */
  static async create(options = {}) {
    const { mod, threaded } = await loadWasm(options);
    mod.__onnxfxCore ??= new Core(mod);
    return new LocalEngine(mod.__onnxfxCore, threaded);
  }

  info() {
    return { threaded: this.threaded };
  }

  /** @param {{bytes: Uint8Array, externals?: {location: string, data: Uint8Array}[]}} args */
  loadModel({ bytes, externals }) {
    const native = externals?.length ? this.core.loadModelExternal(bytes, externals) : this.core.loadModel(bytes);
    this.models.set(native.handle, native);
    return { handle: native.handle, description: native.description };
  }

  /**
   * Node: loads a model file read straight into the heap, so the model's bytes exist once.
   * With external data the (small) model bytes take the copying path instead.
   * @param {{file: string, onProgress?: Function, externalData?: object}} args
   */
  async loadModelFile({ file, onProgress, externalData }) {
    const opened = await openModelFile(file);
    let ptr;
    try {
      ptr = await this.core.readFileToHeap(opened.fd, opened.size, onProgress);
    } finally {
      await opened.close();
    }
    let native;
    const locations = findExternalLocations(this.core.heapU8().subarray(ptr, ptr + opened.size));
    if (locations.length) {
      const bytes = this.core.heapU8().slice(ptr, ptr + opened.size);
      this.core.mod._free(ptr);
      const externals = await readExternalData(locations, opened.dir, externalData);
      native = this.core.loadModelExternal(bytes, externals.map(({ location, data }) => ({ location, data })));
    } else {
      native = this.core.loadModelAt(ptr, opened.size);
    }
    this.models.set(native.handle, native);
    return { handle: native.handle, description: native.description };
  }

  freeModel({ handle }) {
    const native = this.models.get(handle);
    if (!native) return;
    this.models.delete(handle);
    this.core.freeModel(native);
  }

  createExtractor({ model, names, train }) {
    if (!this.models.has(model)) throw new OnnxfxError('DISPOSED', 'this model has been disposed');
    return this.core.createExtractor(model, names, train);
  }

  freeExtractor({ handle }) {
    this.core.freeExtractor(handle);
  }

  /** @returns {{type: string, data: ArrayBufferView, dims: number[]}[]} */
  run({ handle, tensors }) {
    return this.core.run(handle, tensors);
  }

  /** @returns {{node: number, ms: number}[]} */
  profile({ handle, tensors, runs }) {
    return this.core.profile(handle, tensors, runs);
  }

  toOnnx({ handle, names }) {
    return this.core.extractorToOnnx(handle, names);
  }

  /** Sets the thread count; with more than one, first waits for the pool's workers to load. */
  async setNumThreads({ threads }) {
    if (threads > 1) await poolReady(this.core.mod);
    return this.core.setNumThreads(threads);
  }

  inferShapes({ handle }) {
    if (!this.models.has(handle)) throw new OnnxfxError('DISPOSED', 'this model has been disposed');
    return this.core.inferShapes(handle);
  }
}
