/* wasmsimd elementwise binary ops, 8 floats per iteration, then 4, then scalar lanes (no
 * reads or writes past n). */
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "kernels/f32-vbinary/f32-vbinary.h"

#define OFX_VBINARY_BODY(vexpr, sexpr, LOADX, LOADY, SX, SY)                 \
  size_t i = 0;                                                              \
  for (; i + 8 <= n; i += 8) {                                               \
    v128_t x = LOADX(i), y = LOADY(i);                                       \
    v128_t x1 = LOADX(i + 4), y1 = LOADY(i + 4);                             \
    wasm_v128_store(out + i, vexpr);                                         \
    x = x1, y = y1;                                                          \
    wasm_v128_store(out + i + 4, vexpr);                                     \
  }                                                                          \
  if (i + 4 <= n) {                                                          \
    const v128_t x = LOADX(i), y = LOADY(i);                                 \
    wasm_v128_store(out + i, vexpr);                                         \
    i += 4;                                                                  \
  }                                                                          \
  for (; i < n; i++) {                                                       \
    const float x = SX(i), y = SY(i);                                        \
    out[i] = (sexpr);                                                        \
  }

#define OFX_LOAD_A(i) wasm_v128_load(a + (i))
#define OFX_LOAD_B(i) wasm_v128_load(b + (i))
#define OFX_SPLAT_A(i) va
#define OFX_SPLAT_B(i) vb
#define OFX_SA(i) a[i]
#define OFX_SB(i) b[i]
#define OFX_S0A(i) a[0]
#define OFX_S0B(i) b[0]

#define OFX_DEFINE_VBINARY_SIMD(op, vop, sexpr)                                           \
  void ofx_f32_v##op##__wasmsimd_u8(size_t n, const float *a, const float *b, float *out) { \
    OFX_VBINARY_BODY(vop(x, y), sexpr, OFX_LOAD_A, OFX_LOAD_B, OFX_SA, OFX_SB)           \
  }                                                                                       \
  void ofx_f32_v##op##c__wasmsimd_u8(size_t n, const float *a, const float *b, float *out) { \
    const v128_t vb = wasm_v128_load32_splat(b);                                          \
    OFX_VBINARY_BODY(vop(x, y), sexpr, OFX_LOAD_A, OFX_SPLAT_B, OFX_SA, OFX_S0B)         \
  }                                                                                       \
  void ofx_f32_vr##op##c__wasmsimd_u8(size_t n, const float *a, const float *b, float *out) { \
    const v128_t va = wasm_v128_load32_splat(a);                                          \
    OFX_VBINARY_BODY(vop(x, y), sexpr, OFX_SPLAT_A, OFX_LOAD_B, OFX_S0A, OFX_SB)         \
  }

OFX_DEFINE_VBINARY_SIMD(add, wasm_f32x4_add, x + y)
OFX_DEFINE_VBINARY_SIMD(sub, wasm_f32x4_sub, x - y)
OFX_DEFINE_VBINARY_SIMD(mul, wasm_f32x4_mul, x * y)
OFX_DEFINE_VBINARY_SIMD(div, wasm_f32x4_div, x / y)
#endif
