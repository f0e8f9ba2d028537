/* float16 -> float32, 16 halves per iteration, without branches: the half's exponent and
 * mantissa, shifted into float32's fields, are rebiased by adding 224 to the exponent and
 * scaling by 2^-112 (so the all-ones exponent of inf/NaN lands on 255 and stays inf/NaN);
 * subnormal halves (exponent 0) are their mantissa placed under 0.5f's exponent minus 0.5f.
 * Both are exact; a compare selects one and the sign is put back. */
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "kernels/f16-f32-vcvt/f16-f32-vcvt.h"

static inline v128_t widen4(v128_t w) { /* w: halves in the upper 16 bits of each lane */
  const v128_t sign = wasm_v128_and(w, wasm_u32x4_const_splat(0x80000000u));
  const v128_t two_w = wasm_i32x4_add(w, w); /* the sign shifted out */
  const v128_t normal = wasm_f32x4_mul(wasm_i32x4_add(wasm_u32x4_shr(two_w, 4), wasm_u32x4_const_splat(224u << 23)),
                                       wasm_f32x4_const_splat(0x1.0p-112f));
  const v128_t subnormal = wasm_f32x4_sub(wasm_v128_or(wasm_u32x4_shr(two_w, 17), wasm_u32x4_const_splat(126u << 23)),
                                          wasm_f32x4_const_splat(0.5f));
  const v128_t is_subnormal = wasm_u32x4_lt(two_w, wasm_u32x4_const_splat(1u << 27));
  return wasm_v128_or(sign, wasm_v128_bitselect(subnormal, normal, is_subnormal));
}

void ofx_f16_f32_vcvt__wasmsimd_u16(size_t n, const uint16_t *x, float *y) {
  const v128_t zero = wasm_i16x8_const_splat(0);
  for (; n >= 16; n -= 16, x += 16, y += 16) {
    const v128_t h0 = wasm_v128_load(x), h1 = wasm_v128_load(x + 8);
    /* interleaving zeros below each half puts it in the upper 16 bits of a 32-bit lane */
    wasm_v128_store(y, widen4(wasm_i16x8_shuffle(zero, h0, 0, 8, 1, 9, 2, 10, 3, 11)));
    wasm_v128_store(y + 4, widen4(wasm_i16x8_shuffle(zero, h0, 4, 12, 5, 13, 6, 14, 7, 15)));
    wasm_v128_store(y + 8, widen4(wasm_i16x8_shuffle(zero, h1, 0, 8, 1, 9, 2, 10, 3, 11)));
    wasm_v128_store(y + 12, widen4(wasm_i16x8_shuffle(zero, h1, 4, 12, 5, 13, 6, 14, 7, 15)));
  }
  for (; n >= 4; n -= 4, x += 4, y += 4)
    wasm_v128_store(y, widen4(wasm_i16x8_shuffle(zero, wasm_v128_load64_zero(x), 0, 8, 1, 9, 2, 10, 3, 11)));
  if (n != 0) {
    uint16_t tail[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) tail[i] = x[i];
    float out[4];
    wasm_v128_store(out, widen4(wasm_i16x8_shuffle(zero, wasm_v128_load64_zero(tail), 0, 8, 1, 9, 2, 10, 3, 11)));
    for (size_t i = 0; i < n; i++) y[i] = out[i];
  }
}
#endif
