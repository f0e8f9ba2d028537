/* Every registered IGEMM micro-kernel, driven over a whole image through an indirection
 * buffer from ofx_indirection_init_conv2d_nhwc, against a naive NHWC convolution: random
 * kernel sizes, strides, dilations, padding, odd channel counts, grouped input (pixel stride
 * > channels, group offset through a_offset) and a moved input (negative-or-positive
 * a_offset). Then the ofx_f32_igemm driver, inline and threaded. */
#include <string.h>

#include "conv-ref.h"
#include "kernel-test.h"
#include "kernels/f32-igemm/f32-igemm.h"
#include "kernels/kernel-config.h"
#include "kernels/x32-packw/x32-packw.h"
#include "threadpool/threadpool.h"

typedef struct variant {
  const char *name, *arch;
  ofx_f32_igemm_minmax_ukernel_fn fn;
  size_t mr, nr;
} variant;

static const variant variants[] = {
#define OFX_IGEMM_UKERNEL(arch, uk, mr, nr) {#uk, #arch, uk, mr, nr},
#include "kernels/f32-igemm/f32-igemm.inc"
#undef OFX_IGEMM_UKERNEL
};

static void random_shape(conv_shape *s) {
  do {
    s->kh = kt_range(1, 6), s->kw = kt_range(1, 6);
    s->stride_h = kt_range(1, 3), s->stride_w = kt_range(1, 3);
    s->dil_h = kt_range(1, 3), s->dil_w = kt_range(1, 3);
    s->in_h = kt_range(1, 12), s->in_w = kt_range(1, 12);
    s->pad_top = kt_range(0, s->kh), s->pad_left = kt_range(0, s->kw);
  } while ((s->kh - 1) * s->dil_h + 1 > s->in_h + 2 * s->pad_top ||
           (s->kw - 1) * s->dil_w + 1 > s->in_w + 2 * s->pad_left);
  conv_shape_finish(s);
}

/* v == NULL: the driver with pool */
static void run_case(const variant *v, ofx_threadpool *pool, const conv_shape *s, size_t cin,
                     size_t cout, size_t groups, int relu) {
  const size_t mr = v ? v->mr : ofx_kernels()->igemm_mr, nr = v ? v->nr : ofx_kernels()->gemm_nr;
  const size_t taps = s->kh * s->kw, pixels = s->out_h * s->out_w, x_stride = cin * groups;
  const size_t x_size = s->in_h * s->in_w * x_stride;
  float *x = malloc(x_size * sizeof(float)), *x_moved = malloc(x_size * sizeof(float));
  kt_fill(x, x_size);
  memcpy(x_moved, x, x_size * sizeof(float));
  float *w = malloc(cout * cin * taps * sizeof(float)), *bias = malloc(cout * sizeof(float));
  kt_fill(w, cout * cin * taps);
  kt_fill(bias, cout);
  float *packed = malloc(ofx_x32_packw_gemm_size(cout, cin * taps, nr) * sizeof(float));
  ofx_x32_packw_conv_oihw(cout, cin, s->kh, s->kw, nr, w, bias, packed);
  float *zero = calloc(cin + 4, sizeof(float));
  const float **ind = malloc(ofx_indirection_size_conv2d(s->out_h, s->out_w, s->kh, s->kw, mr) * sizeof(*ind));
  /* built against x, run on x_moved: the kernels must apply a_offset (plus the group's first channel) */
  ofx_indirection_init_conv2d_nhwc(ind, x, x_stride, zero, s->in_h, s->in_w, s->out_h, s->out_w,
                                   s->kh, s->kw, s->stride_h, s->stride_w, s->dil_h, s->dil_w,
                                   s->pad_top, s->pad_left, mr);
  const size_t g = groups - 1; /* test the last group */
  const size_t a_offset = (size_t)((uintptr_t)(x_moved + g * cin) - (uintptr_t)x);
  float *ref = malloc(pixels * cout * sizeof(float)), *mag = malloc(pixels * cout * sizeof(float));
  conv_ref_nhwc(s, cin, cout, 0, x, x_stride, g * cin, w, bias, ref, mag);
  const size_t c_stride = cout + 3;
  float *c = kt_canary_alloc(pixels * c_stride);
  const float lo = relu ? 0.0f : -INFINITY;
  if (v != NULL) {
    const ofx_f32_minmax_params params = {lo, INFINITY};
    for (size_t p = 0; p < pixels; p += mr)
      v->fn(ofx_min_sz(mr, pixels - p), cout, cin, taps, ind + p * taps, packed, c + p * c_stride,
            c_stride, nr, a_offset, zero, &params);
  } else {
    /* the driver's fused activation: swish after the clamp, on tiles of padded rows */
    ofx_f32_igemm(mr, pixels, cout, cin, taps, ind, packed, c, c_stride, a_offset, zero, lo,
                  INFINITY, relu ? ofx_f32_vswish__scalar : NULL, pool);
  }
  const int swish = v == NULL && relu;
  int ok = 1;
  for (size_t p = 0; p < pixels; p++)
    for (size_t j = 0; j < c_stride; j++) {
      const float got = c[p * c_stride + j];
      float want = j < cout ? fmaxf(ref[p * cout + j], lo) : 0;
      if (j < cout && swish) ofx_f32_vswish__scalar(1, &want, &want);
      ok = ok && (j < cout ? kt_close(got, want, mag[p * cout + j], KT_F32_DOT_TOL)
                           : got == KT_CANARY);
    }
  KT_CHECK_CASE(ok,
                "%s threads=%zu in=%zux%zu k=%zux%zu s=%zu,%zu d=%zu,%zu pad=%zu,%zu cin=%zu cout=%zu groups=%zu",
                v ? v->name : "ofx_f32_igemm", ofx_threadpool_threads_count(pool), s->in_h, s->in_w,
                s->kh, s->kw, s->stride_h, s->stride_w, s->dil_h, s->dil_w, s->pad_top, s->pad_left,
                cin, cout, groups);
  free(x), free(x_moved), free(w), free(bias), free(packed), free(zero), free(ind), free(ref),
      free(mag), free(c);
}

/* What a kernel computes per step, exactly (kt_madd_rounding), as in test-f32-gemm.c: one tap
 * (ks = 1) of kc = 3 channels [KT_MADD_A, 0, 0] on every row, weights [KT_MADD_B, 5, -3], bias -1,
 * 11 columns. Returns how many outputs were fused; -1 if any is wrong. */
#define MADD_OUTPUTS(v) ((int)((v)->mr * 11))
static int madd_outputs(const variant *v) {
  const size_t n = 11, k = 3, mr = v->mr;
  float row[3] = {KT_MADD_A, 0.0f, 0.0f}, zero[3] = {0}, w[11 * 3], bias[11], c[8 * 11];
  const float *a[8];
  for (size_t i = 0; i < mr; i++) a[i] = row;
  for (size_t j = 0; j < n; j++) w[j * k] = KT_MADD_B, w[j * k + 1] = 5.0f, w[j * k + 2] = -3.0f, bias[j] = -1.0f;
  float *packed = malloc(ofx_x32_packw_gemm_size(n, k, v->nr) * sizeof(float));
  ofx_x32_packw_conv_oihw(n, k, 1, 1, v->nr, w, bias, packed);
  const ofx_f32_minmax_params params = {-INFINITY, INFINITY};
  v->fn(mr, n, k, 1, a, packed, c, n, v->nr, 0, zero, &params);
  free(packed);
  int fused = 0;
  for (size_t i = 0; i < mr * n; i++) {
    const int r = kt_madd_rounding(c[i]);
    if (r < 0) return -1;
    fused += r;
  }
  return fused;
}

int main(void) {
  kt_seed(3);
  size_t simd = 0;
  const size_t nvar = sizeof variants / sizeof *variants;
  size_t relaxed = 0;
  for (size_t i = 0; i < nvar; i++) {
    simd += strcmp(variants[i].arch, "wasmsimd") == 0;
    relaxed += strcmp(variants[i].arch, "wasmrelaxedsimd") == 0;
  }
  CHECK(simd == (OFX_ARCH_WASMSIMD ? 6u : 0u));
  CHECK(relaxed == (OFX_ARCH_WASMRELAXEDSIMD ? 3u : 0u));
#if OFX_ARCH_WASMRELAXEDSIMD
  CHECK(ofx_kernels()->f32_igemm_main == ofx_f32_igemm_minmax_ukernel_6x8__wasmrelaxedsimd_fma);
  CHECK(ofx_kernels()->f32_igemm_1x8 == ofx_f32_igemm_minmax_ukernel_1x8__wasmrelaxedsimd_fma);
#endif
  for (size_t vi = 0; vi < nvar; vi++) {
    const int fused = madd_outputs(&variants[vi]);
    if (strcmp(variants[vi].arch, "wasmrelaxedsimd") == 0)
      KT_CHECK_CASE(fused == 0 || fused == MADD_OUTPUTS(&variants[vi]),
                    "%s: acc + a*b neither fused nor mul+add on every output (%d fused)", variants[vi].name, fused);
    else if (strcmp(variants[vi].arch, "wasmsimd") == 0)
      KT_CHECK_CASE(fused == 0, "%s: acc + a*b is not mul+add (%d fused)", variants[vi].name, fused);
    else /* scalar C: a native compiler may contract it into an FMA where the target has one */
      KT_CHECK_CASE(fused >= 0, "%s: acc + a*b is wrong", variants[vi].name);
  }
  /* indirection layout on a hand-checked case: 3x3 input, 2x2 kernel, pad 1, stride 2, mr 4 */
  {
    float img[9] = {0}, zero[1] = {0};
    const float *ind[4 * 4];
    ofx_indirection_init_conv2d_nhwc(ind, img, 1, zero, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 4);
    /* output (0,0) taps read (-1,-1) (-1,0) (0,-1) (0,0); output (1,1) reads (1,1) (1,2) (2,1) (2,2) */
    CHECK(ind[0 * 4 + 0] == zero && ind[1 * 4 + 0] == zero && ind[2 * 4 + 0] == zero && ind[3 * 4 + 0] == img);
    CHECK(ind[0 * 4 + 3] == img + 4 && ind[1 * 4 + 3] == img + 5 && ind[2 * 4 + 3] == img + 7 &&
          ind[3 * 4 + 3] == img + 8);
    CHECK(ind[0 * 4 + 1] == zero && ind[1 * 4 + 1] == zero && ind[2 * 4 + 1] == img + 1 && ind[3 * 4 + 1] == img + 2);
  }
  for (size_t vi = 0; vi < nvar; vi++) {
    for (int r = 0; r < 60; r++) {
      conv_shape s;
      random_shape(&s);
      const size_t cin = r % 4 == 0 ? kt_range(1, 5) : kt_range(1, 40);
      run_case(&variants[vi], NULL, &s, cin, kt_range(1, 40), kt_range(1, 3), r & 1);
    }
    conv_shape big = {.in_h = 9, .in_w = 9, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1,
                      .dil_h = 1, .dil_w = 1, .pad_top = 1, .pad_left = 1};
    conv_shape_finish(&big);
    run_case(&variants[vi], NULL, &big, 131, 19, 1, 0); /* K = 1179 */
  }
  ofx_threadpool *pool = ofx_threadpool_create(3);
  for (int r = 0; r < 30; r++) {
    conv_shape s;
    random_shape(&s);
    const size_t cin = kt_range(1, 20), cout = kt_range(1, 50), groups = kt_range(1, 3);
    run_case(NULL, NULL, &s, cin, cout, groups, r & 1);
    run_case(NULL, pool, &s, cin, cout, groups, r & 1);
  }
  for (int r = 0; r < 6; r++) { /* above OFX_GEMM_MIN_PARALLEL_MACS: really split over threads */
    conv_shape s = {.in_h = kt_range(16, 30), .in_w = kt_range(16, 30), .kh = 3, .kw = 3, .stride_h = 1,
                    .stride_w = 1, .dil_h = 1, .dil_w = 1, .pad_top = 1, .pad_left = 1};
    conv_shape_finish(&s);
    run_case(NULL, pool, &s, kt_range(16, 40), kt_range(17, 70), 1, r & 1);
  }
  ofx_threadpool_destroy(pool);
  return ofx_test_finish("test-kernels-f32-igemm");
}
