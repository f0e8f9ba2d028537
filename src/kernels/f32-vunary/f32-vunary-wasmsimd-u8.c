/* wasmsimd unary ops, 8 floats per iteration (two independent vectors), then 4, then the
 * remaining lanes through a zero-padded 4-float buffer (no access past n). */
#if defined(__wasm_simd128__)
#include <math.h>
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
 * sigmoid there is below 1e-37 anyway. n is rounded by adding 1.5*2^23 + 127: the sum's low
 * mantissa bits are then n + 127, shifted into the exponent field as they are. */
static inline v128_t exp_nonpositive(v128_t z) {
  const v128_t magic = wasm_f32x4_splat(12583039.0f);
  z = wasm_f32x4_pmax(z, wasm_f32x4_splat(-87.0f));
  const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(z, wasm_f32x4_splat(1.44269504f)), magic);
  const v128_t scale = wasm_i32x4_shl(t, 23);
  const v128_t n = wasm_f32x4_sub(t, magic);
  v128_t r = wasm_f32x4_sub(z, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693145752f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(1.42860677e-6f)));
  v128_t p = wasm_f32x4_splat(1.0f / 720.0f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 120.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 24.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 6.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.5f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
  return wasm_f32x4_mul(p, scale);
}

/* sigmoid(x) = e/(1+e) for x <= 0 and 1/(1+e) for x > 0, e = exp(-|x|): never overflows */
static inline v128_t sigmoid4(v128_t x) {
  const v128_t e = exp_nonpositive(wasm_v128_or(x, wasm_i32x4_splat((int32_t)0x80000000))); /* -|x| */
  const v128_t one = wasm_f32x4_splat(1.0f);
  const v128_t num = wasm_v128_bitselect(one, e, wasm_f32x4_gt(x, wasm_f32x4_splat(0.0f)));
  return wasm_f32x4_div(num, wasm_f32x4_add(one, e));
}

void ofx_f32_vsigmoid__wasmsimd_u8(size_t n, const float *in, float *out) {
  OFX_VUNARY_LOOP(sigmoid4)
}

/* x * sigmoid(x): Conv epilogue of Conv-Sigmoid-Mul (SiLU); bit-identical to vsigmoid then
 * vmul, the unfused path */
static inline v128_t swish4(v128_t x) { return wasm_f32x4_mul(x, sigmoid4(x)); }

void ofx_f32_vswish__wasmsimd_u8(size_t n, const float *in, float *out) {
  OFX_VUNARY_LOOP(swish4)
}

void ofx_f32_vsqrt__wasmsimd_u8(size_t n, const float *in, float *out) {
  OFX_VUNARY_LOOP(wasm_f32x4_sqrt)
}

static inline v128_t hardswish4(v128_t x) {
  v128_t g = wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(1.0f / 6.0f)), wasm_f32x4_splat(0.5f));
  g = wasm_f32x4_pmin(wasm_f32x4_pmax(g, wasm_f32x4_splat(0.0f)), wasm_f32x4_splat(1.0f));
  return wasm_f32x4_mul(x, g);
}

void ofx_f32_vhardswish__wasmsimd_u8(size_t n, const float *in, float *out) {
  OFX_VUNARY_LOOP(hardswish4)
}

/* erf(x) = sign(x) * erf(|x|): for |x| < 1 the Maclaurin series to x^23 (truncation < 2e-9),
 * for |x| >= 1 Abramowitz-Stegun 7.1.26, 1 - t*P(t)*e^(-x^2) with t = 1/(1 + 0.3275911|x|)
 * (absolute error <= 1.5e-7 where erf >= 0.84), clamped to 1. NaN stays NaN. */
static inline v128_t erf4(v128_t x) {
  const v128_t ax = wasm_f32x4_abs(x);
  const v128_t x2 = wasm_f32x4_mul(ax, ax);
  /* series: (2/sqrt(pi)) * sum_k (-1)^k x^(2k+1) / (k! (2k+1)) */
  static const float c[12] = {1.1283791671f, -0.3761263890f, 0.1128379167f, -0.0268661706f,
                              0.0052239776f, -0.0008548327f, 0.0001205533f, -0.0000149271f,
                              0.0000016462f, -0.0000001634f, 0.0000000147f, -0.0000000012f};
  v128_t p = wasm_f32x4_splat(c[11]);
  for (int k = 10; k >= 0; k--) p = wasm_f32x4_add(wasm_f32x4_mul(p, x2), wasm_f32x4_splat(c[k]));
  const v128_t small = wasm_f32x4_mul(p, ax);
  const v128_t t = wasm_f32x4_div(wasm_f32x4_splat(1.0f),
                                  wasm_f32x4_add(wasm_f32x4_splat(1.0f), wasm_f32x4_mul(ax, wasm_f32x4_splat(0.3275911f))));
  v128_t q = wasm_f32x4_splat(1.061405429f);
  q = wasm_f32x4_add(wasm_f32x4_mul(q, t), wasm_f32x4_splat(-1.453152027f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, t), wasm_f32x4_splat(1.421413741f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, t), wasm_f32x4_splat(-0.284496736f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, t), wasm_f32x4_splat(0.254829592f));
  q = wasm_f32x4_mul(q, t);
  const v128_t e = exp_nonpositive(wasm_f32x4_neg(wasm_f32x4_pmin(x2, wasm_f32x4_splat(80.0f))));
  v128_t large = wasm_f32x4_sub(wasm_f32x4_splat(1.0f), wasm_f32x4_mul(q, e));
  large = wasm_f32x4_pmin(large, wasm_f32x4_splat(1.0f));
  v128_t r = wasm_v128_bitselect(small, large, wasm_f32x4_lt(ax, wasm_f32x4_splat(1.0f)));
  r = wasm_v128_bitselect(x, r, wasm_f32x4_ne(x, x)); /* NaN in, NaN out */
  /* copy x's sign bit */
  const v128_t sign = wasm_i32x4_splat((int32_t)0x80000000);
  return wasm_v128_or(wasm_v128_andnot(r, sign), wasm_v128_and(x, sign));
}

void ofx_f32_verf__wasmsimd_u8(size_t n, const float *in, float *out) {
  OFX_VUNARY_LOOP(erf4)
}

float ofx_f32_vexpminusmax__wasmsimd_u8(size_t n, const float *in, float max, float *out) {
  const v128_t vmax = wasm_f32x4_splat(max);
  v128_t vsum0 = wasm_f32x4_splat(0.0f), vsum1 = vsum0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const v128_t e0 = exp_nonpositive(wasm_f32x4_sub(wasm_v128_load(in + i), vmax));
    const v128_t e1 = exp_nonpositive(wasm_f32x4_sub(wasm_v128_load(in + i + 4), vmax));
    wasm_v128_store(out + i, e0);
    wasm_v128_store(out + i + 4, e1);
    vsum0 = wasm_f32x4_add(vsum0, e0);
    vsum1 = wasm_f32x4_add(vsum1, e1);
  }
  for (; i + 4 <= n; i += 4) {
    const v128_t e0 = exp_nonpositive(wasm_f32x4_sub(wasm_v128_load(in + i), vmax));
    wasm_v128_store(out + i, e0);
    vsum0 = wasm_f32x4_add(vsum0, e0);
  }
  vsum0 = wasm_f32x4_add(vsum0, vsum1);
  float sum = wasm_f32x4_extract_lane(vsum0, 0) + wasm_f32x4_extract_lane(vsum0, 1) +
              wasm_f32x4_extract_lane(vsum0, 2) + wasm_f32x4_extract_lane(vsum0, 3);
  if (i < n) { /* the tail through a buffer padded with -inf: e^-inf adds 0 */
    float buf[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    memcpy(buf, in + i, (n - i) * sizeof(float));
    const v128_t e = exp_nonpositive(wasm_f32x4_sub(wasm_v128_load(buf), vmax));
    wasm_v128_store(buf, e);
    memcpy(out + i, buf, (n - i) * sizeof(float));
    for (size_t l = 0; l < n - i; l++) sum += buf[l];
  }
  return sum;
}
#endif
