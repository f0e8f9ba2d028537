/* wasmsimd unary ops, 8 floats per iteration (two independent vectors), then 4, then the
 * remaining lanes through a zero-padded 4-float buffer (no access past n). */
#if defined(__wasm_simd128__)
#include <string.h>
#include <wasm_simd128.h>

#include "kernels/f32-vunary/f32-vunary.h"

#define OFX_VUNARY_LOOP(F)                                                        \
  size_t i = 0;                                                                   \
  for (; i + 8 <= n; i += 8) {                                                    \
    const v128_t r0 = F(wasm_v128_load(in + i));                                  \
    const v128_t r1 = F(wasm_v128_load(in + i + 4));                              \
    wasm_v128_store(out + i, r0);                                                 \
    wasm_v128_store(out + i + 4, r1);                                             \
  }                                                                               \
  for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, F(wasm_v128_load(in + i))); \
  if (i < n) {                                                                    \
    float buf[4] = {0, 0, 0, 0};                                                  \
    memcpy(buf, in + i, (n - i) * sizeof(float));                                 \
    wasm_v128_store(buf, F(wasm_v128_load(buf)));                                 \
    memcpy(out + i, buf, (n - i) * sizeof(float));                                \
  }

void ofx_f32_vclamp__wasmsimd_u8(size_t n, const float *in, float *out, float min, float max) {
  const v128_t vmin = wasm_f32x4_splat(min), vmax = wasm_f32x4_splat(max);
#define CLAMP(v) wasm_f32x4_pmin(wasm_f32x4_pmax((v), vmin), vmax)
  OFX_VUNARY_LOOP(CLAMP)
#undef CLAMP
}

/* e^z for z <= 0: z = n*ln2 + r with |r| <= ln2/2, e^r by a degree-6 Taylor polynomial
 * (error < 4e-8), 2^n built in the exponent bits. z is clamped at -87 so 2^n stays normal;
 * sigmoid there is below 1e-37 anyway. */
static inline v128_t exp_nonpositive(v128_t z) {
  z = wasm_f32x4_pmax(z, wasm_f32x4_splat(-87.0f));
  const v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(z, wasm_f32x4_splat(1.44269504f)));
  v128_t r = wasm_f32x4_sub(z, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693145752f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(1.42860677e-6f)));
  v128_t p = wasm_f32x4_splat(1.0f / 720.0f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 120.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 24.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 6.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.5f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
  const v128_t scale =
      wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, scale);
}

/* sigmoid(x) = f for x <= 0 and 1 - f for x > 0, f = e/(1+e), e = exp(-|x|): never overflows */
static inline v128_t sigmoid4(v128_t x) {
  const v128_t e = exp_nonpositive(wasm_f32x4_neg(wasm_f32x4_abs(x)));
  const v128_t f = wasm_f32x4_div(e, wasm_f32x4_add(wasm_f32x4_splat(1.0f), e));
  return wasm_v128_bitselect(wasm_f32x4_sub(wasm_f32x4_splat(1.0f), f), f,
                             wasm_f32x4_gt(x, wasm_f32x4_splat(0.0f)));
}

void ofx_f32_vsigmoid__wasmsimd_u8(size_t n, const float *in, float *out) {
  OFX_VUNARY_LOOP(sigmoid4)
}

static inline v128_t hardswish4(v128_t x) {
  v128_t g = wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(1.0f / 6.0f)), wasm_f32x4_splat(0.5f));
  g = wasm_f32x4_pmin(wasm_f32x4_pmax(g, wasm_f32x4_splat(0.0f)), wasm_f32x4_splat(1.0f));
  return wasm_f32x4_mul(x, g);
}

void ofx_f32_vhardswish__wasmsimd_u8(size_t n, const float *in, float *out) {
  OFX_VUNARY_LOOP(hardswish4)
}
#endif
