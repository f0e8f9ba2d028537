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
import { Core } from './src/core.js';
import { OnnxfxError } from './src/errors.js';
import { loadWasm, isNode } from './src/loader.js';
import { Tensor, toTensor } from './src/tensor.js';

export { Tensor, OnnxfxError };

let corePromise = null;
function getCore(options) {
  corePromise ??= loadWasm(options).then((mod) => new Core(mod)).catch((err) => {
    corePromise = null;
    throw err;
  });
  return corePromise;
}

async function readSource(source) {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (typeof source === 'string' && isNode) {
    const { readFile } = await import('node:fs/promises');
    return new Uint8Array(await readFile(source));
  }
  throw new OnnxfxError('INVALID_ARGUMENT', 'loadModel expects a Uint8Array or ArrayBuffer (or, in Node, a file path)');
}

/** A loaded ONNX model: its named nodes, inputs and outputs. */
export class Model {
  #core;
  #native;
  #extractors = new Set();

  constructor(core, native) {
    this.#core = core;
    this.#native = native;
    const d = native.description;
    /** Every node in execution order: graph inputs first, then the graph's nodes. */
    this.nodes = d.nodes;
    /** @type {{name: string, type: string, dims: (number|string|null)[]|null}[]} */
    this.inputs = d.inputs;
    this.outputs = d.outputs;
    this.opset = d.opset;
    this._trainNodes = d.trainNodes;
    this._evalNodes = d.evalNodes;
    this._warnedViews = false;
  }

  /** @internal */
  _handle() {
    if (!this.#native) throw new OnnxfxError('DISPOSED', 'this model has been disposed');
    return this.#native.handle;
  }

  /** @internal */
  _core() {
    return this.#core;
  }

  /** @internal */
  _track(extractor, add) {
    if (add) this.#extractors.add(extractor);
    else this.#extractors.delete(extractor);
  }

  /** Frees the model and every extractor made from it. */
  dispose() {
    if (!this.#native) return;
    for (const fx of [...this.#extractors]) fx.dispose();
    this.#core.freeModel(this.#native);
    this.#native = null;
  }

  [Symbol.dispose]() {
    this.dispose();
  }
}

/**
 * Loads an ONNX model.
 * @param {Uint8Array|ArrayBuffer|string} source model bytes, or in Node a file path
 * @param {{wasmPath?: string}} [options]
 */
export async function loadModel(source, options = {}) {
  const bytes = await readSource(source);
  const core = await getCore(options);
  return new Model(core, core.loadModel(bytes));
}

/**
 * Returns the node names of a model as `[trainNodes, evalNodes]`, in execution order, the way
 * torchvision's get_graph_node_names does. Module scopes that the exporter split into several
 * nodes (a Conv2dNormActivation block) are listed after their last node.
 * @param {Model} model
 * @returns {[string[], string[]]}
 */
export function getGraphNodeNames(model, options = {}) {
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

function withHint(err) {
  if (err instanceof OnnxfxError && err.code === 'NODE_NOT_FOUND') {
    err.message += '. Hint: use getGraphNodeNames(model) to list the node names; if train and eval ' +
      'views differ, give trainReturnNodes and evalReturnNodes separately.';
  }
  return err;
}

/** Runs the part of a model that some requested nodes need and returns their values. */
export class FeatureExtractor {
  #model;
  #core;
  #modes;
  #training = false;

  constructor(model, modes) {
    this.#model = model;
    this.#core = model._core();
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
    const modelInputs = this.#model.inputs;
    const needed = mode.native.inputModelIndices.map((i) => modelInputs[i].name);
    let byName;
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
    const outputs = this.#core.run(mode.native.handle, tensors);
    const result = {};
    mode.native.outputRequests.forEach((request, i) => {
      const o = outputs[i];
      result[mode.keys[request]] = new Tensor(o.type, o.data, o.dims);
    });
    return result;
  }

  /**
   * The pruned graph of the current mode as a standalone ONNX model (Uint8Array) whose outputs
   * are the requested nodes, named by their output keys. Only the initializers it uses are kept;
   * the model's opset imports and metadata are copied.
   */
  toONNX() {
    const mode = this.#current();
    const keys = mode.native.outputRequests.map((request) => mode.keys[request]);
    return this.#core.extractorToOnnx(mode.native.handle, keys);
  }

  dispose() {
    if (!this.#modes) return;
    const natives = new Set(Object.values(this.#modes).map((m) => m.native.handle));
    for (const handle of natives) this.#core.freeExtractor(handle);
    this.#modes = null;
    this.#model._track(this, false);
  }

  [Symbol.dispose]() {
    this.dispose();
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
 *   evalReturnNodes?: string[]|Record<string,string>, suppressDiffWarning?: boolean}} options
 * @returns {Promise<FeatureExtractor>}
 */
export async function createFeatureExtractor(model, options = {}) {
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
  const core = model._core();
  if (returnNodes != null && !options.suppressDiffWarning) warnViewDifference(model);
  const specs = {
    train: normalizeReturnNodes(returnNodes ?? trainReturnNodes, returnNodes != null ? 'returnNodes' : 'trainReturnNodes'),
    eval: normalizeReturnNodes(returnNodes ?? evalReturnNodes, returnNodes != null ? 'returnNodes' : 'evalReturnNodes'),
  };
  const modes = {};
  try {
    for (const mode of ['eval', 'train']) {
      const entries = specs[mode];
      const native = core.createExtractor(model._handle(), entries.map(([name]) => name), mode === 'train');
      modes[mode] = { native, keys: entries.map(([, key]) => key) };
    }
  } catch (err) {
    for (const m of Object.values(modes)) core.freeExtractor(m.native.handle);
    throw withHint(err);
  }
  return new FeatureExtractor(model, modes);
}
