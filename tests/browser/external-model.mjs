// A model with external data for tests/browser/big-heap.test.mjs, built the same way in Node and
// in the page (which imports this file from the test server): Conv + Relu whose weight (at offset
// 16) and bias live in weights.bin and sub/bias.bin, then a MatMul whose 4 MiB weight sits at the
// end of weights.bin. With inline: true, the same weights sit in the model.
import * as W from '../js/onnx-writer.mjs';

const CW = W.floats(4 * 3 * 3 * 3, 7), CB = W.floats(4, 11), MW = W.floats(256 * 4096, 5);
export const X = W.floats(3 * 64, 3);
export const X_DIMS = [1, 3, 8, 8];
export const RETURN_NODES = ['conv', 'relu', 'mm'];
const bytesOf = (f32) => new Uint8Array(f32.buffer.slice(0));

/** The external data files, by location. */
export function externalData() {
  return { 'weights.bin': W.concat(new Uint8Array(16).fill(0xee), bytesOf(CW), bytesOf(MW)), 'sub/bias.bin': bytesOf(CB).buffer };
}

const external = (location, offset, length) => [
  W.int(14, 1), // data_location = EXTERNAL
  W.msg(13, W.str(1, 'location'), W.str(2, location)),
  offset != null ? W.msg(13, W.str(1, 'offset'), W.str(2, String(offset))) : null,
  length != null ? W.msg(13, W.str(1, 'length'), W.str(2, String(length))) : null,
];

/** The model's bytes. */
export function externalModel({ inline = false } = {}) {
  const t = (name, dims, data, ext) => W.tensor(inline ? { name, dims, raw: bytesOf(data) } : { name, dims, extra: ext });
  return W.model({
    graph: W.graph({
      nodes: [
        W.node('Conv', ['x', 'cw', 'cb'], ['c'], { name: 'conv', attrs: { pads: [1, 1, 1, 1] } }),
        W.node('Relu', ['c'], ['r'], { name: 'relu' }),
        W.node('Reshape', ['r', 'shape'], ['f'], { name: 'flat' }),
        W.node('MatMul', ['f', 'mw'], ['y'], { name: 'mm' }),
      ],
      inputs: [W.valueInfo('x', W.FLOAT, X_DIMS)],
      outputs: [W.valueInfo('y', W.FLOAT, [1, 4096])],
      initializers: [
        t('cw', [4, 3, 3, 3], CW, external('weights.bin', 16, CW.byteLength)),
        t('cb', [4], CB, external('sub/bias.bin')),
        t('mw', [256, 4096], MW, external('weights.bin', 16 + CW.byteLength, MW.byteLength)),
        W.tensor({ name: 'shape', dims: [2], dataType: W.INT64, raw: new Uint8Array(BigInt64Array.of(1n, 256n).buffer) }),
      ],
    }),
  });
}
