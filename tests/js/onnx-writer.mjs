// A tiny protobuf writer for building ONNX models (valid and deliberately broken) inside tests,
// so that no binary model needs to be committed. Field numbers follow onnx.proto.
//
//   const bytes = model({ graph: graph({ nodes: [node('Relu', ['x'], ['y'])],
//                                         inputs: [valueInfo('x', FLOAT, [1, 3])],
//                                         outputs: [valueInfo('y', FLOAT, [1, 3])] }) });
//
// Every builder returns a Uint8Array of fields; `msg(n, bytes)` wraps one as a nested message.
// The low-level helpers (varint, key, raw concatenation) let tests write malformed encodings.

export const FLOAT = 1, UINT8 = 2, INT8 = 3, INT32 = 6, INT64 = 7, STRING = 8, BOOL = 9;
const enc = new TextEncoder();

export function concat(...parts) {
  const flat = parts.flat(Infinity).filter((p) => p != null);
  const out = new Uint8Array(flat.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of flat) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Varint of a number or BigInt; negative values are 10-byte two's complement, as protobuf does. */
export function varint(value) {
  let v = BigInt.asUintN(64, BigInt(value));
  const bytes = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    bytes.push(b);
  } while (v);
  return Uint8Array.from(bytes);
}

export const key = (field, wire) => varint((field << 3) | wire);
export const int = (field, value) => concat(key(field, 0), varint(value));
export const bytes = (field, data) => concat(key(field, 2), varint(data.length), data);
export const str = (field, s) => bytes(field, enc.encode(s));
export const msg = (field, ...parts) => bytes(field, concat(...parts));
export function f32(field, x) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, x, true);
  return concat(key(field, 5), b);
}
export const packedInts = (field, values) => bytes(field, concat(values.map(varint)));
export function packedFloats(field, values) {
  return bytes(field, new Uint8Array(Float32Array.from(values).buffer));
}

/** TensorProto. data: Float32Array/Int32Array/... written as raw_data, or floatData/int64Data. */
export function tensor({ name, dims, dataType = FLOAT, raw, floatData, int64Data, extra }) {
  return concat(
    dims.length ? packedInts(1, dims) : null,
    int(2, dataType),
    floatData ? packedFloats(4, floatData) : null,
    int64Data ? packedInts(7, int64Data) : null,
    name != null ? str(8, name) : null,
    raw ? bytes(9, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)) : null,
    extra,
  );
}

/** ValueInfoProto of a tensor; dims are numbers, strings (symbolic) or null (unknown). */
export function valueInfo(name, elemType = FLOAT, dims = null) {
  const shape = dims && msg(2, ...dims.map((d) => msg(1, d == null ? [] : typeof d === 'string' ? str(2, d) : int(1, d))));
  return concat(str(1, name), msg(2, msg(1, int(1, elemType), shape)));
}

/** AttributeProto from a JS value: number (int, or float when `float`), arrays, string, tensor, graph. */
export function attr(name, value, kind) {
  const parts = [str(1, name)];
  kind ??= typeof value === 'string' ? 'string' : Array.isArray(value) ? 'ints' : 'int';
  switch (kind) {
    case 'int': parts.push(int(3, value), int(20, 2)); break;
    case 'float': parts.push(f32(2, value), int(20, 1)); break;
    case 'string': parts.push(str(4, value), int(20, 3)); break;
    case 'ints': parts.push(packedInts(8, value), int(20, 7)); break;
    case 'floats': parts.push(packedFloats(7, value), int(20, 6)); break;
    case 'tensor': parts.push(msg(5, value), int(20, 4)); break;
    case 'graph': parts.push(msg(6, value), int(20, 5)); break;
    default: throw new Error(`unknown attribute kind ${kind}`);
  }
  return concat(parts);
}

/** NodeProto. attrs: {name: value} (ints for numbers/arrays, strings) or prebuilt attr() bytes. */
export function node(opType, inputs, outputs, { name, domain, attrs = {}, rawAttrs = [] } = {}) {
  return concat(
    inputs.map((i) => str(1, i)),
    outputs.map((o) => str(2, o)),
    name != null ? str(3, name) : null,
    str(4, opType),
    Object.entries(attrs).map(([k, v]) => msg(5, attr(k, v))),
    rawAttrs.map((a) => msg(5, a)),
    domain != null ? str(7, domain) : null,
  );
}

export function graph({ name = 'g', nodes = [], inputs = [], outputs = [], initializers = [], valueInfos = [] }) {
  return concat(
    nodes.map((n) => msg(1, n)),
    str(2, name),
    initializers.map((t) => msg(5, t)),
    inputs.map((v) => msg(11, v)),
    outputs.map((v) => msg(12, v)),
    valueInfos.map((v) => msg(13, v)),
  );
}

/** ModelProto; the graph is written last, so that any truncation cuts into it or drops it. */
export function model({ graph: g, opsets = [['', 13]], irVersion = 8 }) {
  return concat(
    int(1, irVersion),
    str(2, 'onnxfx-tests'),
    opsets.map(([domain, version]) => msg(8, str(1, domain), int(2, version))),
    g != null ? msg(7, g) : null,
  );
}

/** Deterministic pseudo-random floats in [-1, 1). */
export function floats(n, seed = 1) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/**
 * The small valid model most tests use: Conv(3->4, 3x3, pads 1) + Relu on x [1, 3, 8, 8], with
 * weights W [4, 3, 3, 3] and bias B [4]. Returns the bytes and a JS reference implementation.
 */
export function convReluModel({ batch = 1, inputDims } = {}) {
  const W = floats(4 * 3 * 3 * 3, 7), B = floats(4, 11);
  const bytes = model({
    graph: graph({
      nodes: [
        node('Conv', ['x', 'conv.weight', 'conv.bias'], ['c'], { name: '/conv/Conv', attrs: { pads: [1, 1, 1, 1] } }),
        node('Relu', ['c'], ['y'], { name: '/relu/Relu' }),
      ],
      inputs: [valueInfo('x', FLOAT, inputDims ?? [batch, 3, 8, 8])],
      outputs: [valueInfo('y', FLOAT, [batch, 4, 8, 8])],
      initializers: [tensor({ name: 'conv.weight', dims: [4, 3, 3, 3], raw: W }), tensor({ name: 'conv.bias', dims: [4], raw: B })],
    }),
  });
  /** Reference: conv (and relu when `relu`) for x [n, 3, 8, 8]. */
  function reference(x, n = batch, relu = true) {
    const out = new Float32Array(n * 4 * 64);
    for (let b = 0; b < n; b++)
      for (let oc = 0; oc < 4; oc++)
        for (let oh = 0; oh < 8; oh++)
          for (let ow = 0; ow < 8; ow++) {
            let acc = B[oc];
            for (let ic = 0; ic < 3; ic++)
              for (let kh = 0; kh < 3; kh++)
                for (let kw = 0; kw < 3; kw++) {
                  const ih = oh + kh - 1, iw = ow + kw - 1;
                  if (ih < 0 || ih >= 8 || iw < 0 || iw >= 8) continue;
                  acc += W[((oc * 3 + ic) * 3 + kh) * 3 + kw] * x[((b * 3 + ic) * 8 + ih) * 8 + iw];
                }
            out[((b * 4 + oc) * 8 + oh) * 8 + ow] = relu ? Math.max(acc, 0) : acc;
          }
    return out;
  }
  return { bytes, reference };
}

/**
 * y = x + w, z = y * 2 over n floats, w[i] = (i % 1009) * 0.5: the big-heap tests' model (its
 * initializer, input and two outputs are n floats each), built in Node and in pages alike.
 */
export function addMulModel(n) {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = (i % 1009) * 0.5;
  return model({
    graph: graph({
      nodes: [node('Add', ['x', 'w'], ['y'], { name: 'add' }), node('Mul', ['y', 'two'], ['z'], { name: 'mul' })],
      inputs: [valueInfo('x', FLOAT, [n])],
      outputs: [valueInfo('z', FLOAT, [n])],
      initializers: [
        tensor({ name: 'w', dims: [n], raw: new Uint8Array(w.buffer) }),
        tensor({ name: 'two', dims: [], raw: new Uint8Array(Float32Array.of(2).buffer) }),
      ],
    }),
  });
}
