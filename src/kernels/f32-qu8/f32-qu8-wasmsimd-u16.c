/* 16 floats per iteration; pmin(m, x) / pmax(m, x) keep m when x is NaN, as the scalar one does. The quantizer divides as the reference does (x / scale, not x times
 * a reciprocal: the results must be the reference's bytes) and rounds with f32x4.nearest, which
 * is round-half-to-even like nearbyintf. */
#if defined(__wasm_simd128__)
#include <math.h>
#include <wasm_simd128.h>

#include "kernels/f32-qu8/f32-qu8.h"

void ofx_f32_rminmax__wasmsimd_u16(size_t n, const float *x, float *lo, float *hi) {
  v128_t mn0 = wasm_f32x4_splat(INFINITY), mn1 = mn0, mn2 = mn0, mn3 = mn0;
  v128_t mx0 = wasm_f32x4_splat(-INFINITY), mx1 = mx0, mx2 = mx0, mx3 = mx0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const v128_t a = wasm_v128_load(x + i), b = wasm_v128_load(x + i + 4);
    const v128_t c = wasm_v128_load(x + i + 8), d = wasm_v128_load(x + i + 12);
    mn0 = wasm_f32x4_pmin(mn0, a), mn1 = wasm_f32x4_pmin(mn1, b), mn2 = wasm_f32x4_pmin(mn2, c), mn3 = wasm_f32x4_pmin(mn3, d);
    mx0 = wasm_f32x4_pmax(mx0, a), mx1 = wasm_f32x4_pmax(mx1, b), mx2 = wasm_f32x4_pmax(mx2, c), mx3 = wasm_f32x4_pmax(mx3, d);
  }
  float m[4], M[4];
  wasm_v128_store(m, wasm_f32x4_pmin(wasm_f32x4_pmin(mn0, mn1), wasm_f32x4_pmin(mn2, mn3)));
  wasm_v128_store(M, wasm_f32x4_pmax(wasm_f32x4_pmax(mx0, mx1), wasm_f32x4_pmax(mx2, mx3)));
  float tl, th;
  ofx_f32_rminmax__scalar(4, m, lo, &th);
  ofx_f32_rminmax__scalar(4, M, &tl, hi);
  if (i < n) {
    ofx_f32_rminmax__scalar(n - i, x + i, &tl, &th);
    if (tl < *lo) *lo = tl;
    if (th > *hi) *hi = th;
  }
}

void ofx_f32_qu8_vcvt__wasmsimd_u16(size_t n, const float *x, float scale, int32_t zero_point, uint8_t *y) {
  const v128_t vscale = wasm_f32x4_splat(scale), vzp = wasm_f32x4_splat((float)zero_point);
  const v128_t vlo = wasm_f32x4_splat(0.0f), vhi = wasm_f32x4_splat(255.0f);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t q[4];
    for (int k = 0; k < 4; k++) {
      v128_t v = wasm_f32x4_add(wasm_f32x4_nearest(wasm_f32x4_div(wasm_v128_load(x + i + 4 * k), vscale)), vzp);
      v = wasm_f32x4_pmin(vhi, wasm_f32x4_pmax(vlo, v)); /* pmax(0, NaN) is 0 */
      q[k] = wasm_i32x4_trunc_sat_f32x4(v);
    }
    const v128_t lo16 = wasm_i16x8_narrow_i32x4(q[0], q[1]), hi16 = wasm_i16x8_narrow_i32x4(q[2], q[3]);
    wasm_v128_store(y + i, wasm_u8x16_narrow_i16x8(lo16, hi16));
  }
  ofx_f32_qu8_vcvt__scalar(n - i, x + i, scale, zero_point, y + i);
}

/* 8 floats per iteration; pmax(qmin, NaN) is qmin, as the scalar kernel's comparison gives. */
void ofx_f32_vqdq__wasmsimd_u8(size_t n, const float *x, float scale, int32_t zero_point, float qmin, float qmax, float out_min,
                               float out_max, float *y) {
  const v128_t vscale = wasm_f32x4_splat(scale), vzp = wasm_f32x4_splat((float)zero_point);
  const v128_t vqmin = wasm_f32x4_splat(qmin), vqmax = wasm_f32x4_splat(qmax);
  const v128_t vmin = wasm_f32x4_splat(out_min), vmax = wasm_f32x4_splat(out_max);
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 2; k++) {
      v128_t q = wasm_f32x4_add(wasm_f32x4_nearest(wasm_f32x4_div(wasm_v128_load(x + i + 4 * k), vscale)), vzp);
      q = wasm_f32x4_pmin(vqmax, wasm_f32x4_pmax(vqmin, q));
      const v128_t v = wasm_f32x4_mul(wasm_f32x4_sub(q, vzp), vscale);
      wasm_v128_store(y + i + 4 * k, wasm_f32x4_pmin(vmax, wasm_f32x4_pmax(vmin, v)));
    }
  ofx_f32_vqdq__scalar(n - i, x + i, scale, zero_point, qmin, qmax, out_min, out_max, y + i);
}
#endif
