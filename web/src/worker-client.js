/**
 * The client side of the worker proxy: one generic `call(type, in, transfer)` that posts
 * `{type, id, in}` and resolves with the answer's `out` (or rejects with its `err` as an
 * OnnxfxError). Operation names and payloads are those of LocalEngine (web/src/engine.js),
 * typed in web/src/messages.d.ts.
 */
import { deserializeError, OnnxfxError } from './errors.js';
import { isNode } from './loader.js';
import { fillRange } from './source.js';

/** @typedef {import('./messages.js').WorkerOperations} WorkerOperations */
/** @typedef {import('./messages.js').MessageType} MessageType */
/** @typedef {import('./messages.js').Engine} Engine */

/** @implements {Engine} */
export class WorkerEngine {
  #worker;
  #pending = new Map();
  #nextId = 1;
  #closed = false;
  /** @type {Promise<void>|null} */
  #terminated = null;

  constructor(worker) {
    this.#worker = worker;
    /** @type {boolean} */
    this.inWorker = true;
    /** @type {boolean} */
    this.threaded = false;
  }

  /** Starts a worker and loads the WebAssembly module in it. */
  static async create(options = {}) {
    let engine;
    if (isNode) {
      const { Worker } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:worker_threads');
      // (the module's URL through a variable: bundlers for the web must not take this Node-only
      // worker for a file to emit)
      const here = import.meta.url;
      const worker = new Worker(new URL('./worker.js', here));
      engine = new WorkerEngine(worker);
      worker.on('message', (msg) => engine.#receive(msg));
      worker.on('error', (err) => engine.#fail(err));
      worker.on('exit', () => engine.#fail(new OnnxfxError('DISPOSED', 'the onnxfx worker has stopped')));
    } else {
      // written out in one expression: the pattern Vite and webpack bundle as a worker
      const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
      engine = new WorkerEngine(worker);
      worker.onmessage = (event) => engine.#receive(event.data);
      worker.onerror = (event) => {
        event.preventDefault?.();
        engine.#fail(new Error(`the onnxfx worker failed: ${event.message ?? 'could not start (is web/src/worker.js served?)'}`));
      };
    }
    const { distUrl, wasmUrl, wasmPath, threads, simd } = options;
    const init = {};
    for (const [k, v] of Object.entries({ distUrl, wasmUrl, wasmPath, threads, simd })) if (v !== undefined) init[k] = v instanceof URL ? v.href : v;
    try {
      engine.threaded = (await engine.call('init', init)).threaded;
    } catch (err) {
      await engine.terminate();
      throw err;
    }
    return engine;
  }

  /**
   * Posts one operation to the worker.
   * @template {MessageType} T
   * @param {T} type an operation of LocalEngine, or 'init'
   * @param {WorkerOperations[T]['in']} input its argument
   * @param {Transferable[]} [transfer] buffers to move rather than copy
   * @param {(done: number, total: number) => void} [onProgress] the operation's progress messages
   * @returns {Promise<WorkerOperations[T]['out']>} its result
   */
  call(type, input, transfer = [], onProgress = undefined) {
    if (this.#closed) return Promise.reject(new OnnxfxError('DISPOSED', 'the onnxfx worker has been terminated'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress });
      this.#ref();
      this.#worker.postMessage({ type, id, in: input }, transfer);
    });
  }

  /**
   * Ends the worker; pending calls reject with DISPOSED. Resolves once it has stopped; calling
   * it again returns the same promise.
   * @returns {Promise<void>}
   */
  terminate() {
    if (!this.#terminated) {
      this.#fail(new OnnxfxError('DISPOSED', 'the onnxfx worker has been terminated'));
      // Node's Worker.terminate() returns a promise (of the exit code), the browser's nothing.
      this.#terminated = this.#settled().then(() => this.#worker.terminate()).then(() => {}, () => {});
    }
    return this.#terminated;
  }

  /**
   * Browsers: resolves once the worker's pthread pool has loaded (or the worker is gone).
   * Terminating a worker whose pool workers are still fetching the module makes each of them
   * log a NetworkError in the page's console, as when a model fails to load in a new worker.
   * @returns {Promise<void>}
   */
  #settled() {
    if (isNode) return Promise.resolve();
    return new Promise((resolve) => {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve: () => resolve(), reject: () => resolve() });
      // a worker that cannot answer (it crashed) must not hold the terminate up for ever
      setTimeout(() => {
        this.#pending.delete(id);
        resolve();
      }, 10_000);
      try {
        this.#worker.postMessage({ type: 'settle', id, in: {} });
      } catch {
        resolve();
      }
    });
  }

  #receive(msg) {
    if (msg.type === 'read') {
      fillRange(msg.in); // the worker waits for it, blocked inside the core
      return;
    }
    const entry = this.#pending.get(msg.id);
    if (!entry) return;
    if (msg.type === 'progress') {
      entry.onProgress?.(msg.out[0], msg.out[1]); // index.js keeps what a user's callback throws
      return;
    }
    this.#pending.delete(msg.id);
    this.#unrefIfIdle();
    if (msg.err) entry.reject(deserializeError(msg.err));
    else entry.resolve(msg.out);
  }

  #fail(err) {
    this.#closed = true;
    for (const { reject } of this.#pending.values()) reject(err);
    this.#pending.clear();
  }

  // Node: a worker keeps the process alive only while a call is pending, so a model that was
  // never disposed does not hang the process at exit.
  #ref() {
    if (isNode) this.#worker.ref?.();
  }

  #unrefIfIdle() {
    if (isNode && this.#pending.size === 0) this.#worker.unref?.();
  }
}
