/** Tensors in the shape onnxruntime-web users know: `type`, `data`, `dims`. */
import { OnnxfxError } from './errors.js';

/** Element types by name, with their ONNX TensorProto.DataType code and typed array. */
export const DTYPES = {
  float32: { code: 1, array: Float32Array },
  uint8: { code: 2, array: Uint8Array },
  int8: { code: 3, array: Int8Array },
  int32: { code: 6, array: Int32Array },
  int64: { code: 7, array: BigInt64Array },
  bool: { code: 9, array: Uint8Array },
  // IEEE half-precision bits, as onnxruntime's 'float16' tensors; inputs only: onnxfx computes
  // float16 models in float32 and returns float32 (docs/api.md, "float16")
  float16: { code: 10, array: Uint16Array },
};

export function dtypeName(code) {
  for (const [name, info] of Object.entries(DTYPES)) if (info.code === code) return name;
  return `dtype(${code})`;
}

export class Tensor {
  /**
   * @param {string} type element type, e.g. 'float32'
   * @param {ArrayLike<number>|ArrayBufferView} data elements in row-major order
   * @param {number[]} dims shape
   */
  constructor(type, data, dims) {
    const info = DTYPES[type];
    if (!info) throw new OnnxfxError('BAD_INPUT', `unknown tensor type '${type}' (known: ${Object.keys(DTYPES).join(', ')})`);
    if (!(data instanceof info.array)) {
      if (Array.isArray(data) && type !== 'float16') data = type === 'int64' ? BigInt64Array.from(data, BigInt) : info.array.from(data);
      else throw new OnnxfxError('BAD_INPUT', `tensor data for type '${type}' must be a ${info.array.name}`);
    }
    dims = Array.from(dims ?? [data.length], Number);
    const size = dims.reduce((a, b) => a * b, 1);
    if (dims.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new OnnxfxError('BAD_INPUT', `tensor dims must be non-negative integers, got [${dims.join(', ')}]`);
    }
    if (size !== data.length) {
      throw new OnnxfxError('BAD_INPUT', `tensor dims [${dims.join(', ')}] need ${size} elements, data has ${data.length}`);
    }
    this.type = type;
    this.data = data;
    this.dims = dims;
    this.size = size;
  }
}

/**
 * Accepts a Tensor, an onnxruntime Tensor (same `type`, `data`, `dims`; CPU location) or a plain
 * {type, data, dims}. A plain object without `type` is float32.
 */
export function toTensor(value, what) {
  if (value instanceof Tensor) return value;
  if (value && typeof value === 'object' && 'data' in value && 'dims' in value) {
    if (value.location != null && value.location !== 'cpu' && value.location !== 'cpu-pinned') {
      throw new OnnxfxError('BAD_INPUT', `${what} is an onnxruntime tensor on '${value.location}': call its getData() first`);
    }
    return new Tensor(value.type ?? 'float32', value.data, value.dims);
  }
  if (ArrayBuffer.isView(value)) {
    throw new OnnxfxError('BAD_INPUT', `${what} is a ${value.constructor.name}: wrap it in a Tensor with its shape, new Tensor(type, data, dims)`);
  }
  throw new OnnxfxError('BAD_INPUT', `${what} must be a Tensor or an object with type, data and dims`);
}
