/**
 * Errors thrown by onnxfx: one `OnnxfxError` subclass per `code`. `new OnnxfxError(code, msg)`
 * already returns the subclass for that code, so `err instanceof NodeNotFoundError` and
 * `err.code === 'NODE_NOT_FOUND'` always agree, also for errors that crossed a worker.
 */
const SUBCLASSES = {};

export class OnnxfxError extends Error {
  /**
   * @param {string} code one of BAD_MODEL, NODE_NOT_FOUND, UNSUPPORTED_OP, BAD_INPUT,
   *   OUT_OF_MEMORY, INVALID_ARGUMENT, DISPOSED
   * @param {string} message
   */
  constructor(code, message) {
    if (new.target === OnnxfxError && SUBCLASSES[code]) return new SUBCLASSES[code](message);
    super(message);
    this.name = 'OnnxfxError';
    this.code = code;
  }
}

function define(code, name) {
  const cls = {
    [name]: class extends OnnxfxError {
      constructor(message) {
        super(code, message);
        this.name = name;
      }
    },
  }[name];
  SUBCLASSES[code] = cls;
  return cls;
}

export const BadModelError = define('BAD_MODEL', 'BadModelError');
export const NodeNotFoundError = define('NODE_NOT_FOUND', 'NodeNotFoundError');
export const UnsupportedOpError = define('UNSUPPORTED_OP', 'UnsupportedOpError');
export const BadInputError = define('BAD_INPUT', 'BadInputError');
export const OutOfMemoryError = define('OUT_OF_MEMORY', 'OutOfMemoryError');
export const InvalidArgumentError = define('INVALID_ARGUMENT', 'InvalidArgumentError');
export const DisposedError = define('DISPOSED', 'DisposedError');

/** An error as plain data, to cross a worker boundary. */
export function serializeError(err) {
  if (err instanceof OnnxfxError) return { code: err.code, message: err.message };
  return { code: null, message: String(err?.stack ?? err?.message ?? err) };
}

export function deserializeError(data) {
  if (data.code) return new OnnxfxError(data.code, data.message);
  return new Error(data.message);
}

/**
 * `fn` for a place no exception may pass (the core's stack, a message handler): `call` runs it
 * and keeps the first error it throws in `error` instead, and does nothing once one is kept.
 * @template {unknown[]} A
 * @param {(...args: A) => void} fn
 */
export function keepingErrors(fn) {
  const kept = {
    /** @type {unknown} */
    error: null,
    /** @param {A} args */
    call: (...args) => {
      if (kept.error) return;
      try {
        fn(...args);
      } catch (err) {
        kept.error = err;
      }
    },
  };
  return kept;
}
