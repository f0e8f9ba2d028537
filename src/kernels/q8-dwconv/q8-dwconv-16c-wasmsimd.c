/* 16 channels per step: 16 bytes per tap widened to two i16x8 (zero point off), multiplied by
 * the int16 weights with i32x4.extmul into four i32x4 sums that stay in registers over the taps;
 * then the float epilogue. Leftover channels take the scalar kernel. */
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "kernels/q8-dwconv/q8-dwconv.h"

void ofx_q8_dwconv_minmax_ukernel_16c__wasmsimd(size_t channels, size_t taps, const uint8_t *const *x, bool is_signed,
                                                int32_t zero_point, const int16_t *w, const float *scale,
                                                const float *bias, float *y, float output_min, float output_max) {
  const v128_t zp = wasm_i16x8_splat((int16_t)zero_point);
  const v128_t lo = wasm_f32x4_splat(output_min), hi = wasm_f32x4_splat(output_max);
  size_t c = 0;
  for (; c + 16 <= channels; c += 16) {
    v128_t acc0 = wasm_i32x4_splat(0), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    for (size_t t = 0; t < taps; t++) {
      const v128_t v = wasm_v128_load(x[t] + c);
      const v128_t a0 = wasm_i16x8_sub(is_signed ? wasm_i16x8_extend_low_i8x16(v) : wasm_u16x8_extend_low_u8x16(v), zp);
      const v128_t a1 = wasm_i16x8_sub(is_signed ? wasm_i16x8_extend_high_i8x16(v) : wasm_u16x8_extend_high_u8x16(v), zp);
      const v128_t w0 = wasm_v128_load(w + t * channels + c), w1 = wasm_v128_load(w + t * channels + c + 8);
      acc0 = wasm_i32x4_add(acc0, wasm_i32x4_extmul_low_i16x8(a0, w0));
      acc1 = wasm_i32x4_add(acc1, wasm_i32x4_extmul_high_i16x8(a0, w0));
      acc2 = wasm_i32x4_add(acc2, wasm_i32x4_extmul_low_i16x8(a1, w1));
      acc3 = wasm_i32x4_add(acc3, wasm_i32x4_extmul_high_i16x8(a1, w1));
    }
    const v128_t accs[4] = {acc0, acc1, acc2, acc3};
    for (size_t q = 0; q < 4; q++) {
      v128_t f = wasm_f32x4_convert_i32x4(accs[q]);
      f = wasm_f32x4_add(wasm_f32x4_mul(f, wasm_v128_load(scale + c + q * 4)), wasm_v128_load(bias + c + q * 4));
      f = wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, f));
      wasm_v128_store(y + c + q * 4, f);
    }
  }
  for (; c < channels; c++) {
    int32_t acc = 0;
    for (size_t t = 0; t < taps; t++) {
      const int32_t v = is_signed ? (int32_t)(int8_t)x[t][c] : (int32_t)x[t][c];
      acc += (v - zero_point) * w[t * channels + c];
    }
    const float f = (float)acc * scale[c] + bias[c];
    y[c] = f < output_min ? output_min : f > output_max ? output_max : f;
  }
}
#endif
