/* Four independent vector accumulators hide the add latency; the tail is padded with the
 * reduction's identity (0 for the sum, -inf for the max) through a small buffer. */
#if defined(__wasm_simd128__)
#include <math.h>
#include <string.h>
#include <wasm_simd128.h>

#include "kernels/f32-reduce/f32-reduce.h"

float ofx_f32_rsum__wasmsimd_u16(size_t n, const float *in) {
  v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = wasm_f32x4_add(s0, wasm_v128_load(in + i));
    s1 = wasm_f32x4_add(s1, wasm_v128_load(in + i + 4));
    s2 = wasm_f32x4_add(s2, wasm_v128_load(in + i + 8));
    s3 = wasm_f32x4_add(s3, wasm_v128_load(in + i + 12));
  }
  for (; i + 4 <= n; i += 4) s0 = wasm_f32x4_add(s0, wasm_v128_load(in + i));
  if (i < n) {
    float buf[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(buf, in + i, (n - i) * sizeof(float));
    s1 = wasm_f32x4_add(s1, wasm_v128_load(buf));
  }
  s0 = wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3));
  return (wasm_f32x4_extract_lane(s0, 0) + wasm_f32x4_extract_lane(s0, 1)) +
         (wasm_f32x4_extract_lane(s0, 2) + wasm_f32x4_extract_lane(s0, 3));
}

/* pmax(m, x) = m < x ? x : m: a NaN x leaves m alone, like the scalar `x > m ? x : m` */
float ofx_f32_rmax__wasmsimd_u16(size_t n, const float *in) {
  v128_t m0 = wasm_f32x4_splat(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    m0 = wasm_f32x4_pmax(m0, wasm_v128_load(in + i));
    m1 = wasm_f32x4_pmax(m1, wasm_v128_load(in + i + 4));
    m2 = wasm_f32x4_pmax(m2, wasm_v128_load(in + i + 8));
    m3 = wasm_f32x4_pmax(m3, wasm_v128_load(in + i + 12));
  }
  for (; i + 4 <= n; i += 4) m0 = wasm_f32x4_pmax(m0, wasm_v128_load(in + i));
  if (i < n) {
    float buf[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    memcpy(buf, in + i, (n - i) * sizeof(float));
    m1 = wasm_f32x4_pmax(m1, wasm_v128_load(buf));
  }
  m0 = wasm_f32x4_pmax(wasm_f32x4_pmax(m0, m1), wasm_f32x4_pmax(m2, m3));
  float a = wasm_f32x4_extract_lane(m0, 0), b = wasm_f32x4_extract_lane(m0, 1);
  float c = wasm_f32x4_extract_lane(m0, 2), d = wasm_f32x4_extract_lane(m0, 3);
  a = b > a ? b : a;
  c = d > c ? d : c;
  return c > a ? c : a;
}
#endif
