/* wasmsimd vbinary/vunary kernels against the scalar ones over every length 0..70 plus long
 * arrays (vector body, 4-wide step and lane tails), with unaligned starts; the scalar
 * kernels against closed-form values. Natively only the scalar checks run. */
#include <string.h>

#include "kernel-test.h"
#include "kernels/f32-vbinary/f32-vbinary.h"
#include "kernels/f32-vunary/f32-vunary.h"

typedef struct binary_pair {
  const char *name;
  ofx_f32_vbinary_fn ref, simd;
} binary_pair;

static void scalar_checks(void) {
  float a[5] = {1, -2, 3, 0.5f, 8}, b[5] = {2, 4, -1, 0.25f, -4}, o[5];
  ofx_f32_vsub__scalar(5, a, b, o);
  CHECK(o[0] == -1 && o[1] == -6 && o[2] == 4 && o[4] == 12);
  ofx_f32_vrdivc__scalar(5, a, b, o); /* a[0] / b[i] */
  CHECK(o[0] == 0.5f && o[1] == 0.25f && o[2] == -1 && o[3] == 4);
  ofx_f32_vmulc__scalar(5, a, b, o); /* a[i] * b[0] */
  CHECK(o[1] == -4 && o[4] == 16);
  float x[5] = {-4, -3, 0, 1.5f, 3}, y[5];
  ofx_f32_vhardswish__scalar(5, x, y);
  CHECK(y[0] == 0 && y[1] == 0 && y[2] == 0 && fabsf(y[3] - 1.5f * 0.75f) < 1e-7f && y[4] == 3);
  ofx_f32_vsigmoid__scalar(5, x, y);
  CHECK(y[2] == 0.5f && fabsf(y[4] - 0.95257413f) < 1e-6f);
  ofx_f32_vswish__scalar(5, x, y);
  CHECK(y[2] == 0 && fabsf(y[4] - 3 * 0.95257413f) < 1e-5f && y[0] < 0 && y[0] > -0.08f);
  ofx_f32_vsqrt__scalar(5, a, y);
  CHECK(y[0] == 1 && isnan(y[1]) && y[4] == sqrtf(8.0f));
  ofx_f32_vclamp__scalar(5, x, y, -1, 2);
  CHECK(y[0] == -1 && y[3] == 1.5f && y[4] == 2);
}

#if OFX_ARCH_WASMSIMD
static const binary_pair pairs[] = {
#define OFX_PAIR(op)                                                      \
  {"v" #op, ofx_f32_v##op##__scalar, ofx_f32_v##op##__wasmsimd_u8},        \
  {"v" #op "c", ofx_f32_v##op##c__scalar, ofx_f32_v##op##c__wasmsimd_u8},  \
  {"vr" #op "c", ofx_f32_vr##op##c__scalar, ofx_f32_vr##op##c__wasmsimd_u8},
    OFX_F32_VBINARY_LIST(OFX_PAIR)
#undef OFX_PAIR
};

static int same_prefix(const float *got, const float *want, size_t n, float tol) {
  for (size_t i = 0; i < n; i++)
    if (!(tol == 0 ? got[i] == want[i] : kt_close(got[i], want[i], want[i], tol))) return 0;
  return 1;
}

static void simd_checks(size_t n, size_t shift) {
  float *a = malloc((n + 8) * sizeof(float)), *b = malloc((n + 8) * sizeof(float));
  kt_fill(a, n + 8);
  kt_fill(b, n + 8);
  for (size_t i = 0; i < n + 8; i++) b[i] = b[i] == 0 ? 0.5f : b[i]; /* no division by 0 */
  float *want = kt_canary_alloc(n + 9), *got = kt_canary_alloc(n + 9);
  const float *as = a + shift, *bs = b + shift;
  for (size_t p = 0; p < sizeof pairs / sizeof *pairs; p++) {
    pairs[p].ref(n, as, bs, want + shift);
    pairs[p].simd(n, as, bs, got + shift);
    KT_CHECK_CASE(same_prefix(got, want, n + 9, 0), "%s n=%zu shift=%zu", pairs[p].name, n, shift);
  }
  for (size_t i = 0; i < n + 8; i++) a[i] *= 12.0f; /* hardswish's bends at +-3, sigmoid tails */
  ofx_f32_vclamp__scalar(n, as, want + shift, -3.0f, 5.0f);
  ofx_f32_vclamp__wasmsimd_u8(n, as, got + shift, -3.0f, 5.0f);
  KT_CHECK_CASE(same_prefix(got, want, n + 9, 0), "vclamp n=%zu", n);
  ofx_f32_vhardswish__scalar(n, as, want + shift);
  ofx_f32_vhardswish__wasmsimd_u8(n, as, got + shift);
  KT_CHECK_CASE(same_prefix(got, want, n + 9, 1e-6f), "vhardswish n=%zu", n);
  ofx_f32_vsigmoid__scalar(n, as, want + shift);
  ofx_f32_vsigmoid__wasmsimd_u8(n, as, got + shift);
  int ok = 1;
  for (size_t i = 0; i < n + 9; i++)
    ok = ok && (fabsf(got[i] - want[i]) <= 2e-7f + 3e-6f * fabsf(want[i]));
  KT_CHECK_CASE(ok, "vsigmoid n=%zu", n);
  ofx_f32_vswish__scalar(n, as, want + shift);
  ofx_f32_vswish__wasmsimd_u8(n, as, got + shift);
  ok = 1;
  for (size_t i = 0; i < n + 9; i++)
    ok = ok && (fabsf(got[i] - want[i]) <= 2e-7f * fabsf(a[i]) + 3e-6f * fabsf(want[i]) + 1e-30f);
  KT_CHECK_CASE(ok, "vswish n=%zu", n);
  for (size_t i = 0; i < n + 8; i++) b[i] = fabsf(a[i]);
  ofx_f32_vsqrt__scalar(n, bs, want + shift);
  ofx_f32_vsqrt__wasmsimd_u8(n, bs, got + shift);
  KT_CHECK_CASE(same_prefix(got, want, n + 9, 0), "vsqrt n=%zu", n);
  float mx = -INFINITY;
  for (size_t i = 0; i < n; i++) mx = fmaxf(mx, as[i]);
  const float sum_want = ofx_f32_vexpminusmax__scalar(n, as, mx, want + shift);
  const float sum_got = ofx_f32_vexpminusmax__wasmsimd_u8(n, as, mx, got + shift);
  /* the SIMD sum is float in 8 lanes: rounding grows with n, well inside 1e-4 here */
  ok = fabsf(sum_got - sum_want) <= 1e-4f * (1.0f + sum_want);
  for (size_t i = 0; i < n + 9; i++) ok = ok && (fabsf(got[i] - want[i]) <= 1e-30f + 3e-7f * fabsf(want[i]));
  KT_CHECK_CASE(ok, "vexpminusmax n=%zu", n);
  for (size_t i = 0; i < n + 8; i++) a[i] *= 0.4f; /* erf's interesting range: |x| < ~5 */
  ofx_f32_verf__scalar(n, as, want + shift);
  ofx_f32_verf__wasmsimd_u8(n, as, got + shift);
  ok = 1;
  for (size_t i = 0; i < n + 9; i++) ok = ok && (fabsf(got[i] - want[i]) <= 3e-7f);
  KT_CHECK_CASE(ok, "verf n=%zu", n);
  free(a), free(b), free(want), free(got);
}

static void erf_sweep(void) {
  enum { N = 20001 };
  static float x[N], y[N], r[N];
  for (int i = 0; i < N; i++) x[i] = -10.0f + 20.0f * (float)i / (N - 1);
  x[0] = NAN, x[1] = INFINITY, x[2] = -INFINITY, x[3] = -0.0f, x[4] = 1e-30f;
  ofx_f32_verf__wasmsimd_u8(N, x, y);
  ofx_f32_verf__scalar(N, x, r);
  int ok = isnan(y[0]) && y[1] == 1.0f && y[2] == -1.0f && y[3] == 0.0f && signbit(y[3]);
  for (int i = 4; i < N; i++) ok = ok && fabsf(y[i] - r[i]) <= 3e-7f && fabsf(y[i]) <= 1.0f;
  KT_CHECK_CASE(ok, "verf sweep");
}

static void sigmoid_extremes(void) {
  float x[8] = {-200.0f, -100.0f, -87.5f, -30.0f, 30.0f, 100.0f, 1e-8f, -1e-8f}, y[8], r[8];
  ofx_f32_vsigmoid__wasmsimd_u8(8, x, y);
  ofx_f32_vsigmoid__scalar(8, x, r);
  int ok = 1;
  for (int i = 0; i < 8; i++) ok = ok && fabsf(y[i] - r[i]) <= 2e-7f + 3e-6f * fabsf(r[i]) && y[i] >= 0 && y[i] <= 1;
  KT_CHECK_CASE(ok, "vsigmoid extremes");
}

/* sigmoid and swish over [-100, 100] in fine steps, plus denormals, zeros, infinities, NaN */
static void sigmoid_sweep(void) {
  enum { N = 40001 };
  static float x[N], y[N], r[N];
  for (int i = 0; i < N; i++) x[i] = -100.0f + 200.0f * (float)i / (N - 1);
  x[0] = NAN, x[1] = INFINITY, x[2] = -INFINITY, x[3] = -0.0f, x[4] = 0.0f, x[5] = 1e-40f, x[6] = -1e-40f,
  x[7] = 1.17549435e-38f, x[8] = -3e-45f, x[9] = 88.7f, x[10] = -88.7f, x[11] = -103.0f, x[12] = 1e30f;
  ofx_f32_vsigmoid__wasmsimd_u8(N, x, y);
  ofx_f32_vsigmoid__scalar(N, x, r);
  int ok = isnan(y[0]) && y[1] == 1.0f && y[2] >= 0.0f && y[2] < 1e-37f;
  for (int i = 3; i < N; i++) ok = ok && fabsf(y[i] - r[i]) <= 2e-7f + 3e-6f * fabsf(r[i]) && y[i] >= 0 && y[i] <= 1;
  KT_CHECK_CASE(ok, "vsigmoid sweep");
  ofx_f32_vswish__wasmsimd_u8(N, x, y);
  ofx_f32_vswish__scalar(N, x, r);
  ok = isnan(y[0]) && y[1] == INFINITY; /* -inf: -inf * ~1e-38 (scalar: -inf * 0 = NaN), not checked */
  for (int i = 3; i < N; i++) ok = ok && fabsf(y[i] - r[i]) <= 2e-7f * fabsf(x[i]) + 3e-6f * fabsf(r[i]) + 1e-30f;
  ok = ok && y[4] == 0.0f && y[5] == 0.5e-40f;
  KT_CHECK_CASE(ok, "vswish sweep");
}
#endif

int main(void) {
  kt_seed(5);
  scalar_checks();
#if OFX_ARCH_WASMSIMD
  for (size_t n = 0; n <= 70; n++) simd_checks(n, n % 3);
  simd_checks(4099, 1);
  simd_checks(100000, 0);
  sigmoid_extremes();
  sigmoid_sweep();
  erf_sweep();
#endif
  return ofx_test_finish("test-kernels-f32-velementwise");
}
