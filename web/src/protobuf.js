/**
 * Reading protobuf framing (keys, lengths, varints) through a window over a random-access
 * source, so that a walk over a model reads its headers and skips its tensors' bytes: the
 * external data locations a model names (source.js) and the split of a model's big
 * initializers (split-model.js) walk it this way.
 */
import { OnnxfxError } from './errors.js';

const WINDOW = 1 << 16;
/** Random access over `reader` ({size, read(offset, length, target)}, e.g. source.js's sources) through one window. */
export class Cursor {
  constructor(reader) {
    this.reader = reader;
    this.start = 0;
    this.window = new Uint8Array(0);
  }

  /** The bytes [at, at + length), copied. */
  bytes(at, length) {
    if (at < this.start || at + length > this.start + this.window.length) {
      const size = Math.min(Math.max(length, WINDOW), this.reader.size - at);
      if (size < length) throw new OnnxfxError('BAD_MODEL', 'truncated protobuf field');
      this.window = new Uint8Array(size);
      this.reader.read(at, size, this.window);
      this.start = at;
    }
    return this.window.slice(at - this.start, at - this.start + length);
  }

  /** [value, next offset] of the varint at `at`. */
  varint(at) {
    const head = this.bytes(at, Math.min(10, this.reader.size - at));
    let value = 0, scale = 1, i = 0, byte;
    do {
      if (i === head.length) throw new OnnxfxError('BAD_MODEL', 'truncated protobuf varint');
      byte = head[i++];
      value += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    return [value, at + i];
  }

  /** Calls visit({field, wire, start, payload, end}) for each field of the message in [begin, end). */
  fields(begin, end, visit) {
    for (let at = begin; at < end;) {
      const start = at;
      let key;
      [key, at] = this.varint(at);
      const field = Math.floor(key / 8), wire = key % 8;
      let payload = at;
      if (wire === 0) [, at] = this.varint(at);
      else if (wire === 1) at += 8;
      else if (wire === 5) at += 4;
      else if (wire === 2) {
        let length;
        [length, payload] = this.varint(at);
        at = payload + length;
      } else throw new OnnxfxError('BAD_MODEL', `unsupported protobuf wire type ${wire}`);
      if (at > end) throw new OnnxfxError('BAD_MODEL', 'truncated protobuf field');
      visit({ field, wire, start, payload, end: at });
    }
  }
}
