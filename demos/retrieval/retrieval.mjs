// Image retrieval with onnxfx: a 1280-d descriptor per image (the global average pool of a
// trained MobileNetV2), cosine similarity, nearest neighbours. Shared by the page (index.html)
// and the Node test (tests/js/retrieval.test.mjs); it only needs the onnxfx module passed in.

/** The node whose output is the descriptor, and how images become the model's input. */
export const DESCRIPTOR_NODE = 'pool';
export const PREPROCESS = { preset: 'none', resize: [224, 224], scale: '0-1' };

/** 'chelsea' for 'chelsea.flipped.png' and 'chelsea.png'. */
export function photoOf(file) {
  return file.replace(/\.[^.]*$/, '').split('.')[0];
}

/** 'flipped', 'cropped', 'rotated', or 'original'. */
export function transformOf(file) {
  const parts = file.replace(/\.[^.]*$/, '').split('.');
  return parts.length > 1 ? parts.at(-1) : 'original';
}

function unit(v) {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  return Float32Array.from(v, (x) => x / n);
}

/**
 * Descriptors of images: unit-length Float32Arrays, in the order given.
 * @param onnxfx the onnxfx module ({createFeatureExtractor, imageToTensor})
 * @param model a loaded model
 * @param sources anything imageToTensor reads
 * @param onEach called as (index, milliseconds) after each image
 */
export async function describeAll(onnxfx, model, sources, onEach = () => {}) {
  const fx = await onnxfx.createFeatureExtractor(model, { returnNodes: [DESCRIPTOR_NODE] });
  const out = [];
  try {
    for (let i = 0; i < sources.length; i++) {
      const t0 = performance.now();
      const x = await onnxfx.imageToTensor(sources[i], PREPROCESS);
      const { [DESCRIPTOR_NODE]: d } = await fx.run(x);
      out.push(unit(d.data));
      onEach(i, performance.now() - t0);
    }
  } finally {
    await fx.dispose();
  }
  return out;
}

export function cosine(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * The gallery images nearest to `query` by cosine similarity, best first.
 * @param descriptors unit descriptors of the gallery
 * @param query index of the query in the gallery (left out of the answer)
 * @param among indices to rank (default: every other image)
 * @returns {{index: number, score: number}[]}
 */
export function nearest(descriptors, query, among = descriptors.map((_, i) => i)) {
  return among
    .filter((i) => i !== query)
    .map((i) => ({ index: i, score: cosine(descriptors[query], descriptors[i]) }))
    .sort((a, b) => b.score - a.score);
}

/**
 * For every transformed copy: its ranking among the originals and among the whole gallery.
 * @param files gallery file names (`photo.png`, `photo.flipped.png`, ...)
 */
export function evaluate(files, descriptors) {
  const originals = files.map((f, i) => (transformOf(f) === 'original' ? i : -1)).filter((i) => i >= 0);
  return files.flatMap((file, q) => {
    if (transformOf(file) === 'original') return [];
    const amongOriginals = nearest(descriptors, q, originals);
    const all = nearest(descriptors, q);
    return [{
      query: q, file, photo: photoOf(file), transform: transformOf(file),
      amongOriginals, all,
      originalFirst: photoOf(files[amongOriginals[0].index]) === photoOf(file),
    }];
  });
}
