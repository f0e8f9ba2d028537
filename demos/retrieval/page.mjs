// The retrieval page: describe every gallery image, then show each transformed copy's nearest
// neighbours. All client-side; the model runs in onnxfx's worker.
import * as onnxfx from '../../web/index.js';
import { describeAll, evaluate, photoOf, transformOf } from './retrieval.mjs';

const GALLERY = '../../.cache/demos/gallery/';
const MODEL = '../../.cache/demos/mobilenet_v2.onnx';
const status = document.getElementById('status');
const results = document.getElementById('results');

function loadImage(src) {
  const img = new Image();
  img.src = src;
  return img.decode().then(() => img);
}

function figure(file, cls, caption) {
  const f = document.createElement('figure');
  f.className = cls;
  const img = document.createElement('img');
  img.src = GALLERY + file;
  img.alt = file;
  const c = document.createElement('figcaption');
  c.textContent = caption;
  f.append(img, c);
  return f;
}

async function main() {
  const t0 = performance.now();
  const files = await (await fetch(GALLERY + 'gallery.json')).json();
  const model = await onnxfx.loadModel(MODEL, { worker: true });
  const loadMs = performance.now() - t0;
  const images = await Promise.all(files.map((f) => loadImage(GALLERY + f)));
  let total = 0;
  const descriptors = await describeAll(onnxfx, model, images, (i, ms) => {
    total += ms;
    status.textContent = `describing ${i + 1}/${files.length}…`;
  });
  await model.dispose();
  const rows = evaluate(files, descriptors);
  const hits = rows.filter((r) => r.originalFirst).length;
  status.textContent = `model loaded in ${loadMs.toFixed(0)} ms (${model.threaded ? 'threaded' : '1 thread'}, in a worker); ` +
    `${files.length} descriptors in ${total.toFixed(0)} ms (${(total / files.length).toFixed(1)} ms each); ` +
    `${hits}/${rows.length} copies find their original first among the ${files.length - rows.length} originals`;
  for (const r of rows) {
    const row = document.createElement('div');
    row.className = 'row' + (r.originalFirst ? '' : ' miss');
    row.append(figure(r.file, 'query', `${r.photo} · ${r.transform}`));
    const arrow = document.createElement('span');
    arrow.className = 'arrow';
    arrow.textContent = '→';
    row.append(arrow);
    for (const n of r.all.slice(0, 5)) {
      const f = files[n.index];
      row.append(figure(f, photoOf(f) === r.photo ? 'same' : 'other', `${photoOf(f)}${transformOf(f) === 'original' ? '' : ' · ' + transformOf(f)} ${n.score.toFixed(3)}`));
    }
    const verdict = document.createElement('span');
    verdict.className = 'verdict ' + (r.originalFirst ? 'ok' : 'bad');
    verdict.textContent = r.originalFirst ? `original first ✓ (${r.amongOriginals[0].score.toFixed(3)})` : `original not first ✗`;
    row.append(verdict);
    results.append(row);
  }
  window.retrievalResult = { hits, queries: rows.length };
  document.body.dataset.state = 'done';
}

main().catch((err) => {
  status.textContent = `error: ${err.code ?? ''} ${err.message}`;
  document.body.dataset.state = 'error';
  throw err;
});
