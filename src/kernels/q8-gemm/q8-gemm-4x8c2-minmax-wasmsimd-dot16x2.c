/* 4x8 8-bit GEMM, K in pairs: per pair and row one 32-bit load splats (a[k], a[k+1]) over the
 * eight int16 lanes, and i32x4.dot_i16x8_s against two vectors of four columns' (w[k], w[k+1])
 * sums both products into each column's int32 accumulator: 16 dot+add pairs for 64
 * multiply-adds per K pair (float32's 4x8 kernel needs 64 mul+add pairs for the same). */
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "kernels/q8-gemm/q8-gemm-wasmsimd.h"
#include "kernels/q8-gemm/q8-gemm.h"
#include "kernels/wasmsimd-store.h"

#define OFX_DOT(acc, va, vb) acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(va, vb))

void ofx_q8_gemm_minmax_ukernel_4x8c2__wasmsimd_dot16x2(size_t mr, size_t nc, size_t kc, const int16_t *a,
                                                        size_t a_stride, const void *w, float *c, size_t cm_stride,
                                                        size_t cn_stride, const ofx_f32_minmax_params *params) {
  /* rows past mr alias the previous row: same values stored twice to the same place */
  const int16_t *a0 = a, *a1 = mr > 1 ? a0 + a_stride : a0, *a2 = mr > 2 ? a1 + a_stride : a1;
  const int16_t *a3 = mr > 3 ? a2 + a_stride : a2;
  float *c0 = c, *c1 = mr > 1 ? c0 + cm_stride : c0, *c2 = mr > 2 ? c1 + cm_stride : c1;
  float *c3 = mr > 3 ? c2 + cm_stride : c2;
  const v128_t vmin = wasm_f32x4_splat(params->min), vmax = wasm_f32x4_splat(params->max);
  const size_t groups = (kc + 1) / 2;
  const char *wb = w;
  for (;;) {
    const float *head = (const float *)wb;
    const int16_t *wk = (const int16_t *)(wb + 16 * sizeof(float));
    v128_t acc0l = wasm_i32x4_const_splat(0), acc0h = acc0l, acc1l = acc0l, acc1h = acc0l;
    v128_t acc2l = acc0l, acc2h = acc0l, acc3l = acc0l, acc3h = acc0l;
    for (size_t g = 0; g < groups; g++) {
      const v128_t vb0 = wasm_v128_load(wk), vb1 = wasm_v128_load(wk + 8);
      wk += 16;
      const v128_t va0 = wasm_v128_load32_splat(a0 + 2 * g), va1 = wasm_v128_load32_splat(a1 + 2 * g);
      const v128_t va2 = wasm_v128_load32_splat(a2 + 2 * g), va3 = wasm_v128_load32_splat(a3 + 2 * g);
      OFX_DOT(acc0l, va0, vb0);
      OFX_DOT(acc0h, va0, vb1);
      OFX_DOT(acc1l, va1, vb0);
      OFX_DOT(acc1h, va1, vb1);
      OFX_DOT(acc2l, va2, vb0);
      OFX_DOT(acc2h, va2, vb1);
      OFX_DOT(acc3l, va3, vb0);
      OFX_DOT(acc3h, va3, vb1);
    }
    const v128_t sl = wasm_v128_load(head), sh = wasm_v128_load(head + 4);
    const v128_t bl = wasm_v128_load(head + 8), bh = wasm_v128_load(head + 12);
    const v128_t y0l = ofx_q8_dequantize(acc0l, sl, bl, vmin, vmax), y0h = ofx_q8_dequantize(acc0h, sh, bh, vmin, vmax);
    const v128_t y1l = ofx_q8_dequantize(acc1l, sl, bl, vmin, vmax), y1h = ofx_q8_dequantize(acc1h, sh, bh, vmin, vmax);
    const v128_t y2l = ofx_q8_dequantize(acc2l, sl, bl, vmin, vmax), y2h = ofx_q8_dequantize(acc2h, sh, bh, vmin, vmax);
    const v128_t y3l = ofx_q8_dequantize(acc3l, sl, bl, vmin, vmax), y3h = ofx_q8_dequantize(acc3h, sh, bh, vmin, vmax);
    if (nc >= 8) {
      /* highest row first: aliased rows then end with row 0's values, like the scalar one */
      wasm_v128_store(c3, y3l), wasm_v128_store(c3 + 4, y3h);
      wasm_v128_store(c2, y2l), wasm_v128_store(c2 + 4, y2h);
      wasm_v128_store(c1, y1l), wasm_v128_store(c1 + 4, y1h);
      wasm_v128_store(c0, y0l), wasm_v128_store(c0 + 4, y0h);
      c0 += cn_stride, c1 += cn_stride, c2 += cn_stride, c3 += cn_stride;
      wb = (const char *)wk;
      nc -= 8;
      if (nc == 0) return;
    } else {
      ofx_wasmsimd_store_tail8(c3, y3l, y3h, nc);
      ofx_wasmsimd_store_tail8(c2, y2l, y2h, nc);
      ofx_wasmsimd_store_tail8(c1, y1l, y1h, nc);
      ofx_wasmsimd_store_tail8(c0, y0l, y0h, nc);
      return;
    }
  }
}
#endif
