// Feature-map explorer: open an ONNX model, browse its nodes by scope, pick some, see each
// channel of their outputs on a photo as a heat map. Everything runs in the page; the model
// lives in onnxfx's worker (threaded when the server sends COOP/COEP, see serve.mjs).
import * as onnxfx from '../../web/index.js';

const DEFAULT_MODEL = '../../.cache/demos/mobilenet_v2.onnx';
const DEFAULT_PHOTO = '../../.cache/demos/photos/chelsea.png';
const DEFAULT_NODES = ['features.1.project', 'features.3.add'];
const MAX_TILES = 192;

const $ = (id) => document.getElementById(id);
const state = {
  model: null, modelName: '', geometry: null, shapes: new Map(), selected: [], photo: null,
  fx: null, fxKey: '', generation: 0, timing: {},
  /** The input preset per model name, as last chosen; a model opened first gets its guess. */
  presets: new Map(),
};

function setState(s, text) {
  document.body.dataset.state = s;
  if (text !== undefined) $('status').textContent = text;
}

// ---- colours: a perceptual dark-blue → teal → yellow ramp (viridis-like), 256 entries
const LUT = (() => {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (stops.length - 1);
    const k = Math.min(Math.floor(x), stops.length - 2);
    const f = x - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = stops[k][c] + (stops[k + 1][c] - stops[k][c]) * f;
  }
  return lut;
})();

function fmt(v) {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000 || a < 0.01) return v.toExponential(0);
  return a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

// ---- model input

function inputGeometry(model) {
  const input = model.inputs[0];
  const dims = input.dims ?? [];
  const num = (d, fallback) => (typeof d === 'number' && d > 0 ? d : fallback);
  // NHWC when the last dim looks like channels and the second does not.
  const nhwc = dims.length === 4 && typeof dims[3] === 'number' && dims[3] <= 4 && !(typeof dims[1] === 'number' && dims[1] <= 4);
  const [h, w, c] = nhwc ? [dims[1], dims[2], dims[3]] : [dims[2], dims[3], dims[1]];
  return { name: input.name, layout: nhwc ? 'NHWC' : 'NCHW', height: num(h, 224), width: num(w, 224), channels: num(c, 3) };
}

function presetOptions() {
  switch ($('preset').value) {
    case 'imagenet': return { preset: 'imagenet' };
    case 'signed': return { preset: 'none', scale: '0-255', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] };
    default: return { preset: 'none', scale: '0-1' };
  }
}

async function inputTensor(source) {
  const g = state.geometry;
  const t = await onnxfx.imageToTensor(source, { ...presetOptions(), resize: [g.height, g.width], crop: null, layout: g.layout });
  if (g.channels === 3) return t;
  // Extra channels (an alpha plane, as in MLSD): filled with 1.
  const hw = g.height * g.width;
  const data = new Float32Array(hw * g.channels).fill(1);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < hw; i++) {
      if (g.layout === 'NCHW') data[c * hw + i] = t.data[c * hw + i];
      else data[i * g.channels + c] = t.data[i * 3 + c];
    }
  }
  const dims = g.layout === 'NCHW' ? [1, g.channels, g.height, g.width] : [1, g.height, g.width, g.channels];
  return new onnxfx.Tensor('float32', data, dims);
}

/**
 * The input preset a model probably wants: the bundled nsfwjs model and NHWC (TensorFlow-born)
 * models take 0..1; torchvision-style NCHW models ImageNet mean/std. The user's choice for a
 * model wins once made.
 */
function guessPreset(source, name, geometry) {
  if (state.presets.has(name)) return state.presets.get(name);
  if (source === DEFAULT_MODEL || geometry.layout === 'NHWC') return 'unit';
  return 'imagenet';
}

/** A failure, shown where the results would be (and in the status line), old results gone. */
function showError(what, err) {
  const text = err ? `${err.code ?? err.name ?? 'Error'}: ${err.message ?? err}` : '';
  $('maps').innerHTML = `<p class="error" role="alert"><b>${escapeHtml(what)}</b>${text ? `<br>${escapeHtml(text)}` : ''}</p>`;
  $('timing').textContent = '';
  setState('error', what);
}

const fmtShape = (dims) => `[${dims.map((d) => d ?? '?').join('×')}]`;

// ---- model loading and the node tree

/**
 * Opens a model: a URL (its external data files fetched beside it) or a File, with `externalData`
 * {location: bytes} for a model saved with external data. Big models (over 1 GB of weights) keep
 * their packed weights as float16 (loadModel's `weights`), so that they fit the page's heap.
 */
async function openModel(source, name, externalData) {
  const gen = ++state.generation;
  setState('loading', `loading ${name}…`);
  $('timing').textContent = '';
  const t0 = performance.now();
  let model;
  try {
    // The old model stays until the new one has loaded: disposing it first would stop the shared
    // worker (and its threads, mid-start) only to start another.
    const size = source instanceof Blob ? source.size + Object.values(externalData ?? {}).reduce((a, b) => a + b.byteLength, 0) : 0;
    model = await onnxfx.loadModel(source, {
      worker: true,
      externalData,
      ...(size > 1e9 ? { weights: 'float16' } : {}),
      onProgress: (loaded, total) => { if (gen === state.generation) $('status').textContent = `loading ${name}: ${(loaded / 1e6).toFixed(1)}${total ? ` of ${(total / 1e6).toFixed(1)}` : ''} MB`; },
    });
  } catch (err) {
    if (gen !== state.generation) return;
    closeModel();
    $('model-info').innerHTML = `<span class="error">could not load ${escapeHtml(name)}</span>`;
    showError(`could not load ${name}`, err);
    return;
  }
  if (gen !== state.generation) { model.dispose(); return; }
  closeModel();
  state.model = model;
  state.modelName = name;
  state.geometry = inputGeometry(model);
  state.timing = { load: performance.now() - t0 };
  $('preset').value = guessPreset(source, name, state.geometry);
  state.presets.set(name, $('preset').value);

  // Shapes of every node by shape inference: nothing runs, so ops onnxfx lacks leave only their
  // own nodes (and what follows them) without a shape.
  const t1 = performance.now();
  await model.inferShapes();
  if (gen !== state.generation) return;
  for (const n of model.nodes) if (n.outputShapes?.[0]) state.shapes.set(n.name, n.outputShapes[0]);
  state.timing.shapes = performance.now() - t1;
  const g = state.geometry;
  const ops = new Set(model.nodes.map((n) => n.opType));
  $('model-info').innerHTML = `<b>${escapeHtml(name)}</b>: ${model.nodes.length} nodes, ${ops.size} op types, opset ${model.opset}<br>` +
    `input <code>${escapeHtml(g.name)}</code> ${g.layout} ${g.channels}×${g.height}×${g.width}`;
  const known = new Set(model.nodes.map((n) => n.name));
  const wanted = new URLSearchParams(location.search).get('nodes')?.split(',') ?? (source === DEFAULT_MODEL ? DEFAULT_NODES : []);
  state.selected = wanted.filter((n) => known.has(n));
  renderTree();
  await update();
}

/** Frees the open model and clears what it showed. */
function closeModel() {
  state.fx?.dispose();
  state.fx = null;
  state.fxKey = '';
  state.model?.dispose();
  state.model = null;
  state.modelName = '';
  state.shapes = new Map();
  state.selected = [];
  $('tree').textContent = '';
  $('model-info').textContent = '';
  $('timing').textContent = '';
  $('maps').innerHTML = '<p class="hint">Pick one or more nodes on the left to see their channels.</p>';
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

/** Scopes as nested groups, nodes in execution order. A node named like its scope is a leaf module. */
function buildTree(nodes) {
  const root = { path: '', items: [], scopes: new Map(), count: 0 };
  for (const node of nodes) {
    const segs = node.scope ? node.scope.split('.') : [];
    const parents = node.name === node.scope ? segs.slice(0, -1) : segs;
    let cur = root;
    cur.count++;
    for (const s of parents) {
      if (!cur.scopes.has(s)) {
        const child = { path: cur.path ? `${cur.path}.${s}` : s, label: s, items: [], scopes: new Map(), count: 0 };
        cur.scopes.set(s, child);
        cur.items.push({ scope: child });
      }
      cur = cur.scopes.get(s);
      cur.count++;
    }
    cur.items.push({ node });
  }
  return root;
}

function nodeRow(node, label) {
  const row = document.createElement('div');
  row.className = 'node' + (state.selected.includes(node.name) ? ' selected' : '');
  row.dataset.name = node.name;
  row.title = `${node.name} (${node.opType})${node.onnxName ? `\nONNX: ${node.onnxName}` : ''}`;
  const shape = state.shapes.get(node.name);
  row.innerHTML = `<input type="checkbox" tabindex="-1"${state.selected.includes(node.name) ? ' checked' : ''}>` +
    `<span class="label">${escapeHtml(label)}</span><span class="op">${escapeHtml(node.opType)}</span>` +
    `<span class="shape">${shape ? fmtShape(shape) : ''}</span>`;
  row.addEventListener('click', (e) => {
    e.preventDefault();
    toggle(node.name);
  });
  return row;
}

function renderTree() {
  const tree = $('tree');
  tree.textContent = '';
  if (!state.model) return;
  const q = $('search').value.trim().toLowerCase();
  if (q) {
    const hits = state.model.nodes.filter((n) => n.name.toLowerCase().includes(q) || n.opType.toLowerCase().includes(q));
    for (const n of hits) tree.append(nodeRow(n, n.name));
    if (!hits.length) tree.innerHTML = '<p class="hint">no node matches</p>';
    return;
  }
  const render = (group, parent, depth) => {
    for (const item of group.items) {
      if (item.node) {
        const prefix = group.path ? group.path + '.' : '';
        parent.append(nodeRow(item.node, item.node.name.startsWith(prefix) ? item.node.name.slice(prefix.length) : item.node.name));
      } else {
        const d = document.createElement('details');
        d.open = depth < 1 || state.selected.some((n) => n.startsWith(item.scope.path + '.'));
        d.innerHTML = `<summary>${escapeHtml(item.scope.label)} <span class="count">${item.scope.count}</span></summary>`;
        render(item.scope, d, depth + 1);
        parent.append(d);
      }
    }
  };
  render(buildTree(state.model.nodes), tree, 0);
}

function toggle(name) {
  const i = state.selected.indexOf(name);
  if (i >= 0) state.selected.splice(i, 1);
  else state.selected.push(name);
  for (const row of document.querySelectorAll(`.node[data-name="${CSS.escape(name)}"]`)) {
    row.classList.toggle('selected', i < 0);
    row.querySelector('input').checked = i < 0;
  }
  update();
}

// ---- running and drawing

let queued = null;
async function update() {
  // One run at a time; a change while running schedules one more run.
  if (queued) { queued.again = true; return queued.promise; }
  queued = { again: false };
  queued.promise = (async () => {
    do {
      queued.again = false;
      await runOnce();
    } while (queued.again);
  })();
  try {
    await queued.promise;
  } finally {
    queued = null;
  }
}

async function runOnce() {
  const model = state.model;
  if (!model || !state.photo) return;
  const names = [...state.selected];
  if (!names.length) {
    $('maps').innerHTML = '<p class="hint">Pick one or more nodes on the left to see their channels.</p>';
    setState('ready', statusLine());
    return;
  }
  setState('running', `running ${names.length} node${names.length > 1 ? 's' : ''}…`);
  try {
    const key = names.join('\n');
    let t = performance.now();
    if (state.fxKey !== key) {
      state.fx?.dispose();
      state.fx = null;
      state.fxKey = '';
      state.fx = await onnxfx.createFeatureExtractor(model, {
        returnNodes: names,
        suppressDiffWarning: true,
        // big models spend seconds here, reading and packing their weights
        onProgress: (done, total) => { if (total > 50e6) $('status').textContent = `packing weights: ${Math.round((100 * done) / total)}%`; },
      });
      state.fxKey = key;
    }
    state.timing.create = performance.now() - t;
    t = performance.now();
    const x = await inputTensor(state.photo);
    state.timing.preprocess = performance.now() - t;
    t = performance.now();
    const out = await state.fx.run({ [state.geometry.name]: x });
    state.timing.run = performance.now() - t;
    if (model !== state.model) return;
    t = performance.now();
    drawMaps(out);
    state.timing.draw = performance.now() - t;
    setState('ready', statusLine());
  } catch (err) {
    if (model !== state.model) return;
    // an extractor that failed (an op onnxfx lacks, say) is not kept
    state.fxKey = '';
    state.fx?.dispose();
    state.fx = null;
    showError(`cannot extract ${names.join(', ')}`, err);
    return;
  }
  const tm = state.timing;
  $('timing').textContent = [
    `load model      ${tm.load.toFixed(0)} ms`,
    `shapes          ${tm.shapes.toFixed(0)} ms (inferred, nothing run)`,
    tm.run !== undefined ? `extractor       ${tm.create.toFixed(0)} ms, runs ${state.fx?.plannedNodeCount ?? '?'} of ${model.nodes.length - model.inputs.length} nodes` : '',
    tm.run !== undefined ? `preprocess      ${tm.preprocess.toFixed(0)} ms` : '',
    tm.run !== undefined ? `run             ${tm.run.toFixed(1)} ms` : '',
    tm.draw !== undefined ? `draw            ${tm.draw.toFixed(0)} ms` : '',
  ].filter(Boolean).join('\n');
}

function statusLine() {
  const m = state.model;
  return m ? `${state.modelName} · ${m.threaded ? 'threaded' : '1 thread'}${m.inWorker ? ' · in a worker' : ''}` : '';
}

/** Channel planes of an output: [C, H, W] views, whatever the rank. */
function planes(t) {
  const d = t.dims;
  const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data, Number);
  if (d.length === 4) {
    // NHWC when the spatial dims look square and the last one does not match them.
    if (d[1] === d[2] && d[3] !== d[2] && d[1] !== d[3]) {
      const [, h, w, c] = d;
      const out = [];
      for (let k = 0; k < c; k++) {
        const p = new Float32Array(h * w);
        for (let i = 0; i < h * w; i++) p[i] = data[i * c + k];
        out.push(p);
      }
      return { c, h, w, layout: 'NHWC', get: (k) => out[k] };
    }
    const [, c, h, w] = d;
    return { c, h, w, layout: 'NCHW', get: (k) => data.subarray(k * h * w, (k + 1) * h * w) };
  }
  if (d.length === 3) {
    const [, c, l] = d;
    return { c, h: 1, w: l, layout: 'NCL', get: (k) => data.subarray(k * l, (k + 1) * l) };
  }
  // A vector: one tile, all values in a row.
  return { c: 1, h: 1, w: data.length, layout: 'vector', get: () => data };
}

function paint(canvas, plane, w, h) {
  let min = Infinity, max = -Infinity;
  for (const v of plane) { if (v < min) min = v; if (v > max) max = v; }
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(w, h);
  const span = max - min;
  for (let i = 0; i < w * h; i++) {
    const j = span > 0 ? Math.round(((plane[i] - min) / span) * 255) * 3 : 0;
    img.data[i * 4] = span > 0 ? LUT[j] : 200;
    img.data[i * 4 + 1] = span > 0 ? LUT[j + 1] : 200;
    img.data[i * 4 + 2] = span > 0 ? LUT[j + 2] : 200;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return { min, max };
}

function drawMaps(out) {
  const maps = $('maps');
  maps.textContent = '';
  for (const [name, t] of Object.entries(out)) {
    state.shapes.set(name, t.dims);
    for (const s of document.querySelectorAll(`.node[data-name="${CSS.escape(name)}"] .shape`)) s.textContent = fmtShape(t.dims);
    const p = planes(t);
    const section = document.createElement('section');
    section.className = 'map';
    section.dataset.name = name;
    section.dataset.channels = p.c;
    section.innerHTML = `<h2>${escapeHtml(name)} <small>[${t.dims.join('×')}] ${p.layout}, ${p.c} channel${p.c > 1 ? 's' : ''} of ${p.h}×${p.w}</small></h2>`;
    const tiles = document.createElement('div');
    tiles.className = 'tiles';
    section.append(tiles);
    const addTiles = (from, to) => {
      for (let k = from; k < to; k++) {
        const tile = document.createElement('div');
        tile.className = 'tile';
        const canvas = document.createElement('canvas');
        if (p.h === 1) canvas.style.height = '12px';
        const plane = p.get(k);
        const { min, max } = paint(canvas, plane, p.w, p.h);
        Object.assign(tile.dataset, { channel: k, min, max });
        const cap = document.createElement('div');
        cap.innerHTML = `<b>#${k}</b> ${min === max ? `const ${fmt(min)}` : `${fmt(min)}…${fmt(max)}`}`;
        tile.append(canvas, cap);
        tile.addEventListener('click', () => zoom(name, t.dims, k, plane, p.w, p.h));
        tiles.append(tile);
      }
    };
    addTiles(0, Math.min(p.c, MAX_TILES));
    if (p.c > MAX_TILES) {
      const more = document.createElement('button');
      more.className = 'more';
      more.textContent = `show all ${p.c} channels`;
      more.addEventListener('click', () => { more.remove(); addTiles(MAX_TILES, p.c); });
      section.append(more);
    }
    maps.append(section);
  }
}

function zoom(name, dims, k, plane, w, h) {
  const { min, max } = paint($('zoom-canvas'), plane, w, h);
  let sum = 0;
  for (const v of plane) sum += v;
  $('zoom-title').textContent = `${name} · channel ${k}`;
  $('zoom-info').textContent = `${h}×${w} of [${dims.join('×')}] · min ${fmt(min)} · max ${fmt(max)} · mean ${fmt(sum / plane.length)}`;
  $('zoom-canvas').style.aspectRatio = `${w} / ${h}`;
  $('zoom-canvas').style.height = h === 1 ? '40px' : '';
  $('zoom').showModal();
}

// ---- photos, files, drag and drop

async function setPhoto(url, name = url) {
  const img = new Image();
  img.src = url;
  try {
    await img.decode();
  } catch (err) {
    // not an image the browser can decode (EncodingError): say so where the maps would be
    showError(`could not read the photo ${name}: not an image this browser can decode`, err);
    return;
  }
  state.photo = img;
  $('photo').src = url;
  await update();
}

function openFile(file) {
  if (/\.onnx$/i.test(file.name)) return openModel(file, file.name);
  if (file.type.startsWith('image/') || /\.(png|jpe?g|gif|webp|bmp|avif)$/i.test(file.name)) return setPhoto(URL.createObjectURL(file), file.name);
  showError(`${file.name} is neither an .onnx model nor an image`);
}

/**
 * Files picked or dropped together: one .onnx model with the external data files it names (by
 * file name: the model's locations, as onnx.save writes them beside it), or a photo.
 */
async function openFiles(files) {
  const models = files.filter((f) => /\.onnx$/i.test(f.name));
  if (models.length !== 1 || files.length === 1) return files.forEach(openFile);
  const externalData = {};
  for (const f of files) if (f !== models[0]) externalData[f.name] = new Uint8Array(await f.arrayBuffer());
  return openModel(models[0], models[0].name, externalData);
}

$('model-file').addEventListener('change', (e) => e.target.files.length && openFiles([...e.target.files]));
$('photo-file').addEventListener('change', (e) => e.target.files[0] && openFile(e.target.files[0]));
$('preset').addEventListener('change', () => {
  if (state.modelName) state.presets.set(state.modelName, $('preset').value);
  update();
});
$('search').addEventListener('input', () => renderTree());
document.addEventListener('dragover', (e) => { e.preventDefault(); document.body.classList.add('dragging'); });
document.addEventListener('dragleave', (e) => { if (!e.relatedTarget) document.body.classList.remove('dragging'); });
document.addEventListener('drop', (e) => {
  e.preventDefault();
  document.body.classList.remove('dragging');
  openFiles([...e.dataTransfer.files]);
});

// For tests and the console.
window.explorer = { state, openModel, setPhoto, toggle, update };

(async () => {
  const img = new Image();
  img.src = DEFAULT_PHOTO;
  await img.decode();
  state.photo = img;
  $('photo').src = DEFAULT_PHOTO;
  // ?model=URL opens another model (its external data files are fetched beside it)
  const url = new URLSearchParams(location.search).get('model');
  await openModel(url ?? DEFAULT_MODEL, url ? url.split('/').pop() : 'mobilenet_v2.onnx');
})().catch((err) => showError('could not start', err));
