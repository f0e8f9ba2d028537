/** Errors thrown by onnxfx carry a `code` naming the kind of problem. */
export class OnnxfxError extends Error {
  /**
   * @param {string} code one of BAD_MODEL, NODE_NOT_FOUND, UNSUPPORTED_OP, BAD_INPUT,
   *   OUT_OF_MEMORY, INVALID_ARGUMENT, DISPOSED
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'OnnxfxError';
    this.code = code;
  }
}
