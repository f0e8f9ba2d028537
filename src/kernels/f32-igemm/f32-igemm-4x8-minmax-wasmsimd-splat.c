/* 4x8 indirect GEMM, splat flavour: the 4x8 GEMM inner loop run once per kernel tap on the 4
 * rows' pointers for that tap. */
#if defined(__wasm_simd128__)
#include <stdint.h>
#include <wasm_simd128.h>

#include "kernels/f32-igemm/f32-igemm.h"
#include "kernels/wasmsimd-store.h"
#include "kernels/wasmsimd-barrier.h"

#define OFX_STEP(lane, wofs)                                                   \
  do {                                                                         \
    const v128_t vb0 = wasm_v128_load(w + (wofs));                             \
    const v128_t vb1 = wasm_v128_load(w + (wofs) + 4);                         \
    const v128_t va0c = wasm_i32x4_shuffle(va0, va0, lane, lane, lane, lane);  \
    const v128_t va1c = wasm_i32x4_shuffle(va1, va1, lane, lane, lane, lane);  \
    const v128_t va2c = wasm_i32x4_shuffle(va2, va2, lane, lane, lane, lane);  \
    const v128_t va3c = wasm_i32x4_shuffle(va3, va3, lane, lane, lane, lane);  \
    vacc0l = wasm_f32x4_add(vacc0l, wasm_f32x4_mul(va0c, vb0));                \
    vacc0h = wasm_f32x4_add(vacc0h, wasm_f32x4_mul(va0c, vb1));                \
    vacc1l = wasm_f32x4_add(vacc1l, wasm_f32x4_mul(va1c, vb0));                \
    vacc1h = wasm_f32x4_add(vacc1h, wasm_f32x4_mul(va1c, vb1));                \
    vacc2l = wasm_f32x4_add(vacc2l, wasm_f32x4_mul(va2c, vb0));                \
    vacc2h = wasm_f32x4_add(vacc2h, wasm_f32x4_mul(va2c, vb1));                \
    vacc3l = wasm_f32x4_add(vacc3l, wasm_f32x4_mul(va3c, vb0));                \
    vacc3h = wasm_f32x4_add(vacc3h, wasm_f32x4_mul(va3c, vb1));                \
    OFX_PIN_ACC8(vacc0l, vacc0h, vacc1l, vacc1h, vacc2l, vacc2h, vacc3l, vacc3h); \
  } while (0)

static inline const float *offset_ptr(const float *p, const float *zero, size_t a_offset) {
  return p == zero ? zero : (const float *)((uintptr_t)p + a_offset);
}

void ofx_f32_igemm_minmax_ukernel_4x8__wasmsimd_splat(size_t mr, size_t nc, size_t kc, size_t ks,
                                                      const float **a, const float *w, float *c,
                                                      size_t cm_stride, size_t cn_stride,
                                                      size_t a_offset, const float *zero,
                                                      const ofx_f32_minmax_params *params) {
  float *c0 = c;
  float *c1 = mr > 1 ? c0 + cm_stride : c0;
  float *c2 = mr > 2 ? c1 + cm_stride : c1;
  float *c3 = mr > 3 ? c2 + cm_stride : c2;
  const v128_t vmin = wasm_f32x4_splat(params->min);
  const v128_t vmax = wasm_f32x4_splat(params->max);
  do {
    v128_t vacc0l = wasm_v128_load(w), vacc0h = wasm_v128_load(w + 4);
    v128_t vacc1l = vacc0l, vacc1h = vacc0h, vacc2l = vacc0l, vacc2h = vacc0h;
    v128_t vacc3l = vacc0l, vacc3h = vacc0h;
    w += 8;
    const float **ap = a;
    for (size_t t = ks; t != 0; t--) {
      const float *a0 = offset_ptr(ap[0], zero, a_offset);
      const float *a1 = offset_ptr(ap[1], zero, a_offset);
      const float *a2 = offset_ptr(ap[2], zero, a_offset);
      const float *a3 = offset_ptr(ap[3], zero, a_offset);
      ap += 4;
      size_t k = kc;
      for (; k >= 4; k -= 4) {
        const v128_t va0 = wasm_v128_load(a0);
        const v128_t va1 = wasm_v128_load(a1);
        const v128_t va2 = wasm_v128_load(a2);
        const v128_t va3 = wasm_v128_load(a3);
        a0 += 4, a1 += 4, a2 += 4, a3 += 4;
        OFX_STEP(0, 0);
        OFX_STEP(1, 8);
        OFX_STEP(2, 16);
        OFX_STEP(3, 24);
        w += 32;
      }
      for (; k != 0; k--) {
        const v128_t va0 = wasm_v128_load32_splat(a0++);
        const v128_t va1 = wasm_v128_load32_splat(a1++);
        const v128_t va2 = wasm_v128_load32_splat(a2++);
        const v128_t va3 = wasm_v128_load32_splat(a3++);
        OFX_STEP(0, 0);
        w += 8;
      }
    }
    vacc0l = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc0l, vmin), vmax);
    vacc0h = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc0h, vmin), vmax);
    vacc1l = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc1l, vmin), vmax);
    vacc1h = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc1h, vmin), vmax);
    vacc2l = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc2l, vmin), vmax);
    vacc2h = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc2h, vmin), vmax);
    vacc3l = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc3l, vmin), vmax);
    vacc3h = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc3h, vmin), vmax);
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
