/**
 * The worker protocol: the client posts `Request`s, the worker answers each with a `Response`
 * carrying the same `type` and `id`, in arrival order. Operation payloads are LocalEngine's
 * (web/src/engine.js); `call(type, in)` in web/src/worker-client.js is the only sender.
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
  opset: number;
}

export interface ExtractorInfo {
  handle: number;
  inputModelIndices: number[];
  outputRequests: number[];
  plannedNodeCount: number;
}

/** Every operation: its input (`in`) and output (`out`). */
export interface Operations {
  init: { in: { distUrl?: string; wasmUrl?: string; wasmPath?: string; threads?: boolean }; out: { threaded: boolean } };
  info: { in: undefined; out: { threaded: boolean } };
  loadModel: { in: { bytes: Uint8Array; externals: { location: string; data: Uint8Array }[] }; out: { handle: number; description: ModelDescription } };
  freeModel: { in: { handle: number }; out: void };
  createExtractor: { in: { model: number; names: string[]; train: boolean }; out: ExtractorInfo };
  freeExtractor: { in: { handle: number }; out: void };
  run: { in: { handle: number; tensors: WireTensor[] }; out: WireTensor[] };
  profile: { in: { handle: number; tensors: WireTensor[]; runs: number }; out: { node: number; ms: number }[] };
  toOnnx: { in: { handle: number; names: string[] }; out: Uint8Array };
  setNumThreads: { in: { threads: number }; out: number };
  inferShapes: { in: { handle: number }; out: Record<string, (number | string | null)[]> };
}

export type OperationType = keyof Operations;

export type Request = { [T in OperationType]: { type: T; id: number; in: Operations[T]['in'] } }[OperationType];

export type Response = {
  [T in OperationType]:
    | { type: T; id: number; out: Operations[T]['out']; err?: undefined }
    | { type: T; id: number; out?: undefined; err: { code: string | null; message: string } };
}[OperationType];
