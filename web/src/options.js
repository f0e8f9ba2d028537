/**
 * Option objects are checked by name: a misspelled option (`numThread`, `size`) is an error
 * naming the closest known ones, not silently ignored. `closeMatches` also serves node names.
 */
import { OnnxfxError } from './errors.js';

/** Levenshtein distance, with a cap: stops counting past `limit`. */
function distance(a, b, limit) {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(v);
      best = Math.min(best, v);
    }
    if (best > limit) return limit + 1;
    prev = row;
  }
  return prev[b.length];
}

/**
 * Up to `max` candidates close to `name`: the same ignoring case, then by edit distance (at
 * most a third of the name's length, at least 2), ties in the candidates' order.
 * @param {string} name
 * @param {Iterable<string>} candidates
 * @returns {string[]}
 */
export function closeMatches(name, candidates, max = 3) {
  const limit = Math.max(2, Math.floor(name.length / 3));
  const lower = name.toLowerCase();
  const scored = [];
  for (const c of candidates) {
    if (c === name) continue;
    const d = c.toLowerCase() === lower ? 0 : distance(lower, c.toLowerCase(), limit);
    if (d <= limit) scored.push([d, scored.length, c]);
  }
  scored.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  return [...new Set(scored.map(([, , c]) => c))].slice(0, max);
}

/** "'a', 'b' or 'c'" */
export function quoteList(names, last = 'or') {
  const q = names.map((n) => `'${n}'`);
  return q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')} ${last} ${q.at(-1)}`;
}

/**
 * Throws INVALID_ARGUMENT for an option name `known` does not list, saying which it may have
 * meant, or listing them all. Options whose value is undefined count as absent.
 * @param {object | null | undefined} options
 * @param {readonly string[]} known
 * @param {string} where e.g. 'loadModel'
 */
export function checkOptionNames(options, known, where) {
  if (options == null) return;
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new OnnxfxError('INVALID_ARGUMENT', `${where} options must be an object, got ${Array.isArray(options) ? 'an array' : typeof options}`);
  }
  for (const name of Object.keys(options)) {
    if (known.includes(name) || options[name] === undefined) continue;
    const near = closeMatches(name, known);
    throw new OnnxfxError('INVALID_ARGUMENT', `${where}: unknown option '${name}'` +
      (near.length ? `; did you mean ${quoteList(near)}?` : `; the options are ${quoteList(known, 'and')}`));
  }
}

/** The values of loadModel's `weights` option: how packed weights are stored. */
export const WEIGHT_STORAGE = /** @type {const} */ (['float32', 'float16']);

/**
 * Throws INVALID_ARGUMENT unless `weights` is undefined or one of WEIGHT_STORAGE.
 * @param {unknown} weights
 */
export function checkWeightsOption(weights) {
  if (weights === undefined || WEIGHT_STORAGE.includes(/** @type {any} */ (weights))) return;
  throw new OnnxfxError('INVALID_ARGUMENT', `loadModel: weights must be ${quoteList([...WEIGHT_STORAGE])}, got ${typeof weights === 'string' ? `'${weights}'` : String(weights)}`);
}

/** The values of loadModel's `simd` option (web/src/loader.js picks the build). */
export const SIMD_LEVELS = /** @type {const} */ (['auto', 'relaxed', 'simd128']);

/**
 * Throws INVALID_ARGUMENT unless `simd` is undefined or one of SIMD_LEVELS.
 * @param {unknown} simd
 */
export function checkSimdOption(simd) {
  if (simd === undefined || SIMD_LEVELS.includes(/** @type {any} */ (simd))) return;
  const near = typeof simd === 'string' ? closeMatches(simd, SIMD_LEVELS) : [];
  throw new OnnxfxError('INVALID_ARGUMENT', `loadModel: simd must be ${quoteList([...SIMD_LEVELS])}, got ${typeof simd === 'string' ? `'${simd}'` : String(simd)}` +
    (near.length ? `; did you mean ${quoteList(near)}?` : ''));
}
