/* 1x8 8-bit GEMM, K in pairs (see the 4x8 kernel): for M = 1 (a Linear layer on one image) and
 * leftover rows, where the 4x8 kernel would compute three aliased rows for nothing. Two K pairs
 * per iteration on separate accumulators hide the dot+add latency. */
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "kernels/q8-gemm/q8-gemm-wasmsimd.h"
#include "kernels/q8-gemm/q8-gemm.h"
#include "kernels/wasmsimd-store.h"

void ofx_q8_gemm_minmax_ukernel_1x8c2__wasmsimd_dot16x2(size_t mr, size_t nc, size_t kc, const int16_t *a,
                                                        size_t a_stride, const void *w, float *c, size_t cm_stride,
                                                        size_t cn_stride, const ofx_f32_minmax_params *params) {
  (void)mr, (void)a_stride, (void)cm_stride;
  const v128_t vmin = wasm_f32x4_splat(params->min), vmax = wasm_f32x4_splat(params->max);
  const size_t groups = (kc + 1) / 2;
  const char *wb = w;
  for (;;) {
    const float *head = (const float *)wb;
    const int16_t *wk = (const int16_t *)(wb + 16 * sizeof(float));
    v128_t accl = wasm_i32x4_const_splat(0), acch = accl, acc2l = accl, acc2h = accl;
    size_t g = 0;
    for (; g + 2 <= groups; g += 2) {
      const v128_t va = wasm_v128_load32_splat(a + 2 * g), vb = wasm_v128_load32_splat(a + 2 * g + 2);
      accl = wasm_i32x4_add(accl, wasm_i32x4_dot_i16x8(va, wasm_v128_load(wk)));
      acch = wasm_i32x4_add(acch, wasm_i32x4_dot_i16x8(va, wasm_v128_load(wk + 8)));
      acc2l = wasm_i32x4_add(acc2l, wasm_i32x4_dot_i16x8(vb, wasm_v128_load(wk + 16)));
      acc2h = wasm_i32x4_add(acc2h, wasm_i32x4_dot_i16x8(vb, wasm_v128_load(wk + 24)));
      wk += 32;
    }
    if (g < groups) {
      const v128_t va = wasm_v128_load32_splat(a + 2 * g);
      accl = wasm_i32x4_add(accl, wasm_i32x4_dot_i16x8(va, wasm_v128_load(wk)));
      acch = wasm_i32x4_add(acch, wasm_i32x4_dot_i16x8(va, wasm_v128_load(wk + 8)));
      wk += 16;
    }
    accl = wasm_i32x4_add(accl, acc2l);
    acch = wasm_i32x4_add(acch, acc2h);
    const v128_t yl = ofx_q8_dequantize(accl, wasm_v128_load(head), wasm_v128_load(head + 8), vmin, vmax);
    const v128_t yh = ofx_q8_dequantize(acch, wasm_v128_load(head + 4), wasm_v128_load(head + 12), vmin, vmax);
    if (nc >= 8) {
      wasm_v128_store(c, yl), wasm_v128_store(c + 4, yh);
      c += cn_stride;
      wb = (const char *)wk;
      nc -= 8;
      if (nc == 0) return;
    } else {
      ofx_wasmsimd_store_tail8(c, yl, yh, nc);
      return;
    }
  }
}
#endif
