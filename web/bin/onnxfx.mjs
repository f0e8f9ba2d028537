#!/usr/bin/env node
// onnxfx command line: list a model's nodes, show an extractor's plan, extract features of the
// images in folders and .tar files (all of them, or one shard of them), merge shards.
// Uses only the package's public API (../index.js).
import { existsSync, openSync, closeSync, readSync, writeSync, fstatSync, ftruncateSync, readFileSync, readdirSync, statSync, writeFileSync, appendFileSync, mkdirSync, createReadStream, renameSync, linkSync, unlinkSync, utimesSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fsp from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { loadModel, createFeatureExtractor, getGraphNodeNames, imageToTensor, Tensor } from '../index.js';
import { nodeImageDecoder } from '../src/images.js';
import { indexTar, readTarMember } from './tar-index.mjs';

const USAGE = `usage:
  onnxfx nodes MODEL [--input-size S|H,W] [--json]
      every name of getGraphNodeNames' eval view (module scopes included, as the node they
      select; any other scope prefix such as layer1 selects its last node too): op type and
      output shape, from shape inference alone (nothing is run); symbolic dims by name, ?
      where inference cannot know. --input-size sets the image input's H, W first;
      --json prints {inputs, outputs, nodes: [{name, opType, node, onnxName, outputShapes}]}
  onnxfx plan MODEL [--nodes a,b] [--input-size S|H,W] [--threads N] [--weights float16]
      what extracting those nodes runs, step by step (fx.explain()): for the model's declared
      input shape when it is static and no --input-size is given, else for a 1-image batch of
      that size (default: the model's, else 224)
  onnxfx extract MODEL INPUT... -o OUT.npy|OUT.jsonl [options]
      features of every PNG/JPEG in the INPUTs, one row per image. An INPUT is a folder (its
      sub-folders too) or a .tar file, read in place (webdataset shards: only the .png,
      .jpg, .jpeg members become rows). The work list is the INPUTs in the order given; a
      folder's images by path, sorted by name in each folder; a tar's in archive order
      --nodes a,b        nodes to extract (default: the model's last node); rows concatenate them
      --pool avg|max|none  reduce each [1, C, H, W] map over H, W to C values (default avg;
                         none keeps the whole map, flattened)
      --input-size S|H,W the tensor's spatial size (default: the model's, else 224)
      --preset imagenet|none  imagenet: resize the shorter side to S*256/224, center-crop S,
                         ImageNet mean/std (torchvision's eval transform); none: resize to H x W,
                         values 0..1 (default imagenet)
      --layout NCHW|NHWC the model's input layout (default: from the model's input shape)
      --threads N        kernel threads (default: the machine's cores); 1 also picks the
                         single-thread engine
      --weights float32|float16  how the packed weights are stored (default float32);
                         float16 halves their memory, for models too big otherwise (features
                         move by about 5e-4 of their scale)
      --decode-workers N decode and resize images in N worker threads while the model runs
                         (default min(2, cores - 1)); 0 decodes in the main thread. Threads
                         and workers share the cores: for a light model on C cores,
                         --threads C-1 --decode-workers 1
      --shard K/N        do part K (0 to N-1) of the work list only: images floor(K*T/N) to
                         floor((K+1)*T/N)-1 of its T. {shard} in -o is replaced by K
      --shard auto       K from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or
                         SLURM_ARRAY_TASK_ID; N from --shards N or SLURM_ARRAY_TASK_COUNT
      --json             progress as JSON lines on stdout ({"event": "start"|"image"|"end", ...})
      --restart          ignore what OUT already holds (default: resume, skipping done images;
                         refused when OUT was written with other settings)
      --retry-failed     try again the images a previous run could not read (default: skipped)
  Beside OUT (its folder is created): OUT's name + '.files.txt', the key of each row (a
  folder's images by their path in it, a tar's members as TAR_NAME/MEMBER_PATH); + '.meta.json',
  the settings OUT was written with (model hash, nodes, pool, preset, size, layout, image
  decoder, shard, onnxfx version) and the images that could not be read; + '.lock' while a run writes OUT.
  onnxfx merge PART.npy... -o ALL.npy [--expect N]
      the rows of the parts in one .npy (shards in shard order), with ALL.files.txt and
      ALL.meta.json; refused when the parts differ in settings, share a key, or a shard is
      unfinished. --expect N: every shard 0 to N-1 must be there (the missing ones are named)`;

class UsageError extends Error {}
/** A failure that the usage text does not help with: the message alone, exit status 1. */
class RunError extends Error {}

function parseArgs(argv) {
  const opts = { _: [] };
  const takesValue = new Set(['nodes', 'pool', 'input-size', 'preset', 'layout', 'threads', 'o', 'output', 'shard', 'shards', 'expect', 'decode-workers', 'weights']);
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
  const { weights } = opts;
  if (weights !== undefined && weights !== 'float32' && weights !== 'float16') {
    throw new UsageError(`--weights is float32 or float16, got '${weights}'`);
  }
  return loadModel(file, { weights, ...(threads === undefined ? {} : { threads: threads > 1, numThreads: threads }) });
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
const SETTING_NAMES = { model: 'the model (its SHA-256)', nodes: '--nodes', pool: '--pool', preset: '--preset', size: '--input-size', layout: '--layout',
  decoder: 'the image decoder (ONNXFX_IMAGE_DECODER: sharp or js; JPEG pixels differ between them)', shard: '--shard',
  weights: '--weights' };
/** A setting's value in sidecars written before it existed: the only decoder then was 'js', weights float32. */
const SETTING_DEFAULTS = { decoder: 'js', weights: 'float32' };

/**
 * OUT's sidecar: the settings its rows were made with, and the images that could not be read
 * (skipped on resume unless --retry-failed). Written before the first row. Sharded runs add
 * `shard` {index, count} (a setting) and `workList` {total, start, end}: which images of the
 * whole work list the part holds.
 */
class Meta {
  constructor(file, settings, failed = {}, extra = {}) {
    this.file = file;
    this.settings = settings;
    this.failed = failed;
    this.extra = extra;
  }

  static read(file) {
    if (!existsSync(file)) return null;
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new UsageError(`${file} is not the JSON this tool writes; use --restart or another -o`);
    }
  }

  /** The first setting (of `keys`) whose value differs: {what, a, b} as text; null when they all agree. */
  static differing(a, b, keys = Object.keys(SETTING_NAMES)) {
    for (const key of keys) {
      const va = a[key] ?? SETTING_DEFAULTS[key], vb = b[key] ?? SETTING_DEFAULTS[key];
      if (JSON.stringify(va) !== JSON.stringify(vb)) {
        const show = (v) => (key === 'model' ? String(v).slice(0, 12)
          : key === 'shard' ? (v ? `${v.index}/${v.count}` : 'none')
            : Array.isArray(v) ? v.join(key === 'size' ? 'x' : ',') : v);
        return { what: SETTING_NAMES[key], a: show(va), b: show(vb) };
      }
    }
    return null;
  }

  /** The first setting whose value differs, as a sentence; null when they all agree. */
  static difference(stored, settings) {
    const d = Meta.differing(stored, settings);
    return d && `${d.what} differs: it was ${d.a}, this run has ${d.b}`;
  }

  write() {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ ...this.settings, ...this.extra, onnxfx: VERSION, failed: this.failed }, null, 1) + '\n');
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

// ---- inputs: folders and .tar files, one work list --------------------------------------------

const TAR_EXT = /\.tar$/i;

/** Each INPUT as {kind: 'dir' | 'tar', path, name}; a tar's name prefixes its members' keys. */
function classifyInputs(inputs) {
  return inputs.map((p) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError(`no such folder or .tar file: ${p}`);
    }
    if (st.isDirectory()) return { kind: 'dir', path: p, name: p };
    if (st.isFile() && TAR_EXT.test(p)) return { kind: 'tar', path: p, name: path.basename(p) };
    throw new UsageError(`not a folder or a .tar file: ${p}`);
  });
}

/** A tar member that becomes a row: a regular file named .png, .jpg or .jpeg. */
const isImageMember = (member) => member.type === 'file' && IMAGE_EXT.test(member.name);
const memberKey = (input, name) => `${input.name}/${name.replace(/^(\.?\/)+/, '')}`;

/** Bytes read from .tar INPUTs by this process (headers and members): the --json end event's tarBytesRead. */
const tarStats = { bytesRead: 0 };

/**
 * Keys of a tar's image members in archive order, from its headers alone (bin/tar-index.mjs:
 * the bodies are seeked past, not read). A header that cannot be parsed ends the list, at the
 * same member in every run. The index is kept on the input for readImages.
 */
function listTar(input, warn) {
  const index = indexTar(input.path, tarStats);
  input.index = index;
  const keys = [];
  input.members = new Map(); // key -> member
  for (const m of index.members) {
    if (!isImageMember(m)) continue;
    const key = memberKey(input, m.name);
    keys.push(key);
    if (!input.members.has(key)) input.members.set(key, m);
  }
  if (index.failure) {
    warn(`onnxfx: ${input.path} cannot be read past its image ${keys.length}${keys.length ? ` (${keys.at(-1)})` : ''}: ` +
      `${(index.failure.message ?? 'unreadable').replace(/\.$/, '')}; the rest of it is left out`);
  }
  return keys;
}

/**
 * The work list: every image of the INPUTs, [{key, input}], in the order the usage text gives.
 * Keys are unique: two images with one key are refused.
 */
async function workList(inputs, warn) {
  const work = [];
  const from = new Map();
  for (const input of inputs) {
    const keys = input.kind === 'dir' ? listImages(input.path) : listTar(input, warn);
    for (const key of keys) {
      if (from.has(key)) {
        const other = from.get(key);
        throw new UsageError(`two images have the key '${key}' (${other === input ? `twice in ${input.path}` : `in ${other.path} and in ${input.path}`}); ` +
          'every row needs its own key: give the folders\' parent folder instead, or rename one');
      }
      from.set(key, input);
      work.push({ key, input });
    }
  }
  return work;
}

/**
 * The images to do, in work-list order: {key, file} for a folder's images, {key, bytes} or
 * {key, error} for a tar's members. Only the members wanted are read from a tar, each at its
 * offset in the file (positioned reads): a shard reads its own images, not the whole tar.
 */
async function* readImages(todo) {
  for (let i = 0; i < todo.length;) {
    const input = todo[i].input;
    let j = i;
    while (j < todo.length && todo[j].input === input) j++;
    const group = todo.slice(i, j);
    i = j;
    if (input.kind === 'dir') {
      for (const { key } of group) yield { key, file: path.join(input.path, key) };
      continue;
    }
    let handle;
    try {
      handle = await fsp.open(input.path, 'r');
    } catch (err) {
      for (const { key } of group) yield { key, error: `${input.path} cannot be opened (${err.code ?? err.message})` };
      continue;
    }
    try {
      for (const { key } of group) {
        const member = input.members.get(key);
        if (!member) {
          yield { key, error: 'it is not in the tar' };
          continue;
        }
        let bytes;
        try {
          bytes = await readTarMember(handle, member, input.index.size, tarStats);
        } catch (err) {
          yield { key, error: err.code ? `${input.path} cannot be read up to it (${err.code})` : err.message };
          continue;
        }
        yield { key, bytes };
      }
    } finally {
      await handle.close();
    }
  }
}

// ---- shards -------------------------------------------------------------------------------------

/**
 * {index, count, via} from --shard K/N, or --shard auto with the scheduler's variables; null
 * without --shard.
 */
function shardSpec(opts, env = process.env) {
  const whole = (text, what) => {
    if (!/^\s*\d+\s*$/.test(String(text))) throw new UsageError(`${what} wants a whole number, got '${text}'`);
    return Number(text);
  };
  if (opts.shard === undefined) {
    if (opts.shards !== undefined) throw new UsageError('--shards N goes with --shard auto');
    return null;
  }
  let index, count, via = null;
  if (opts.shard === 'auto') {
    via = ['JOB_COMPLETION_INDEX', 'SLURM_ARRAY_TASK_ID'].find((name) => (env[name] ?? '') !== '');
    if (!via) {
      throw new UsageError('--shard auto takes the shard number from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or ' +
        'SLURM_ARRAY_TASK_ID (a Slurm job array), and neither is set; elsewhere give --shard K/N');
    }
    index = whole(env[via], via);
    if (opts.shards !== undefined) count = whole(opts.shards, '--shards');
    else if ((env.SLURM_ARRAY_TASK_COUNT ?? '') !== '') count = whole(env.SLURM_ARRAY_TASK_COUNT, 'SLURM_ARRAY_TASK_COUNT');
    else {
      throw new UsageError(`--shard auto needs the number of shards: --shards N (a Kubernetes Indexed Job's completions) ` +
        `or SLURM_ARRAY_TASK_COUNT (set in a Slurm job array), and neither is set (${via} is ${index})`);
    }
  } else {
    const m = /^(\d+)\/(\d+)$/.exec(opts.shard);
    if (!m) throw new UsageError(`--shard wants K/N (part K of N, counted from 0) or auto, got '${opts.shard}'`);
    [index, count] = [Number(m[1]), Number(m[2])];
    if (opts.shards !== undefined && whole(opts.shards, '--shards') !== count) {
      throw new UsageError(`--shard ${opts.shard} and --shards ${opts.shards} disagree on the number of shards`);
    }
  }
  if (count < 1) throw new UsageError('the number of shards must be at least 1');
  if (index >= count) {
    throw new UsageError(`there is no shard ${index} of ${count}: shards are numbered 0 to ${count - 1}` +
      (via === 'SLURM_ARRAY_TASK_ID' ? ` (submit the array as --array=0-${count - 1})` : via ? ` (${via} is ${index})` : ''));
  }
  return { index, count, via };
}

/** Part K of N of a work list of T images: [floor(K*T/N), floor((K+1)*T/N)). */
function shardRange({ index, count }, total) {
  return [Math.floor((index * total) / count), Math.floor(((index + 1) * total) / count)];
}

// ---- one writer per OUT: a lock file beside it ----------------------------------------------------

/** The start time of process `pid` (Linux: /proc/PID/stat field 22), null where unknown. */
function processStart(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether process `pid` runs (a zombie, ended but not yet reaped, does not). */
function isRunning(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true; // no /proc: the signal test alone
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** The holder touches its lock this often; another host's lock untouched for LOCK_STALE is stale. */
const LOCK_BEAT_SECONDS = 15;
const LOCK_STALE_SECONDS = 120;

/**
 * Takes OUT.lock for this process: {pid, host, start, since}, created whole (written aside, then
 * hard-linked in place, which fails when a lock is there), its time touched every 15 s. A lock
 * whose process is gone is taken over: on this host, its PID not running (or running since
 * another time); from another host (a shared folder), untouched for 120 s. A live one is an
 * error. Released on exit, on SIGINT/SIGTERM/SIGHUP too. Returns {release, tookOver}.
 */
function acquireLock(outFile) {
  const lockFile = `${outFile}.lock`;
  const mine = { pid: process.pid, host: os.hostname(), start: processStart(process.pid), since: new Date().toISOString() };
  const text = JSON.stringify(mine) + '\n';
  let tookOver = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    const aside = `${lockFile}.${process.pid}.tmp`;
    writeFileSync(aside, text);
    let linked = false;
    try {
      linkSync(aside, lockFile);
      linked = true;
    } catch (err) {
      if (err.code !== 'EEXIST') throw new RunError(`cannot create the lock file ${lockFile}: ${err.message}`);
    } finally {
      unlinkSync(aside);
    }
    if (linked) {
      const beat = setInterval(() => {
        try {
          const now = new Date();
          utimesSync(lockFile, now, now);
        } catch { /* taken away: release() will find it so */ }
      }, LOCK_BEAT_SECONDS * 1000);
      beat.unref();
      const release = () => {
        clearInterval(beat);
        try {
          if (JSON.parse(readFileSync(lockFile, 'utf8')).pid === process.pid) unlinkSync(lockFile);
        } catch { /* gone already */ }
        process.removeListener('exit', release);
        for (const [name, handler] of handlers) process.removeListener(name, handler);
      };
      // On a signal: release, then die of it as without the handler (exit() could wait on a
      // read that never ends).
      const handlers = SIGNALS.map((name) => [name, () => {
        release();
        process.kill(process.pid, name);
      }]);
      process.on('exit', release);
      for (const [name, handler] of handlers) process.on(name, handler);
      return { release, tookOver };
    }
    let holder;
    try {
      holder = JSON.parse(readFileSync(lockFile, 'utf8'));
    } catch (err) {
      if (err.code === 'ENOENT') continue; // released meanwhile
      throw new RunError(`${lockFile} is there but is not a lock this tool wrote; if no onnxfx is writing ${outFile}, delete it`);
    }
    const who = `process ${holder.pid} on ${holder.host} (since ${holder.since})`;
    if (holder.host !== mine.host) {
      let age = Infinity;
      try {
        age = (Date.now() - statSync(lockFile).mtimeMs) / 1000;
      } catch { /* released meanwhile */ }
      if (age < LOCK_STALE_SECONDS) {
        throw new RunError(`${outFile} is being written by ${who}, says ${lockFile} (touched ${Math.round(age)} s ago): ` +
          `two runs never write the same file. Its lock is taken over once untouched for ${LOCK_STALE_SECONDS} s; else give this run another -o`);
      }
    } else if (isRunning(holder.pid) && (holder.start == null || processStart(holder.pid) === holder.start)) {
      throw new RunError(`${outFile} is being written by ${who}, says ${lockFile}: two runs never write the same file. ` +
        `Wait for it, or give this run another -o`);
    }
    // Stale: its process is gone. Move it aside, and make sure the one moved is the one judged.
    const stale = `${lockFile}.${process.pid}.stale`;
    try {
      renameSync(lockFile, stale);
    } catch (err) {
      if (err.code === 'ENOENT') continue;
      throw err;
    }
    const moved = JSON.parse(readFileSync(stale, 'utf8'));
    if (moved.pid !== holder.pid || moved.start !== holder.start) {
      try { linkSync(stale, lockFile); } catch { /* another lock is in place */ }
      unlinkSync(stale);
      throw new RunError(`${outFile} is being written by process ${moved.pid} on ${moved.host}, which took ${lockFile} just now`);
    }
    unlinkSync(stale);
    tookOver = holder;
  }
  throw new RunError(`cannot take ${lockFile}: other runs keep taking it`);
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

/**
 * Progress of a run: a bar redrawn in place on a terminal, plain lines otherwise, or with --json
 * one JSON object per line on stdout: {"event": "image", "key", "ok", "error"?, "done", "total",
 * "imagesPerSecond", "etaSeconds"}. Messages (skipped images) go to stderr in every mode.
 */
class Progress {
  constructor(total, { stream = process.stderr, json = false } = {}) {
    this.total = total;
    this.stream = stream;
    this.json = json;
    this.tty = !json && !!stream.isTTY;
    this.start = Date.now();
    this.done = 0;
  }

  /** Images per second so far. */
  rate() {
    return this.done / Math.max((Date.now() - this.start) / 1000, 1e-3);
  }

  tick(name, note = '', error = undefined) {
    this.done++;
    const rate = this.rate();
    const eta = (this.total - this.done) / rate;
    if (this.json) {
      emitJson({ event: 'image', key: name, ok: error === undefined, ...(error === undefined ? {} : { error }),
        done: this.done, total: this.total, imagesPerSecond: round(rate), etaSeconds: round(eta) });
    } else if (this.tty) {
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

const round = (x) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);
const emitJson = (record) => process.stdout.write(JSON.stringify(record) + '\n');

/** "12 images in 3.4 s, 3.5 images/s": said at the end of every run. */
function throughput(count, seconds) {
  return `${count} image${count === 1 ? '' : 's'} in ${seconds.toFixed(1)} s, ${(count / Math.max(seconds, 1e-3)).toFixed(1)} images/s`;
}

// ---- decoding beside inference ---------------------------------------------------------------

/** --decode-workers N, or the default: min(2, cores - 1), so one core is left to the model. */
function decodeWorkerCount(opts) {
  if (opts['decode-workers'] === undefined) {
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    return Math.max(0, Math.min(2, cores - 1));
  }
  const text = String(opts['decode-workers']);
  if (!/^\d+$/.test(text) || Number(text) > 64) throw new UsageError(`--decode-workers is a whole number from 0 to 64, got '${text}'`);
  return Number(text);
}

/**
 * Worker threads (bin/decode-worker.mjs) that turn {file} or {bytes} into input tensors with
 * imageToTensor. decode() resolves to {tensor} or {error: message}, as the main thread would
 * give; a worker that dies rejects (the run stops: that is no fault of an image). The workers
 * are started before the model is loaded, and load the image decoder at once, so that their
 * start overlaps the model's instead of delaying the first images.
 */
class DecodePool {
  constructor(size) {
    this.prep = null; // imageToTensor's options: set once the model's input is known
    this.jobs = new Map(); // id -> {resolve, reject}
    this.queue = [];
    this.idle = [];
    this.nextId = 0;
    this.failure = null;
    this.closing = false;
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(new URL('./decode-worker.mjs', import.meta.url));
      worker.on('message', ({ id, error, type, dims, data }) => {
        const job = this.jobs.get(id);
        this.jobs.delete(id);
        this.idle.push(worker);
        this.pump();
        if (!job) return;
        if (error !== undefined) job.resolve({ error });
        else job.resolve({ tensor: new Tensor(type, data, dims) });
      });
      const die = (err) => this.fail(new RunError(`a decode worker stopped: ${err?.message ?? err}`));
      worker.on('error', die);
      worker.on('exit', (code) => { if (!this.closing) die(`exit code ${code}`); });
      this.idle.push(worker);
      return worker;
    });
  }

  decode(item) {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, source: item.file ?? item.bytes, resolve, reject });
      this.pump();
    });
  }

  pump() {
    while (!this.failure && this.idle.length && this.queue.length) {
      const worker = this.idle.pop();
      const { id, source, resolve, reject } = this.queue.shift();
      this.jobs.set(id, { resolve, reject });
      // bytes read from a tar are this item's own: moved, not copied
      worker.postMessage({ id, source, prep: this.prep }, typeof source === 'string' ? [] : [source.buffer]);
    }
  }

  fail(err) {
    if (this.failure) return;
    this.failure = err;
    for (const job of [...this.jobs.values(), ...this.queue]) job.reject(err);
    this.jobs.clear();
    this.queue = [];
  }

  async close() {
    if (this.closing) return;
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * readImages' items in the same order, each as {key, tensor} or {key, error}: up to `ahead`
 * of them are being decoded (by `decode`) while the caller runs the model on the one before.
 */
async function* decodeAhead(items, decode, ahead) {
  const it = items[Symbol.asyncIterator]();
  const pending = [];
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && pending.length < ahead) {
        const next = await it.next();
        if (next.done) exhausted = true;
        else {
          const item = next.value;
          const result = item.error !== undefined ? Promise.resolve({ error: item.error }) : decode(item);
          result.catch(() => {}); // awaited below, in order; not an unhandled rejection meanwhile
          pending.push({ key: item.key, result });
        }
      }
      if (!pending.length) return;
      const { key, result } = pending.shift();
      yield { key, ...(await result) };
    }
  } finally {
    if (!exhausted) await it.return?.();
  }
}

async function cmdExtract(opts) {
  const [, modelFile, ...inputArgs] = opts._;
  if (!inputArgs.length) throw new UsageError('extract needs MODEL and at least one INPUT (a folder of images or a .tar file)');
  if (!opts.o) throw new UsageError('extract needs -o OUT.npy or -o OUT.jsonl');
  const shard = shardSpec(opts);
  if (opts.o.includes('{shard}') && !shard) throw new UsageError('-o has {shard} in it but no --shard is given');
  const outFile = shard ? opts.o.replaceAll('{shard}', String(shard.index)) : opts.o;
  const format = outFile.endsWith('.npy') ? 'npy' : outFile.endsWith('.jsonl') ? 'jsonl' : null;
  if (!format) throw new UsageError(`-o must end in .npy or .jsonl, got '${outFile}'`);
  const inputs = classifyInputs(inputArgs);
  const pool = opts.pool ?? 'avg';
  if (!['avg', 'max', 'none'].includes(pool)) throw new UsageError(`--pool is avg, max or none, got '${pool}'`);
  const stem = outFile.replace(/\.(npy|jsonl)$/, '');
  const listFile = `${stem}.files.txt`;
  const metaFile = `${stem}.meta.json`;
  const decodeWorkers = decodeWorkerCount(opts);
  const stderr = process.stderr;
  const began = Date.now();

  mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
  const lock = acquireLock(outFile);
  if (lock.tookOver) {
    stderr.write(`onnxfx: note: took over ${outFile}.lock from process ${lock.tookOver.pid} on ${lock.tookOver.host}, which is gone (an interrupted run; resuming)\n`);
  }
  // Decoding and resizing run in worker threads (--decode-workers), a few images ahead of the
  // model; rows keep the work list's order. 0 workers: in this thread, one image at a time.
  // sharp (when installed) is loaded here first: on glibc Linux its libraries must stay loaded
  // in the main thread, or a worker's exit unloads them under the others (lovell/sharp#2263).
  // The workers start now, while the model loads.
  let decodePool = null;
  if (decodeWorkers > 0) {
    await import('sharp').catch(() => null);
    decodePool = new DecodePool(decodeWorkers);
  }
  const model = await open(modelFile, opts).catch(async (err) => {
    await decodePool?.close();
    lock.release();
    throw err;
  });
  try {
    const geometry = inputGeometry(model, opts);
    const prep = preprocessOptions(opts, geometry);
    if (decodePool) decodePool.prep = prep;
    const nodes = opts.nodes ? opts.nodes.split(',').map((s) => s.trim()).filter(Boolean) : [model.nodes.at(-1).name];
    const fx = await createFeatureExtractor(model, { returnNodes: nodes, suppressDiffWarning: true });

    const work = await workList(inputs, (text) => stderr.write(text + '\n'));
    const [start, end] = shard ? shardRange(shard, work.length) : [0, work.length];
    const mine = work.slice(start, end);
    const images = mine.map((w) => w.key);
    const settings = {
      model: await fileHash(modelFile), nodes, pool, preset: prep.preset, size: geometry.size, layout: geometry.layout,
      decoder: await nodeImageDecoder(), weights: model.backend.weights,
      ...(shard ? { shard: { index: shard.index, count: shard.count } } : {}),
    };
    const extra = shard ? { workList: { total: work.length, start, end } } : {};
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
        const before = stored.workList;
        if (shard && before && (before.total !== work.length || before.start !== start || before.end !== end)) {
          throw new UsageError(`${outFile} was begun on a work list of ${before.total} images (this part: ${before.start} to ${before.end - 1}); ` +
            `the INPUTs now give ${work.length}, so the parts would no longer fit together. Use the INPUTs it was begun with, ` +
            'or --restart every shard');
        }
        if (stored.onnxfx !== VERSION) stderr.write(`onnxfx: note: ${outFile} was begun by onnxfx ${stored.onnxfx}, this is ${VERSION}\n`);
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
    const todo = mine.filter((w) => !doneSet.has(w.key) && !(w.key in failed));
    const meta = new Meta(metaFile, settings, failed, extra);
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

    const where = shard
      ? `shard ${shard.index}/${shard.count}: images ${start} to ${end - 1} of ${work.length} in ${inputArgs.join(', ')}`
      : `${images.length} images in ${inputArgs.join(', ')}`;
    stderr.write(`onnxfx: ${where}; ${done.length} already done, ` +
      (knownBad ? `${knownBad} unreadable before skipped (--retry-failed to retry), ` : '') + `${todo.length} to go` +
      ` (nodes ${nodes.join(',')}, pool ${pool}, input ${geometry.layout} ${geometry.size.join('x')}, ${model.threaded ? 'threaded' : '1 thread'})\n`);
    if (opts.json) {
      emitJson({ event: 'start', out: outFile, inputs: inputArgs, images: work.length,
        shard: shard?.index ?? null, shards: shard?.count ?? null, start, end,
        done: done.length, failedBefore: knownBad, todo: todo.length });
    }
    const progress = new Progress(todo.length, { json: !!opts.json });
    const skipped = [];
    const skip = (key, message) => {
      skipped.push(key);
      meta.failed[key] = message;
      meta.write();
      progress.message(`onnxfx: skipped unreadable image ${key}: ${message}`);
      progress.tick(key, 'skipped', message);
    };
    const decode = decodePool ? (item) => decodePool.decode(item)
      : (item) => imageToTensor(item.file ?? item.bytes, prep).then((tensor) => ({ tensor }), (err) => ({ error: err.message }));
    try {
      for await (const { key: rel, tensor, error } of decodeAhead(readImages(todo), decode, decodePool ? 2 * decodeWorkers : 1)) {
        if (error !== undefined) {
          skip(rel, error);
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
    } finally {
      await decodePool?.close();
    }
    progress.end();
    writer.close();
    const seconds = (Date.now() - progress.start) / 1000;
    const written = done.length + todo.length - skipped.length;
    stderr.write(`onnxfx: ${outFile} holds ${written} rows (${todo.length - skipped.length} new)${format === 'npy' ? ` (${written} x ${writer.dim} float32)` : ''}` +
      `, file list ${listFile}; ${skipped.length} unreadable image${skipped.length === 1 ? '' : 's'} skipped; ` +
      `${throughput(todo.length, seconds)} (${((Date.now() - began) / 1000).toFixed(1)} s in all)\n`);
    if (opts.json) {
      emitJson({ event: 'end', out: outFile, rows: written, new: todo.length - skipped.length, skipped: skipped.length,
        images: todo.length, seconds: round(seconds), imagesPerSecond: round(todo.length / Math.max(seconds, 1e-3)),
        tarBytesRead: tarStats.bytesRead });
    }
    await fx.dispose();
  } finally {
    await decodePool?.close();
    await model.dispose();
    lock.release();
  }
}

// ---- onnxfx merge ---------------------------------------------------------------------------------

/** A part written by extract: its sidecar, row width, and the keys of its complete rows. */
function readPart(file) {
  if (!file.endsWith('.npy')) throw new UsageError(`merge reads .npy parts, got '${file}'`);
  if (!existsSync(file)) throw new RunError(`no such part: ${file}`);
  const stem = file.slice(0, -'.npy'.length);
  const meta = Meta.read(`${stem}.meta.json`);
  if (!meta) throw new RunError(`${file} has no ${path.basename(stem)}.meta.json beside it: merge checks the settings extract writes there`);
  const npy = NpyWriter.existing(file);
  const listFile = `${stem}.files.txt`;
  const listed = existsSync(listFile) ? readFileSync(listFile, 'utf8').split('\n').filter(Boolean) : [];
  const rows = Math.min(npy.rows, listed.length);
  return { file, meta, dim: npy.dim, rows, keys: listed.slice(0, rows), failed: Object.keys(meta.failed ?? {}) };
}

/** part-3.npy's name for shard k, when the part's file name holds its shard number; else null. */
function partName(part, k) {
  const base = path.basename(part.file);
  const n = String(part.meta.shard.index);
  const at = base.search(new RegExp(`(?<!\\d)${n}(?!\\d)`));
  return at < 0 ? null : path.join(path.dirname(part.file), base.slice(0, at) + k + base.slice(at + n.length));
}

async function cmdMerge(opts) {
  const files = opts._.slice(1);
  if (!files.length) throw new UsageError('merge needs the PART.npy files to merge');
  if (!opts.o) throw new UsageError('merge needs -o ALL.npy');
  const outFile = opts.o;
  if (!outFile.endsWith('.npy')) throw new UsageError(`merge writes a .npy: -o must end in .npy, got '${outFile}'`);
  let expect;
  if (opts.expect !== undefined) {
    expect = Number(opts.expect);
    if (!Number.isInteger(expect) || expect < 1) throw new UsageError(`--expect wants the number of shards, got '${opts.expect}'`);
  }
  if (files.some((f) => path.resolve(f) === path.resolve(outFile))) throw new UsageError(`-o ${outFile} is one of the parts`);
  let parts = files.map(readPart);
  const stderr = process.stderr;
  const began = Date.now();

  const first = parts[0];
  const compared = Object.keys(SETTING_NAMES).filter((k) => k !== 'shard');
  for (const p of parts.slice(1)) {
    const d = Meta.differing(first.meta, p.meta, compared);
    if (d) throw new RunError(`${p.file} was made with other settings than ${first.file}: ${d.what} is ${d.b} there, ${d.a} in ${first.file}`);
    if (p.dim !== first.dim) throw new RunError(`${p.file} holds ${p.dim}-value rows, ${first.file} ${first.dim}`);
  }

  const sharded = parts.filter((p) => p.meta.shard);
  let missing = [];
  if (sharded.length && sharded.length !== parts.length) {
    const plain = parts.find((p) => !p.meta.shard);
    throw new RunError(`${sharded[0].file} is a shard (--shard) and ${plain.file} is not: merge shards of one run, or whole runs`);
  }
  if (sharded.length) {
    const count = first.meta.shard.count;
    for (const p of parts) {
      if (p.meta.shard.count !== count) throw new RunError(`${p.file} is shard ${p.meta.shard.index} of ${p.meta.shard.count}, ${first.file} of ${count}`);
      if (p.meta.workList?.total !== first.meta.workList?.total) {
        throw new RunError(`${p.file} was cut from a work list of ${p.meta.workList?.total} images, ${first.file} from one of ` +
          `${first.meta.workList?.total}: the INPUTs changed between the shards' runs`);
      }
    }
    parts = [...parts].sort((a, b) => a.meta.shard.index - b.meta.shard.index);
    for (let i = 1; i < parts.length; i++) {
      if (parts[i].meta.shard.index === parts[i - 1].meta.shard.index) {
        throw new RunError(`${parts[i - 1].file} and ${parts[i].file} are both shard ${parts[i].meta.shard.index} of ${count}`);
      }
    }
    if (expect !== undefined && expect !== count) throw new RunError(`the parts are shards of ${count}, not of ${expect}`);
    const have = new Set(parts.map((p) => p.meta.shard.index));
    missing = Array.from({ length: count }, (_, k) => k).filter((k) => !have.has(k));
    if (missing.length) {
      const names = missing.map((k) => partName(first, k)).filter(Boolean);
      const text = `${missing.length} of the ${count} shards ${missing.length === 1 ? 'is' : 'are'} missing: ${missing.join(', ')}` +
        (names.length ? ` (${names.join(', ')})` : '');
      if (expect !== undefined) throw new RunError(text);
      stderr.write(`onnxfx: note: ${text}; merging the others\n`);
    }
    for (const p of parts) {
      const { start, end } = p.meta.workList ?? {};
      const rowKeys = new Set(p.keys);
      const failedHere = p.failed.filter((k) => !rowKeys.has(k)).length;
      if (Number.isInteger(start) && p.rows + failedHere < end - start) {
        throw new RunError(`${p.file} (shard ${p.meta.shard.index}) is not finished: ${p.rows} rows and ${failedHere} unreadable images ` +
          `of its ${end - start}; run its shard again (it resumes), then merge`);
      }
    }
  } else if (expect !== undefined) {
    throw new UsageError('--expect counts shards, and these parts were not written with --shard');
  }

  const owner = new Map();
  for (const p of parts) {
    for (const key of p.keys) {
      if (owner.has(key)) {
        const other = owner.get(key);
        throw new RunError(`the key '${key}' is in ${other === p ? `${p.file} twice` : `both ${other.file} and ${p.file}`}: ` +
          'each image must be in one part only');
      }
      owner.set(key, p);
    }
  }

  mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
  const lock = acquireLock(outFile);
  try {
    const stem = outFile.slice(0, -'.npy'.length);
    const rows = parts.reduce((n, p) => n + p.rows, 0);
    const tmp = `${outFile}.tmp`;
    const out = openSync(tmp, 'w');
    try {
      writeSync(out, NpyWriter.header(rows, first.dim), 0, NpyWriter.HEADER, 0);
      let at = NpyWriter.HEADER;
      const chunk = Buffer.alloc(1 << 22);
      for (const p of parts) {
        const fd = openSync(p.file, 'r');
        try {
          for (let from = NpyWriter.HEADER, left = p.rows * 4 * p.dim; left > 0;) {
            const n = readSync(fd, chunk, 0, Math.min(chunk.length, left), from);
            if (n <= 0) throw new RunError(`${p.file} ends before its rows do`);
            writeSync(out, chunk, 0, n, at);
            from += n; at += n; left -= n;
          }
        } finally {
          closeSync(fd);
        }
      }
    } finally {
      closeSync(out);
    }
    const failed = Object.assign({}, ...parts.map((p) => p.meta.failed ?? {}));
    const settings = Object.fromEntries(compared.map((k) => [k, first.meta[k]]));
    writeFileSync(`${stem}.files.txt`, parts.map((p) => p.keys.map((k) => k + '\n').join('')).join(''));
    new Meta(`${stem}.meta.json`, settings, failed, { merged: parts.map((p) => path.basename(p.file)) }).write();
    renameSync(tmp, outFile);
    const which = sharded.length ? ` (shards ${parts.map((p) => p.meta.shard.index).join(', ')} of ${first.meta.shard.count})` : '';
    const bad = Object.keys(failed).length;
    stderr.write(`onnxfx: ${outFile} holds ${rows} rows (${rows} x ${first.dim} float32) from ${parts.length} part${parts.length === 1 ? '' : 's'}${which}, ` +
      `file list ${stem}.files.txt; ${bad} unreadable image${bad === 1 ? '' : 's'} named in ${stem}.meta.json; ` +
      `${((Date.now() - began) / 1000).toFixed(1)} s\n`);
  } finally {
    lock.release();
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
    else if (cmd === 'merge') await cmdMerge(opts);
    else throw new UsageError(`unknown command '${cmd}' (nodes, plan, extract, merge)`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`onnxfx: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof RunError) {
      process.stderr.write(`onnxfx: ${err.message}\n`);
      return 1;
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
