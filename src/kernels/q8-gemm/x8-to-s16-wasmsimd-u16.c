/* 8-bit to int16 minus the zero point, 16 elements per iteration: the activations' side of the
 * 8-bit GEMM (q8-gemm.h), once per row instead of once per column block in the kernels. */
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "kernels/q8-gemm/q8-gemm.h"

void ofx_x8_to_s16__wasmsimd_u16(size_t n, const void *x, bool is_signed, int32_t zero_point, int16_t *y) {
  const uint8_t *in = x;
  const v128_t vzp = wasm_i16x8_splat((int16_t)zero_point);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const v128_t v = wasm_v128_load(in + i);
    const v128_t lo = is_signed ? wasm_i16x8_extend_low_i8x16(v) : wasm_u16x8_extend_low_u8x16(v);
    const v128_t hi = is_signed ? wasm_i16x8_extend_high_i8x16(v) : wasm_u16x8_extend_high_u8x16(v);
    wasm_v128_store(y + i, wasm_i16x8_sub(lo, vzp));
    wasm_v128_store(y + i + 8, wasm_i16x8_sub(hi, vzp));
  }
  ofx_x8_to_s16__scalar(n - i, in + i, is_signed, zero_point, y + i);
}
#endif
