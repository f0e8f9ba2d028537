/* float32 -> float16, 8 per iteration, rounding done by the float adder: |x| scaled by 2^112 then
 * 2^-110 (overflowing to infinity exactly where float16 does) is added to a power of two chosen
 * so that float32's last mantissa bit falls on float16's, at least 2^-14's (subnormals); the
 * sum, rounded to nearest even by the add, then holds the half's exponent and mantissa in its
 * low bits. NaN inputs give the quiet NaN 0x7e00 with their sign. */
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "kernels/f16-f32-vcvt/f16-f32-vcvt.h"

static inline v128_t narrow4(v128_t x) { /* halves in the low 16 bits of each lane */
  const v128_t two_w = wasm_i32x4_add(x, x);
  const v128_t sign = wasm_u32x4_shr(wasm_v128_and(x, wasm_u32x4_const_splat(0x80000000u)), 16);
  const v128_t scaled = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_abs(x), wasm_f32x4_const_splat(0x1.0p+112f)),
                                       wasm_f32x4_const_splat(0x1.0p-110f));
  const v128_t bias = wasm_u32x4_max(wasm_v128_and(two_w, wasm_u32x4_const_splat(0xff000000u)), wasm_u32x4_const_splat(0x71000000u));
  const v128_t sum = wasm_f32x4_add(wasm_i32x4_add(wasm_u32x4_shr(bias, 1), wasm_u32x4_const_splat(0x07800000u)), scaled);
  const v128_t bits = wasm_i32x4_add(wasm_v128_and(wasm_u32x4_shr(sum, 13), wasm_u32x4_const_splat(0x7c00u)),
                                     wasm_v128_and(sum, wasm_u32x4_const_splat(0x0fffu)));
  const v128_t is_nan = wasm_u32x4_gt(two_w, wasm_u32x4_const_splat(0xff000000u));
  return wasm_v128_or(sign, wasm_v128_bitselect(wasm_u32x4_const_splat(0x7e00u), bits, is_nan));
}

void ofx_f32_f16_vcvt__wasmsimd_u8(size_t n, const float *x, uint16_t *y) {
  for (; n >= 8; n -= 8, x += 8, y += 8)
    wasm_v128_store(y, wasm_u16x8_narrow_i32x4(narrow4(wasm_v128_load(x)), narrow4(wasm_v128_load(x + 4))));
  if (n != 0) {
    float tail[8] = {0};
    for (size_t i = 0; i < n; i++) tail[i] = x[i];
    uint16_t out[8];
    wasm_v128_store(out, wasm_u16x8_narrow_i32x4(narrow4(wasm_v128_load(tail)), narrow4(wasm_v128_load(tail + 4))));
    for (size_t i = 0; i < n; i++) y[i] = out[i];
  }
}
#endif
