/* Tail stores shared by the wasmsimd kernels: write the first n (< 8 or < 4) lanes of one or
 * two accumulators without touching memory past them. */
#ifndef OFX_KERNELS_WASMSIMD_STORE_H
#define OFX_KERNELS_WASMSIMD_STORE_H

#include <stddef.h>
#include <wasm_simd128.h>

/* n < 4 lanes of v */
static inline void ofx_wasmsimd_store_tail4(float *c, v128_t v, size_t n) {
  if (n & 2) {
    wasm_v128_store64_lane(c, v, 0);
    v = wasm_i64x2_shuffle(v, v, 1, 1);
    c += 2;
  }
  if (n & 1) wasm_v128_store32_lane(c, v, 0);
}

/* n < 8 lanes of (lo, hi) */
static inline void ofx_wasmsimd_store_tail8(float *c, v128_t lo, v128_t hi, size_t n) {
  if (n & 4) {
    wasm_v128_store(c, lo);
    lo = hi;
    c += 4;
  }
  ofx_wasmsimd_store_tail4(c, lo, n & 3);
}

#endif
