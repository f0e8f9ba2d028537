// The SIMD ceilings of this engine and CPU, measured the way bench/kernels/bench-kernels.c measures
// its "SIMD128 peak", but from a WebAssembly module assembled here, so that the same probe runs in
// Node (with and without --experimental-wasm-relaxed-simd) and in a browser page (bench/run.mjs
// --only browser imports this file there):
//
//   simd128: 12 independent chains c = c*m + a of f32x4.mul + f32x4.add (the ceiling of the
//            SIMD128 kernels: wasm SIMD128 has no FMA), the best of a few instruction orders;
//   fma:     the same 12 chains as c = f32x4.relaxed_madd(c, m, a) (the ceiling of the
//            wasmrelaxedsimd_fma kernels of the relaxed builds); null where the engine has no
//            relaxed SIMD.
//
// 8 flops per chain step in both; GFLOP/s = best of 5 timings, each repeating the call for >= 0.1 s
// after a warm-up (bench-kernels.c's gflops()). 1 thread.
//
//   node [--experimental-wasm-relaxed-simd] bench/peak.mjs    prints {"simd128": G, "fma": G|null}
const CHAINS = 12;
const ITERS = 1000000;

const leb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n) => {
  const out = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
};
const section = (id, bytes) => [id, ...leb(bytes.length), ...bytes];
const vec = (items) => [...leb(items.length), ...items.flat()];

/** A module exporting peak(m, a, c, i) -> f32: the 12 chains from c, stepped from i up to ITERS;
 * the mul+add loop body in groups of `group` chains (its muls, then its adds). */
function peakModule(fma, group = 1) {
  const M = 4, A = 5, C = 6; // locals after the 4 params: m, a, c0..c11 (v128)
  const get = (i) => [0x20, i], set = (i) => [0x21, i];
  const SIMD = 0xfd, SPLAT = [SIMD, 0x13], ADD = [SIMD, ...leb(228)], MUL = [SIMD, ...leb(230)];
  const MADD = [SIMD, ...leb(261)]; // f32x4.relaxed_madd (standard opcode, as web/src/loader.js's probe)
  const body = [];
  body.push(...get(0), ...SPLAT, ...set(M), ...get(1), ...SPLAT, ...set(A), ...get(2), ...SPLAT, ...set(C));
  for (let k = 1; k < CHAINS; k++) body.push(...get(C), ...set(C + k));
  body.push(0x02, 0x40, 0x03, 0x40); // block, loop
  if (fma) {
    for (let k = 0; k < CHAINS; k++) body.push(...get(C + k), ...get(M), ...get(A), ...MADD, ...set(C + k));
  } else {
    for (let k0 = 0; k0 < CHAINS; k0 += group) {
      for (let k = k0; k < k0 + group; k++) body.push(...get(A), ...get(M), ...get(C + k), ...MUL);
      for (let k = k0 + group - 1; k >= k0; k--) body.push(...ADD, ...set(C + k));
    }
  }
  body.push(...get(3), 0x41, 1, 0x6a, 0x22, 3, 0x41, ...sleb(ITERS), 0x47, 0x0d, 0, 0x0b, 0x0b); // i += 1; br_if i != ITERS; end; end
  // the sum that keeps the chains alive, bench-kernels.c's tree ((c0+c1)+(c2+c3))+((c4+c5)+(c6+c7))
  // + ((c8+c9)+(c10+c11)). It matters: V8 orders the loop's instructions by their uses, and with a
  // linear sum it interleaved the muls and adds so that the same 24 instructions ran 15% slower
  // (47 instead of 56 GFLOP/s here); with the tree it issues them as bench-kernels' loop does.
  const pair = (k) => [...get(C + k), ...get(C + k + 1), ...ADD];
  const quad = (k) => [...pair(k), ...pair(k + 2), ...ADD];
  body.push(...quad(0), ...quad(4), ...ADD, ...quad(8), ...ADD);
  body.push(SIMD, 0x1f, 0, 0x0b); // f32x4.extract_lane 0; end
  const code = [...vec([[CHAINS + 2, 0x7b]]), ...body]; // one local entry: m, a and the chains, v128
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, 4, 0x7d, 0x7d, 0x7d, 0x7f, 1, 0x7d]])), // (f32 f32 f32 i32) -> f32
    ...section(3, vec([[0]])),
    ...section(7, vec([[...vec([...'peak'].map((ch) => ch.charCodeAt(0))), 0x00, 0]])),
    ...section(10, vec([[...leb(code.length), ...code]])),
  ]);
}

/** GFLOP/s of one probe; null when this engine does not compile it (relaxed SIMD off). */
export function measurePeak(fma, group) {
  const bytes = peakModule(fma, group);
  if (!WebAssembly.validate(bytes)) return null;
  const { peak } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
  const flops = 8 * CHAINS * ITERS; // 8 flops per f32x4 chain step
  const call = () => peak(0.9999999, 1e-7, 0.5, 0); // ITERS steps
  // warm-up long enough for the engine to tier the function up (a call cannot switch tiers midway)
  for (const t0 = performance.now(); performance.now() - t0 < 200;) call();
  let best = 0;
  for (let rep = 0; rep < 5; rep++) {
    let calls = 0, t;
    const t0 = performance.now();
    do {
      call();
      calls++;
    } while ((t = performance.now() - t0) < 100);
    best = Math.max(best, (flops * calls) / (t * 1e6));
  }
  return best;
}

/** Both ceilings, SIMD128 (mul+add) and FMA (relaxed_madd; null without relaxed SIMD). The
 * SIMD128 one is the best of a few orders of the same 24 instructions: engines schedule them
 * differently (Node 20's V8 ran every order at 56 GFLOP/s here; Chromium 156's ran chain by chain
 * at 47 and in pairs of chains at 57), and a ceiling is what the best order reaches. */
export function measurePeaks() {
  return { simd128: Math.max(...[1, 2, 4, 12].map((group) => measurePeak(false, group))), fma: measurePeak(true) };
}

if (typeof process === 'object' && process.argv?.[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(measurePeaks()));
}
