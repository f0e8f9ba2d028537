/* f32 row reductions: the wasmsimd kernels against the scalar ones over every length 0..70
 * plus long rows, unaligned starts and NaN/inf elements; the scalar kernels against
 * closed-form values. Natively only the scalar checks run. */
#include "kernel-test.h"
#include "kernels/f32-reduce/f32-reduce.h"

static void scalar_checks(void) {
  const float x[5] = {1, -2, 3.5f, 0.25f, -8};
  CHECK(ofx_f32_rsum__scalar(5, x) == -5.25f);
  CHECK(ofx_f32_rsum__scalar(0, x) == 0.0f);
  CHECK(ofx_f32_rmax__scalar(5, x) == 3.5f);
  CHECK(ofx_f32_rmax__scalar(0, x) == -INFINITY);
  const float y[3] = {NAN, -1, NAN};
  CHECK(ofx_f32_rmax__scalar(3, y) == -1.0f);
}

#if OFX_ARCH_WASMSIMD
static void simd_checks(size_t n, size_t shift) {
  float *a = malloc((n + 8) * sizeof(float));
  kt_fill(a, n + 8);
  const float *as = a + shift;
  float scale = 0;
  for (size_t i = 0; i < n; i++) scale += fabsf(as[i]);
  const float sum_want = ofx_f32_rsum__scalar(n, as), sum_got = ofx_f32_rsum__wasmsimd_u16(n, as);
  KT_CHECK_CASE(fabsf(sum_got - sum_want) <= 1e-6f * scale, "rsum n=%zu shift=%zu: %g vs %g", n, shift, sum_got, sum_want);
  /* the max anywhere in the row, the tail included; then a NaN and an inf planted */
  if (n > 0) a[shift + kt_range(0, n)] = 2.0f;
  KT_CHECK_CASE(ofx_f32_rmax__wasmsimd_u16(n, as) == ofx_f32_rmax__scalar(n, as), "rmax n=%zu shift=%zu", n, shift);
  if (n > 1) {
    a[shift + kt_range(0, n)] = NAN;
    KT_CHECK_CASE(ofx_f32_rmax__wasmsimd_u16(n, as) == ofx_f32_rmax__scalar(n, as), "rmax NaN n=%zu", n);
    a[shift + n - 1] = INFINITY;
    KT_CHECK_CASE(ofx_f32_rmax__wasmsimd_u16(n, as) == INFINITY, "rmax inf n=%zu", n);
  }
  free(a);
}
#endif

int main(void) {
  kt_seed(11);
  scalar_checks();
#if OFX_ARCH_WASMSIMD
  for (size_t n = 0; n <= 70; n++)
    for (size_t shift = 0; shift < 4; shift++) simd_checks(n, shift);
  for (size_t n = 197; n < 5000; n = n * 3 + 1) simd_checks(n, 1);
  float neg[37];
  for (int i = 0; i < 37; i++) neg[i] = -100.0f - (float)i; /* all below 0: -inf padding, not 0 */
  KT_CHECK_CASE(ofx_f32_rmax__wasmsimd_u16(37, neg) == -100.0f, "rmax all negative");
#endif
  return ofx_test_finish("test-kernels-f32-reduce");
}
