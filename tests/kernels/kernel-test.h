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
