// @ts-check
/**
 * The engine: the same operations whether the core runs here (LocalEngine) or in a worker
 * (WorkerEngine, web/src/worker-client.js). Both answer `call(type, in)` with a Promise of one
 * `out` value, which is exactly what crosses the worker boundary (web/src/messages.d.ts types
 * every operation; tests/js/engine-contract.test.mjs checks these methods against it with tsc).
 * Handles are numbers, valid only in the engine that made them.
 *
 * Every operation is async here too, so callers have one code path; the body runs up to its
 * first `await` synchronously, so an in-thread call starts at once, as before.
 */
import { Core } from './core.js';
import { loadWasm, poolReady } from './loader.js';
import { OnnxfxError } from './errors.js';
import { bufferSource, fileSource, findExternalLocations, openExternalData, openModelFile, rangeSource, rangedModel } from './source.js';
import { SELF_LOCATION, inlineSelfData, splitModel } from './split-model.js';

/** @typedef {import('./messages.js').Operations} Operations */
/** @typedef {import('./messages.js').OperationType} OperationType */
/** @typedef {import('./messages.js').LocalOperations} LocalOperations */
/** @typedef {import('./messages.js').Engine} Engine */
/**
 * A loaded model: the core's handles, and for a split model (src/split-model.js) the source its
 * big initializers are read from.
 * @typedef {{handle: number, bytesPtr: number, readerId?: number, description: any,
 *   self?: {size: number, read: (offset: number, length: number, target: Uint8Array) => void}}} NativeModel
 */

/** The operations `call` (and the worker) accepts: LocalEngine's methods of those names. */
export const OPERATIONS = /** @type {const} */ ([
  'info', 'loadModel', 'freeModel', 'createExtractor', 'freeExtractor', 'run', 'profile', 'toOnnx', 'explain',
  'setNumThreads', 'inferShapes',
]);

/**
 * The thread count of each module's core (process-wide in the C side, ofx_set_num_threads): what
 * the last setNumThreads answered; 1 until then.
 * @type {WeakMap<Core, number>}
 */
const threadCounts = new WeakMap();

/** @implements {Engine} */
export class LocalEngine {
  /**
   * @param {Core} core @param {boolean} threaded
   * @param {{simd: 'relaxed'|'simd128', kernels: Record<string, string>}} [build] which build runs
   */
  constructor(core, threaded, build = { simd: 'simd128', kernels: {} }) {
    this.core = core;
    this.threaded = threaded;
    this.build = build;
    /** @type {boolean} */
    this.inWorker = false;
    /**
     * In a browser worker: reads a URL's byte range into shared memory through the page
     * (worker.js), for range-read weights (source.js rangeSource); null elsewhere.
     * @type {((url: string, offset: number, length: number, target: Uint8Array) => boolean) | null}
     */
    this.readRange = null;
    /** @type {Map<number, NativeModel>} */
    this.models = new Map();
    /** Live extractor handles, with the model handle each was made from. */
    /** @type {Map<number, number>} */
    this.extractors = new Map();
  }

  /** The extractor handle, if it is live; else DISPOSED. @param {number} handle */
  #extractor(handle) {
    if (!this.extractors.has(handle)) throw new OnnxfxError('DISPOSED', 'this feature extractor has been disposed');
    return handle;
  }

  /**
   * Loads the WebAssembly module (once per variant) and wraps it.
   * @param {{wasmPath?: string, wasmUrl?: string|URL, distUrl?: string|URL, threads?: boolean}} [options]
   */
  static async create(options = {}) {
    const { mod, threaded, simd } = await loadWasm(options);
    mod.__onnxfxCore ??= new Core(mod);
    return new LocalEngine(mod.__onnxfxCore, threaded, { simd, kernels: mod.__onnxfxCore.kernels() });
  }

  /**
   * Runs one operation, by name; what the worker does with each message.
   * @template {OperationType} T
   * @param {T} type
   * @param {Operations[T]['in']} input
   * @param {Transferable[]} [_transfer] ignored: nothing crosses a thread here
   * @param {(done: number, total: number) => void} [onProgress] the operation's progress, if it has any
   * @returns {Promise<Operations[T]['out']>}
   */
  async call(type, input, _transfer, onProgress) {
    if (!OPERATIONS.includes(type)) throw new OnnxfxError('INVALID_ARGUMENT', `unknown engine operation '${type}'`);
    const op = /** @type {(input: Operations[T]['in'], onProgress?: (done: number, total: number) => void) => Promise<Operations[T]['out']>} */ (this[type]);
    return op.call(this, input, onProgress);
  }

  /**
   * @param {Operations['info']['in']} [_input]
   * @returns {Promise<Operations['info']['out']>}
   */
  async info(_input) {
    const backend = { simd: this.build.simd, threads: threadCounts.get(this.core) ?? 1, kernels: { ...this.build.kernels } };
    return { threaded: this.threaded, backend };
  }

  /**
   * @param {Operations['loadModel']['in']} input
   * @returns {Promise<Operations['loadModel']['out']>}
   */
  async loadModel(input) {
    // a browser worker, a big model on a range-serving server: its weights stay there; else big
    // initializers stay in `bytes` (JavaScript memory); either way read as the core packs them
    const { bytes, self, sources } = 'url' in input ? rangedModel(input.url, input.size, this.readRange) : this.#modelInMemory(input);
    /** @type {NativeModel} */
    const native = sources.length ? this.core.loadModelDeferred(bytes, sources) : this.core.loadModel(bytes);
    if (self) native.self = self;
    this.models.set(native.handle, native);
    return { handle: native.handle, description: native.description };
  }

  /**
   * loadModel's bytes split (src/split-model.js) and its sources: the bytes themselves when
   * split, then each external file's bytes, or its URL to read by range requests.
   * @param {{bytes: Uint8Array, externals: Exclude<Operations['loadModel']['in'], {url: string}>['externals']}} input
   */
  #modelInMemory({ bytes, externals }) {
    const self = bufferSource(SELF_LOCATION, bytes);
    const split = splitModel(self);
    const sources = (externals ?? []).map((e) => ('url' in e ? rangeSource(e.location, e.url, e.size, this.readRange) : bufferSource(e.location, e.data)));
    if (split) sources.unshift(self);
    return { bytes: split ?? bytes, self: split ? self : null, sources };
  }

  /**
   * Node: loads a model file. Its big initializers stay in the file, read with positioned reads
   * as the core packs them (src/split-model.js); a model without any is read straight into the
   * heap. In-thread only.
   * @param {LocalOperations['loadModelFile']['in']} input
   * @returns {Promise<LocalOperations['loadModelFile']['out']>}
   */
  async loadModelFile({ file, onProgress, externalData }) {
    const opened = await openModelFile(file);
    /** @type {NativeModel} */
    let native;
    /** @type {Promise<void> | null} */
    let closing = null;
    const close = () => (closing ??= opened.close()); // once: a failed load closes its sources too
    try {
      const self = await fileSource(SELF_LOCATION, opened.fd, opened.size, () => void close());
      const split = splitModel(self);
      if (split) {
        const locations = findExternalLocations(split).filter((l) => l !== SELF_LOCATION);
        native = this.core.loadModelDeferred(split, [self, ...await openExternalData(locations, opened.dir, externalData)]);
        native.self = self; // the file stays open until freeModel closes it
        onProgress?.(opened.size, opened.size);
        this.models.set(native.handle, native);
        return { handle: native.handle, description: native.description };
      }
    } catch (err) {
      await close();
      throw err;
    }
    let ptr;
    try {
      ptr = await this.core.readFileToHeap(opened.fd, opened.size, onProgress);
    } finally {
      await close();
    }
    const locations = findExternalLocations(this.core.heapU8().subarray(ptr, ptr + opened.size));
    if (locations.length) {
      const bytes = this.core.heapU8().slice(ptr, ptr + opened.size);
      this.core.mod._free(ptr);
      native = this.core.loadModelDeferred(bytes, await openExternalData(locations, opened.dir, externalData));
    } else {
      native = this.core.loadModelAt(ptr, opened.size);
    }
    this.models.set(native.handle, native);
    return { handle: native.handle, description: native.description };
  }

  /**
   * Frees a model and the extractors still alive that were made from it (before it: they
   * point into it). A handle already freed is ignored.
   * @param {Operations['freeModel']['in']} input
   * @returns {Promise<Operations['freeModel']['out']>}
   */
  async freeModel({ handle }) {
    const native = this.models.get(handle);
    if (!native) return;
    for (const [fx, model] of this.extractors) if (model === handle) this.#freeExtractor(fx);
    this.models.delete(handle);
    this.core.freeModel(native);
  }

  /**
   * @param {Operations['createExtractor']['in']} input
   * @returns {Promise<Operations['createExtractor']['out']>}
   */
  async createExtractor({ model, names, train, fuse, weights }, onProgress) {
    if (!this.models.has(model)) throw new OnnxfxError('DISPOSED', 'this model has been disposed');
    const info = this.core.createExtractor(model, names, train, fuse, weights, onProgress);
    this.extractors.set(info.handle, model);
    return info;
  }

  /**
   * Frees an extractor; a handle already freed (or freed with its model) is ignored.
   * @param {Operations['freeExtractor']['in']} input
   * @returns {Promise<Operations['freeExtractor']['out']>}
   */
  async freeExtractor({ handle }) {
    this.#freeExtractor(handle);
  }

  /** @param {number} handle */
  #freeExtractor(handle) {
    if (this.extractors.delete(handle)) this.core.freeExtractor(handle);
  }

  /**
   * @param {Operations['run']['in']} input
   * @returns {Promise<Operations['run']['out']>}
   */
  async run({ handle, tensors }) {
    return this.core.run(this.#extractor(handle), tensors);
  }

  /**
   * @param {Operations['profile']['in']} input
   * @returns {Promise<Operations['profile']['out']>}
   */
  async profile({ handle, tensors, runs }) {
    return this.core.profile(this.#extractor(handle), tensors, runs);
  }

  /**
   * @param {Operations['toOnnx']['in']} input
   * @returns {Promise<Operations['toOnnx']['out']>}
   */
  async toOnnx({ handle, names }) {
    const bytes = this.core.extractorToOnnx(this.#extractor(handle), names);
    const self = this.models.get(this.extractors.get(handle) ?? -1)?.self;
    return self ? inlineSelfData(bytes, self) : bytes; // a split model's weights back inline
  }

  /**
   * @param {Operations['explain']['in']} input
   * @returns {Promise<Operations['explain']['out']>}
   */
  async explain({ handle, tensors }) {
    return this.core.explain(this.#extractor(handle), tensors);
  }

  /**
   * Sets the thread count; with more than one, first waits for the pool's workers to load.
   * @param {Operations['setNumThreads']['in']} input
   * @returns {Promise<Operations['setNumThreads']['out']>}
   */
  async setNumThreads({ threads }) {
    if (threads > 1) await poolReady(this.core.mod);
    const count = this.core.setNumThreads(threads);
    threadCounts.set(this.core, count);
    return count;
  }

  /**
   * @param {Operations['inferShapes']['in']} input
   * @returns {Promise<Operations['inferShapes']['out']>}
   */
  async inferShapes({ handle }) {
    if (!this.models.has(handle)) throw new OnnxfxError('DISPOSED', 'this model has been disposed');
    return this.core.inferShapes(handle);
  }
}
