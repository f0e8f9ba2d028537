/**
 * onnxfx: torchvision's `feature_extraction` (get_graph_node_names, create_feature_extractor)
 * for ONNX models, running in WebAssembly in browsers and Node.js.
 *
 * Node names are torchvision-style dotted paths derived from the exporter's scopes:
 * `/layer1/layer1.0/relu_1/Relu` is `layer1.0.relu_1`; a scope with one node is named by the
 * scope (`layer1.0.conv1`, `fc`); other nodes are `<scope>.<torch function>` with `_1`, `_2`
 * counters (`layer1.0.add`). A truncated name (`layer4`) stands for the last node of that
 * scope in execution order.
 */

/** Element type names, as in onnxruntime-web. */
export type TensorType = 'float32' | 'uint8' | 'int8' | 'int32' | 'int64' | 'bool';

export type TensorData = Float32Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;

/** A tensor in the shape onnxruntime-web users know. */
export class Tensor {
  /**
   * @param type element type
   * @param data elements in row-major order (a typed array of the type's kind, or a number array)
   * @param dims shape; defaults to `[data.length]`
   */
  constructor(type: TensorType, data: TensorData | number[], dims?: readonly number[]);
  readonly type: TensorType;
  readonly data: TensorData;
  readonly dims: number[];
  /** Number of elements. */
  readonly size: number;
}

/** Anything `run` accepts as one tensor: a Tensor, an onnxruntime Tensor or a plain object. */
export interface TensorLike {
  type?: TensorType;
  data: TensorData | number[];
  dims: readonly number[];
}

/** Kinds of errors, in `OnnxfxError.code`. */
export type ErrorCode =
  | 'BAD_MODEL'
  | 'NODE_NOT_FOUND'
  | 'UNSUPPORTED_OP'
  | 'BAD_INPUT'
  | 'OUT_OF_MEMORY'
  | 'INVALID_ARGUMENT'
  | 'DISPOSED';

/** Every error onnxfx throws; the message names what is wrong and where (node, op, field). */
export class OnnxfxError extends Error {
  readonly code: ErrorCode;
}

export interface ValueInfo {
  name: string;
  type: string;
  /** Numbers, names of symbolic dims (`'batch'`), or null when unknown; null when rank is unknown. */
  dims: (number | string | null)[] | null;
}

export interface NodeInfo {
  /** torchvision-style dotted name, unique in the model. */
  name: string;
  /** Module scope path (`'layer1.0'`), `''` at the root or when the model has none. */
  scope: string;
  /** ONNX op type, or `'Input'` for graph inputs. */
  opType: string;
  /** The node's name in the ONNX file (may be empty). */
  onnxName: string;
  /** ONNX value names; `''` for an omitted optional input. */
  inputs: string[];
  outputs: string[];
}

/** A loaded ONNX model. */
export class Model {
  /** Every node in execution order: graph inputs first, then the graph's nodes (constants folded away). */
  readonly nodes: NodeInfo[];
  readonly inputs: ValueInfo[];
  readonly outputs: ValueInfo[];
  /** Version of the default ONNX domain the model imports. */
  readonly opset: number;
  /** Frees the model and every extractor made from it. */
  dispose(): void;
  [Symbol.dispose](): void;
}

export interface LoadOptions {
  /** Path (Node) of `onnxfx.wasm`, when it is not beside the package's `dist/onnxfx.js`. */
  wasmPath?: string;
}

/**
 * Loads an ONNX model.
 * @param source model bytes, or in Node a file path
 */
export function loadModel(source: Uint8Array | ArrayBuffer | string, options?: LoadOptions): Promise<Model>;

/**
 * Returns the model's node names as `[trainNodes, evalNodes]`, in execution order, like
 * torchvision's `get_graph_node_names`. Module scopes that the exporter split into several nodes
 * (MobileNetV2's `features.0`: Conv + Clip) are listed too, right after their last node.
 *
 * Known difference to torchvision: exporters fold BatchNorm into the Conv before it, so
 * `layer1.0.bn1` does not exist and `layer1.0.conv1` holds the normalized value.
 */
export function getGraphNodeNames(model: Model, options?: { suppressDiffWarning?: boolean }): [string[], string[]];

/** Node names as a list (output keys = names) or as `{nodeName: outputKey}`. */
export type ReturnNodes = string[] | Record<string, string>;

export interface FeatureExtractorOptions {
  /** Nodes to return in both modes. Give this, or both `trainReturnNodes` and `evalReturnNodes`. */
  returnNodes?: ReturnNodes;
  /** Nodes to return in train mode; requires `evalReturnNodes`. */
  trainReturnNodes?: ReturnNodes;
  /** Nodes to return in eval mode; requires `trainReturnNodes`. */
  evalReturnNodes?: ReturnNodes;
  /** Do not warn when the train and eval views differ. */
  suppressDiffWarning?: boolean;
}

/** Runs the part of a model that the requested nodes need. */
export class FeatureExtractor {
  /** Switches to the train-mode return nodes. Returns this. */
  train(): this;
  /** Switches to the eval-mode return nodes (the initial mode). Returns this. */
  eval(): this;
  readonly training: boolean;
  /** Number of graph nodes the current mode runs after pruning. */
  readonly plannedNodeCount: number;
  /**
   * Runs the pruned graph.
   * @param input one tensor for a single-input model, or tensors by input name
   * @returns the requested nodes' values keyed by output key, in execution order
   */
  run(input: Tensor | TensorLike | Record<string, Tensor | TensorLike>): Promise<Record<string, Tensor>>;
  /**
   * The pruned graph of the current mode as a standalone ONNX model whose outputs are the
   * requested nodes, named by their output keys; only the initializers it uses are kept, opset
   * imports and metadata are copied.
   */
  toONNX(): Uint8Array;
  dispose(): void;
  [Symbol.dispose](): void;
}

/**
 * Creates a feature extractor returning the values of the requested nodes; everything they do
 * not depend on is pruned before anything runs.
 *
 * @throws OnnxfxError `NODE_NOT_FOUND` for a name not in the model (hint: `getGraphNodeNames`),
 *   `UNSUPPORTED_OP` when the pruned graph needs an op onnxfx lacks, `INVALID_ARGUMENT` for
 *   option misuse (the same rules as torchvision's).
 *
 * @example
 *   const fx = await createFeatureExtractor(model, { returnNodes: { layer1: 'feat1', layer4: 'feat4' } });
 *   const { feat1, feat4 } = await fx.run(new Tensor('float32', pixels, [1, 3, 224, 224]));
 *   feat4.dims; // [1, 512, 7, 7]
 */
export function createFeatureExtractor(model: Model, options: FeatureExtractorOptions): Promise<FeatureExtractor>;
