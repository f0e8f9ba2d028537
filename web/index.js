// @ts-check (tests/js/contract/tsconfig.json: every engine call against web/src/messages.d.ts)
/**
 * onnxfx: torchvision's feature_extraction for ONNX models, in WebAssembly.
 *
 *   const model = await loadModel(bytesOrPath);
 *   const [trainNodes, evalNodes] = getGraphNodeNames(model);
 *   const fx = await createFeatureExtractor(model, { returnNodes: { layer1: 'feat1' } });
 *   const { feat1 } = await fx.run(new Tensor('float32', data, [1, 3, 224, 224]));
 *
 * Node names are torchvision-style dotted paths (`layer1.0.relu_1`, `layer1.0.add`); a
 * truncated name (`layer4`) stands for the last node of that scope in execution order.
 */
import { OnnxfxError, keepingErrors } from './src/errors.js';
import { LocalEngine } from './src/engine.js';
import { defaultThreadCount, isNode } from './src/loader.js';
import { WorkerEngine } from './src/worker-client.js';
import { RANGED_MIN_BYTES, externalTensors, nodeModelFile, probeModelUrl, readExternalData, readModelSource, readResponse } from './src/source.js';
import { Tensor, toTensor } from './src/tensor.js';
import { checkOptionNames, checkSimdOption, checkWeightsOption, closeMatches, quoteList } from './src/options.js';

const LOAD_OPTIONS = ['worker', 'threads', 'numThreads', 'simd', 'weights', 'onProgress', 'externalData', 'externalDataDir', 'fetchOptions', 'distUrl', 'wasmUrl', 'wasmPath'];
const EXTRACTOR_OPTIONS = ['returnNodes', 'trainReturnNodes', 'evalReturnNodes', 'suppressDiffWarning', 'fuse', 'onProgress'];

export { Tensor };
export {
  OnnxfxError, BadModelError, NodeNotFoundError, UnsupportedOpError, BadInputError, OutOfMemoryError,
  InvalidArgumentError, DisposedError,
} from './src/errors.js';
export { imageToTensor, PRESETS as imagePresets } from './src/images.js';

/** @typedef {import('./src/messages.js').Engine} Engine */
/** @typedef {import('./src/messages.js').ExtractorInfo} ExtractorInfo */
/** @typedef {import('./src/messages.js').Backend} Backend */
/** @typedef {{native: ExtractorInfo, keys: string[]}} Mode one view's native extractor, and the output keys of its requests */

/**
 * The worker shared by every `loadModel(..., { worker: true })` model; ended with its last model.
 * @type {{users: number, promise: Promise<WorkerEngine>} | null}
 */
let shared = null;

/**
 * The engine for a new model, and `release()` to call once the model is freed: it resolves
 * when the engine has let go (the shared worker stopped, when this was its last model).
 * @returns {Promise<{engine: Engine, release: () => Promise<void>}>}
 */
async function acquireEngine(options) {
  if (!options.worker) return { engine: await LocalEngine.create(options), release: async () => {} };
  if (!shared) {
    const entry = { users: 0, promise: WorkerEngine.create(options) };
    entry.promise = entry.promise.catch((err) => {
      if (shared === entry) shared = null;
      throw err;
    });
    shared = entry;
  }
  const entry = shared;
  entry.users++;
  /** @type {Promise<void> | null} */
  let released = null;
  const release = () => {
    if (!released) {
      released = Promise.resolve();
      if (--entry.users === 0) {
        if (shared === entry) shared = null;
        released = entry.promise.then((engine) => engine.terminate(), () => {});
      }
    }
    return released;
  };
  try {
    return { engine: await entry.promise, release };
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * Waits for the engine calls that free things; never rejects. Frees in this thread cannot fail,
 * and one a worker refuses (it has stopped: DISPOSED) or loses (it crashed) found its memory
 * gone with the worker. So dispose() may be called and left alone, as `using` does.
 * @param {Promise<unknown>[]} frees
 */
async function allFreed(frees) {
  await Promise.allSettled(frees);
}

/** A loaded ONNX model: its named nodes, inputs and outputs. */
export class Model {
  /** @type {Engine} */
  #engine;
  /** @type {number | null} */
  #handle;
  /** @type {() => Promise<void>} */
  #release;
  /** @type {Set<FeatureExtractor>} */
  #extractors = new Set();
  /** @type {Promise<void> | null} */
  #disposed = null;
  /** @type {Readonly<Backend>} */
  #backend;

  /**
   * @param {Engine} engine
   * @param {import('./src/messages.js').LoadedModel} native
   * @param {() => Promise<void>} release called once the model is freed
   * @param {Backend} backend the engine's build and thread count when the model was loaded
   * @param {'float32'|'float16'} [weights] how extractors store packed weights (loadModel's `weights`)
   */
  constructor(engine, native, release, backend, weights = 'float32') {
    this.#engine = engine;
    this.#handle = native.handle;
    this.#release = release;
    this.#backend = Object.freeze({ ...backend, weights, kernels: Object.freeze({ ...backend.kernels }) });
    const d = native.description;
    /**
     * Every node in execution order: graph inputs first, then the graph's nodes.
     * @type {import('./index.js').NodeInfo[]}
     */
    this.nodes = d.nodes;
    /** @type {{name: string, type: string, dims: (number|string|null)[]|null}[]} */
    this.inputs = d.inputs;
    this.outputs = d.outputs;
    this.opset = d.opset;
    this._trainNodes = d.trainNodes;
    this._evalNodes = d.evalNodes;
    this._trainOnlyNodes = d.trainOnlyNodes;
    this._warnedViews = false;
  }

  /** True when the model lives in a worker (`loadModel(..., { worker: true })`). */
  get inWorker() {
    return this.#engine.inWorker;
  }

  /** True when the engine running this model uses threads (cross-origin isolated page, or Node). */
  get threaded() {
    return !!this.#engine.threaded;
  }

  /**
   * The WebAssembly build running this model: `simd` 'relaxed' (FMA kernels) or 'simd128',
   * `threads` (the engine's thread count when the model was loaded), `weights` (how packed
   * weights are stored: 'float32' or 'float16') and `kernels` (the f32 micro-kernels the build
   * chose, by role). See docs/api.md.
   * @returns {Readonly<Backend>}
   */
  get backend() {
    return this.#backend;
  }

  /** @internal */
  _handle() {
    if (this.#handle == null) throw new OnnxfxError('DISPOSED', 'this model has been disposed');
    return this.#handle;
  }

  /** @internal */
  _engine() {
    return this.#engine;
  }

  /** @internal */
  _track(extractor, add) {
    if (add) this.#extractors.add(extractor);
    else this.#extractors.delete(extractor);
  }

  /**
   * Infers every node's output shapes from the declared input shapes, without running
   * anything, and sets `outputShapes` on each of `model.nodes` (one entry per output: dims as
   * numbers, a symbolic input dim's name such as `'batch'` where the dim follows it, or null;
   * null for the whole entry where inference cannot reach). Computed once per model.
   * @returns {Promise<Record<string, (number|string|null)[]>>} shapes by ONNX value name
   */
  async inferShapes() {
    const shapes = await this.#engine.call('inferShapes', { handle: this._handle() });
    for (const node of this.nodes) {
      node.outputShapes = node.outputs.map((v) => shapes[v] ?? (node.opType === 'Input' ? this.inputs.find((i) => i.name === v)?.dims ?? null : null));
    }
    return shapes;
  }

  /**
   * Frees the model and every extractor made from it; the returned promise resolves once they
   * are freed (and, for the last model of the worker, the worker has stopped), and never
   * rejects. The model is unusable from the call on. Calling it again returns the same promise.
   * @returns {Promise<void>}
   */
  dispose() {
    this.#disposed ??= this.#free();
    return this.#disposed;
  }

  async #free() {
    const handle = this._handle();
    this.#handle = null;
    // The extractors' frees are sent first, so a worker runs them before the model's.
    const frees = [...this.#extractors].map((fx) => fx.dispose());
    frees.push(this.#engine.call('freeModel', { handle }));
    await allFreed(frees);
    await this.#release();
  }

  /** `using model = ...`: starts dispose() (in this thread, it is done on return). */
  [Symbol.dispose]() {
    void this.dispose();
  }

  /** `await using model = ...`: dispose(), awaited. */
  async [Symbol.asyncDispose]() {
    await this.dispose();
  }
}

/**
 * Loads an ONNX model.
 * @param {Uint8Array|ArrayBuffer|ArrayBufferView|URL|Response|Blob|string} source model bytes, a
 *   URL or Response (streamed), or in Node a file path
 * @param {import('./index.js').LoadOptions} [options]
 */
export async function loadModel(source, options = {}) {
  if (options == null || typeof options !== 'object') throw new OnnxfxError('INVALID_ARGUMENT', 'loadModel options must be an object');
  checkOptionNames(options, LOAD_OPTIONS, 'loadModel');
  checkSimdOption(options.simd);
  checkWeightsOption(options.weights);
  const { numThreads, weights } = options;
  if (numThreads != null && !(Number.isInteger(numThreads) && numThreads >= 1)) {
    throw new OnnxfxError('INVALID_ARGUMENT', `numThreads must be a positive integer, got ${numThreads}`);
  }
  // Node, a file, this thread: the file is read straight into the WebAssembly heap.
  const file = options.worker ? null : nodeModelFile(source);
  if (file != null) {
    const engine = await LocalEngine.create(options);
    // the pool's workers boot while the file is read and parsed
    const native = await engine.loadModelFile({ file: await file, onProgress: options.onProgress, externalData: options.externalData });
    await engine.call('setNumThreads', { threads: numThreads ?? (await defaultThreadCount(options)) });
    return new Model(engine, native, async () => {}, (await engine.call('info', undefined)).backend, weights);
  }
  // A browser worker reads by range requests (a page cannot block on one); fetchOptions
  // (credentials, headers) are for fetch(), so with them everything is fetched whole.
  const ranged = !!options.worker && !isNode && options.fetchOptions == null;
  // a big model on a range-serving server: the worker reads its framing only (source.js rangedModel)
  const probe = ranged ? await probeModelUrl(source) : null;
  const big = probe?.size ? { url: probe.url.href, size: probe.size } : null;
  /** @type {Uint8Array} */
  let bytes = new Uint8Array(0);
  let owned = false, externals = [];
  if (!big) {
    let dir, url;
    ({ bytes, owned, dir, url } = probe?.response // the probe got the whole file
      ? { bytes: await readResponse(probe.response, options.onProgress), owned: true, dir: null, url: probe.url }
      : await readModelSource(source, options));
    const tensors = externalTensors(bytes);
    const locations = [...new Set(tensors.map((t) => t.location))];
    externals = locations.length ? await readExternalData(locations, dir, options.externalData, {
      url, fetchOptions: options.fetchOptions,
      ranged: ranged && tensors.reduce((sum, t) => sum + t.bytes, 0) >= RANGED_MIN_BYTES,
      onProgress: options.onProgress && ((loaded) => options.onProgress?.(bytes.byteLength + loaded, 0)), // the model, then its data
    }) : [];
  }
  const { engine, release } = await acquireEngine(options);
  try {
    await engine.call('setNumThreads', { threads: numThreads ?? (await defaultThreadCount(options)) });
    // Buffers nobody else holds move to a worker instead of being copied (ignored in-thread).
    const transfer = [];
    if (owned) transfer.push(bytes.buffer);
    for (const e of externals) if (e.owned && e.data) transfer.push(e.data.buffer);
    // The engine keeps the bytes (big initializers are read from them as extractors pack them):
    // a copy of yours, so that changing them later changes nothing (a worker gets its own copy).
    const kept = owned || engine.inWorker ? bytes : bytes.slice();
    const input = big ?? {
      bytes: kept,
      externals: externals.map(({ location, data, url, size }) =>
        (data ? { location, data } : { location, url: String(url), size: Number(size) })), // read by range requests
    };
    const native = await engine.call('loadModel', input, transfer);
    return new Model(engine, native, release, (await engine.call('info', undefined)).backend, weights);
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * Returns the node names of a model as `[trainNodes, evalNodes]`, in execution order, the way
 * torchvision's get_graph_node_names does. Module scopes that the exporter split into several
 * nodes (a Conv2dNormActivation block) are listed after their last node.
 * @param {Model} model
 * @returns {[string[], string[]]}
 */
export function getGraphNodeNames(model, options = {}) {
  checkOptionNames(options, ['suppressDiffWarning'], 'getGraphNodeNames');
  options ??= {};
  model._handle();
  if (!options.suppressDiffWarning) warnViewDifference(model);
  return [[...model._trainNodes], [...model._evalNodes]];
}

function isSubsequence(short, long) {
  let at = 0;
  for (const name of long) if (at < short.length && short[at] === name) at++;
  return at === short.length;
}

/** Warns once per model when its train and eval views list different nodes, as torchvision does. */
function warnViewDifference(model) {
  const train = model._trainNodes, evalNodes = model._evalNodes;
  if (model._warnedViews || (train.length === evalNodes.length && train.every((n, i) => n === evalNodes[i]))) return;
  model._warnedViews = true;
  let how = 'The train and eval views of this model list different nodes';
  if (isSubsequence(evalNodes, train)) how = 'The eval view of this model lists a subsequence of the train view\'s nodes';
  else if (isSubsequence(train, evalNodes)) how = 'The train view of this model lists a subsequence of the eval view\'s nodes';
  console.warn(`onnxfx: ${how} (Dropout nodes exist only in train mode). When choosing nodes to extract, ` +
    'you may need to give trainReturnNodes and evalReturnNodes separately. Pass suppressDiffWarning: true to silence this.');
}

function normalizeReturnNodes(nodes, argName) {
  if (Array.isArray(nodes)) nodes = Object.fromEntries(nodes.map((n) => [n, n]));
  if (!nodes || typeof nodes !== 'object') {
    throw new OnnxfxError('INVALID_ARGUMENT', `${argName} must be an array of node names or an object {nodeName: outputKey}`);
  }
  const entries = Object.entries(nodes);
  if (entries.length === 0) throw new OnnxfxError('INVALID_ARGUMENT', `${argName} is empty`);
  const keys = new Set();
  for (const [name, key] of entries) {
    if (typeof key !== 'string' || key === '') {
      throw new OnnxfxError('INVALID_ARGUMENT', `${argName}: the output key for node '${name}' must be a non-empty string`);
    }
    if (keys.has(key)) throw new OnnxfxError('INVALID_ARGUMENT', `${argName}: output key '${key}' is used twice`);
    keys.add(key);
  }
  return entries;
}

/**
 * A requested name that is not an onnxfx name but a raw ONNX node name
 * (`/layer1/layer1.0/relu/Relu`) or value name (`/layer1/layer1.0/relu/Relu_output_0`): the
 * onnxfx name for it (`layer1.0.relu`, or `name:k` for output k), else null. Names onnxfx
 * knows (a node or a scope of one) are never mapped.
 * @param {Model} model
 * @param {string} name
 */
function onnxfxNameFor(model, name) {
  const base = name.replace(/:\d+$/, '');
  if (model.nodes.some((n) => n.name === base || n.name.startsWith(`${base}.`))) return null;
  for (const n of model.nodes) {
    if (n.opType !== 'Input' && n.onnxName === name) return n.name;
    const k = n.outputs.indexOf(name);
    if (k >= 0) return k === 0 ? n.name : `${n.name}:${k}`;
  }
  return null;
}

/**
 * Where an exporter folds BatchNorm into the Conv before it (`layer1.0.bn1` into
 * `layer1.0.conv1`, `features.0.1` into `features.0.0`): the Conv that holds the normalized
 * value, when `name` looks like such a BatchNorm and that Conv exists; else null.
 * @param {Model} model
 * @param {string} name
 */
function foldedBatchNormConv(model, name) {
  const at = name.lastIndexOf('.');
  const parent = at < 0 ? '' : name.slice(0, at + 1), last = name.slice(at + 1);
  const candidates = [];
  const bn = /^(bn|batchnorm|batch_norm|norm)(\d*)$/i.exec(last);
  if (bn) candidates.push(`${parent}conv${bn[2]}`, `${parent}conv`);
  if (/^\d+$/.test(last) && Number(last) > 0) candidates.push(`${parent}${Number(last) - 1}`);
  for (const c of candidates) {
    const node = model.nodes.find((n) => n.name === c);
    if (node && (node.opType === 'Conv' || node.opType === 'ConvTranspose')) return c;
  }
  return null;
}

function withHint(err, model) {
  if (err instanceof OnnxfxError && err.code === 'NODE_NOT_FOUND') {
    const missing = /^node '(.*)' is not present in the model/.exec(err.message)?.[1];
    let hint = '';
    if (missing != null) {
      const conv = foldedBatchNormConv(model, missing);
      if (conv) {
        hint += `. BatchNorm is folded into the Conv before it when the model is exported: '${conv}' gives the normalized value (docs/naming.md)`;
      } else {
        const names = new Set(model._trainNodes);
        for (const n of model.nodes) {
          const parts = n.name.split('.');
          for (let k = 1; k < parts.length; k++) names.add(parts.slice(0, k).join('.'));
        }
        const near = closeMatches(missing, names);
        if (near.length) hint += `. Did you mean ${quoteList(near)}?`;
      }
    }
    err.message += `${hint}${hint.endsWith('?') ? '' : '.'} Hint: use getGraphNodeNames(model) to list the node names; if train and eval ` +
      'views differ, give trainReturnNodes and evalReturnNodes separately.';
  }
  return err;
}

/**
 * The first line of explain(): the build, the thread count, and its main f32 GEMM / IGEMM / 3x3
 * depthwise micro-kernels (registered names without the common prefix; model.backend.kernels has
 * them all), e.g. `backend: relaxed SIMD, 1 thread; f32 kernels: gemm 6x8__wasmrelaxedsimd_fma, ...`.
 * @param {Backend} backend
 */
function describeBackend(backend) {
  const k = backend.kernels ?? {};
  const short = (name) => String(name ?? '?').replace(/^ofx_f32_[a-z]+_minmax_ukernel_/, '');
  const kernels = k.f32_gemm
    ? `; f32 kernels: gemm ${short(k.f32_gemm)}, igemm ${short(k.f32_igemm)}, depthwise ${short(k.f32_dwconv_9)}`
    : '';
  const weights = backend.weights === 'float16' ? ', float16 weights' : '';
  return `backend: ${backend.simd === 'relaxed' ? 'relaxed SIMD' : 'SIMD128'}, ${backend.threads} thread${backend.threads === 1 ? '' : 's'}${weights}${kernels}`;
}

/** Runs the part of a model that some requested nodes need and returns their values. */
export class FeatureExtractor {
  /** @type {Model} */
  #model;
  /** @type {Engine} */
  #engine;
  /** @type {Record<'train' | 'eval', Mode> | null} */
  #modes;
  #training = false;
  /** @type {Promise<void> | null} */
  #disposed = null;

  /**
   * @param {Model} model
   * @param {Record<'train' | 'eval', Mode>} modes
   */
  constructor(model, modes) {
    this.#model = model;
    this.#engine = model._engine();
    this.#modes = modes;
    model._track(this, true);
  }

  #current() {
    if (!this.#modes) throw new OnnxfxError('DISPOSED', 'this feature extractor has been disposed');
    return this.#modes[this.#training ? 'train' : 'eval'];
  }

  /** Switches to the train view's return nodes. */
  train() {
    this.#current();
    this.#training = true;
    return this;
  }

  /** Switches to the eval view's return nodes (the initial mode). */
  eval() {
    this.#current();
    this.#training = false;
    return this;
  }

  get training() {
    return this.#training;
  }

  /** Number of graph nodes the current mode runs after pruning. */
  get plannedNodeCount() {
    return this.#current().native.plannedNodeCount;
  }

  /**
   * Runs the pruned graph.
   * @param {Tensor|{type: string, data: ArrayBufferView, dims: number[]}|Record<string, Tensor>} input
   *   one tensor for a single-input model, or tensors by input name
   * @returns {Promise<Record<string, Tensor>>} the requested nodes' values, keyed by the output
   *   keys, in execution order
   */
  async run(input) {
    const mode = this.#current();
    const outputs = await this.#engine.call('run', { handle: mode.native.handle, tensors: this.#inputTensors(mode, input) });
    const result = {};
    mode.native.outputRequests.forEach((request, i) => {
      const o = outputs[i];
      result[mode.keys[request]] = new Tensor(o.type, o.data, o.dims);
    });
    return result;
  }

  /** The extractor's inputs, in its order, from run()'s argument. */
  #inputTensors(mode, input) {
    const modelInputs = this.#model.inputs;
    const needed = mode.native.inputModelIndices.map((i) => modelInputs[i].name);
    let byName;
    if (ArrayBuffer.isView(input) || Array.isArray(input) || input instanceof ArrayBuffer) {
      const first = modelInputs[mode.native.inputModelIndices[0] ?? 0];
      const what = input instanceof ArrayBuffer ? 'an ArrayBuffer' : Array.isArray(input) ? 'an array' : `a ${input.constructor.name}`;
      throw new OnnxfxError('BAD_INPUT', `run() was given ${what}: wrap the data in a Tensor with its shape, ` +
        `e.g. new Tensor('float32', data, [${(first?.dims ?? []).map((d) => (typeof d === 'number' ? d : 1)).join(', ')}])` +
        ` for input '${first?.name}' (declared ${first?.dims ? `[${first.dims.map((d) => d ?? '?').join(', ')}]` : 'without a shape'})`);
    }
    if (input && typeof input === 'object' && !('data' in input && 'dims' in input)) {
      byName = input;
    } else if (needed.length <= 1 || modelInputs.length === 1) {
      byName = { [needed[0] ?? modelInputs[0].name]: input };
    } else {
      throw new OnnxfxError('BAD_INPUT', `this model needs several inputs (${needed.join(', ')}): pass {inputName: tensor}`);
    }
    const tensors = needed.map((name) => {
      if (!(name in byName)) {
        throw new OnnxfxError('BAD_INPUT', `input '${name}' is missing (the model's inputs: ${modelInputs.map((i) => i.name).join(', ')})`);
      }
      return toTensor(byName[name], `input '${name}'`);
    });
    return tensors.map((t) => ({ type: t.type, data: t.data, dims: t.dims }));
  }

  /**
   * Where the time goes: runs the pruned graph `runs` times (after one unprofiled warm-up run)
   * and returns the mean wall time of every node it executed, in execution order. Layout
   * conversions are counted in the node that needed them; the last entry (name null,
   * opType 'OutputCopy') is the copy of requested outputs back to NCHW. Nodes evaluated at
   * plan time or fused into the node before them do not appear.
   * @param {Tensor|Record<string, Tensor>} input as for run()
   * @param {{runs?: number}} [options]
   * @returns {Promise<{name: string|null, opType: string, ms: number}[]>}
   */
  async profile(input, options = {}) {
    checkOptionNames(options, ['runs'], 'profile');
    const { runs = 1 } = options ?? {};
    if (!Number.isInteger(runs) || runs < 1) throw new OnnxfxError('INVALID_ARGUMENT', `runs must be a positive integer, got ${runs}`);
    const mode = this.#current();
    const tensors = this.#inputTensors(mode, input);
    await this.#engine.call('run', { handle: mode.native.handle, tensors });
    const steps = await this.#engine.call('profile', { handle: mode.native.handle, tensors, runs });
    const nodes = this.#model.nodes;
    return steps.map(({ node, ms }) => (node < 0
      ? { name: null, opType: 'OutputCopy', ms }
      : { name: nodes[node].name, opType: nodes[node].opType, ms }));
  }

  /**
   * The pruned graph of the current mode as a standalone ONNX model whose outputs are the
   * requested nodes, named by their output keys. Only the initializers it uses are kept; the
   * model's opset imports and metadata are copied.
   * @returns {Promise<Uint8Array>}
   */
  async toONNX() {
    const mode = this.#current();
    const names = mode.native.outputRequests.map((request) => mode.keys[request]);
    return this.#engine.call('toOnnx', { handle: mode.native.handle, names });
  }

  /**
   * @deprecated toONNX() itself returns a promise now, in a worker too.
   * @returns {Promise<Uint8Array>}
   */
  toONNXAsync() {
    return this.toONNX();
  }

  /**
   * The current mode's plan as text: the nodes it runs, in order (see docs/api.md). With
   * `input` (as for run()) it plans for that input's shapes, which stay bound as a run's do;
   * without, for the input last given to run(), profile() or explain(), else for the model's
   * declared input shapes (BAD_INPUT when one of them is symbolic).
   * @param {Tensor|Record<string, Tensor>} [input]
   * @returns {Promise<string>}
   */
  async explain(input) {
    const mode = this.#current();
    const tensors = input === undefined ? undefined : this.#inputTensors(mode, input);
    const [plan, { backend }] = await Promise.all([
      this.#engine.call('explain', { handle: mode.native.handle, tensors }),
      this.#engine.call('info', undefined),
    ]);
    return `${describeBackend({ ...backend, weights: this.#model.backend.weights })}\n${plan}`;
  }

  /**
   * Frees the extractor (also done by its model's dispose()); resolves once it is freed, never
   * rejects. The extractor is unusable from the call on. Calling it again returns the same
   * promise.
   * @returns {Promise<void>}
   */
  dispose() {
    this.#disposed ??= this.#free();
    return this.#disposed;
  }

  async #free() {
    const natives = new Set(Object.values(this.#modes ?? {}).map((m) => m.native.handle));
    this.#modes = null;
    this.#model._track(this, false);
    await allFreed([...natives].map((handle) => this.#engine.call('freeExtractor', { handle })));
  }

  /** `using fx = ...`: starts dispose() (in this thread, it is done on return). */
  [Symbol.dispose]() {
    void this.dispose();
  }

  /** `await using fx = ...`: dispose(), awaited. */
  async [Symbol.asyncDispose]() {
    await this.dispose();
  }
}

/**
 * Creates a feature extractor that returns the values of the requested nodes, running only the
 * part of the graph they depend on.
 *
 * Give either `returnNodes`, or `trainReturnNodes` and `evalReturnNodes` together. Each is an
 * array of node names (keys = names) or an object `{nodeName: outputKey}`. A truncated name
 * (`layer4`) selects the last node in execution order inside that scope.
 *
 * @param {Model} model
 * @param {{returnNodes?: string[]|Record<string,string>, trainReturnNodes?: string[]|Record<string,string>,
 *   evalReturnNodes?: string[]|Record<string,string>, suppressDiffWarning?: boolean, fuse?: boolean,
 *   onProgress?: (done: number, total: number) => void}} options
 * @returns {Promise<FeatureExtractor>}
 */
export async function createFeatureExtractor(model, options = {}) {
  checkOptionNames(options, EXTRACTOR_OPTIONS, 'createFeatureExtractor');
  options ??= {};
  const { returnNodes, trainReturnNodes, evalReturnNodes } = options;
  const haveTrain = trainReturnNodes != null, haveEval = evalReturnNodes != null;
  if (returnNodes == null && !haveTrain && !haveEval) {
    throw new OnnxfxError('INVALID_ARGUMENT', 'Either `returnNodes` or `trainReturnNodes` and `evalReturnNodes` together, should be specified');
  }
  if (haveTrain !== haveEval) {
    throw new OnnxfxError('INVALID_ARGUMENT', 'If any of `trainReturnNodes` and `evalReturnNodes` are specified, then both should be specified');
  }
  if (returnNodes != null && haveTrain) {
    throw new OnnxfxError('INVALID_ARGUMENT', 'If `trainReturnNodes` and `evalReturnNodes` are specified, then `returnNodes` should not be specified');
  }
  const engine = model._engine();
  if (options.onProgress != null && typeof options.onProgress !== 'function') {
    throw new OnnxfxError('INVALID_ARGUMENT', `onProgress must be a function, got ${typeof options.onProgress}`);
  }
  // what the caller's onProgress throws fails this call once the extractor is made (and freed)
  const progress = options.onProgress && keepingErrors(options.onProgress);
  if (returnNodes != null && !options.suppressDiffWarning) warnViewDifference(model);
  const specs = {
    train: normalizeReturnNodes(returnNodes ?? trainReturnNodes, returnNodes != null ? 'returnNodes' : 'trainReturnNodes'),
    eval: normalizeReturnNodes(returnNodes ?? evalReturnNodes, returnNodes != null ? 'returnNodes' : 'evalReturnNodes'),
  };
  /** @type {Record<string, Mode>} */
  const modes = {};
  try {
    for (const mode of ['eval', 'train']) {
      const entries = specs[mode];
      // Without train-only nodes both views resolve names alike: the same names share one
      // native extractor (and one copy of the packed weights).
      const same = mode === 'train' && model._trainOnlyNodes === 0 && entries.length === specs.eval.length &&
        entries.every(([name], i) => name === specs.eval[i][0]);
      if (same) {
        modes.train = { native: modes.eval.native, keys: entries.map(([, key]) => key) };
        continue;
      }
      const native = await engine.call('createExtractor', {
        model: model._handle(), names: entries.map(([name]) => onnxfxNameFor(model, name) ?? name), train: mode === 'train', fuse: options.fuse !== false,
        weights: model.backend.weights,
      }, undefined, progress?.call);
      modes[mode] = { native, keys: entries.map(([, key]) => key) };
    }
    model._handle(); // DISPOSED when the model was disposed while this was being made
    if (progress?.error) throw progress.error;
  } catch (err) {
    const natives = new Set(Object.values(modes).map((x) => x.native.handle));
    await allFreed([...natives].map((handle) => engine.call('freeExtractor', { handle })));
    throw withHint(err, model);
  }
  return new FeatureExtractor(model, /** @type {Record<'train' | 'eval', Mode>} */ (modes));
}
