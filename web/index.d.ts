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

declare global {
  // `Symbol.dispose` / `Symbol.asyncDispose` (explicit resource management) are in TypeScript's
  // lib only from `esnext` / `es2025.disposable` on; declared here too so that these types
  // compile under `lib: ["es2022", "dom"]`. The same declarations as lib.esnext.disposable's,
  // so the two merge.
  interface SymbolConstructor {
    readonly dispose: unique symbol;
    readonly asyncDispose: unique symbol;
  }
}

/** Element type names, as in onnxruntime-web. 'float16' (IEEE half bits in a Uint16Array) is for
 * inputs: float16 models are computed and answer in float32 (docs/api.md, "float16"). */
export type TensorType = 'float32' | 'uint8' | 'int8' | 'int32' | 'int64' | 'bool' | 'float16';

export type TensorData = Float32Array | Uint8Array | Int8Array | Int32Array | BigInt64Array | Uint16Array;

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

/**
 * Anything `run` accepts as one tensor: a Tensor, an onnxruntime-web/-node `Tensor` (CPU
 * location) or a plain object. Without `type`, float32. int64 data is a BigInt64Array.
 */
export interface TensorLike {
  type?: TensorType | string;
  data: TensorData | number[] | readonly unknown[] | ArrayBufferView;
  dims: readonly number[];
  /** onnxruntime tensors: only `'cpu'` / `'cpu-pinned'` data can be read. */
  location?: string;
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

/**
 * Every error onnxfx throws; the message names what is wrong and where (node, op, field).
 * Each code has its subclass (`NodeNotFoundError` for `NODE_NOT_FOUND`, ...), also for errors
 * that crossed from a worker; `new OnnxfxError(code, message)` returns that subclass.
 */
export class OnnxfxError extends Error {
  constructor(code: ErrorCode, message: string);
  readonly code: ErrorCode;
}
/** The model bytes are not a model onnxfx can read (or external data is missing or refused). */
export class BadModelError extends OnnxfxError { readonly code: 'BAD_MODEL'; constructor(message: string); }
/** A requested node name is not in the model. Hint: `getGraphNodeNames(model)`. */
export class NodeNotFoundError extends OnnxfxError { readonly code: 'NODE_NOT_FOUND'; constructor(message: string); }
/** The pruned graph needs an op onnxfx lacks. */
export class UnsupportedOpError extends OnnxfxError { readonly code: 'UNSUPPORTED_OP'; constructor(message: string); }
/** An input tensor (or image) has the wrong type, shape or content. */
export class BadInputError extends OnnxfxError { readonly code: 'BAD_INPUT'; constructor(message: string); }
/** The WebAssembly heap (at most 4 GiB) cannot hold what is needed. */
export class OutOfMemoryError extends OnnxfxError { readonly code: 'OUT_OF_MEMORY'; constructor(message: string); }
/** An option or argument is misused. */
export class InvalidArgumentError extends OnnxfxError { readonly code: 'INVALID_ARGUMENT'; constructor(message: string); }
/** The model, extractor or worker has been disposed. */
export class DisposedError extends OnnxfxError { readonly code: 'DISPOSED'; constructor(message: string); }

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
  /** Set by `model.inferShapes()`: per output, its dims (numbers, symbolic names, null), or null. */
  outputShapes?: ((number | string | null)[] | null)[];
}

/** The WebAssembly build running a model (`model.backend`). */
export interface Backend {
  /**
   * `'relaxed'`: the relaxed-SIMD build, whose f32 GEMM, IGEMM and depthwise kernels use
   * `f32x4.relaxed_madd` (a fused multiply-add where the engine has one); `'simd128'`: the
   * SIMD128 build (mul then add). Results agree to about 1e-6 of each output's scale (docs/api.md).
   */
  readonly simd: 'relaxed' | 'simd128';
  /** The engine's thread count when the model was loaded (1 in the single-thread build). */
  readonly threads: number;
  /** How extractors of this model store packed weights: loadModel's `weights` option. */
  readonly weights: 'float32' | 'float16';
  /**
   * The build's arch (`'wasmrelaxedsimd'` or `'wasmsimd'`) and the registered names of the f32
   * micro-kernels it chose, by role: `f32_gemm`, `f32_gemm_1x8`, `f32_igemm`, `f32_igemm_1x8`,
   * `f32_dwconv_9`, `f32_dwconv_25`, `f32_dwconv_any`.
   */
  readonly kernels: Readonly<Record<string, string>>;
}

/** A loaded ONNX model. */
export class Model {
  /** Every node in execution order: graph inputs first, then the graph's nodes (constants folded away). */
  readonly nodes: NodeInfo[];
  readonly inputs: ValueInfo[];
  readonly outputs: ValueInfo[];
  /** Version of the default ONNX domain the model imports. */
  readonly opset: number;
  /** True when the model lives in a worker (`loadModel(source, { worker: true })`). */
  readonly inWorker: boolean;
  /** True when its engine is the threaded build (Node, or a cross-origin isolated page). */
  readonly threaded: boolean;
  /** Which WebAssembly build runs it (relaxed SIMD or SIMD128), on how many threads, with which kernels. */
  readonly backend: Backend;
  /**
   * Infers every node's output shapes from the declared input shapes without running anything,
   * sets `outputShapes` on each node, and returns the shapes by ONNX value name. Symbolic dims
   * that an output dim follows are given by name (`'batch'`). Computed once per model.
   */
  inferShapes(): Promise<Record<string, (number | string | null)[]>>;
  /**
   * Frees the model and every extractor made from it. The model is unusable from the call on
   * (`DisposedError`); the promise resolves once everything is freed and, when this was the
   * last model of the worker, the worker has stopped. It never rejects, so it may be left
   * unawaited. Calling it again returns the same promise.
   */
  dispose(): Promise<void>;
  /** `using model = ...`: starts `dispose()` (for a model in this thread, it is done on return). */
  [Symbol.dispose](): void;
  /** `await using model = ...`: awaits `dispose()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Where a model comes from. */
export type ModelSource = Uint8Array | ArrayBuffer | ArrayBufferView | URL | string | Response | Blob;

export interface LoadOptions {
  /**
   * Run the engine in a worker (a Web Worker in browsers, worker_threads in Node) with the same
   * API; calls are messages, buffers are transferred. One worker serves every worker model and
   * stops with the last one's `dispose()`. Defaults to false.
   */
  worker?: boolean;
  /**
   * false forces the single-thread build. By default Node always uses threads, and a browser
   * does when the page is cross-origin isolated (COOP/COEP headers), else it runs on 1 thread
   * and says so once with `console.info`.
   */
  threads?: boolean;
  /**
   * Threads the kernels use. Default: the machine's logical cores where threads can run (Node;
   * cross-origin isolated pages), else 1. The setting belongs to the engine (this thread's, or the
   * shared worker's), so it applies to every model loaded there; the threaded build caps it at
   * its 4 pre-spawned workers plus the calling thread, and the single-thread build at 1.
   */
  numThreads?: number;
  /**
   * Which SIMD build: `'auto'` (default) takes the relaxed-SIMD build (FMA kernels) where the
   * engine ships relaxed SIMD (Chromium-based browsers, Node >= 22; not Node 20, where it is
   * behind a flag and slower), else the SIMD128 one; `'relaxed'` forces it
   * (`INVALID_ARGUMENT` where unsupported); `'simd128'` forces SIMD128. `model.backend.simd`
   * tells which runs. With `wasmUrl`/`wasmPath`, `'auto'` means `'simd128'`.
   */
  simd?: 'auto' | 'relaxed' | 'simd128';
  /**
   * How extractors store packed Conv/Gemm/MatMul weights: `'float32'` (default) or `'float16'`,
   * half the memory (a ViT-H/14's 2.5 GB of weights in 1.3 GB), widened layer by layer before
   * the float32 kernels run; each weight is rounded to float16 (about 5e-4 relative), and a
   * run costs a little more (docs/api.md "How big a model can be" has the measurements).
   */
  weights?: 'float32' | 'float16';
  /** Called while the model downloads (URL/Response/Blob) or once when read from a file; `total` is 0 when unknown. */
  onProgress?: (loaded: number, total: number) => void;
  /** Bytes of the ONNX external data files, by their `location` in the model (any environment); without it a URL model fetches them beside itself. */
  externalData?: Record<string, Uint8Array | ArrayBuffer>;
  /** Node: folder of the external data files when the model is given as bytes (a file path implies its own folder). */
  externalDataDir?: string;
  /** Passed to `fetch()` when the source is a URL. */
  fetchOptions?: RequestInit;
  /** Folder holding `onnxfx*.{js,mjs,wasm}`; defaults to the package's `dist/`, found relative to the module. */
  distUrl?: string | URL;
  /** The `.wasm` file alone, when it is served from elsewhere (URL in browsers, path or URL in Node). */
  wasmUrl?: string | URL;
  /** Same as `wasmUrl` (kept for compatibility). */
  wasmPath?: string;
}

/**
 * Loads an ONNX model and names its nodes.
 *
 * The source is bytes, a URL or `Response` (streamed; `onProgress` reports), a `Blob`, or in
 * Node a file path. ONNX external data (`.onnx` + data files): in Node the files are read from
 * the model's folder, and a `location` that is absolute, has `..` or is a symlink leading out
 * of the folder is refused (`BAD_MODEL`); elsewhere pass `externalData`.
 *
 * - The WebAssembly module is loaded once per page, worker or process, on first use; options
 *   that pick it (`threads`, `simd`, `distUrl`, `wasmUrl`) count on that first call.
 * - `worker: true` keeps the main thread free while models load and run.
 *
 * @throws OnnxfxError `BAD_MODEL` for bytes that are not a readable ONNX model,
 *   `INVALID_ARGUMENT` for an unreadable file/URL or bad options.
 */
export function loadModel(source: ModelSource, options?: LoadOptions): Promise<Model>;

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
  /** false: no activation fusion, every node runs as its own step (default true). */
  fuse?: boolean;
  /**
   * Called while the extractor reads and packs its weights (the long part of starting a big
   * model): `done` of `total` bytes, about every 1% and once at the end, from a worker too. If
   * it throws, the call rejects with that error and the extractor is freed.
   */
  onProgress?: (done: number, total: number) => void;
}

/** One node's share of a run, from `FeatureExtractor.profile`. */
export interface ProfileEntry {
  /** The node's name as getGraphNodeNames lists it; null for the final output copy. */
  name: string | null;
  opType: string;
  /** Mean wall time per run, milliseconds. */
  ms: number;
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
   * Where the time goes: runs the pruned graph `runs` times (default 1, after one unprofiled
   * warm-up) and returns each executed node's mean wall time in execution order, layout
   * conversions included in the node that needed them; the last entry (`name: null`,
   * `opType: 'OutputCopy'`) is the copy of requested outputs back to NCHW. Nodes evaluated at
   * plan time or fused into the node before them are absent.
   */
  profile(input: Tensor | TensorLike | Record<string, Tensor | TensorLike>, options?: { runs?: number }): Promise<ProfileEntry[]>;
  /**
   * The pruned graph of the current mode as a standalone ONNX model whose outputs are the
   * requested nodes, named by their output keys; only the initializers it uses are kept, opset
   * imports and metadata are copied. The same in a worker.
   */
  toONNX(): Promise<Uint8Array>;
  /** @deprecated `toONNX()` returns a promise now, also for a model in a worker; use it. */
  toONNXAsync(): Promise<Uint8Array>;
  /**
   * The current mode's plan as text: what `run` would execute, step by step (docs/api.md shows
   * an example). Planned for `input`'s shapes when given (it stays bound, as a run's input
   * does), else for the input of the last `run`/`profile`/`explain`, else for the model's
   * declared input shapes.
   * @throws OnnxfxError `BAD_INPUT` when no input was given and a declared input dim is symbolic
   *   (`'batch'`).
   */
  explain(input?: Tensor | TensorLike | Record<string, Tensor | TensorLike>): Promise<string>;
  /**
   * Frees the extractor (also done by its model's `dispose()`); unusable from the call on.
   * Resolves once it is freed, never rejects; calling it again returns the same promise.
   */
  dispose(): Promise<void>;
  /** `using fx = ...`: starts `dispose()` (in this thread, it is done on return). */
  [Symbol.dispose](): void;
  /** `await using fx = ...`: awaits `dispose()`. */
  [Symbol.asyncDispose](): Promise<void>;
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

/** Pixels onnxfx can read: browser image objects, RGBA pixels, or (Node) PNG/JPEG files or bytes. */
export type ImageSource =
  | ImageData
  | ImageBitmap
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | Blob
  | { width: number; height: number; data: Uint8Array | Uint8ClampedArray }
  | Uint8Array
  | ArrayBuffer
  | string
  | URL;

export interface ImageToTensorOptions {
  /** Starting values for the other options: `'imagenet'` (the default) or `'none'`. */
  preset?: 'imagenet' | 'none';
  /**
   * Like `transforms.Resize`: a number sets the shorter side (the longer keeps the aspect
   * ratio, truncated), `[height, width]` sets both; null: no resize. imagenet: 256.
   */
  resize?: number | [number, number] | null;
  /** Bilinear resampling with torchvision's antialias when shrinking. Defaults to true. */
  antialias?: boolean;
  /** Like `transforms.CenterCrop` (pads with zeros when larger than the image); null: none. imagenet: 224. */
  crop?: number | [number, number] | null;
  /** `'0-1'` divides by 255 (`ToTensor`), `'0-255'` keeps the byte values. */
  scale?: '0-1' | '0-255';
  /** Per channel, R, G, B order, in the units of `scale`; null: 0. imagenet: [0.485, 0.456, 0.406]. */
  mean?: [number, number, number] | number[] | null;
  /** Per channel, R, G, B order; null: 1. imagenet: [0.229, 0.224, 0.225]. */
  std?: [number, number, number] | number[] | null;
  /** Channel order of the tensor. Defaults to 'RGB'. */
  channels?: 'RGB' | 'BGR';
  /** Defaults to 'NCHW'. */
  layout?: 'NCHW' | 'NHWC';
  /** Add the leading batch dimension of 1. Defaults to true. */
  batch?: boolean;
}

/**
 * Returns a float32 tensor of an image, preprocessed the way torchvision's transforms do it:
 * resize, center crop, scale, normalize, then channel order and layout.
 *
 * The resize is torchvision's antialiased bilinear (`Resize(256)` keeps the aspect ratio with the
 * shorter side at 256), rounded to bytes as torchvision does for PIL and uint8 images; the crop
 * offset rounds like `CenterCrop`. Results match torchvision within 1 byte level per value.
 *
 * - Browsers: ImageData, ImageBitmap, `<img>`, `<canvas>`, OffscreenCanvas, Blob. Alpha is dropped.
 * - Node: a PNG or JPEG file path or bytes, decoded by pngjs / jpeg-js.
 * - Presets are in `imagePresets`; any option overrides its preset value.
 *
 * @example
 *   const x = await imageToTensor(img);                    // [1, 3, 224, 224], ImageNet-normalized
 *   const y = await imageToTensor(img, { preset: 'none', resize: [480, 640], layout: 'NHWC', channels: 'BGR', scale: '0-255' });
 */
export function imageToTensor(source: ImageSource, options?: ImageToTensorOptions): Promise<Tensor>;

/** The option sets behind `preset`. */
export const imagePresets: Readonly<Record<'imagenet' | 'none', Readonly<Required<Omit<ImageToTensorOptions, 'preset' | 'antialias' | 'batch'>>>>>;
