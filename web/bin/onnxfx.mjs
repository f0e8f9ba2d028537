#!/usr/bin/env node
// onnxfx command line: list a model's nodes, show an extractor's plan, extract features of a
// folder of images.
// Uses only the package's public API (../index.js).
import { existsSync, openSync, closeSync, readSync, writeSync, fstatSync, ftruncateSync, readFileSync, readdirSync, statSync, writeFileSync, appendFileSync, mkdirSync, createReadStream, renameSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { loadModel, createFeatureExtractor, getGraphNodeNames, imageToTensor, Tensor } from '../index.js';

const USAGE = `usage:
  onnxfx nodes MODEL [--input-size S|H,W] [--json]
      every name of getGraphNodeNames' eval view (module scopes included, as the node they
      select; any other scope prefix such as layer1 selects its last node too): op type and
      output shape, from shape inference alone (nothing is run); symbolic dims by name, ?
      where inference cannot know. --input-size sets the image input's H, W first;
      --json prints {inputs, outputs, nodes: [{name, opType, node, onnxName, outputShapes}]}
  onnxfx plan MODEL [--nodes a,b] [--input-size S|H,W] [--threads N]
      what extracting those nodes runs, step by step (fx.explain()): for the model's declared
      input shape when it is static and no --input-size is given, else for a 1-image batch of
      that size (default: the model's, else 224)
  onnxfx extract MODEL IMAGES_DIR -o OUT.npy|OUT.jsonl [options]
      features of every PNG/JPEG under IMAGES_DIR, one row per image
      --nodes a,b        nodes to extract (default: the model's last node); rows concatenate them
      --pool avg|max|none  reduce each [1, C, H, W] map over H, W to C values (default avg;
                         none keeps the whole map, flattened)
      --input-size S|H,W the tensor's spatial size (default: the model's, else 224)
      --preset imagenet|none  imagenet: resize the shorter side to S*256/224, center-crop S,
                         ImageNet mean/std (torchvision's eval transform); none: resize to H x W,
                         values 0..1 (default imagenet)
      --layout NCHW|NHWC the model's input layout (default: from the model's input shape)
      --threads N        kernel threads (default 1); 1 also picks the single-thread engine
      --restart          ignore what OUT already holds (default: resume, skipping done images;
                         refused when OUT was written with other settings)
      --retry-failed     try again the images a previous run could not read (default: skipped)
  Beside OUT (its folder is created): OUT's name + '.files.txt', the image of each row (paths
  relative to IMAGES_DIR); + '.meta.json', the settings OUT was written with (model hash,
  nodes, pool, preset, size, layout, onnxfx version) and the images that could not be read.`;

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = { _: [] };
  const takesValue = new Set(['nodes', 'pool', 'input-size', 'preset', 'layout', 'threads', 'o', 'output']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') opts.help = true;
    else if (a === '--restart') opts.restart = true;
    else if (a === '--json') opts.json = true;
    else if (a === '--retry-failed') opts.retryFailed = true;
    else if (a.startsWith('-')) {
      let key = a.replace(/^--?/, '');
      let value;
      if (key.includes('=')) [key, value] = [key.slice(0, key.indexOf('=')), key.slice(key.indexOf('=') + 1)];
      if (!takesValue.has(key)) throw new UsageError(`unknown option ${a}`);
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) throw new UsageError(`${a} needs a value`);
      }
      opts[key === 'output' ? 'o' : key] = value;
    } else opts._.push(a);
  }
  return opts;
}

function parseSize(text) {
  if (text === undefined) return undefined;
  const parts = String(text).split(/[,x]/).map(Number);
  if (!(parts.length === 1 || parts.length === 2) || !parts.every((v) => Number.isInteger(v) && v > 0)) {
    throw new UsageError(`--input-size wants S or H,W (positive integers), got '${text}'`);
  }
  return parts.length === 1 ? [parts[0], parts[0]] : parts;
}

/** Layout and spatial size of the model's image input. */
function inputGeometry(model, opts) {
  const input = model.inputs[0];
  const dims = input.dims ?? [];
  let layout = opts.layout?.toUpperCase();
  if (layout && layout !== 'NCHW' && layout !== 'NHWC') throw new UsageError(`--layout is NCHW or NHWC, got '${opts.layout}'`);
  if (!layout) layout = guessLayout(dims);
  if (dims.length === 4) {
    const channels = layout === 'NCHW' ? dims[1] : dims[3];
    if (typeof channels === 'number' && channels !== 3) {
      throw new UsageError(`the model's input '${input.name}' has ${channels} channels (dims [${dims}]); images give 3`);
    }
  }
  let size = parseSize(opts['input-size']);
  if (!size) {
    const [h, w] = layout === 'NCHW' ? [dims[2], dims[3]] : [dims[1], dims[2]];
    size = typeof h === 'number' && typeof w === 'number' ? [h, w] : [224, 224];
  }
  return { layout, size, name: input.name };
}

/** NHWC when the last dim looks like a few channels and the second does not; else NCHW. */
function guessLayout(dims) {
  const few = (d) => typeof d === 'number' && d <= 4;
  return dims.length === 4 && few(dims[3]) && !few(dims[1]) ? 'NHWC' : 'NCHW';
}

function preprocessOptions(opts, geometry) {
  const preset = opts.preset ?? 'imagenet';
  const [h, w] = geometry.size;
  if (preset === 'imagenet') {
    return { preset, resize: Math.floor((Math.min(h, w) * 256) / 224), crop: [h, w], layout: geometry.layout };
  }
  if (preset === 'none') return { preset, resize: [h, w], crop: null, scale: '0-1', layout: geometry.layout };
  throw new UsageError(`--preset is imagenet or none, got '${preset}'`);
}

async function open(file, opts) {
  if (!file) throw new UsageError('no MODEL given');
  if (!existsSync(file)) throw new UsageError(`no such model file: ${file}`);
  let threads;
  if (opts.threads !== undefined) {
    const n = Number(opts.threads);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--threads wants a positive integer, got '${opts.threads}'`);
    threads = n;
  }
  return loadModel(file, threads === undefined ? {} : { threads: threads > 1, numThreads: threads });
}

function fmtDims(dims) {
  return `[${dims.join(', ')}]`;
}

/** Static when every dim is a number. */
function isStatic(dims) {
  return Array.isArray(dims) && dims.every((d) => typeof d === 'number');
}

async function cmdPlan(opts) {
  const model = await open(opts._[1], opts);
  try {
    const nodes = opts.nodes ? opts.nodes.split(',').map((s) => s.trim()).filter(Boolean) : [model.nodes.at(-1).name];
    const fx = await createFeatureExtractor(model, { returnNodes: nodes, suppressDiffWarning: true });
    let text;
    if (opts['input-size'] === undefined && model.inputs.every((i) => isStatic(i.dims))) {
      text = await fx.explain();
    } else {
      const geometry = inputGeometry(model, opts);
      const [h, w] = geometry.size;
      const dims = geometry.layout === 'NCHW' ? [1, 3, h, w] : [1, h, w, 3];
      text = await fx.explain({ [geometry.name]: new Tensor('float32', new Float32Array(3 * h * w), dims) });
    }
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  } finally {
    await model.dispose();
  }
}

// ---- onnxfx nodes: names and shape inference only -------------------------------------------

/** Reads a protobuf varint at `at`: [value, next]. */
function varint(buf, at) {
  let value = 0, scale = 1, byte;
  do {
    if (at >= buf.length) throw new UsageError('the model file is not valid protobuf');
    byte = buf[at++];
    value += (byte & 0x7f) * scale;
    scale *= 128;
  } while (byte & 0x80);
  return [value, at];
}

function encodeVarint(value) {
  const out = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value) b |= 0x80;
    out.push(b);
  } while (value);
  return Buffer.from(out);
}

const lengthField = (field, content) => Buffer.concat([encodeVarint(field * 8 + 2), encodeVarint(content.length), content]);

/**
 * The message `buf` with each length-delimited field that `match(field, content)` accepts
 * replaced by `transform(content)` (dropped when it returns null); other fields are copied.
 */
function rewriteFields(buf, match, transform) {
  const parts = [];
  for (let at = 0; at < buf.length;) {
    const begin = at;
    let key;
    [key, at] = varint(buf, at);
    const field = Math.floor(key / 8), wire = key % 8;
    if (wire === 0) [, at] = varint(buf, at);
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      let len;
      [len, at] = varint(buf, at);
      const content = buf.subarray(at, at + len);
      at += len;
      if (match(field, content)) {
        const replaced = transform(content);
        if (replaced !== null) parts.push(lengthField(field, replaced));
        continue;
      }
    } else throw new UsageError('the model file is not valid protobuf');
    parts.push(buf.subarray(begin, at));
  }
  return Buffer.concat(parts);
}

/** The string in field `want` of a message (ValueInfoProto.name is field 1). */
function stringField(buf, want) {
  let found = null;
  rewriteFields(buf, (field, content) => {
    if (field === want && found === null) found = content.toString('utf8');
    return false;
  });
  return found;
}

/**
 * The model's bytes with graph input `name` declared as `dims` (numbers, or symbol names):
 * ModelProto.graph(7).input(11) -> ValueInfoProto.type(2).tensor_type(1).shape(2).dim(1).
 */
function withInputDims(bytes, name, dims) {
  const shape = Buffer.concat(dims.map((d) => lengthField(1, typeof d === 'number'
    ? Buffer.concat([encodeVarint(8), encodeVarint(d)])
    : lengthField(2, Buffer.from(String(d), 'utf8')))));
  // TypeProto.Tensor: every field but the old shape, then the new one
  const reshape = (tt) => Buffer.concat([rewriteFields(tt, (f) => f === 2, () => null), lengthField(2, shape)]);
  return rewriteFields(bytes, (f) => f === 7, (graph) =>
    rewriteFields(graph, (f, vi) => f === 11 && stringField(vi, 1) === name, (vi) =>
      rewriteFields(vi, (f) => f === 2, (type) =>
        rewriteFields(type, (f) => f === 1, reshape))));
}

/** Loads MODEL; with --input-size, its image input declared at that H, W first. */
async function openForShapes(file, opts) {
  const size = parseSize(opts['input-size']);
  if (!size) return open(file, opts);
  if (!file) throw new UsageError('no MODEL given');
  if (!existsSync(file)) throw new UsageError(`no such model file: ${file}`);
  // the declared input, read from a first load: its rank and which dims are H, W
  const probe = await loadModel(file);
  const input = probe.inputs[0];
  await probe.dispose();
  const dims = input.dims;
  if (!dims || dims.length !== 4) {
    throw new UsageError(`--input-size needs an image input [N, C, H, W] or [N, H, W, C]; '${input.name}' is ${dims ? fmtDims(dims) : 'of unknown shape'}`);
  }
  const layout = opts.layout?.toUpperCase() ?? guessLayout(dims);
  const [hAxis, wAxis] = layout === 'NHWC' ? [1, 2] : [2, 3];
  const patched = dims.map((d, i) => (i === hAxis ? size[0] : i === wAxis ? size[1] : d ?? `dim${i}`));
  const bytes = withInputDims(readFileSync(file), input.name, patched);
  return loadModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { externalDataDir: path.dirname(path.resolve(file)) });
}

const fmtShape = (dims) => (dims ? `[${dims.map((d) => d ?? '?').join(', ')}]` : '?');

async function cmdNodes(opts) {
  const model = await openForShapes(opts._[1], opts);
  try {
    await model.inferShapes();
    const [, evalNames] = getGraphNodeNames(model, { suppressDiffWarning: true });
    const byName = new Map(model.nodes.map((n) => [n.name, n]));
    // A module scope's name (features.0, layer2.0.downsample) selects its last node.
    const lastInScope = new Map();
    for (const n of model.nodes) {
      const parts = n.name.split('.');
      for (let k = 1; k < parts.length; k++) lastInScope.set(parts.slice(0, k).join('.'), n);
    }
    const rows = evalNames.map((name) => {
      const node = byName.get(name) ?? lastInScope.get(name) ?? null;
      return { name, opType: node?.opType ?? null, node: node?.name ?? null, onnxName: node?.onnxName ?? null, outputShapes: node?.outputShapes ?? null };
    });
    if (opts.json) {
      process.stdout.write(JSON.stringify({ inputs: model.inputs, outputs: model.outputs, nodes: rows }, null, 1) + '\n');
      return;
    }
    const shapeText = (r) => (r.outputShapes ? r.outputShapes.map(fmtShape).join(' ') : '?');
    const opText = (r) => (r.node && r.node !== r.name ? `${r.opType} (${r.node})` : r.opType ?? '?');
    const width = Math.max(...rows.map((r) => r.name.length));
    const opWidth = Math.max(...rows.map((r) => opText(r).length));
    process.stdout.write(rows.map((r) => `${r.name.padEnd(width)}  ${opText(r).padEnd(opWidth)}  ${shapeText(r)}\n`).join(''));
    const symbols = model.inputs.flatMap((i) => (i.dims ?? []).filter((d) => typeof d !== 'number'));
    if (symbols.length && rows.some((r) => shapeText(r).includes('?'))) {
      process.stderr.write(`onnxfx: ? is a dim that does not simply follow the symbolic input dims (${symbols.join(', ')}); ` +
        '--input-size S|H,W gives numbers\n');
    }
  } finally {
    await model.dispose();
  }
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;

const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/** SHA-256 of a file, streamed. */
async function fileHash(file) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}

/** The settings a row depends on: a rerun into the same OUT must have the same. */
const SETTING_NAMES = { model: 'the model (its SHA-256)', nodes: '--nodes', pool: '--pool', preset: '--preset', size: '--input-size', layout: '--layout' };

/**
 * OUT's sidecar: the settings its rows were made with, and the images that could not be read
 * (skipped on resume unless --retry-failed). Written before the first row.
 */
class Meta {
  constructor(file, settings, failed = {}) {
    this.file = file;
    this.settings = settings;
    this.failed = failed;
  }

  static read(file) {
    if (!existsSync(file)) return null;
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new UsageError(`${file} is not the JSON this tool writes; use --restart or another -o`);
    }
  }

  /** The first setting whose value differs, as a sentence; null when they all agree. */
  static difference(stored, settings) {
    for (const [key, what] of Object.entries(SETTING_NAMES)) {
      const a = JSON.stringify(stored[key]), b = JSON.stringify(settings[key]);
      if (a !== b) {
        const show = (v) => (key === 'model' ? String(v).slice(0, 12) : Array.isArray(v) ? v.join(key === 'size' ? 'x' : ',') : v);
        return `${what} differs: it was ${show(stored[key])}, this run has ${show(settings[key])}`;
      }
    }
    return null;
  }

  write() {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ ...this.settings, onnxfx: VERSION, failed: this.failed }, null, 1) + '\n');
    renameSync(tmp, this.file);
  }
}

function listImages(dir) {
  const out = [];
  const walk = (rel) => {
    const entries = readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (IMAGE_EXT.test(e.name)) out.push(r);
    }
  };
  walk('');
  return out;
}

/** A float32 .npy of shape [rows, dim], appended row by row; the header is rewritten in place. */
class NpyWriter {
  static HEADER = 128;

  static header(rows, dim) {
    const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`;
    const text = dict.padEnd(NpyWriter.HEADER - 10 - 1, ' ') + '\n';
    const buf = Buffer.alloc(NpyWriter.HEADER);
    buf.write('\x93NUMPY', 0, 'latin1');
    buf[6] = 1; buf[7] = 0;
    buf.writeUInt16LE(text.length, 8);
    buf.write(text, 10, 'latin1');
    return buf;
  }

  /** Rows already in `file` (written by this class), or null when there is no such file. */
  static existing(file) {
    if (!existsSync(file)) return null;
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(NpyWriter.HEADER);
      readSync(fd, head, 0, NpyWriter.HEADER, 0);
      const m = /'shape': \((\d+), (\d+)\)/.exec(head.toString('latin1'));
      if (head.toString('latin1', 1, 6) !== 'NUMPY' || !m) throw new UsageError(`${file} is not a .npy this tool wrote; use --restart or another -o`);
      const dim = Number(m[2]);
      const rowsOnDisk = Math.floor((fstatSync(fd).size - NpyWriter.HEADER) / (4 * dim));
      return { rows: Math.min(Number(m[1]), rowsOnDisk), dim };
    } finally {
      closeSync(fd);
    }
  }

  constructor(file, dim, keepRows) {
    this.dim = dim;
    this.rows = keepRows;
    this.fd = openSync(file, keepRows > 0 ? 'r+' : 'w');
    ftruncateSync(this.fd, NpyWriter.HEADER + keepRows * 4 * dim);
    writeSync(this.fd, NpyWriter.header(this.rows, dim), 0, NpyWriter.HEADER, 0);
  }

  append(vector) {
    const bytes = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
    writeSync(this.fd, bytes, 0, bytes.length, NpyWriter.HEADER + this.rows * 4 * this.dim);
    this.rows++;
    writeSync(this.fd, NpyWriter.header(this.rows, this.dim), 0, NpyWriter.HEADER, 0);
  }

  close() {
    closeSync(this.fd);
  }
}

/** One JSON object per line: {"file": ..., "<node>": [...], ...}. */
class JsonlWriter {
  static existing(file) {
    if (!existsSync(file)) return null;
    const lines = readFileSync(file, 'utf8').split('\n');
    const done = [];
    for (const line of lines) {
      try {
        done.push(JSON.parse(line).file);
      } catch {
        break; // a line cut short by an interrupted run, and everything after it
      }
    }
    return { rows: done.length, files: done };
  }

  constructor(file, keepRows) {
    this.file = file;
    const kept = keepRows > 0 ? readFileSync(file, 'utf8').split('\n').slice(0, keepRows).map((l) => l + '\n').join('') : '';
    writeFileSync(file, kept);
  }

  append(record) {
    appendFileSync(this.file, JSON.stringify(record) + '\n');
  }

  close() {}
}

function reduce(t, pool) {
  const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data, Number);
  if (pool === 'none' || t.dims.length < 3) return data;
  const c = t.dims[1];
  const per = data.length / c;
  const out = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    let acc = pool === 'max' ? -Infinity : 0;
    for (let i = k * per, end = i + per; i < end; i++) acc = pool === 'max' ? Math.max(acc, data[i]) : acc + data[i];
    out[k] = pool === 'max' ? acc : acc / per;
  }
  return out;
}

function fmtTime(seconds) {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return (h ? `${h}:${String(m).padStart(2, '0')}` : String(m)) + `:${String(r).padStart(2, '0')}`;
}

class Progress {
  constructor(total, stream = process.stderr) {
    this.total = total;
    this.stream = stream;
    this.tty = !!stream.isTTY;
    this.start = Date.now();
    this.done = 0;
  }

  tick(name, note = '') {
    this.done++;
    const elapsed = (Date.now() - this.start) / 1000;
    const rate = this.done / Math.max(elapsed, 1e-3);
    const eta = (this.total - this.done) / rate;
    if (this.tty) {
      const columns = this.stream.columns || 80; // 0 on a terminal of unknown size
      const width = Math.max(10, Math.min(30, columns - 60));
      const filled = Math.round((width * this.done) / this.total);
      const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
      const line = `[${bar}] ${this.done}/${this.total} ${rate.toFixed(1)} img/s ETA ${fmtTime(eta)} ${name}`;
      this.stream.write(`\r${line.length < columns ? line : line.slice(0, columns - 2) + '…'}\x1b[K`);
    } else {
      this.stream.write(`${this.done}/${this.total} ${name}${note ? ' ' + note : ''} (ETA ${fmtTime(eta)})\n`);
    }
  }

  message(text) {
    this.stream.write(this.tty ? `\r\x1b[K${text}\n` : `${text}\n`);
  }

  end() {
    if (this.tty) this.stream.write('\n');
  }
}

async function cmdExtract(opts) {
  const [, modelFile, imagesDir] = opts._;
  if (!imagesDir) throw new UsageError('extract needs MODEL and IMAGES_DIR');
  if (!opts.o) throw new UsageError('extract needs -o OUT.npy or -o OUT.jsonl');
  const outFile = opts.o;
  const format = outFile.endsWith('.npy') ? 'npy' : outFile.endsWith('.jsonl') ? 'jsonl' : null;
  if (!format) throw new UsageError(`-o must end in .npy or .jsonl, got '${outFile}'`);
  if (!existsSync(imagesDir) || !statSync(imagesDir).isDirectory()) throw new UsageError(`not a folder: ${imagesDir}`);
  const pool = opts.pool ?? 'avg';
  if (!['avg', 'max', 'none'].includes(pool)) throw new UsageError(`--pool is avg, max or none, got '${pool}'`);
  const stem = outFile.replace(/\.(npy|jsonl)$/, '');
  const listFile = `${stem}.files.txt`;
  const metaFile = `${stem}.meta.json`;

  const model = await open(modelFile, opts);
  try {
    const geometry = inputGeometry(model, opts);
    const prep = preprocessOptions(opts, geometry);
    const nodes = opts.nodes ? opts.nodes.split(',').map((s) => s.trim()).filter(Boolean) : [model.nodes.at(-1).name];
    const fx = await createFeatureExtractor(model, { returnNodes: nodes, suppressDiffWarning: true });

    const images = listImages(imagesDir);
    const settings = {
      model: await fileHash(modelFile), nodes, pool, preset: prep.preset, size: geometry.size, layout: geometry.layout,
    };
    // Resume: rows already written, matched with the file list beside them, made with the
    // same settings (the sidecar says which); images that could not be read stay skipped.
    let done = [];
    let existing = null;
    let failed = {};
    if (!opts.restart) {
      existing = format === 'npy' ? NpyWriter.existing(outFile) : JsonlWriter.existing(outFile);
      const stored = Meta.read(metaFile);
      if (existing && stored) {
        const why = Meta.difference(stored, settings);
        if (why) throw new UsageError(`${outFile} was written with other settings: ${why}. Use --restart to overwrite it, or another -o`);
        if (stored.onnxfx !== VERSION) process.stderr.write(`onnxfx: note: ${outFile} was begun by onnxfx ${stored.onnxfx}, this is ${VERSION}\n`);
        if (!opts.retryFailed) failed = stored.failed ?? {};
      }
      if (existing && existsSync(listFile)) {
        const listed = readFileSync(listFile, 'utf8').split('\n').filter(Boolean);
        done = listed.slice(0, existing.rows);
      }
    }
    const doneSet = new Set(done);
    const present = new Set(images);
    failed = Object.fromEntries(Object.entries(failed).filter(([f]) => present.has(f) && !doneSet.has(f)));
    const knownBad = Object.keys(failed).length;
    const todo = images.filter((f) => !doneSet.has(f) && !(f in failed));
    mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
    const meta = new Meta(metaFile, settings, failed);
    meta.write();
    writeFileSync(listFile, done.map((f) => f + '\n').join(''));

    let writer = null;
    const makeWriter = (dim) => {
      if (format === 'jsonl') return new JsonlWriter(outFile, done.length);
      if (existing && done.length > 0 && existing.dim !== dim) {
        throw new UsageError(`${outFile} holds ${existing.dim}-value rows, these options give ${dim}; use --restart or another -o`);
      }
      return new NpyWriter(outFile, dim, done.length);
    };
    const features = async (tensor) => Object.entries(await fx.run({ [geometry.name]: tensor })).map(([key, t]) => [key, reduce(t, pool)]);
    if (format === 'jsonl') writer = makeWriter(0);
    else {
      // The row width, from a run on a blank image: checked against rows already written.
      const [h, w] = geometry.size;
      const dims = geometry.layout === 'NCHW' ? [1, 3, h, w] : [1, h, w, 3];
      const blank = await features(new Tensor('float32', new Float32Array(3 * h * w), dims));
      writer = makeWriter(blank.reduce((n, [, v]) => n + v.length, 0));
    }

    const stderr = process.stderr;
    stderr.write(`onnxfx: ${images.length} images in ${imagesDir}; ${done.length} already done, ` +
      (knownBad ? `${knownBad} unreadable before skipped (--retry-failed to retry), ` : '') + `${todo.length} to go` +
      ` (nodes ${nodes.join(',')}, pool ${pool}, input ${geometry.layout} ${geometry.size.join('x')}, ${model.threaded ? 'threaded' : '1 thread'})\n`);
    const progress = new Progress(todo.length);
    const skipped = [];
    for (const rel of todo) {
      let tensor;
      try {
        tensor = await imageToTensor(path.join(imagesDir, rel), prep);
      } catch (err) {
        skipped.push(rel);
        meta.failed[rel] = err.message;
        meta.write();
        progress.message(`onnxfx: skipped unreadable image ${rel}: ${err.message}`);
        progress.tick(rel, 'skipped');
        continue;
      }
      const parts = await features(tensor);
      if (format === 'npy') {
        const total = parts.reduce((n, [, v]) => n + v.length, 0);
        const row = new Float32Array(total);
        let at = 0;
        for (const [, v] of parts) { row.set(v, at); at += v.length; }
        if (total !== writer.dim) throw new UsageError(`${rel} gives ${total} values, not ${writer.dim}`);
        writer.append(row);
      } else {
        const record = { file: rel };
        for (const [key, v] of parts) record[key] = Array.from(v);
        writer.append(record);
      }
      appendFileSync(listFile, rel + '\n');
      progress.tick(rel);
    }
    progress.end();
    writer.close();
    const written = done.length + todo.length - skipped.length;
    stderr.write(`onnxfx: ${outFile} holds ${written} rows (${todo.length - skipped.length} new)${format === 'npy' ? ` (${written} x ${writer.dim} float32)` : ''}` +
      `, file list ${listFile}; ${skipped.length} unreadable image${skipped.length === 1 ? '' : 's'} skipped\n`);
    await fx.dispose();
  } finally {
    await model.dispose();
  }
}

async function main(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
    if (opts.help || opts._.length === 0) {
      process.stdout.write(USAGE + '\n');
      return opts.help ? 0 : 2;
    }
    const cmd = opts._[0];
    if (cmd === 'nodes') await cmdNodes(opts);
    else if (cmd === 'plan') await cmdPlan(opts);
    else if (cmd === 'extract') await cmdExtract(opts);
    else throw new UsageError(`unknown command '${cmd}' (nodes, plan, extract)`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`onnxfx: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    let message = err.message;
    if (err.code === 'NODE_NOT_FOUND') {
      // the library's hint names its API; here the command that lists the names is the help
      message = message.replace(/ Hint: use getGraphNodeNames\(model\).*$/, '') +
        ` Run \`onnxfx nodes ${opts?._[1] ?? 'MODEL'}\` to list the names --nodes takes.`;
    }
    process.stderr.write(`onnxfx: ${err.code ? err.code + ': ' : ''}${message}\n`);
    return 1;
  }
}

// `onnxfx nodes MODEL | head`: the reader leaving is not an error. End quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

process.exitCode = await main(process.argv.slice(2));
