/**
 * The engine's operations and the worker protocol. Both engines (LocalEngine in
 * web/src/engine.js, WorkerEngine in web/src/worker-client.js) answer
 * `call(type, in)` with a Promise of that operation's `out`; LocalEngine has one async method
 * per operation, the worker answers messages. The client posts `Request`s, the worker answers
 * each with a `Response` carrying the same `type` and `id`, in arrival order.
 * tests/js/engine-contract.test.mjs checks with tsc that the engines and these types agree.
 */
import type { TensorType } from '../index.js';

export interface WireTensor {
  type: TensorType;
  data: Float32Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;
  dims: number[];
}

export interface ModelDescription {
  inputs: { name: string; type: string; dims: (number | string | null)[] | null }[];
  outputs: { name: string; type: string; dims: (number | string | null)[] | null }[];
  nodes: { name: string; scope: string; opType: string; onnxName: string; inputs: string[]; outputs: string[] }[];
  trainNodes: string[];
  evalNodes: string[];
  trainOnlyNodes: number;
  opset: number;
}

/** Which build the engine runs and its thread count now (model.backend). */
export interface Backend {
  simd: 'relaxed' | 'simd128';
  threads: number;
  kernels: Record<string, string>;
  /** How the model's extractors store packed weights: set by the Model, not the engine. */
  weights?: 'float32' | 'float16';
}

export interface ExtractorInfo {
  handle: number;
  inputModelIndices: number[];
  outputRequests: number[];
  plannedNodeCount: number;
}

export interface LoadedModel {
  handle: number;
  description: ModelDescription;
}

/** Every engine operation: its input (`in`) and output (`out`). */
export interface Operations {
  info: { in: undefined; out: { threaded: boolean; backend: Backend } };
  /** The model's bytes and its external files' (each file's bytes, or in a browser worker its URL
   * and size, read by range requests); or (a browser worker) a big model's URL and size, read so. */
  loadModel: {
    in: { bytes: Uint8Array; externals: ({ location: string; data: Uint8Array } | { location: string; url: string; size: number })[] } | { url: string; size: number };
    out: LoadedModel;
  };
  freeModel: { in: { handle: number }; out: void };
  createExtractor: { in: { model: number; names: string[]; train: boolean; fuse?: boolean; weights?: 'float32' | 'float16' }; out: ExtractorInfo };
  freeExtractor: { in: { handle: number }; out: void };
  run: { in: { handle: number; tensors: WireTensor[] }; out: WireTensor[] };
  profile: { in: { handle: number; tensors: WireTensor[]; runs: number }; out: { node: number; ms: number }[] };
  toOnnx: { in: { handle: number; names: string[] }; out: Uint8Array };
  /** The extractor's plan as text; `tensors` (in its input order) are bound first when given. */
  explain: { in: { handle: number; tensors?: WireTensor[] }; out: string };
  setNumThreads: { in: { threads: number }; out: number };
  inferShapes: { in: { handle: number }; out: Record<string, (number | string | null)[]> };
}

export type OperationType = keyof Operations;

/**
 * What the in-thread engine has besides `Operations`: arguments that cannot cross to a worker
 * (a file read straight into the heap, a progress callback). Not messages.
 */
export interface LocalOperations {
  loadModelFile: {
    in: { file: string; onProgress?: (loaded: number, total: number) => void; externalData?: Record<string, Uint8Array | ArrayBuffer> };
    out: LoadedModel;
  };
}

/**
 * The worker's messages: every operation; `init`, which loads the module in the worker; and
 * `settle`, answered once the worker's thread pool has loaded, so that terminating the worker
 * interrupts no thread start (a browser logs errors for those).
 */
export interface WorkerOperations extends Operations {
  init: {
    in: { distUrl?: string; wasmUrl?: string; wasmPath?: string; threads?: boolean; simd?: 'auto' | 'relaxed' | 'simd128' };
    out: { threaded: boolean; backend: Backend };
  };
  settle: { in: Record<string, never>; out: void };
}

export type MessageType = keyof WorkerOperations;

export type Request = { [T in MessageType]: { type: T; id: number; in: WorkerOperations[T]['in'] } }[MessageType];

export type Response = {
  [T in MessageType]:
    | { type: T; id: number; out: WorkerOperations[T]['out']; err?: undefined }
    | { type: T; id: number; out?: undefined; err: { code: string | null; message: string } };
}[MessageType];

/** What index.js sees of either engine. */
export interface Engine {
  /** True for WorkerEngine. */
  readonly inWorker: boolean;
  /** True when the engine runs the threaded build. */
  readonly threaded: boolean;
  /**
   * Runs one operation; `transfer` lists buffers a worker may take over (ignored in-thread);
   * `onProgress(done, total)` hears the operation's progress (createExtractor: bytes of weights
   * read and packed), from the worker too.
   */
  call<T extends OperationType>(type: T, input: Operations[T]['in'], transfer?: Transferable[],
    onProgress?: (done: number, total: number) => void): Promise<Operations[T]['out']>;
}
