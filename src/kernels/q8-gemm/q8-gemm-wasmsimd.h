/* Shared by the wasmsimd 8-bit GEMM kernels: the dequantizing epilogue. */
#ifndef OFX_KERNELS_Q8_GEMM_WASMSIMD_H
#define OFX_KERNELS_Q8_GEMM_WASMSIMD_H

#include <wasm_simd128.h>

/* clamp(float(acc) * scale + bias): the same operations in the same order as the scalar one */
static inline v128_t ofx_q8_dequantize(v128_t acc, v128_t scale, v128_t bias, v128_t vmin, v128_t vmax) {
  const v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(acc), scale), bias);
  return wasm_f32x4_pmin(vmax, wasm_f32x4_pmax(vmin, v));
}

#endif
