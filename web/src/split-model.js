/**
 * Single-file models whose weights stay out of the WebAssembly heap. A model's initializers of
 * SPLIT_MIN_BYTES or more are turned into ONNX external-data references to the model's own
 * bytes (location SELF_LOCATION, their offset and length in the file), so that the core reads
 * them on demand like any external data (ofx_model_load_deferred): one node at a time while an
 * extractor packs it. The heap then holds the model's small remainder and the packed weights,
 * never the file: in Node the file is read with positioned reads (headers only, at load), in
 * browsers the bytes stay in JavaScript memory. Only the protobuf framing is read and written.
 */
import { OnnxfxError } from './errors.js';
import { Cursor } from './protobuf.js';

/** The location the split model gives its own bytes (a real location cannot contain ':' and '<'). */
export const SELF_LOCATION = '<onnxfx:model>';
/** Initializers smaller than this stay inline: they cost little, and planning may read them. */
export const SPLIT_MIN_BYTES = 64 << 10;

const encoder = new TextEncoder();

function varint(value) {
  const out = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return Uint8Array.from(out);
}

/** A message: parts and their total length, so parents can prefix it with its length. */
class Parts {
  constructor() {
    this.list = [];
    this.length = 0;
  }

  push(bytes) {
    this.list.push(bytes);
    this.length += bytes.length;
  }

  /** Field `field` (length-delimited) holding `inner`. */
  pushMessage(field, inner) {
    this.push(varint(field * 8 + 2));
    this.push(varint(inner.length));
    for (const b of inner.list) this.push(b);
  }

  concat() {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const b of this.list) out.set(b, at), at += b.length;
    return out;
  }
}

function stringField(field, text) {
  const bytes = encoder.encode(text);
  const p = new Parts();
  p.push(varint(field * 8 + 2));
  p.push(varint(bytes.length));
  p.push(bytes);
  return p;
}

/** external_data entry {key, value} (TensorProto field 13: StringStringEntryProto). */
function entry(key, value) {
  const inner = new Parts();
  for (const part of [stringField(1, key), stringField(2, value)]) for (const b of part.list) inner.push(b);
  return inner;
}

/**
 * The model in `reader` with its big initializers pointing at SELF_LOCATION, or null when it has
 * none (or is not protobuf this can walk: the core then reads it whole and reports what is wrong).
 * @param {{size: number, read: (offset: number, length: number, target: Uint8Array) => void}} reader
 * @returns {Uint8Array | null}
 */
export function splitModel(reader) {
  const cursor = new Cursor(reader);
  let moved = 0;
  const verbatim = (parts, f) => parts.push(cursor.bytes(f.start, f.end - f.start));

  const tensor = (begin, end) => {
    const parts = new Parts();
    let raw = null, external = false;
    cursor.fields(begin, end, (f) => {
      if (f.field === 9 && f.wire === 2 && f.end - f.payload >= SPLIT_MIN_BYTES) raw = f; // raw_data
      else verbatim(parts, f);
      if (f.field === 13 || f.field === 14) external = true; // external_data, data_location
    });
    if (raw === null || external) return null; // unchanged
    for (const [key, value] of [['location', SELF_LOCATION], ['offset', String(raw.payload)], ['length', String(raw.end - raw.payload)]]) {
      parts.pushMessage(13, entry(key, value));
    }
    parts.push(varint(14 * 8)), parts.push(varint(1)); // data_location: EXTERNAL
    moved++;
    return parts;
  };
  const graph = (begin, end) => {
    const parts = new Parts();
    cursor.fields(begin, end, (f) => {
      const split = f.field === 5 && f.wire === 2 ? tensor(f.payload, f.end) : null; // initializer
      if (split) parts.pushMessage(5, split);
      else verbatim(parts, f);
    });
    return parts;
  };
  try {
    const model = new Parts();
    cursor.fields(0, reader.size, (f) => {
      if (f.field === 7 && f.wire === 2) model.pushMessage(7, graph(f.payload, f.end));
      else verbatim(model, f);
    });
    return moved ? model.concat() : null;
  } catch (err) {
    if (err instanceof OnnxfxError && err.code === 'BAD_MODEL') return null;
    throw err;
  }
}

/**
 * toONNX() of a split model: the tensors pointing at SELF_LOCATION get their bytes back inline
 * (raw_data), read from `self` (the model's source), so the file written stands alone.
 * @param {Uint8Array} bytes the core's output
 * @param {{size: number, read: (offset: number, length: number, target: Uint8Array) => void}} self
 */
export function inlineSelfData(bytes, self) {
  const cursor = new Cursor({ size: bytes.length, read: (offset, length, target) => target.set(bytes.subarray(offset, offset + length)) });
  const decode = (f) => new TextDecoder().decode(cursor.bytes(f.payload, f.end - f.payload));
  let changed = false;
  const tensor = (begin, end) => {
    const parts = new Parts();
    const refs = {};
    cursor.fields(begin, end, (f) => {
      if (f.field === 13 && f.wire === 2) {
        let key = '', value = '';
        cursor.fields(f.payload, f.end, (e) => {
          if (e.field === 1) key = decode(e);
          if (e.field === 2) value = decode(e);
        });
        refs[key] = value;
      }
    });
    if (refs.location !== SELF_LOCATION) return null;
    cursor.fields(begin, end, (f) => {
      if (f.field !== 13 && f.field !== 14) parts.push(cursor.bytes(f.start, f.end - f.start));
    });
    const offset = Number(refs.offset ?? 0), length = Number(refs.length);
    const data = new Uint8Array(length);
    self.read(offset, length, data);
    parts.push(varint(9 * 8 + 2)), parts.push(varint(length)), parts.push(data);
    changed = true;
    return parts;
  };
  const graph = (begin, end) => {
    const parts = new Parts();
    cursor.fields(begin, end, (f) => {
      const inlined = f.field === 5 && f.wire === 2 ? tensor(f.payload, f.end) : null;
      if (inlined) parts.pushMessage(5, inlined);
      else parts.push(cursor.bytes(f.start, f.end - f.start));
    });
    return parts;
  };
  const model = new Parts();
  cursor.fields(0, bytes.length, (f) => {
    if (f.field === 7 && f.wire === 2) model.pushMessage(7, graph(f.payload, f.end));
    else model.push(cursor.bytes(f.start, f.end - f.start));
  });
  return changed ? model.concat() : bytes;
}
