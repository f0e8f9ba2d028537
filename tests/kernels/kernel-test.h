/* Helpers for the kernel tests: a seeded generator, float comparison with a tolerance that
 * scales with the summed magnitude, and canary-guarded buffers to catch stray writes. */
#ifndef OFX_KERNEL_TEST_H
#define OFX_KERNEL_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "test-util.h"

static uint64_t kt_state = 0x9E3779B97F4A7C15ull;
static inline void kt_seed(uint64_t s) { kt_state = s * 0x9E3779B97F4A7C15ull + 1; }
static inline uint32_t kt_u32(void) {
  kt_state ^= kt_state << 13;
  kt_state ^= kt_state >> 7;
  kt_state ^= kt_state << 17;
  return (uint32_t)(kt_state >> 16);
}
/* uniform in [lo, hi) */
static inline size_t kt_range(size_t lo, size_t hi) { return lo + kt_u32() % (hi - lo); }
static inline float kt_float(void) { return (float)(kt_u32() & 0xFFFFFF) / 8388608.0f - 1.0f; }
static inline void kt_fill(float *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = kt_float();
}

#define KT_CANARY 1234.5f
static inline float *kt_canary_alloc(size_t n) {
  float *p = malloc((n ? n : 1) * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = KT_CANARY;
  return p;
}

/* |got - want| <= tol * (1 + |scale|): scale is the sum of |terms| that produced want, so
 * summation-order differences in long dot products stay within tolerance. */
static inline int kt_close(float got, float want, float scale, float tol) {
  if (isnan(want)) return isnan(got);
  return fabsf(got - want) <= tol * (1.0f + fabsf(scale));
}

/* Tolerance (kt_close) of the f32 GEMM / IGEMM / depthwise kernels against their scalar
 * references, relative to the sum of |terms|. The mul+add kernels differ from the references in
 * summation order only. The wasmrelaxedsimd_fma kernels' f32x4.relaxed_madd may round acc + a*b
 * once (an FMA: V8 on x86-64 with FMA3, ARM64) where the references round the product and then
 * the sum: a step then differs by at most half an ulp of its product, 2^-24 |a*b|, plus that
 * difference carried through the later sums' roundings, so a K-term dot product by about
 * 2^-24 (1 + K 2^-24) of its summed |terms| beyond the mul+add kernels' error. 2e-6 (34 x 2^-24)
 * holds both; kt_madd_rounding below checks what the relaxed kernels compute exactly. */
#define KT_F32_DOT_TOL 2e-6f

/* acc + a*b with acc = -1, a = KT_MADD_A, b = KT_MADD_B: a*b = 1 - 2^-46 exactly, which rounds
 * to 1 in float, so an unfused mul+add gives 0 and a fused one -2^-46. kt_madd_rounding(got)
 * is 1 for the fused result, 0 for the unfused one, -1 for anything else (a wrong kernel). */
#define KT_MADD_A (1.0f + 0x1p-23f)
#define KT_MADD_B (1.0f - 0x1p-23f)
static inline int kt_madd_rounding(float got) { return got == -0x1p-46f ? 1 : got == 0.0f ? 0 : -1; }

/* Counts one CHECK per call so a failing case is reported once, with its parameters. */
#define KT_CHECK_CASE(ok, ...)                         \
  do {                                                 \
    if (ok) {                                          \
      ofx_test_passes++;                               \
    } else {                                           \
      ofx_test_failures++;                             \
      fprintf(stderr, "%s:%d: FAILED ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                    \
      fputc('\n', stderr);                             \
    }                                                  \
  } while (0)

#endif
