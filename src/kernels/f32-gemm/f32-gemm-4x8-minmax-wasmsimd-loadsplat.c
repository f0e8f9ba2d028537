/* 4x8 GEMM, "loadsplat" flavour: one broadcast load of A per row and K step (v128.load32_splat)
 * instead of a vector load plus shuffles; fewer live registers, more loads. Kept to compare
 * against the splat flavour on each engine. */
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/wasmsimd-store.h"
#include "kernels/wasmsimd-barrier.h"

#define OFX_LOADSPLAT_STEP(kk)                                        \
  do {                                                                \
    const v128_t va0 = wasm_v128_load32_splat(a0 + (kk));             \
    const v128_t va1 = wasm_v128_load32_splat(a1 + (kk));             \
    const v128_t va2 = wasm_v128_load32_splat(a2 + (kk));             \
    const v128_t va3 = wasm_v128_load32_splat(a3 + (kk));             \
    const v128_t vb0 = wasm_v128_load(w + 8 * (kk));                  \
    const v128_t vb1 = wasm_v128_load(w + 8 * (kk) + 4);              \
    vacc0l = wasm_f32x4_add(vacc0l, wasm_f32x4_mul(va0, vb0));        \
    vacc0h = wasm_f32x4_add(vacc0h, wasm_f32x4_mul(va0, vb1));        \
    vacc1l = wasm_f32x4_add(vacc1l, wasm_f32x4_mul(va1, vb0));        \
    vacc1h = wasm_f32x4_add(vacc1h, wasm_f32x4_mul(va1, vb1));        \
    vacc2l = wasm_f32x4_add(vacc2l, wasm_f32x4_mul(va2, vb0));        \
    vacc2h = wasm_f32x4_add(vacc2h, wasm_f32x4_mul(va2, vb1));        \
    vacc3l = wasm_f32x4_add(vacc3l, wasm_f32x4_mul(va3, vb0));        \
    vacc3h = wasm_f32x4_add(vacc3h, wasm_f32x4_mul(va3, vb1));        \
    OFX_PIN_ACC8(vacc0l, vacc0h, vacc1l, vacc1h, vacc2l, vacc2h, vacc3l, vacc3h); \
  } while (0)

void ofx_f32_gemm_minmax_ukernel_4x8__wasmsimd_loadsplat(size_t mr, size_t nc, size_t kc,
                                                         const float *a, size_t a_stride,
                                                         const float *w, float *c,
                                                         size_t cm_stride, size_t cn_stride,
                                                         const ofx_f32_minmax_params *params) {
  const float *a0 = a;
  float *c0 = c;
  const float *a1 = mr > 1 ? a0 + a_stride : a0;
  float *c1 = mr > 1 ? c0 + cm_stride : c0;
  const float *a2 = mr > 2 ? a1 + a_stride : a1;
  float *c2 = mr > 2 ? c1 + cm_stride : c1;
  const float *a3 = mr > 3 ? a2 + a_stride : a2;
  float *c3 = mr > 3 ? c2 + cm_stride : c2;
  const v128_t vmin = wasm_f32x4_splat(params->min);
  const v128_t vmax = wasm_f32x4_splat(params->max);
  do {
    v128_t vacc0l = wasm_v128_load(w), vacc0h = wasm_v128_load(w + 4);
    v128_t vacc1l = vacc0l, vacc1h = vacc0h, vacc2l = vacc0l, vacc2h = vacc0h;
    v128_t vacc3l = vacc0l, vacc3h = vacc0h;
    w += 8;
    size_t k = kc;
    /* K unrolled by 4 with constant offsets: V8 folds them into the addressing modes, so the
     * loop carries 64 mul/add per 6 pointer/counter updates instead of 16 per 6 */
    for (; k >= 4; k -= 4) {
      OFX_LOADSPLAT_STEP(0);
      OFX_LOADSPLAT_STEP(1);
      OFX_LOADSPLAT_STEP(2);
      OFX_LOADSPLAT_STEP(3);
      a0 += 4, a1 += 4, a2 += 4, a3 += 4;
      w += 32;
    }
    for (; k != 0; k--) {
      OFX_LOADSPLAT_STEP(0);
      a0++, a1++, a2++, a3++;
      w += 8;
    }
    vacc0l = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc0l, vmin), vmax);
    vacc0h = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc0h, vmin), vmax);
    vacc1l = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc1l, vmin), vmax);
    vacc1h = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc1h, vmin), vmax);
    vacc2l = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc2l, vmin), vmax);
    vacc2h = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc2h, vmin), vmax);
    vacc3l = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc3l, vmin), vmax);
    vacc3h = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc3h, vmin), vmax);
    a0 -= kc, a1 -= kc, a2 -= kc, a3 -= kc;
    if (nc >= 8) {
      wasm_v128_store(c3, vacc3l), wasm_v128_store(c3 + 4, vacc3h);
      wasm_v128_store(c2, vacc2l), wasm_v128_store(c2 + 4, vacc2h);
      wasm_v128_store(c1, vacc1l), wasm_v128_store(c1 + 4, vacc1h);
      wasm_v128_store(c0, vacc0l), wasm_v128_store(c0 + 4, vacc0h);
      c0 += cn_stride, c1 += cn_stride, c2 += cn_stride, c3 += cn_stride;
      nc -= 8;
    } else {
      ofx_wasmsimd_store_tail8(c3, vacc3l, vacc3h, nc);
      ofx_wasmsimd_store_tail8(c2, vacc2l, vacc2h, nc);
      ofx_wasmsimd_store_tail8(c1, vacc1l, vacc1h, nc);
      ofx_wasmsimd_store_tail8(c0, vacc0l, vacc0h, nc);
      nc = 0;
    }
  } while (nc != 0);
}
#endif
