/* The 8-bit GEMM: every registered micro-kernel (scalar and, in WASM builds, wasmsimd) against
 * an exact reference — int64 sums of (a - a_zp)(w - w_zp) from the raw 8-bit values, then the
 * documented float epilogue — over uint8 and int8 operands, per-tensor and per-column zero
 * points at the ends of their ranges, row/column/K tails (odd K included), clamps; stray writes
 * are caught by canaries. Then the activation widening kernel and the ofx_q8_gemm driver, inline
 * and threaded. The c4 kernels (int8-staged activations, weights in 7-bit parts for the relaxed
 * dot) against the same reference, bit for bit, on the same problems. */
#include <string.h>

#include "kernel-test.h"
#include "kernels/kernel-config.h"
#include "kernels/q8-gemm/q8-gemm.h"
#include "threadpool/threadpool.h"

typedef struct variant {
  const char *name, *arch;
  ofx_q8_gemm_minmax_ukernel_fn fn;
  size_t mr, nr;
} variant;

static const variant variants[] = {
#define OFX_Q8_GEMM_UKERNEL(arch, uk, mr, nr) {#uk, #arch, uk, mr, nr},
#include "kernels/q8-gemm/q8-gemm.inc"
#undef OFX_Q8_GEMM_UKERNEL
};

typedef struct c4_variant {
  const char *name, *arch;
  ofx_q8c4_gemm_minmax_ukernel_fn fn;
  size_t mr, nr;
} c4_variant;

static const c4_variant c4_variants[] = {
#define OFX_Q8C4_GEMM_UKERNEL(arch, uk, mr, nr) {#uk, #arch, uk, mr, nr},
#include "kernels/q8-gemm/q8c4-gemm.inc"
#undef OFX_Q8C4_GEMM_UKERNEL
};

/* A quantized problem: a[m][k] and w[n][k] 8-bit with zero points, per-column scale and bias. */
typedef struct problem {
  size_t m, n, k;
  bool a_signed, w_signed, per_column;
  uint8_t *a, *w; /* raw bytes (int8 when signed) */
  int32_t a_zp, *w_zp;
  float *scale, *bias;
  int16_t *a16; /* a - a_zp, rows of k rounded up to even, padding 0 */
  size_t a_stride;
} problem;

static int32_t zero_point(bool is_signed) {
  const int32_t ends[] = {0, 255, 128, 1}; /* the ends of the range too */
  int32_t z = kt_u32() % 3 == 0 ? ends[kt_u32() % 4] : (int32_t)(kt_u32() % 256);
  return is_signed ? z - 128 : z;
}

static problem make(size_t m, size_t n, size_t k) {
  problem p = {.m = m, .n = n, .k = k, .a_signed = kt_u32() & 1, .w_signed = kt_u32() & 1, .per_column = kt_u32() & 1};
  p.a = malloc(m * k + 1), p.w = malloc(n * k + 1);
  for (size_t i = 0; i < m * k; i++) p.a[i] = (uint8_t)kt_u32();
  for (size_t i = 0; i < n * k; i++) p.w[i] = (uint8_t)kt_u32();
  p.a_zp = zero_point(p.a_signed);
  p.w_zp = malloc(n * sizeof *p.w_zp), p.scale = malloc(n * sizeof(float)), p.bias = malloc(n * sizeof(float));
  for (size_t j = 0; j < n; j++) {
    p.w_zp[j] = p.per_column || j == 0 ? zero_point(p.w_signed) : p.w_zp[0];
    p.scale[j] = 1e-5f * (1.0f + (float)(kt_u32() % 1000));
    p.bias[j] = kt_float();
  }
  p.a_stride = ofx_round_up(k, 2) + 2 * kt_range(0, 3);
  p.a16 = calloc(m * p.a_stride + 1, sizeof(int16_t));
  for (size_t i = 0; i < m; i++) ofx_x8_to_s16__scalar(k, p.a + i * k, p.a_signed, p.a_zp, p.a16 + i * p.a_stride);
  return p;
}

static void release(problem *p) { free(p->a), free(p->w), free(p->w_zp), free(p->scale), free(p->bias), free(p->a16); }

static int32_t value(const uint8_t *x, size_t i, bool is_signed) { return is_signed ? (int8_t)x[i] : x[i]; }

/* exact: int64 sum, then float(acc) * scale + bias as the kernels' epilogue says */
static float reference(const problem *p, size_t i, size_t j, float lo, float hi) {
  int64_t acc = 0;
  for (size_t kk = 0; kk < p->k; kk++)
    acc += (int64_t)(value(p->a, i * p->k + kk, p->a_signed) - p->a_zp) * (value(p->w, j * p->k + kk, p->w_signed) - p->w_zp[j]);
  return fminf(fmaxf((float)(int32_t)acc * p->scale[j] + p->bias[j], lo), hi);
}

static void *pack(const problem *p, size_t nr) {
  void *packed = malloc(ofx_q8_packw_gemm_size(p->n, p->k, nr));
  ofx_q8_packw_gemm(p->n, p->k, nr, p->w, p->k, 1, p->w_signed, p->w_zp, p->per_column, p->scale, p->bias, packed);
  return packed;
}

static void test_ukernel(const variant *v, size_t mr, size_t n, size_t k, int clamp) {
  problem p = make(mr, n, k);
  void *packed = pack(&p, v->nr);
  const float lo = clamp == 1 ? 0.0f : -INFINITY, hi = clamp == 2 ? 0.5f : INFINITY;
  const size_t cm_stride = n + kt_range(0, 5), c_size = v->mr * cm_stride + 8;
  float *c = kt_canary_alloc(c_size);
  const ofx_f32_minmax_params params = {lo, hi};
  v->fn(mr, n, k, p.a16, p.a_stride, packed, c, cm_stride, v->nr, &params);
  int ok = 1;
  size_t bad = 0;
  for (size_t idx = 0; idx < c_size && ok; idx++) {
    const size_t i = idx / cm_stride, j = idx % cm_stride;
    const bool good = i < mr && j < n ? c[idx] == reference(&p, i, j, lo, hi) : c[idx] == KT_CANARY;
    if (!good) ok = 0, bad = idx;
  }
  KT_CHECK_CASE(ok, "%s mr=%zu n=%zu k=%zu a_signed=%d w_signed=%d per_column=%d clamp=%d (first bad index %zu)", v->name,
                mr, n, k, p.a_signed, p.w_signed, p.per_column, clamp, bad);
  free(packed), free(c);
  release(&p);
}

/* A c4 kernel on a problem: activations staged to int8 (rows of k rounded up to 4, zeros after,
 * random stride), weights split by ofx_q8c4_packw_gemm; must equal the exact reference. */
static void test_c4_ukernel(const c4_variant *v, size_t mr, size_t n, size_t k, int clamp) {
  problem p = make(mr, n, k);
  const size_t a_stride = ofx_round_up(k, 4) + 4 * kt_range(0, 3);
  int8_t *a8 = calloc(mr * a_stride + 1, 1);
  for (size_t i = 0; i < mr; i++) ofx_x8_to_s8__scalar(k, p.a + i * k, p.a_signed, a8 + i * a_stride);
  void *packed = malloc(ofx_q8c4_packw_gemm_size(n, k, v->nr));
  ofx_q8c4_packw_gemm(n, k, v->nr, p.w, k, 1, p.w_signed, p.w_zp, p.per_column, p.scale, p.bias, packed);
  const float lo = clamp == 1 ? 0.0f : -INFINITY, hi = clamp == 2 ? 0.5f : INFINITY;
  const size_t cm_stride = n + kt_range(0, 5), c_size = v->mr * cm_stride + 8;
  float *c = kt_canary_alloc(c_size);
  const ofx_f32_minmax_params params = {lo, hi};
  v->fn(mr, n, k, a8, a_stride, ofx_q8c4_staged_zero_point(p.a_signed, p.a_zp), packed, c, cm_stride, v->nr, &params);
  int ok = 1;
  size_t bad = 0;
  for (size_t idx = 0; idx < c_size && ok; idx++) {
    const size_t i = idx / cm_stride, j = idx % cm_stride;
    const bool good = i < mr && j < n ? c[idx] == reference(&p, i, j, lo, hi) : c[idx] == KT_CANARY;
    if (!good) ok = 0, bad = idx;
  }
  KT_CHECK_CASE(ok, "%s mr=%zu n=%zu k=%zu a_signed=%d w_signed=%d a_zp=%d per_column=%d clamp=%d (first bad index %zu)",
                v->name, mr, n, k, p.a_signed, p.w_signed, p.a_zp, p.per_column, clamp, bad);
  free(a8), free(packed), free(c);
  release(&p);
}

/* The extremes the split must survive: every operand at the ends of its range (x86 and ARM
 * would disagree on a high-bit byte in the relaxed dot's second operand), largest K. */
static void test_c4_extremes(const c4_variant *v) {
  const size_t k = 32767, n = v->nr, m = v->mr;
  for (int sign = 0; sign < 4; sign++) {
    problem p = make(m, n, k);
    p.a_signed = sign & 1, p.w_signed = sign >> 1;
    const uint8_t a_end = p.a_signed ? 0x80 : 0, w_end = p.w_signed ? 0x7f : 0xff; /* lowest a, highest w */
    for (size_t i = 0; i < m * k; i++) p.a[i] = a_end;
    for (size_t i = 0; i < n * k; i++) p.w[i] = i % 3 ? w_end : (uint8_t)(w_end ^ 0xff);
    p.a_zp = p.a_signed ? 127 : 255;
    for (size_t j = 0; j < n; j++) p.w_zp[j] = j % 2 ? (p.w_signed ? -128 : 0) : (p.w_signed ? 127 : 255);
    int8_t *a8 = calloc(m * k + 4, 1);
    for (size_t i = 0; i < m; i++) ofx_x8_to_s8__scalar(k, p.a + i * k, p.a_signed, a8 + i * (k + 1));
    void *packed = malloc(ofx_q8c4_packw_gemm_size(n, k, v->nr));
    ofx_q8c4_packw_gemm(n, k, v->nr, p.w, k, 1, p.w_signed, p.w_zp, true, p.scale, p.bias, packed);
    float *c = kt_canary_alloc(m * n);
    const ofx_f32_minmax_params params = {-INFINITY, INFINITY};
    v->fn(m, n, k, a8, k + 1, ofx_q8c4_staged_zero_point(p.a_signed, p.a_zp), packed, c, n, v->nr, &params);
    int ok = 1;
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) ok = ok && c[i * n + j] == reference(&p, i, j, -INFINITY, INFINITY);
    KT_CHECK_CASE(ok, "%s extremes k=%zu a_signed=%d w_signed=%d", v->name, k, p.a_signed, p.w_signed);
    free(a8), free(packed), free(c);
    release(&p);
  }
}

static void test_widening(size_t n) {
  uint8_t *x = malloc(n + 1);
  int16_t *want = malloc((n + 1) * sizeof *want), *got = malloc((n + 1) * sizeof *got);
  for (size_t i = 0; i < n; i++) x[i] = (uint8_t)kt_u32();
  for (int is_signed = 0; is_signed < 2; is_signed++) {
    const int32_t zp = zero_point(is_signed);
    ofx_x8_to_s16__scalar(n, x, is_signed, zp, want);
    ofx_kernels()->x8_to_s16(n, x, is_signed, zp, got);
    bool ok = true;
    for (size_t i = 0; i < n; i++) ok = ok && got[i] == want[i] && want[i] == value(x, i, is_signed) - zp;
    KT_CHECK_CASE(ok, "x8_to_s16 n=%zu signed=%d zp=%d", n, is_signed, zp);
  }
  free(x), free(want), free(got);
}

static void test_driver(ofx_threadpool *pool, size_t m, size_t n, size_t k) {
  problem p = make(m, n, k);
  void *packed = pack(&p, ofx_kernels()->q8_gemm_nr);
  const size_t c_stride = n + 2;
  float *c = kt_canary_alloc(m * c_stride);
  ofx_q8_gemm(m, n, k, p.a16, p.a_stride, packed, c, c_stride, 0.0f, INFINITY, pool);
  int ok = 1;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < c_stride; j++)
      ok = ok && c[i * c_stride + j] == (j < n ? reference(&p, i, j, 0.0f, INFINITY) : KT_CANARY);
  KT_CHECK_CASE(ok, "ofx_q8_gemm threads=%zu m=%zu n=%zu k=%zu", ofx_threadpool_threads_count(pool), m, n, k);
  free(packed), free(c);
  release(&p);
}

int main(void) {
  kt_seed(8);
  const size_t nvar = sizeof variants / sizeof *variants;
  size_t simd = 0;
  for (size_t i = 0; i < nvar; i++) simd += strcmp(variants[i].arch, "wasmsimd") == 0;
#if defined(__wasm_simd128__)
  CHECK(simd == 2); /* the wasmsimd kernels are registered and tested in this build */
#else
  CHECK(simd == 0);
#endif
  const size_t ns[] = {1, 3, 4, 7, 8, 9, 15, 16, 17, 33};
  const size_t ks[] = {1, 2, 3, 4, 5, 7, 8, 16, 27, 64, 257, 1031};
  for (size_t vi = 0; vi < nvar; vi++) {
    const variant *v = &variants[vi];
    for (size_t mr = 1; mr <= v->mr; mr++)
      for (size_t a = 0; a < sizeof ns / sizeof *ns; a++)
        for (size_t b = 0; b < sizeof ks / sizeof *ks; b++) test_ukernel(v, mr, ns[a], ks[b], (int)((a + b) % 3));
    for (int r = 0; r < 30; r++) /* random shapes, large K included */
      test_ukernel(v, kt_range(1, v->mr + 1), kt_range(1, 80), kt_range(1, 4700), r % 3);
  }
  const size_t nc4 = sizeof c4_variants / sizeof *c4_variants;
  size_t relaxed = 0;
  for (size_t i = 0; i < nc4; i++) relaxed += strcmp(c4_variants[i].arch, "wasmrelaxedsimd") == 0;
  CHECK(relaxed == (OFX_ARCH_WASMRELAXEDSIMD ? 2 : 0)); /* registered and tested in the relaxed build */
  for (size_t vi = 0; vi < nc4; vi++) {
    const c4_variant *v = &c4_variants[vi];
    for (size_t mr = 1; mr <= v->mr; mr++)
      for (size_t a = 0; a < sizeof ns / sizeof *ns; a++)
        for (size_t b = 0; b < sizeof ks / sizeof *ks; b++) test_c4_ukernel(v, mr, ns[a], ks[b], (int)((a + b) % 3));
    for (int r = 0; r < 30; r++) test_c4_ukernel(v, kt_range(1, v->mr + 1), kt_range(1, 80), kt_range(1, 4700), r % 3);
    test_c4_extremes(v);
  }
  for (size_t n = 0; n < 70; n++) test_widening(n);
  ofx_threadpool *pool = ofx_threadpool_create(3);
  CHECK(pool != NULL);
  for (int r = 0; r < 20; r++) {
    const size_t m = kt_range(1, 70), n = kt_range(1, 90), k = kt_range(1, 300);
    test_driver(NULL, m, n, k);
    test_driver(pool, m, n, k);
  }
  for (int r = 0; r < 6; r++) /* above OFX_GEMM_MIN_PARALLEL_MACS: really split over threads */
    test_driver(pool, kt_range(64, 200), kt_range(33, 90), kt_range(128, 300));
  test_driver(pool, 1, 1000, 512); /* M = 1: split over N */
  ofx_threadpool_destroy(pool);
  return ofx_test_finish("test-kernels-q8-gemm");
}
