/* The body of the wasmrelaxedsimd c4 8-bit GEMM kernels (q8-gemm.h), for MR rows and NB
 * vectors of 4 columns: the kernel files instantiate it with constants, and clang unrolls the
 * row and column loops into registers. Per group of 4 K steps and row, one 32-bit load splats
 * the row's 4 bytes; per 4 columns one relaxed dot against the 7-bit low parts and one against
 * the high bits, on separate accumulators (their sum needs the high one times 128).
 *
 * Not configured in any build: bench-kernels-relaxed.js q8 (node 20, V8 11.3, x86-64 with
 * AVX-512 VNNI but not AVX-VNNI, machine shared), one thread, GOP/s:
 *                          M=3136 N=64 K=576   M=196 N=256 K=2304
 *   4x8c2 wasmsimd_dot16x2       83.2              84.6
 *   2x8c4 relaxed_dot            42.1              42.7
 *   4x4c4 relaxed_dot            41.6              42.3
 * V8 lowers the relaxed dot to pmaddubsw + pmaddwd(ones) + paddd: two multiply uops for 16
 * byte products, as dot_i16x8's one pmaddwd does for 8, and the 7-bit split needs two relaxed
 * dots per 16 weights (lo and hi), so both run at the multiply ports' rate and the split pays
 * it twice: half the speed. With vpdpbusd (AVX-VNNI, newer V8) it would tie; only ARM's sdot
 * (one instruction per 16 products against dot_i16x8's smull pairs) could come out ahead.
 * Node 20's baseline tier (Liftoff) also computes the instruction wrong when the
 * accumulator's register is free after the pop (dot + dot, the accumulator lost; the optimizing
 * tier is right): wiring these kernels in needs engines without that bug, or a way around it. */
#ifndef OFX_KERNELS_Q8C4_GEMM_WASMRELAXEDSIMD_H
#define OFX_KERNELS_Q8C4_GEMM_WASMRELAXEDSIMD_H

#include <wasm_simd128.h>

#include "kernels/q8-gemm/q8-gemm-wasmsimd.h"
#include "kernels/q8-gemm/q8-gemm.h"
#include "kernels/wasmrelaxedsimd.h"
#include "kernels/wasmsimd-store.h"

/* sum of n (a multiple of 4) int8 values, in every lane */
static inline v128_t ofx_q8c4_row_sum(const int8_t *a, size_t n) {
  const v128_t ones = wasm_i8x16_splat(1);
  v128_t acc = wasm_i32x4_const_splat(0);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) acc = ofx_i32x4_relaxed_dot_i8x16_i7x16_add(wasm_v128_load(a + i), ones, acc);
  for (; i < n; i += 4) acc = ofx_i32x4_relaxed_dot_i8x16_i7x16_add(wasm_v128_load32_zero(a + i), ones, acc);
  acc = wasm_i32x4_add(acc, wasm_i32x4_shuffle(acc, acc, 2, 3, 0, 1));
  return wasm_i32x4_add(acc, wasm_i32x4_shuffle(acc, acc, 1, 0, 3, 2));
}

static inline __attribute__((always_inline)) void ofx_q8c4_gemm_wasmrelaxedsimd(
    const size_t MR, const size_t NB, size_t mr, size_t nc, size_t kc, const int8_t *a, size_t a_stride,
    int32_t a_zero_point, const void *w, float *c, size_t cm_stride, size_t cn_stride, const ofx_f32_minmax_params *params) {
  const size_t NR = 4 * NB, groups = (kc + 3) / 4;
  const int8_t *ar[MR];
  float *cr[MR];
  v128_t rsum[MR];
  /* rows past mr alias the previous row: same values stored twice to the same place */
  for (size_t i = 0; i < MR; i++) {
    ar[i] = i == 0 ? a : i < mr ? ar[i - 1] + a_stride : ar[i - 1];
    cr[i] = i == 0 ? c : i < mr ? cr[i - 1] + cm_stride : cr[i - 1];
    rsum[i] = ofx_q8c4_row_sum(ar[i], 4 * groups);
  }
  const v128_t vzs = wasm_i32x4_splat(a_zero_point);
  const v128_t vmin = wasm_f32x4_splat(params->min), vmax = wasm_f32x4_splat(params->max);
  const char *wb = w;
  for (;;) {
    const float *head = (const float *)wb;
    const int8_t *wk = (const int8_t *)(head + 4 * NR);
    v128_t lo[MR][NB], hi[MR][NB];
    for (size_t i = 0; i < MR; i++)
      for (size_t b = 0; b < NB; b++) lo[i][b] = hi[i][b] = wasm_i32x4_const_splat(0);
    for (size_t g = 0; g < groups; g++) {
      v128_t wl[NB], wh[NB];
      for (size_t b = 0; b < NB; b++) wl[b] = wasm_v128_load(wk + 16 * b), wh[b] = wasm_v128_load(wk + 16 * (NB + b));
      wk += 32 * NB;
      for (size_t i = 0; i < MR; i++) {
        const v128_t va = wasm_v128_load32_splat(ar[i] + 4 * g);
        for (size_t b = 0; b < NB; b++) {
          lo[i][b] = ofx_i32x4_relaxed_dot_i8x16_i7x16_add(va, wl[b], lo[i][b]);
          hi[i][b] = ofx_i32x4_relaxed_dot_i8x16_i7x16_add(va, wh[b], hi[i][b]);
        }
      }
    }
    v128_t y[MR][NB];
    for (size_t b = 0; b < NB; b++) {
      const v128_t scale = wasm_v128_load(head + 4 * b), bias = wasm_v128_load(head + NR + 4 * b);
      const v128_t zv = wasm_v128_load(head + 2 * NR + 4 * b), zc = wasm_i32x4_mul(vzs, wasm_v128_load(head + 3 * NR + 4 * b));
      for (size_t i = 0; i < MR; i++) {
        /* lo + 128 hi - zv R - zs C: wrapping int32, exact since the result fits (K <= 32767) */
        v128_t acc = wasm_i32x4_add(lo[i][b], wasm_i32x4_shl(hi[i][b], 7));
        acc = wasm_i32x4_sub(acc, wasm_i32x4_add(wasm_i32x4_mul(zv, rsum[i]), zc));
        y[i][b] = ofx_q8_dequantize(acc, scale, bias, vmin, vmax);
      }
    }
    if (nc >= NR) {
      /* highest row first: aliased rows then end with row 0's values, like the scalar one */
      for (size_t i = MR; i-- > 0;) {
        for (size_t b = 0; b < NB; b++) wasm_v128_store(cr[i] + 4 * b, y[i][b]);
        cr[i] += cn_stride;
      }
      wb = (const char *)wk;
      nc -= NR;
      if (nc == 0) return;
    } else {
      for (size_t i = MR; i-- > 0;) {
        if (NB == 2)
          ofx_wasmsimd_store_tail8(cr[i], y[i][0], y[i][1], nc);
        else
          ofx_wasmsimd_store_tail4(cr[i], y[i][0], nc);
      }
      return;
    }
  }
}

#endif
