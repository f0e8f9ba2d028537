/* Every registered GEMM micro-kernel (scalar and, in WASM builds, wasmsimd) against the
 * unpacked reference ofx_f32_gemm_nt_minmax__scalar over odd shapes: row tails (mr < MR),
 * column tails (nc % 8), K tails (kc % 2, kc % 4), tiny and large K, row strides, fused clamp; stray
 * writes are caught by canaries. Then the ofx_f32_gemm driver, inline and threaded. */
#include <string.h>

#include "kernel-test.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/kernel-config.h"
#include "kernels/x32-packw/x32-packw.h"
#include "threadpool/threadpool.h"

typedef struct variant {
  const char *name, *arch;
  ofx_f32_gemm_minmax_ukernel_fn fn;
  size_t mr, nr;
} variant;

static const variant variants[] = {
#define OFX_GEMM_UKERNEL(arch, uk, mr, nr) {#uk, #arch, uk, mr, nr},
#include "kernels/f32-gemm/f32-gemm.inc"
#undef OFX_GEMM_UKERNEL
};

/* reference with per-element magnitude for the tolerance */
static void reference(size_t m, size_t n, size_t k, const float *a, size_t a_stride,
                      const float *w, const float *bias, float *ref, float *mag) {
  ofx_f32_gemm_nt_minmax__scalar(m, n, k, a, a_stride, w, k, bias, ref, n, -INFINITY, INFINITY);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      float s = fabsf(bias[j]);
      for (size_t kk = 0; kk < k; kk++) s += fabsf(a[i * a_stride + kk] * w[j * k + kk]);
      mag[i * n + j] = s;
    }
}

/* clamp bounds: none, or cutting a quarter off each end of the output range */
static void pick_clamp(int mode, const float *ref, size_t count, float *lo, float *hi) {
  *lo = -INFINITY, *hi = INFINITY;
  if (mode == 0 || count == 0) return;
  float mn = ref[0], mx = ref[0];
  for (size_t i = 1; i < count; i++) mn = fminf(mn, ref[i]), mx = fmaxf(mx, ref[i]);
  *lo = mn + 0.25f * (mx - mn);
  *hi = mx - 0.25f * (mx - mn);
  if (mode == 2) *lo = 0.0f, *hi = INFINITY; /* Relu */
}

static void test_ukernel(const variant *v, size_t mr, size_t n, size_t k, int clamp_mode) {
  const size_t a_stride = k + kt_range(0, 5), cm_stride = n + kt_range(0, 5);
  float *a = malloc((mr * a_stride + 1) * sizeof(float));
  float *w = malloc((n * k + 1) * sizeof(float)), *bias = malloc(n * sizeof(float));
  kt_fill(a, mr * a_stride);
  kt_fill(w, n * k);
  kt_fill(bias, n);
  float *packed = malloc(ofx_x32_packw_gemm_size(n, k, v->nr) * sizeof(float));
  ofx_x32_packw_gemm_goi(n, k, v->nr, w, bias, packed);
  float *ref = malloc(mr * n * sizeof(float)), *mag = malloc(mr * n * sizeof(float));
  reference(mr, n, k, a, a_stride, w, bias, ref, mag);
  float lo, hi;
  pick_clamp(clamp_mode, ref, mr * n, &lo, &hi);
  const size_t c_size = v->mr * cm_stride + 8; /* rows >= mr must stay untouched too */
  float *c = kt_canary_alloc(c_size);
  const ofx_f32_minmax_params params = {lo, hi};
  v->fn(mr, n, k, a, a_stride, packed, c, cm_stride, v->nr, &params);
  int ok = 1;
  size_t bad = 0;
  for (size_t idx = 0; idx < c_size; idx++) {
    const size_t i = idx / cm_stride, j = idx % cm_stride;
    int good;
    if (i < mr && j < n) {
      const float want = ofx_clampf(ref[i * n + j], lo, hi);
      good = kt_close(c[idx], want, mag[i * n + j], KT_F32_DOT_TOL);
    } else {
      good = c[idx] == KT_CANARY;
    }
    if (!good && ok) bad = idx;
    ok = ok && good;
  }
  KT_CHECK_CASE(ok, "%s mr=%zu n=%zu k=%zu clamp=%d (first bad index %zu)", v->name, mr, n, k,
                clamp_mode, bad);
  free(a), free(w), free(bias), free(packed), free(ref), free(mag), free(c);
}

/* What a kernel computes per step, exactly (kt_madd_rounding): k = 3 (the 2-step main loop and
 * the tail) with A = [KT_MADD_A, 0, 0], W = [KT_MADD_B, 5, -3], bias -1 on every row and 11
 * columns (a full block and a tail). Returns how many outputs were fused; -1 if any is wrong. */
static int madd_outputs(const variant *v) {
  const size_t n = 11, k = 3, mr = v->mr;
  float a[6 * 3], w[11 * 3], bias[11], c[6 * 11];
  for (size_t i = 0; i < mr; i++) a[i * k] = KT_MADD_A, a[i * k + 1] = 0.0f, a[i * k + 2] = 0.0f;
  for (size_t j = 0; j < n; j++) w[j * k] = KT_MADD_B, w[j * k + 1] = 5.0f, w[j * k + 2] = -3.0f, bias[j] = -1.0f;
  float *packed = malloc(ofx_x32_packw_gemm_size(n, k, v->nr) * sizeof(float));
  ofx_x32_packw_gemm_goi(n, k, v->nr, w, bias, packed);
  const ofx_f32_minmax_params params = {-INFINITY, INFINITY};
  v->fn(mr, n, k, a, k, packed, c, n, v->nr, &params);
  free(packed);
  int fused = 0;
  for (size_t i = 0; i < mr * n; i++) {
    const int r = kt_madd_rounding(c[i]);
    if (r < 0) return -1;
    fused += r;
  }
  return fused;
}

static void test_driver(ofx_threadpool *pool, size_t m, size_t n, size_t k) {
  const size_t nr = ofx_kernels()->gemm_nr;
  const size_t a_stride = k + 1, c_stride = n + 2;
  float *a = malloc(m * a_stride * sizeof(float));
  float *w = malloc(n * k * sizeof(float)), *bias = malloc(n * sizeof(float));
  kt_fill(a, m * a_stride);
  kt_fill(w, n * k);
  kt_fill(bias, n);
  float *packed = malloc(ofx_x32_packw_gemm_size(n, k, nr) * sizeof(float));
  ofx_x32_packw_gemm_goi(n, k, nr, w, bias, packed);
  float *ref = malloc(m * n * sizeof(float)), *mag = malloc(m * n * sizeof(float));
  reference(m, n, k, a, a_stride, w, bias, ref, mag);
  float *c = kt_canary_alloc(m * c_stride);
  ofx_f32_gemm(m, n, k, a, a_stride, packed, c, c_stride, 0.0f, INFINITY, pool);
  int ok = 1;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < c_stride; j++) {
      const float got = c[i * c_stride + j];
      ok = ok && (j < n ? kt_close(got, fmaxf(ref[i * n + j], 0.0f), mag[i * n + j], KT_F32_DOT_TOL)
                        : got == KT_CANARY);
    }
  KT_CHECK_CASE(ok, "ofx_f32_gemm threads=%zu m=%zu n=%zu k=%zu",
                ofx_threadpool_threads_count(pool), m, n, k);
  free(a), free(w), free(bias), free(packed), free(ref), free(mag), free(c);
}

int main(void) {
  kt_seed(2);
  const size_t nvar = sizeof variants / sizeof *variants;
  size_t simd = 0, relaxed = 0;
  for (size_t i = 0; i < nvar; i++) {
    simd += strcmp(variants[i].arch, "wasmsimd") == 0;
    relaxed += strcmp(variants[i].arch, "wasmrelaxedsimd") == 0;
  }
  char described[1024];
  CHECK(ofx_kernels_describe(described, sizeof described) < (int)sizeof described);
#if defined(__wasm_relaxed_simd__)
  /* the relaxed build: the wasmsimd kernels and the FMA ones, which kernel-config.c picks */
  CHECK(simd == 6 && relaxed == 3);
  CHECK(strcmp(ofx_kernels()->arch, "wasmrelaxedsimd") == 0);
  CHECK(strstr(described, "\"f32_gemm\":\"ofx_f32_gemm_minmax_ukernel_6x8__wasmrelaxedsimd_fma\"") != NULL);
  CHECK(strstr(described, "\"f32_igemm\":\"ofx_f32_igemm_minmax_ukernel_6x8__wasmrelaxedsimd_fma\"") != NULL);
  CHECK(strstr(described, "\"f32_dwconv_any\":\"ofx_f32_dwconv_minmax_ukernel_up8c__wasmrelaxedsimd_fma\"") != NULL);
#elif defined(__wasm_simd128__)
  CHECK(simd == 6 && relaxed == 0); /* the wasmsimd kernels are registered and tested in this build */
  CHECK(strcmp(ofx_kernels()->arch, "wasmsimd") == 0);
  CHECK(strstr(described, "\"f32_gemm\":\"ofx_f32_gemm_minmax_ukernel_4x8__wasmsimd_loadsplat\"") != NULL);
#else
  CHECK(simd == 0 && relaxed == 0);
  CHECK(strcmp(ofx_kernels()->arch, "scalar") == 0);
  CHECK(strstr(described, "\"f32_gemm\":\"ofx_f32_gemm_minmax_ukernel_4x8__scalar\"") != NULL);
#endif
  CHECK(strstr(described, "\"?\"") == NULL); /* every configured kernel is registered */
  /* mul+add kernels round twice; relaxed ones once or twice, the same way on every output */
  for (size_t vi = 0; vi < nvar; vi++) {
    const int fused = madd_outputs(&variants[vi]), outputs = (int)(variants[vi].mr * 11);
    if (strcmp(variants[vi].arch, "wasmrelaxedsimd") == 0) {
      KT_CHECK_CASE(fused == 0 || fused == outputs, "%s: acc + a*b neither fused nor mul+add on every output (%d of %d fused)",
                    variants[vi].name, fused, outputs);
      printf("%s: relaxed_madd %s here\n", variants[vi].name, fused ? "fused (one rounding)" : "not fused (mul+add)");
    } else if (strcmp(variants[vi].arch, "wasmsimd") == 0) {
      KT_CHECK_CASE(fused == 0, "%s: acc + a*b is not mul+add (%d fused)", variants[vi].name, fused);
    } else { /* scalar C: a native compiler may contract it into an FMA where the target has one */
      KT_CHECK_CASE(fused >= 0, "%s: acc + a*b is wrong", variants[vi].name);
    }
  }
  const size_t ns[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 33};
  const size_t ks[] = {1, 2, 3, 4, 5, 7, 8, 9, 11, 16, 27, 64, 257, 1031};
  for (size_t vi = 0; vi < nvar; vi++) {
    const variant *v = &variants[vi];
    for (size_t mr = 1; mr <= v->mr; mr++)
      for (size_t a = 0; a < sizeof ns / sizeof *ns; a++)
        for (size_t b = 0; b < sizeof ks / sizeof *ks; b++)
          test_ukernel(v, mr, ns[a], ks[b], (int)((a + b) % 3));
    for (int r = 0; r < 40; r++) /* random shapes, large K included */
      test_ukernel(v, kt_range(1, v->mr + 1), kt_range(1, 80), kt_range(1, 2500), r % 3);
  }
  ofx_threadpool *pool = ofx_threadpool_create(3);
  CHECK(pool != NULL);
  for (int r = 0; r < 30; r++) {
    const size_t m = kt_range(1, 70), n = kt_range(1, 90), k = kt_range(1, 300);
    test_driver(NULL, m, n, k);
    test_driver(pool, m, n, k);
  }
  for (int r = 0; r < 10; r++) /* above OFX_GEMM_MIN_PARALLEL_MACS: really split over threads */
    test_driver(pool, kt_range(64, 200), kt_range(33, 90), kt_range(128, 300));
  test_driver(pool, 1, 1000, 512); /* M = 1: split over N */
  test_driver(pool, 3136, 64, 64);
  ofx_threadpool_destroy(pool);
  return ofx_test_finish("test-kernels-f32-gemm");
}
