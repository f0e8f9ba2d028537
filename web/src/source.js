/**
 * Where model bytes come from: memory, a URL or Response (streamed, with progress), or a file
 * in Node; and the ONNX external data files a model names, read here and handed to the core.
 */
import { OnnxfxError } from './errors.js';
import { isNode } from './loader.js';
import { Cursor } from './protobuf.js';
import { SELF_LOCATION, splitModel } from './split-model.js';

const hasScheme = (s) => /^[a-z][a-z0-9+.-]*:/i.test(s) && !/^[a-z]:[\\/]/i.test(s);

/**
 * fetch() with its failures as InvalidArgumentError naming the URL and the cause (fetch itself
 * throws a bare `TypeError: fetch failed`, the cause hidden in `err.cause`).
 */
async function fetchModel(url, fetchOptions) {
  if (typeof fetch !== 'function') throw new OnnxfxError('INVALID_ARGUMENT', 'fetch() is not available to load the model from a URL');
  try {
    return await fetch(url, fetchOptions);
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    const cause = err?.cause;
    const why = cause ? `${cause.code ? cause.code + ': ' : ''}${cause.message ?? cause}` : (err?.message ?? String(err));
    const error = new OnnxfxError('INVALID_ARGUMENT', `cannot fetch the model from ${String(url)}: ${why}`);
    error.cause = err;
    throw error;
  }
}

/** Reads a Response body chunk by chunk, calling onProgress(loaded, total); total is 0 when unknown. */
export async function readResponse(response, onProgress) {
  if (!response.ok) throw new OnnxfxError('INVALID_ARGUMENT', `cannot fetch the model: HTTP ${response.status} ${response.statusText} (${response.url})`);
  const total = Number(response.headers.get('content-length')) || 0;
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onProgress?.(bytes.byteLength, total || bytes.byteLength);
    return bytes;
  }
  const reader = response.body.getReader();
  let buffer = new Uint8Array(total || 1 << 20);
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.byteLength > buffer.byteLength) {
      const grown = new Uint8Array(Math.max(buffer.byteLength * 2, loaded + value.byteLength));
      grown.set(buffer.subarray(0, loaded));
      buffer = grown;
    }
    buffer.set(value, loaded);
    loaded += value.byteLength;
    onProgress?.(loaded, total);
  }
  return loaded === buffer.byteLength ? buffer : buffer.slice(0, loaded);
}

/**
 * @returns {Promise<{bytes: Uint8Array, owned: boolean, dir: string|null, url?: URL}>} `owned`: the
 *   bytes are a fresh buffer nobody else holds (so it may be transferred); `dir`: the model's
 *   folder in Node, where its external data files are; `url`: the URL it was fetched from, beside
 *   which its external data files are fetched.
 */
export async function readModelSource(source, options = {}) {
  const { onProgress } = options;
  if (source instanceof Uint8Array) return { bytes: source, owned: false, dir: options.externalDataDir ?? null };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), owned: false, dir: options.externalDataDir ?? null };
  if (ArrayBuffer.isView(source)) {
    return { bytes: new Uint8Array(source.buffer, source.byteOffset, source.byteLength), owned: false, dir: options.externalDataDir ?? null };
  }
  if (typeof Response !== 'undefined' && source instanceof Response) {
    return { bytes: await readResponse(source, onProgress), owned: true, dir: null };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return { bytes: await readResponse(new Response(source), onProgress), owned: true, dir: null };
  }
  const isUrl = source instanceof URL;
  if (nodeModelFile(source) != null) {
    if (typeof source === 'string' && hasScheme(source) && !source.startsWith('file:')) {
      return { bytes: await readResponse(await fetchModel(source, options.fetchOptions), onProgress), owned: true, dir: null, url: new URL(source) };
    }
    const { readFile, realpath } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
    const path = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:path');
    const file = await nodeModelFile(source);
    let buf;
    try {
      buf = await readFile(file);
    } catch (err) {
      throw new OnnxfxError('INVALID_ARGUMENT', `cannot read the model file '${file}': ${err.code ?? err.message}`);
    }
    onProgress?.(buf.byteLength, buf.byteLength);
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    return { bytes, owned: buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength, dir: path.dirname(await realpath(file)) };
  }
  if (typeof source === 'string' || isUrl) {
    let url;
    try {
      url = new URL(String(source), globalThis.location?.href);
    } catch {
      throw new OnnxfxError('INVALID_ARGUMENT', `'${String(source)}' is not a URL${isNode ? ' or a file path' : ''}`);
    }
    return { bytes: await readResponse(await fetchModel(url, options.fetchOptions), onProgress), owned: true, dir: null, url };
  }
  throw new OnnxfxError('INVALID_ARGUMENT',
    'loadModel expects a Uint8Array, ArrayBuffer, URL, Response or Blob (or, in Node, a file path)');
}

/**
 * Node: the file path a source names (a path or a file: URL), else null. The promise it
 * returns for a file is the path; callers test `!= null` before awaiting.
 */
export function nodeModelFile(source) {
  const isUrl = source instanceof URL;
  if (!isNode || !(typeof source === 'string' || (isUrl && source.protocol === 'file:'))) return null;
  if (typeof source === 'string' && hasScheme(source) && !source.startsWith('file:')) return null;
  if (!isUrl && !source.startsWith('file:')) return Promise.resolve(source);
  return import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:url').then(({ fileURLToPath }) => fileURLToPath(source));
}

/**
 * Node: opens a model file for reading straight into the heap (Core.readFileToHeap).
 * @returns {Promise<{fd: number, size: number, dir: string, close: () => Promise<void>}>}
 */
export async function openModelFile(file) {
  const { open, realpath } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
  const path = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:path');
  let handle;
  try {
    handle = await open(file, 'r');
    const { size } = await handle.stat();
    return { fd: handle.fd, size, dir: path.dirname(await realpath(file)), close: () => handle.close() };
  } catch (err) {
    await handle?.close();
    throw new OnnxfxError('INVALID_ARGUMENT', `cannot read the model file '${file}': ${err.code ?? err.message}`);
  }
}

// ---- ONNX external data: which files a model names ------------------------------------------

const utf8 = new TextDecoder();

/** Bytes per element of TensorProto data types (0: not fixed-size). */
const ELEMENT_BYTES = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

/**
 * Every tensor kept in external data (TensorProto.external_data), in initializers, Constant
 * attributes and subgraphs: its `location` and size in bytes (from its dims and data type).
 * Only the protobuf framing is read.
 * @param {Uint8Array} bytes
 * @returns {{location: string, bytes: number}[]}
 */
export function externalTensors(bytes) {
  const found = [];
  const cursor = new Cursor(bufferSource('', bytes));
  // the copies cursor.bytes returns also suit TextDecoder, which refuses views of shared memory (the threaded heap)
  const text = (f) => utf8.decode(cursor.bytes(f.payload, f.end - f.payload));
  const tensor = (b, e) => {
    let location = null, numel = 1, type = 0;
    cursor.fields(b, e, (f) => {
      if (f.field === 1 && f.wire === 0) numel *= cursor.varint(f.payload)[0]; // dims
      else if (f.field === 1 && f.wire === 2) {
        for (let at = f.payload; at < f.end;) {
          const [dim, next] = cursor.varint(at);
          numel *= dim;
          at = next;
        }
      } else if (f.field === 2 && f.wire === 0) type = cursor.varint(f.payload)[0]; // data_type
      else if (f.field === 13 && f.wire === 2) { // external_data: StringStringEntryProto
        let key = '', value = '';
        cursor.fields(f.payload, f.end, (ef) => {
          if (ef.field === 1 && ef.wire === 2) key = text(ef);
          if (ef.field === 2 && ef.wire === 2) value = text(ef);
        });
        if (key === 'location') location = value;
      }
    });
    if (location !== null) found.push({ location, bytes: numel * (ELEMENT_BYTES[type] ?? 0) });
  };
  const attribute = (b, e) => cursor.fields(b, e, (f) => {
    if (f.wire !== 2) return;
    if (f.field === 5 || f.field === 10) tensor(f.payload, f.end); // t, tensors
    else if (f.field === 6 || f.field === 11) graph(f.payload, f.end); // g, graphs
  });
  const node = (b, e) => cursor.fields(b, e, (f) => {
    if (f.field === 5 && f.wire === 2) attribute(f.payload, f.end);
  });
  const graph = (b, e) => cursor.fields(b, e, (f) => {
    if (f.wire !== 2) return;
    if (f.field === 1) node(f.payload, f.end);
    else if (f.field === 5) tensor(f.payload, f.end); // initializer
  });
  try {
    cursor.fields(0, bytes.length, (f) => {
      if (f.field === 7 && f.wire === 2) graph(f.payload, f.end);
    });
  } catch {
    return []; // not valid protobuf: the core reports what is wrong
  }
  return found;
}

/** The external data files a model names (externalTensors' locations, once each). */
export function findExternalLocations(bytes) {
  return [...new Set(externalTensors(bytes).map((t) => t.location))];
}

/** Why `location` may not be read beside the model (absolute, `..`, a scheme), else null. */
function refusedLocation(location) {
  if (location === '' || location.includes('\0')) return 'it is empty or has a NUL byte';
  if (location.startsWith('/') || location.startsWith('\\') || /^[a-z]:/i.test(location)) return 'it is an absolute path';
  if (hasScheme(location)) return 'it is a URL';
  if (location.split(/[\\/]/).includes('..')) return "it has a '..' segment";
  return null;
}

/** The URL of external data file `location` beside the model at `base`; refused locations throw. */
function externalDataUrl(location, base) {
  const why = refusedLocation(location);
  if (why) throw new OnnxfxError('BAD_MODEL', `external data location '${location}' is refused: ${why}`);
  return new URL(location.split(/[\\/]/).map(encodeURIComponent).join('/'), base);
}

/**
 * Reads the external data files: from options.externalData ({location: bytes}) when given, else
 * (Node) from the model's folder, or fetched beside the model's URL (`from.url`, with
 * `from.fetchOptions`). A location must stay inside that folder: absolute paths, URLs, `..` and
 * (Node) symlinks leading out of it are refused.
 * @param {string[]} locations
 * @param {string|null} dir
 * @param {Record<string, Uint8Array|ArrayBuffer>} [provided]
 * @param {{url?: URL, fetchOptions?: RequestInit, ranged?: boolean,
 *   onProgress?: (loaded: number, total: number) => void}} [from]
 *   from.onProgress: bytes fetched so far over all files (total 0: unknown); from.ranged: the
 *   engine reads in a Web Worker and the model's external data is big (RANGED_MIN_BYTES), so a
 *   file whose server answers range requests is not fetched now but given as {url, size} and
 *   read a tensor at a time as extractors pack it (rangeSource)
 * @returns {Promise<{location: string, data?: Uint8Array, url?: string, size?: number, owned: boolean}[]>}
 */
export async function readExternalData(locations, dir, provided, from = {}) {
  const out = [];
  let fetched = 0;
  // the range probes, all at once (a model saved a tensor per file names hundreds of files)
  const probes = from.ranged && from.url && dir == null
    ? await Promise.all(locations.map((l) => (provided && Object.hasOwn(provided, l) || refusedLocation(l) ? null : probeRanges(externalDataUrl(l, from.url)))))
    : [];
  for (const [i, location] of locations.entries()) {
    if (provided && Object.hasOwn(provided, location)) {
      const v = provided[location];
      const data = v instanceof Uint8Array ? v : ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
        : v instanceof ArrayBuffer ? new Uint8Array(v) : null;
      if (!data) throw new OnnxfxError('INVALID_ARGUMENT', `externalData['${location}'] must be a Uint8Array or ArrayBuffer`);
      out.push({ location, data, owned: false });
      continue;
    }
    if (from.url && dir == null) {
      const url = externalDataUrl(location, from.url);
      let response;
      try {
        if (probes[i]?.size != null) {
          out.push({ location, url: url.href, size: probes[i].size, owned: false });
          continue;
        }
        response = probes[i]?.response ?? (await fetchModel(url, from.fetchOptions)); // the server sent it whole
        const data = await readResponse(response, (loaded) => from.onProgress?.(fetched + loaded, 0));
        fetched += data.byteLength;
        out.push({ location, data, owned: true });
      } catch (err) {
        if (err?.name === 'AbortError') throw err;
        throw new OnnxfxError('BAD_MODEL', `cannot fetch external data file '${location}' beside the model (${url}): ${err.message}`);
      }
      continue;
    }
    if (!isNode || dir == null) {
      throw new OnnxfxError('BAD_MODEL', `the model keeps tensors in the external file '${location}': ` +
        'pass its bytes as options.externalData, load the model from a URL with the file beside it, or (Node) from its file path');
    }
    const data = await readConfined(dir, location);
    out.push({ location, data, owned: data.byteOffset === 0 && data.byteLength === data.buffer.byteLength });
  }
  return out;
}

/** The real path of `location` inside `dir`, refusing anything that leads out of it. */
async function confinedPath(dir, location) {
  const path = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:path');
  const { realpath } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
  const refuse = (why) => new OnnxfxError('BAD_MODEL', `external data location '${location}' is refused: ${why}`);
  const why = refusedLocation(location) ?? (path.isAbsolute(location) ? 'it is an absolute path' : null);
  if (why) throw refuse(why);
  const root = await realpath(dir);
  let real;
  try {
    real = await realpath(path.join(root, location));
  } catch (err) {
    throw new OnnxfxError('BAD_MODEL', `cannot read external data file '${location}' beside the model: ${err.code ?? err.message}`);
  }
  if (real !== root && !real.startsWith(root + path.sep)) throw refuse("it leads out of the model's folder (a symlink)");
  return real;
}

async function readConfined(dir, location) {
  const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
  const buf = await readFile(await confinedPath(dir, location));
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** A source over bytes held in JavaScript (Core.loadModelDeferred). */
export function bufferSource(location, data) {
  return { location, size: data.byteLength, read: (offset, length, target) => target.set(data.subarray(offset, offset + length)) };
}

/**
 * A browser worker reads a model's external data by range requests (where the server answers
 * them) rather than holding it when it is this big in all, as it reads a single-file model this
 * big: each read then costs a round trip (hundreds per create for a big model), which pays only
 * when holding the data would cost real memory (vit_h_14: 2.5 GB in 390 files).
 */
export const RANGED_MIN_BYTES = 128 << 20;

/** The Range header value for bytes [offset, offset + length). */
const byteRange = (offset, length) => `bytes=${offset}-${offset + length - 1}`;

/** The file size a 206 answer to a `bytes=0-0` probe gives in its Content-Range, else null. */
function probedSize(status, contentRange) {
  const total = /^bytes 0-0\/(\d+)$/.exec(contentRange ?? '');
  return status === 206 && total ? Number(total[1]) : null;
}

/**
 * Asks for the first byte of the file at url. A server answering range requests (static servers
 * and CDNs do) says 206 and the file's size: {size}. One that does not sends the whole file
 * with 200 (or an error status): {response}, to be read as the file, so that nothing is fetched
 * twice and no request is cancelled.
 * @param {URL} url
 * @returns {Promise<{size: number, response?: undefined} | {size?: undefined, response: Response}>}
 */
async function probeRanges(url) {
  const response = await fetchModel(url, { headers: { Range: byteRange(0, 1) } });
  const size = probedSize(response.status, response.headers.get('content-range'));
  if (size === null) return { response };
  await response.arrayBuffer(); // its one byte, read to the end
  return { size };
}

/**
 * A browser worker's first look at a model given as a URL: {url, size} when it is a file of
 * RANGED_MIN_BYTES or more on a server answering range requests (the worker then reads it with
 * rangedModel); {url, response} when the server sent it whole instead (read it as the model);
 * null when it is not a URL or is a smaller file (readModelSource fetches it).
 * @param {unknown} source loadModel's
 * @returns {Promise<{url: URL, size?: number, response?: Response} | null>}
 */
export async function probeModelUrl(source) {
  if (!(typeof source === 'string' || source instanceof URL)) return null;
  let url;
  try {
    url = new URL(String(source), globalThis.location?.href);
  } catch {
    return null; // readModelSource says what is wrong with it
  }
  const { size, response } = await probeRanges(url);
  if (response) return { url, response };
  return size >= RANGED_MIN_BYTES ? { url, size } : null;
}

/**
 * A Web Worker's source over a file on a server that answers range requests: each read asks for
 * exactly those bytes while the worker waits (the core reads while it packs weights, and a worker
 * may block; a page may not), so the file is never held whole, in the heap or outside.
 *
 * Into shared memory (the threaded build) the page fetches the range and streams it straight to
 * its place (`readRange`: worker.js asks, fillRange answers). Otherwise a synchronous request
 * reads it, whose response buffer is garbage the blocked worker cannot collect until the core
 * returns: measured on vit_l_16, 1.0 GB more peak memory than the page's fetch.
 * @param {string} location @param {string} url @param {number} size
 * @param {((url: string, offset: number, length: number, target: Uint8Array) => boolean) | null} [readRange]
 */
export function rangeSource(location, url, size, readRange = null) {
  return {
    location,
    size,
    read(offset, length, target) {
      if (readRange && typeof SharedArrayBuffer !== 'undefined' && target.buffer instanceof SharedArrayBuffer) {
        if (!readRange(url, offset, length, target)) throw new Error(`'${location}': ${length} bytes at ${offset} could not be fetched`);
        return;
      }
      const request = requestSync(url, byteRange(offset, length));
      const data = request.status === 206 ? request.response : null;
      if (!(data instanceof ArrayBuffer) || data.byteLength !== length) {
        throw new Error(`'${location}': ${length} bytes at ${offset} answered with HTTP ${request.status}`);
      }
      target.set(new Uint8Array(data));
    },
  };
}

/**
 * The page's half of a worker's range read (worker.js `readRange`): fetches url's bytes
 * [offset, offset + length) into `buffer` (the worker's shared WebAssembly memory) at byteOffset,
 * chunk by chunk, then sets control[0] to 1 (done) or 2 (failed) and wakes the worker.
 * @param {{url: string, offset: number, length: number, buffer: SharedArrayBuffer, byteOffset: number, control: SharedArrayBuffer}} request
 */
export async function fillRange({ url, offset, length, buffer, byteOffset, control }) {
  let done = 0;
  try {
    const response = await fetch(url, { headers: { Range: byteRange(offset, length) } });
    if (response.status === 206 && response.body) {
      const out = new Uint8Array(buffer, byteOffset, length);
      const reader = response.body.getReader();
      for (;;) {
        const { done: end, value } = await reader.read();
        if (end) break;
        if (done + value.byteLength > length) {
          await reader.cancel();
          done = -1;
          break;
        }
        out.set(value, done);
        done += value.byteLength;
      }
    } else {
      await response.body?.cancel();
    }
  } catch {
    done = -1;
  }
  const flag = new Int32Array(control);
  Atomics.store(flag, 0, done === length ? 1 : 2);
  Atomics.notify(flag, 0);
}

/** A Web Worker's blocking GET (of `range`, if given); network failures throw naming the URL. */
function requestSync(url, range) {
  const request = new XMLHttpRequest();
  request.open('GET', url, false);
  request.responseType = 'arraybuffer';
  if (range) request.setRequestHeader('Range', range);
  try {
    request.send();
  } catch (err) {
    throw new OnnxfxError('INVALID_ARGUMENT', `cannot fetch ${url}: ${err?.message ?? err}`);
  }
  return request;
}

/**
 * A Web Worker's source for a big model at a URL whose server answers range requests
 * (index.js checked that, and its size): its big initializers stay on the server, read as
 * extractors pack them, as its external data files are where their server answers ranges. Only
 * the model's protobuf framing is read now (split-model.js walks it a window at a time), so
 * loading costs a few hundred small requests, not the file.
 * @param {string} url @param {number} size
 * @param {Parameters<typeof rangeSource>[3]} [readRange] rangeSource's
 * @returns {{bytes: Uint8Array, self: ReturnType<typeof rangeSource> | null, sources: {location: string, size: number, read: Function}[]}}
 */
export function rangedModel(url, size, readRange = null) {
  const self = rangeSource(SELF_LOCATION, url, size, readRange);
  let bytes = splitModel(self);
  const splitDone = bytes != null;
  if (!splitDone) {
    bytes = new Uint8Array(size); // nothing big inline (its weights are external files): read it as it is
    self.read(0, size, bytes);
  }
  const sources = [];
  for (const location of findExternalLocations(bytes)) {
    if (location === SELF_LOCATION) continue;
    const fileUrl = externalDataUrl(location, url).href;
    const probe = requestSync(fileUrl, byteRange(0, 1));
    const fileSize = probedSize(probe.status, probe.getResponseHeader('content-range'));
    if (fileSize !== null) {
      sources.push(rangeSource(location, fileUrl, fileSize, readRange));
      continue;
    }
    const whole = probe.status === 200 ? probe : requestSync(fileUrl);
    if (whole.status !== 200 || !(whole.response instanceof ArrayBuffer)) {
      throw new OnnxfxError('BAD_MODEL', `cannot fetch external data file '${location}' beside the model (${fileUrl}): HTTP ${whole.status}`);
    }
    sources.push(bufferSource(location, new Uint8Array(whole.response)));
  }
  return { bytes, self: splitDone ? self : null, sources: splitDone ? [self, ...sources] : sources };
}

/**
 * Node: a source over an open file, read with positioned reads (readSync: the core calls it
 * synchronously while it packs weights); close() closes it.
 */
export async function fileSource(location, fd, size, close) {
  const { readSync } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs');
  return {
    location,
    size,
    read(offset, length, target) {
      for (let done = 0; done < length;) {
        const n = readSync(fd, target, done, length - done, offset + done);
        if (n === 0) throw new Error(`'${location}' ended at ${offset + done}`);
        done += n;
      }
    },
    close,
  };
}

/**
 * Node: the external data files beside a model as sources read on demand (Core.loadModelDeferred):
 * each file is opened once (confined to the folder as readExternalData does) and read with
 * positioned reads straight into the heap, never wholly into memory; given buffers
 * (options.externalData) take precedence.
 * @returns {Promise<{location: string, size: number, read: Function, close?: Function}[]>}
 */
export async function openExternalData(locations, dir, provided) {
  const { openSync, fstatSync, closeSync } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs');
  const sources = [];
  try {
    for (const location of locations) {
      if (provided && Object.hasOwn(provided, location)) {
        sources.push(bufferSource(location, (await readExternalData([location], dir, provided))[0].data));
        continue;
      }
      if (dir == null) await readExternalData([location], dir, provided); // throws the usual error
      const fd = openSync(await confinedPath(dir, location), 'r');
      sources.push(await fileSource(location, fd, fstatSync(fd).size, () => closeSync(fd)));
    }
    return sources;
  } catch (err) {
    for (const source of sources) source.close?.();
    throw err;
  }
}
