/* 1x8 GEMM for single rows (M = 1 Gemm, row tails): like 4x8 splat with one row; bound by
 * the weight stream rather than by arithmetic. */
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/wasmsimd-store.h"

void ofx_f32_gemm_minmax_ukernel_1x8__wasmsimd_splat(size_t mr, size_t nc, size_t kc,
                                                     const float *a, size_t a_stride,
                                                     const float *w, float *c, size_t cm_stride,
                                                     size_t cn_stride,
                                                     const ofx_f32_minmax_params *params) {
  const v128_t vmin = wasm_f32x4_splat(params->min);
  const v128_t vmax = wasm_f32x4_splat(params->max);
  do {
    v128_t vaccl = wasm_v128_load(w), vacch = wasm_v128_load(w + 4);
    /* a second accumulator pair halves the add dependency chain */
    v128_t vacc2l = wasm_f32x4_splat(0.0f), vacc2h = vacc2l;
    w += 8;
    const float *ak = a;
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
      vacc2l = wasm_f32x4_add(vacc2l, wasm_f32x4_mul(va1, wasm_v128_load(w + 8)));
      vacc2h = wasm_f32x4_add(vacc2h, wasm_f32x4_mul(va1, wasm_v128_load(w + 12)));
      vaccl = wasm_f32x4_add(vaccl, wasm_f32x4_mul(va2, wasm_v128_load(w + 16)));
      vacch = wasm_f32x4_add(vacch, wasm_f32x4_mul(va2, wasm_v128_load(w + 20)));
      vacc2l = wasm_f32x4_add(vacc2l, wasm_f32x4_mul(va3, wasm_v128_load(w + 24)));
      vacc2h = wasm_f32x4_add(vacc2h, wasm_f32x4_mul(va3, wasm_v128_load(w + 28)));
      w += 32;
    }
    for (; k != 0; k--) {
      const v128_t va = wasm_v128_load32_splat(ak++);
      vaccl = wasm_f32x4_add(vaccl, wasm_f32x4_mul(va, wasm_v128_load(w)));
      vacch = wasm_f32x4_add(vacch, wasm_f32x4_mul(va, wasm_v128_load(w + 4)));
      w += 8;
    }
    vaccl = wasm_f32x4_add(vaccl, vacc2l);
    vacch = wasm_f32x4_add(vacch, vacc2h);
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
