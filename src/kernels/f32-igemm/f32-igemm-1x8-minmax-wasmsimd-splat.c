/* 1x8 indirect GEMM for indirection buffers built with mr = 1 (single-pixel outputs). */
#if defined(__wasm_simd128__)
#include <stdint.h>
#include <wasm_simd128.h>

#include "kernels/f32-igemm/f32-igemm.h"
#include "kernels/wasmsimd-store.h"

void ofx_f32_igemm_minmax_ukernel_1x8__wasmsimd_splat(size_t mr, size_t nc, size_t kc, size_t ks,
                                                      const float **a, const float *w, float *c,
                                                      size_t cm_stride, size_t cn_stride,
                                                      size_t a_offset, const float *zero,
                                                      const ofx_f32_minmax_params *params) {
  const v128_t vmin = wasm_f32x4_splat(params->min);
  const v128_t vmax = wasm_f32x4_splat(params->max);
  do {
    v128_t vaccl = wasm_v128_load(w), vacch = wasm_v128_load(w + 4);
    w += 8;
    for (size_t t = 0; t < ks; t++) {
      const float *p = a[t];
      const float *ak = p == zero ? zero : (const float *)((uintptr_t)p + a_offset);
      size_t k = kc;
      for (; k >= 4; k -= 4) {
        const v128_t va = wasm_v128_load(ak);
        ak += 4;
        const v128_t va0 = wasm_i32x4_shuffle(va, va, 0, 0, 0, 0);
        const v128_t va1 = wasm_i32x4_shuffle(va, va, 1, 1, 1, 1);
        const v128_t va2 = wasm_i32x4_shuffle(va, va, 2, 2, 2, 2);
        const v128_t va3 = wasm_i32x4_shuffle(va, va, 3, 3, 3, 3);
        vaccl = wasm_f32x4_add(vaccl, wasm_f32x4_mul(va0, wasm_v128_load(w)));
        vacch = wasm_f32x4_add(vacch, wasm_f32x4_mul(va0, wasm_v128_load(w + 4)));
        vaccl = wasm_f32x4_add(vaccl, wasm_f32x4_mul(va1, wasm_v128_load(w + 8)));
        vacch = wasm_f32x4_add(vacch, wasm_f32x4_mul(va1, wasm_v128_load(w + 12)));
        vaccl = wasm_f32x4_add(vaccl, wasm_f32x4_mul(va2, wasm_v128_load(w + 16)));
        vacch = wasm_f32x4_add(vacch, wasm_f32x4_mul(va2, wasm_v128_load(w + 20)));
        vaccl = wasm_f32x4_add(vaccl, wasm_f32x4_mul(va3, wasm_v128_load(w + 24)));
        vacch = wasm_f32x4_add(vacch, wasm_f32x4_mul(va3, wasm_v128_load(w + 28)));
        w += 32;
      }
      for (; k != 0; k--) {
        const v128_t va = wasm_v128_load32_splat(ak++);
        vaccl = wasm_f32x4_add(vaccl, wasm_f32x4_mul(va, wasm_v128_load(w)));
        vacch = wasm_f32x4_add(vacch, wasm_f32x4_mul(va, wasm_v128_load(w + 4)));
        w += 8;
      }
    }
    vaccl = wasm_f32x4_pmin(wasm_f32x4_pmax(vaccl, vmin), vmax);
    vacch = wasm_f32x4_pmin(wasm_f32x4_pmax(vacch, vmin), vmax);
    if (nc >= 8) {
      wasm_v128_store(c, vaccl);
      wasm_v128_store(c + 4, vacch);
      c += cn_stride;
      nc -= 8;
    } else {
      ofx_wasmsimd_store_tail8(c, vaccl, vacch, nc);
      nc = 0;
    }
  } while (nc != 0);
}
#endif
