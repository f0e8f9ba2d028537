/* Relaxed-SIMD helpers of the wasmrelaxedsimd kernels, built only with -mrelaxed-simd (clang >= 16:
 * clang 14's builtins emit the pre-standard opcodes that engines reject; CMakeLists.txt builds
 * the relaxed modules with clang-16). Lanes here are the standard relaxed-SIMD instructions. */
#ifndef OFX_KERNELS_WASMRELAXEDSIMD_H
#define OFX_KERNELS_WASMRELAXEDSIMD_H

#include <wasm_simd128.h>

#if !defined(__wasm_relaxed_simd__)
#error "kernels/wasmrelaxedsimd.h needs -mrelaxed-simd"
#endif

/* acc + a * b per lane, f32x4.relaxed_madd: rounded once where the engine uses a hardware FMA
 * (V8 on x86-64 with FMA3, ARM64), else as mul then add; either is allowed by the spec, so
 * results may differ from the wasmsimd kernels' mul+add in the last bits of each step. */
static inline __attribute__((always_inline)) v128_t ofx_f32x4_relaxed_madd(v128_t a, v128_t b, v128_t acc) {
  return (v128_t)__builtin_wasm_relaxed_madd_f32x4((__f32x4)a, (__f32x4)b, (__f32x4)acc);
}

/* acc + (dot of four signed bytes of a with four bytes of b) per i32 lane,
 * i32x4.relaxed_dot_i8x16_i7x16_add_s: exact and the same everywhere only when every byte of b
 * is in [0, 127] (x86 reads b unsigned, ARM signed); callers keep it there. */
static inline __attribute__((always_inline)) v128_t ofx_i32x4_relaxed_dot_i8x16_i7x16_add(v128_t a, v128_t b, v128_t acc) {
  return (v128_t)__builtin_wasm_relaxed_dot_i8x16_i7x16_add_s_i32x4((__i8x16)a, (__i8x16)b, (__i32x4)acc);
}

#endif
