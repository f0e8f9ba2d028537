/* 4x4 register transposes (two rounds of interleaving shuffles); ragged edges in scalar. */
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "kernels/x32-transpose/x32-transpose.h"

void ofx_x32_transpose_ukernel_4x4__wasmsimd(size_t rows, size_t cols, const uint32_t *in,
                                             size_t in_stride, uint32_t *out, size_t out_stride) {
  const size_t rows4 = rows & ~(size_t)3, cols4 = cols & ~(size_t)3;
  for (size_t i = 0; i < rows4; i += 4) {
    const uint32_t *r = in + i * in_stride;
    for (size_t j = 0; j < cols4; j += 4) {
      const v128_t a = wasm_v128_load(r + j);
      const v128_t b = wasm_v128_load(r + in_stride + j);
      const v128_t c = wasm_v128_load(r + 2 * in_stride + j);
      const v128_t d = wasm_v128_load(r + 3 * in_stride + j);
      const v128_t ab_lo = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5); /* a0 b0 a1 b1 */
      const v128_t ab_hi = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7); /* a2 b2 a3 b3 */
      const v128_t cd_lo = wasm_i32x4_shuffle(c, d, 0, 4, 1, 5);
      const v128_t cd_hi = wasm_i32x4_shuffle(c, d, 2, 6, 3, 7);
      uint32_t *o = out + j * out_stride + i;
      wasm_v128_store(o, wasm_i64x2_shuffle(ab_lo, cd_lo, 0, 2));
      wasm_v128_store(o + out_stride, wasm_i64x2_shuffle(ab_lo, cd_lo, 1, 3));
      wasm_v128_store(o + 2 * out_stride, wasm_i64x2_shuffle(ab_hi, cd_hi, 0, 2));
      wasm_v128_store(o + 3 * out_stride, wasm_i64x2_shuffle(ab_hi, cd_hi, 1, 3));
    }
    for (size_t ii = i; ii < i + 4; ii++)
      for (size_t j = cols4; j < cols; j++) out[j * out_stride + ii] = in[ii * in_stride + j];
  }
  for (size_t i = rows4; i < rows; i++)
    for (size_t j = 0; j < cols; j++) out[j * out_stride + i] = in[i * in_stride + j];
}
#endif
