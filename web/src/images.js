/**
 * Images to input tensors, with torchvision's preprocessing: resize (bilinear, antialiased, the
 * shorter side like `transforms.Resize(int)` or an exact [h, w]), center crop, scale, mean/std,
 * channel order and layout. Browsers read ImageData, ImageBitmap, <img>, <canvas> and
 * OffscreenCanvas; Node decodes files or buffers with sharp (libvips, an optional dependency:
 * JPEG, PNG, WebP, AVIF, GIF, TIFF) when it can be imported, else PNG with pngjs and JPEG with
 * jpeg-js, all imported only there, so the browser path has no Node dependency. The decoder only
 * gives pixels: resize, crop and normalize are this file's own either way.
 */
import { OnnxfxError } from './errors.js';
import { isNode } from './loader.js';
import { Tensor } from './tensor.js';
import { checkOptionNames } from './options.js';

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** Named option sets; `imageToTensor(img, { preset: 'imagenet', crop: 256 })` overrides one field. */
export const PRESETS = Object.freeze({
  /** torchvision's ImageNet classification transforms: Resize(256), CenterCrop(224), ToTensor, Normalize. */
  imagenet: Object.freeze({ resize: 256, crop: 224, scale: '0-1', mean: IMAGENET_MEAN, std: IMAGENET_STD, channels: 'RGB', layout: 'NCHW' }),
  /** No resize or crop, values in 0–1: `transforms.ToTensor()`. */
  none: Object.freeze({ resize: null, crop: null, scale: '0-1', mean: null, std: null, channels: 'RGB', layout: 'NCHW' }),
});

const bad = (msg) => new OnnxfxError('BAD_INPUT', msg);
const invalid = (msg) => new OnnxfxError('INVALID_ARGUMENT', msg);

// ---- decoding: anything -> {width, height, data: RGBA bytes} --------------------------------

function isRgbaLike(v) {
  return v && typeof v === 'object' && Number.isInteger(v.width) && Number.isInteger(v.height) && v.data &&
    v.data.length === v.width * v.height * 4;
}

async function pixelsInBrowser(source) {
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) {
    if (!source.complete || !source.naturalWidth) await source.decode();
  }
  const width = source.naturalWidth ?? source.displayWidth ?? source.width;
  const height = source.naturalHeight ?? source.displayHeight ?? source.height;
  if (!width || !height) throw bad('the image has no pixels (not loaded yet, or 0 x 0)');
  let ctx;
  if (typeof OffscreenCanvas !== 'undefined') ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  else {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    ctx = canvas.getContext('2d', { willReadFrequently: true });
  }
  ctx.drawImage(source, 0, 0);
  return ctx.getImageData(0, 0, width, height);
}

const importNode = (name) => import(/* webpackIgnore: true */ /* @vite-ignore */ name);

let sharpModule; // a promise of sharp's default export, or of null when it cannot be imported

/**
 * The decoder to use, from ONNXFX_IMAGE_DECODER: 'auto' (default: sharp when it imports, else
 * pngjs/jpeg-js), 'js' (pngjs/jpeg-js even when sharp is there) or 'sharp' (an error without it).
 */
function decoderChoice() {
  const v = (globalThis.process?.env?.ONNXFX_IMAGE_DECODER ?? '').trim().toLowerCase() || 'auto';
  if (!['auto', 'js', 'sharp'].includes(v)) throw invalid(`ONNXFX_IMAGE_DECODER is auto, js or sharp, got '${v}'`);
  return v;
}

function loadSharp() {
  sharpModule ??= importNode('sharp').then((m) => m.default ?? m, () => null);
  return sharpModule;
}

/**
 * Node: the decoder images go through now, 'sharp' or 'js' (pngjs/jpeg-js), per
 * ONNXFX_IMAGE_DECODER and whether sharp imports. JPEG pixels differ between the two by a few
 * levels, so `onnxfx extract` records it with the rows it writes.
 * @returns {Promise<'sharp'|'js'>}
 */
export async function nodeImageDecoder() {
  const choice = decoderChoice();
  if (choice === 'js') return 'js';
  const sharp = await loadSharp();
  if (!sharp && choice === 'sharp') throw invalid("ONNXFX_IMAGE_DECODER=sharp needs the npm package 'sharp': npm install sharp");
  return sharp ? 'sharp' : 'js';
}

/**
 * RGB bytes from sharp: the first frame (GIF, animated WebP), alpha dropped, grey expanded to
 * R = G = B, 8 bits per channel. No rotation from EXIF, like pngjs/jpeg-js. Null when sharp
 * cannot decode the bytes.
 */
async function decodeWithSharp(sharp, buf) {
  try {
    const { data, info } = await sharp(buf, { limitInputPixels: false, failOn: 'warning' })
      .removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) return null;
    return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch {
    return null;
  }
}

async function decodeInNode(bytes) {
  const isPng = bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8;
  const need = (name) => importNode(name).then((m) => m.default ?? m, () => {
    throw invalid(`decoding this image needs the npm package '${name}' (a dependency of onnxfx): npm install ${name}`);
  });
  const { Buffer } = await importNode('node:buffer');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sharp = (await nodeImageDecoder()) === 'sharp' ? await loadSharp() : null;
  if (sharp) {
    const img = await decodeWithSharp(sharp, buf);
    if (img) return img;
    // What sharp cannot read, pngjs/jpeg-js still try (a PNG/JPEG readable before stays readable).
  }
  if (isPng) {
    const { PNG } = await need('pngjs');
    let png;
    try {
      png = PNG.sync.read(buf);
    } catch (err) {
      throw bad(`cannot decode the PNG: ${err.message}`);
    }
    return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
  }
  if (isJpeg) {
    const jpeg = await need('jpeg-js');
    let img;
    try {
      img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 });
    } catch (err) {
      throw bad(`cannot decode the JPEG: ${err.message ?? err}`);
    }
    return { width: img.width, height: img.height, data: img.data };
  }
  throw bad(sharp ? 'the image bytes are neither PNG nor JPEG, nor another format sharp decodes (WebP, AVIF, GIF, TIFF, ...)'
    : 'the image bytes are neither PNG nor JPEG (install the npm package sharp for WebP, AVIF, GIF and TIFF)');
}

/** @returns {Promise<{width: number, height: number, channels?: 3|4, data: Uint8Array|Uint8ClampedArray}>} RGBA, or RGB when channels is 3 */
async function readPixels(source) {
  if (isRgbaLike(source)) return { width: source.width, height: source.height, data: source.data }; // ImageData, or {width, height, data} RGBA
  if (typeof source === 'string' || source instanceof URL) {
    if (!isNode) {
      const img = new Image();
      img.crossOrigin = 'anonymous';
      img.src = String(source);
      return pixelsInBrowser(img);
    }
    const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
    const buf = await readFile(source).catch((err) => { throw invalid(`cannot read the image file '${source}': ${err.code ?? err.message}`); });
    return decodeInNode(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  }
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    if (isNode) return decodeInNode(bytes);
    const bitmap = await createImageBitmap(new Blob([bytes]));
    try {
      return await pixelsInBrowser(bitmap);
    } finally {
      bitmap.close();
    }
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    if (isNode) return decodeInNode(new Uint8Array(await source.arrayBuffer()));
    const bitmap = await createImageBitmap(source);
    try {
      return await pixelsInBrowser(bitmap);
    } finally {
      bitmap.close();
    }
  }
  if (!isNode && source && typeof source === 'object' && (typeof source.width === 'number' || typeof source.naturalWidth === 'number')) {
    return pixelsInBrowser(source); // ImageBitmap, HTMLImageElement, HTMLCanvasElement, OffscreenCanvas, VideoFrame
  }
  throw invalid('imageToTensor expects ImageData, ImageBitmap, an <img>, a canvas, an OffscreenCanvas, ' +
    '{width, height, data} RGBA, or (Node) an image file path or bytes (PNG, JPEG; WebP, AVIF, GIF, TIFF with sharp)');
}

// ---- resize: torchvision's antialiased bilinear ------------------------------------------------

/**
 * Taps and weights for one axis, as torchvision's `_upsample_bilinear2d_aa` and PIL compute them:
 * a triangle filter widened by the scale when shrinking (antialias), normalized per output.
 */
function resizeWeights(inSize, outSize, antialias) {
  const scale = inSize / outSize;
  const widen = antialias && scale > 1 ? scale : 1;
  const support = widen; // bilinear: half-width 1, times the widening
  const starts = new Int32Array(outSize), counts = new Int32Array(outSize);
  const weights = [];
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    let xmin, xmax;
    if (antialias) {
      xmin = Math.max(Math.trunc(center - support + 0.5), 0);
      xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    } else {
      // align_corners=False bilinear without antialias: two taps around the source position
      const src = Math.max(center - 0.5, 0);
      xmin = Math.min(Math.floor(src), inSize - 1);
      xmax = Math.min(xmin + 2, inSize);
    }
    const w = new Float64Array(xmax - xmin);
    let total = 0;
    for (let j = 0; j < w.length; j++) {
      const x = antialias ? (j + xmin - center + 0.5) / widen : (j + xmin) - Math.max(center - 0.5, 0);
      w[j] = Math.max(0, 1 - Math.abs(x));
      total += w[j];
    }
    if (total > 0) for (let j = 0; j < w.length; j++) w[j] /= total;
    starts[i] = xmin;
    counts[i] = w.length;
    weights.push(w);
  }
  return { starts, counts, weights };
}

/**
 * Resizes pixels to outH x outW and returns rows [y0, y1) by columns [x0, x1) of the result, as
 * 3-channel float HWC: only the part a center crop keeps is computed (each value by the same sums,
 * in the same order, as when the whole image is). `src` holds h x w pixels of `channels` values
 * (RGBA or RGB bytes from the decoder), R, G, B first.
 */
function resizeHwc(src, channels, h, w, outH, outW, antialias, [y0, y1, x0, x1]) {
  const cx = resizeWeights(w, outW, antialias), cy = resizeWeights(h, outH, antialias);
  const cols = x1 - x0, rows = y1 - y0;
  // the source rows the kept output rows read
  let r0 = h, r1 = 0;
  for (let y = y0; y < y1; y++) {
    r0 = Math.min(r0, cy.starts[y]);
    r1 = Math.max(r1, cy.starts[y] + cy.counts[y]);
  }
  const tmp = new Float64Array(Math.max(0, r1 - r0) * cols * 3); // horizontal pass first
  for (let y = r0; y < r1; y++) {
    for (let x = x0; x < x1; x++) {
      const ws = cx.weights[x], xs = cx.starts[x];
      let r = 0, g = 0, b = 0;
      for (let k = 0, at = (y * w + xs) * channels; k < ws.length; k++, at += channels) {
        r += ws[k] * src[at]; g += ws[k] * src[at + 1]; b += ws[k] * src[at + 2];
      }
      const o = ((y - r0) * cols + (x - x0)) * 3;
      tmp[o] = r; tmp[o + 1] = g; tmp[o + 2] = b;
    }
  }
  const out = new Float64Array(rows * cols * 3);
  for (let y = y0; y < y1; y++) {
    const ws = cy.weights[y], ys = cy.starts[y] - r0;
    for (let x = 0; x < cols; x++) {
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < ws.length; k++) {
        const at = ((ys + k) * cols + x) * 3;
        r += ws[k] * tmp[at]; g += ws[k] * tmp[at + 1]; b += ws[k] * tmp[at + 2];
      }
      const o = ((y - y0) * cols + x) * 3;
      out[o] = r; out[o + 1] = g; out[o + 2] = b;
    }
  }
  return out;
}

/** Python's round(): halves go to the even neighbour (torchvision's center_crop uses it). */
function roundHalfEven(v) {
  const f = Math.floor(v), d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function sizePair(v, what) {
  const pair = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? v : null;
  if (!pair || !pair.every((n) => Number.isInteger(n) && n > 0)) throw invalid(`${what} must be a positive integer or [height, width]`);
  return pair;
}

function normalizeOptions(options) {
  if (options == null) options = {};
  if (typeof options !== 'object') throw invalid('imageToTensor options must be an object');
  checkOptionNames(options, ['preset', ...Object.keys(PRESETS.imagenet), 'antialias', 'batch'], 'imageToTensor');
  const presetName = options.preset ?? 'imagenet';
  const preset = PRESETS[presetName];
  if (!preset) throw invalid(`unknown preset '${presetName}' (known: ${Object.keys(PRESETS).join(', ')})`);
  const o = { ...preset, antialias: true, batch: true };
  for (const [k, v] of Object.entries(options)) if (v !== undefined && k !== 'preset') o[k] = v;
  if (!['0-1', '0-255'].includes(o.scale)) throw invalid("scale must be '0-1' or '0-255'");
  if (!['RGB', 'BGR'].includes(o.channels)) throw invalid("channels must be 'RGB' or 'BGR'");
  if (!['NCHW', 'NHWC'].includes(o.layout)) throw invalid("layout must be 'NCHW' or 'NHWC'");
  for (const k of ['mean', 'std']) {
    if (o[k] != null && !(Array.isArray(o[k]) && o[k].length === 3 && o[k].every(Number.isFinite))) throw invalid(`${k} must be 3 numbers (R, G, B) or null`);
  }
  if (o.std?.some((s) => s === 0)) throw invalid('std must not contain 0');
  if (o.resize != null && typeof o.resize !== 'number') sizePair(o.resize, 'resize');
  if (typeof o.resize === 'number') sizePair(o.resize, 'resize');
  if (o.crop != null) o.crop = sizePair(o.crop, 'crop');
  return o;
}

/**
 * Turns an image into a float32 input tensor, preprocessed like torchvision's transforms.
 * @param {any} source
 * @param {import('../index.js').ImageToTensorOptions} [options]
 * @returns {Promise<Tensor>}
 */
export async function imageToTensor(source, options = {}) {
  const o = normalizeOptions(options);
  const { width, height, data, channels = 4 } = await readPixels(source);
  // The decoder's RGBA (or RGB) bytes are read in place: R, G, B of pixel i at i * stride (alpha
  // dropped, as PIL's convert('RGB') does); after a resize, 3-channel floats in 0..255.
  let h = height, w = width;
  let px = data, stride = channels;
  let outH = h, outW = w;
  if (o.resize != null) {
    if (typeof o.resize === 'number') {
      // transforms.Resize(int): the shorter side becomes `resize`, the longer keeps the ratio (truncated)
      if (w <= h) [outW, outH] = [o.resize, Math.trunc((o.resize * h) / w)];
      else [outH, outW] = [o.resize, Math.trunc((o.resize * w) / h)];
    } else [outH, outW] = o.resize;
  }
  // transforms.CenterCrop: pad with zeros when the crop is larger, else offsets rounded half-even
  const [cropH, cropW] = o.crop ?? [outH, outW];
  let top = !o.crop ? 0 : cropH > outH ? -Math.floor((cropH - outH) / 2) : roundHalfEven((outH - cropH) / 2);
  let left = !o.crop ? 0 : cropW > outW ? -Math.floor((cropW - outW) / 2) : roundHalfEven((outW - cropW) / 2);
  if (outH !== h || outW !== w) {
    // only the rows and columns the crop keeps are resized
    const y0 = Math.max(0, top), y1 = Math.max(y0, Math.min(outH, top + cropH));
    const x0 = Math.max(0, left), x1 = Math.max(x0, Math.min(outW, left + cropW));
    px = resizeHwc(data, channels, h, w, outH, outW, o.antialias, [y0, y1, x0, x1]);
    // torchvision resizes uint8 images (PIL, or uint8 tensors) to uint8: round and clamp
    for (let i = 0; i < px.length; i++) px[i] = Math.min(255, Math.max(0, Math.round(px[i])));
    [h, w, stride] = [y1 - y0, x1 - x0, 3];
    top -= y0;
    left -= x0;
  }
  outH = cropH;
  outW = cropW;
  const div = o.scale === '0-1' ? 255 : 1;
  const mean = o.mean ?? [0, 0, 0], std = o.std ?? [1, 1, 1];
  const order = o.channels === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const out = new Float32Array(3 * outH * outW);
  const plane = outH * outW;
  // one channel at a time; padding is a value of 0 before normalizing, as torchvision pads
  const [cs, ps] = o.layout === 'NCHW' ? [plane, 1] : [1, 3]; // out index: c * cs + (y * outW + x) * ps
  for (let c = 0; c < 3; c++) {
    const srcC = order[c], m = mean[srcC], sd = std[srcC];
    for (let y = 0; y < outH; y++) {
      const sy = y + top;
      const rowInside = sy >= 0 && sy < h;
      for (let x = 0, at = c * cs + y * outW * ps; x < outW; x++, at += ps) {
        const sx = x + left;
        const v = rowInside && sx >= 0 && sx < w ? px[(sy * w + sx) * stride + srcC] / div : 0;
        out[at] = (v - m) / sd;
      }
    }
  }
  const dims = o.layout === 'NCHW' ? [3, outH, outW] : [outH, outW, 3];
  return new Tensor('float32', out, o.batch ? [1, ...dims] : dims);
}
